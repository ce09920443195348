/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_HANDOFF_H
#define GECKO_AGENT_HANDOFF_H

/*
 * What the handoff of TCP connections needs besides the agent's
 * signalling: the link to the application in this process, and each
 * handoff's state on the donor's side (outbound) and the acceptor's
 * (inbound). The protocol between agents (wire.h):
 *
 *   donor                                   acceptor
 *   handoff_prepare (home, client) ------>  return routability, if its tokens are old
 *                   <------ handoff_reply   (error, or ready)
 *   freezes and captures every connection of the client
 *   handoff_data (pieces of the bundle) ->
 *   handoff_commit (seq, length) -------->  restores them frozen, Binding Update with seq + 1,
 *                                           thaws once accepted, gives them to its application
 *                   <------ handoff_reply   (error and whether an update left, or done)
 *   drops its sockets and its binding, or thaws them (rollback)
 *   handoff_abort, if it gave up after prepare ->  drops what it restored
 *
 * The bundle is, per connection: state length (32 bits), the TCP state
 * (gecko/tcp_state.h), application state length (32 bits), its octets.
 */

#include <gecko/client.h>
#include <gecko/node.h>

#include "agent/common.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace gecko::agent {

/* The most a bundle may hold: two full queues of a few connections. */
inline constexpr std::size_t max_bundle = 256u << 20;
/* What one handoff_data message carries. */
inline constexpr std::size_t chunk_size = 60000;
/* How long the module keeps a connection frozen if this agent falls silent. */
inline constexpr std::chrono::milliseconds freeze_timeout{15000};
inline constexpr std::chrono::seconds prepare_timeout{5};
inline constexpr std::chrono::seconds commit_timeout{10};
/* RFC 6275 MAX_UPDATE_RATE: Binding Updates per second to one client. */
inline constexpr auto bu_interval = std::chrono::milliseconds(1000 / 3 + 1);
inline constexpr std::size_t max_records = 64;
/* Seconds a contact node taking a client back holds a pending binding for the answer. */
inline constexpr std::uint32_t take_back_lifetime = 60;

/* G and the client of the connection @fd, if it is one. */
std::optional<std::pair<in6_addr, in6_addr>> connection_ends(int fd);

/* The application's side of the agent, shared between its thread and the agent's. */
struct AppLink {
	std::mutex lock;
	std::set<int> conns;			/* the application's connections of G */
	/* hand_off() and decline() calls. */
	struct HandOff {
		in6_addr node;
		std::vector<Outgoing> conns;
	};
	struct Decline {
		in6_addr client;
		Error error;
	};
	std::deque<std::variant<HandOff, Decline>> commands;
	std::deque<NodeEvent> events;
	UniqueFd commands_fd;			/* eventfd: the agent polls it */
	UniqueFd events_fd;			/* eventfd: the application polls it */

	void post(NodeEvent event);
};

/* A handoff this node makes: the donor's side. */
struct Outbound {
	std::uint64_t id = 0;
	in6_addr home{};
	in6_addr client{};
	in6_addr node{};
	std::vector<Outgoing> conns;
	std::vector<std::uint64_t> acked;	/* each connection's Departure::bytes_acked, once captured */
	std::uint64_t peer = 0;			/* the connection to the acceptor's agent */
	bool committed = false;			/* the state left: past prepare */
	bool frozen = false;
	std::uint16_t seq = 0;			/* this node's binding's, 0 for none */
	std::chrono::steady_clock::time_point started, prepared, frozen_at, deadline;
	std::uint64_t waiter = 0;		/* gecko-ctl, when it asked for this handoff */
};

/* A connection restored here, frozen until the client accepts the Binding Update. */
struct Restored {
	UniqueFd fd;
	std::vector<std::byte> state;
	std::vector<std::byte> app_state;
};

/* A handoff this node takes: the acceptor's side. */
struct Inbound {
	std::uint64_t id = 0;			/* the donor's */
	std::uint64_t peer = 0;
	in6_addr home{};
	in6_addr client{};
	in6_addr donor{};
	enum class Phase { testing, prepared, updating, stalled } phase = Phase::testing;
	std::vector<std::byte> bundle;
	std::vector<Restored> restored;
	std::optional<std::uint16_t> seq;	/* for the Binding Update */
	std::optional<std::chrono::steady_clock::time_point> bu_at;	/* when it may leave */
	std::chrono::steady_clock::time_point started;
};

} // namespace gecko::agent

#endif /* GECKO_AGENT_HANDOFF_H */
