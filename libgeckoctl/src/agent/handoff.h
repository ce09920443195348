/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_HANDOFF_H
#define GECKO_AGENT_HANDOFF_H

/*
 * The handoff of a client's TCP connections from one node (the donor) to
 * another (the acceptor), between their agents over the node channel.
 *
 * One owner per connection
 * ========================
 *
 * At every instant at most one node may have a connection thawed: two
 * copies would both answer the client and its byte stream would diverge
 * without anyone noticing. When a node hears nothing it may lose a
 * connection (the client then sees a reset, in time), never run a second
 * copy. The rule, for each side:
 *
 * - Until the donor sends the connections' state, the donor owns them.
 *   It may roll back (thaw) whatever happens; the acceptor restored
 *   nothing.
 * - Once the state left (the donor marked its frozen sockets committed
 *   in gecko.ko first, so that the module itself never thaws them), the
 *   ACCEPTOR decides. The donor thaws again only when the acceptor tells
 *   it that it dropped what it restored and will never thaw it
 *   ("aborted"); it drops its sockets when told the acceptor thawed them
 *   ("done"). Hearing neither, it asks again ("query") until its last
 *   deadline, and then drops them without a word: the connection is lost
 *   unless the acceptor serves it.
 * - The acceptor thaws only after the client accepted its Binding Update
 *   and before its own deadline; once it said "aborted" it never thaws,
 *   once it thawed it never says "aborted". It remembers each handoff's
 *   outcome for longer than any donor asks, and a handoff it never heard
 *   of is answered "aborted" and fenced: its state is refused if it
 *   arrives later.
 * - Every message belongs to one handoff, named by a random 64-bit id the
 *   donor chose, with the one peer that proved its care-of address for it
 *   on the node channel (agent/transport.h); anything else is dropped and
 *   counted.
 *
 * The protocol (wire.h):
 *
 *   donor                                   acceptor
 *   handoff_prepare (id, home, client) ---> return routability, if its tokens are old
 *                  <----- handoff_reply     ready, or refused (error)
 *   freezes, captures, commits its sockets
 *   handoff_data (pieces of the bundle) --> restores them frozen, as they come
 *   handoff_commit (seq, length) -------->  Binding Update with seq + 1; thaws once accepted
 *                  <----- handoff_reply     restored: the acceptor takes the client's packets now
 *   passes on copies of what it holds
 *                  <----- handoff_reply     done, or aborted (and whether a BU left)
 *   drops its sockets (done), or thaws them and takes the client back (aborted)
 *   handoff_abort: the donor gave up before the state left
 *   handoff_query: the donor heard nothing; answered done, aborted or pending
 *
 * The bundle is, per connection: state length (32 bits), the TCP state
 * (gecko/tcp_state.h), application state length (32 bits), its octets.
 *
 * Each side is a state machine: one phase, one deadline per phase, one
 * transition function (step()) from a phase and an event to the next
 * phase and the actions to take. handoffs.cpp drives them.
 */

#include <gecko/client.h>
#include <gecko/node.h>

#include "agent/common.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace gecko::agent {

using std::chrono::milliseconds;

/* --- the donor --- */

namespace donor {

enum class Phase {
	preparing,	/* prepare sent: the acceptor runs return routability */
	freezing,	/* freezing, capturing and committing the sockets, here and now */
	committed,	/* the state left: the acceptor decides */
	resolving,	/* it said nothing in time: asking it again */
	stayed,		/* rolled back: the donor serves on */
	moved,		/* the acceptor serves them */
	lost,		/* dropped without an answer */
};

enum class Event {
	ready,		/* the acceptor is ready for the state */
	refused,	/* the acceptor refused before the state left */
	restored,	/* the acceptor restored the connections: it takes their packets */
	sent,		/* the sockets are committed and the state is on its way */
	done,		/* the acceptor thawed them */
	aborted,	/* the acceptor dropped what it restored, and will never thaw it */
	aborted_bu,	/* the same, and its Binding Update may have reached the client */
	pending,	/* the acceptor has not decided yet */
	retry,		/* time to ask again */
	timeout,	/* the phase's deadline passed */
	peer_closed,	/* the connection to the acceptor's agent went away */
	fault,		/* this node cannot go on: freezing failed, or the agent stops */
};

enum Action : unsigned {
	none = 0,
	freeze = 1u << 0,	/* freeze, capture, commit, send: then sent, or fault */
	thaw = 1u << 1,		/* the donor serves them again */
	drop = 1u << 2,		/* close them without a word */
	forward = 1u << 3,	/* with drop: what still comes goes to the acceptor */
	take_back = 1u << 4,	/* a Binding Update brings the client back */
	send_abort = 1u << 5,
	send_query = 1u << 6,
	pass_on = 1u << 7,	/* copies of what the client sends go to the acceptor; the packets stay held */
};

struct Step {
	Phase next;
	unsigned actions;
};

Step step(Phase phase, Event event);
/* How long @phase may last; zero for the end phases. */
constexpr milliseconds deadline(Phase phase)
{
	switch (phase) {
	case Phase::preparing:
		return milliseconds(5000);
	case Phase::freezing:
		return milliseconds(1000);
	case Phase::committed:
		return milliseconds(25000);
	case Phase::resolving:
		return milliseconds(30000);
	default:
		return milliseconds(0);
	}
}
bool finished(Phase phase);
/* Whether the donor has the connections thawed in @phase. */
bool runs(Phase phase);
/* Whether the connections' state may have left in @phase: the donor must not thaw on its own. */
bool committed(Phase phase);
const char *name(Phase phase);
const char *name(Event event);

/* How often a resolving donor asks again. */
inline constexpr milliseconds query_interval{2000};

} // namespace donor

/* --- the acceptor --- */

namespace acceptor {

enum class Phase {
	testing,	/* return routability for the client */
	prepared,	/* ready: the state comes, restored as it arrives */
	updating,	/* all restored: the Binding Update travels */
	thawed,		/* the client accepted it: this node serves them */
	aborted,	/* dropped what it restored: never thaws */
};

enum class Event {
	tested,		/* return routability done */
	test_failed,
	state_in,	/* the whole state arrived, restored, and is the client's */
	state_bad,	/* it is not: malformed, another client's, too large, not restorable */
	accepted,	/* the client accepted the Binding Update */
	rejected,	/* the client refused it, or never answered */
	abort,		/* the donor gave up before the state left */
	timeout,
	peer_closed,
	fault,		/* this node cannot go on (the agent stops) */
};

enum Action : unsigned {
	none = 0,
	send_ready = 1u << 0,
	send_refused = 1u << 1,
	start_update = 1u << 2,	/* the Binding Update, once RFC 6275's rate limit allows */
	cancel_update = 1u << 3,
	thaw = 1u << 4,		/* and hand them to the application */
	drop = 1u << 5,		/* what was restored */
	send_done = 1u << 6,
	send_aborted = 1u << 7,
	send_restored = 1u << 8,	/* after the Binding Update left, or was scheduled */
};

struct Step {
	Phase next;
	unsigned actions;
};

Step step(Phase phase, Event event);
constexpr milliseconds deadline(Phase phase)
{
	switch (phase) {
	case Phase::testing:
		return milliseconds(6000);
	case Phase::prepared:
		return milliseconds(10000);
	case Phase::updating:
		return milliseconds(20000);
	default:
		return milliseconds(0);
	}
}
bool finished(Phase phase);
bool runs(Phase phase);
const char *name(Phase phase);
const char *name(Event event);

/* How long the outcome of a handoff is kept, for a donor that asks: longer than any donor waits. */
inline constexpr std::chrono::seconds record_lifetime{120};

} // namespace acceptor

/* What gecko.ko is told: the donor's sockets thaw by themselves only before they are committed. */
inline constexpr milliseconds freeze_timeout{15000};
/* Committed, they are dropped if the agent falls silent past its own last deadline. */
inline constexpr milliseconds commit_timeout =
	donor::deadline(donor::Phase::committed) + donor::deadline(donor::Phase::resolving) + milliseconds(10000);
/* The acceptor's restored sockets are dropped if its agent falls silent past its own deadlines. */
inline constexpr milliseconds restore_timeout = acceptor::deadline(acceptor::Phase::prepared) +
						acceptor::deadline(acceptor::Phase::updating) + milliseconds(5000);
static_assert(acceptor::record_lifetime > commit_timeout, "an acceptor answers for longer than any donor asks");

/* What one handoff_data message carries. */
inline constexpr std::size_t chunk_size = 60000;
/* Limits on what another node can make this one hold. */
inline constexpr std::size_t max_inbound = 16;
inline constexpr std::size_t max_conns_per_handoff = 64;
inline constexpr std::size_t max_app_state = 64 * 1024;
/* A mirror's application state (Node::mirror_state): it travels in one node channel message with its snapshot. */
inline constexpr std::size_t max_mirror_state = 16 * 1024;
inline constexpr std::size_t max_outcomes = 4096;
inline constexpr std::size_t max_records = 64;

/* The two ends of the connected IPv6 socket @fd: G (or another local address) and the client. */
struct ConnEnds {
	in6_addr home{};
	in6_addr client{};
	std::uint16_t port = 0;		/* 0: not known (the socket was no longer connected) */
	std::uint16_t client_port = 0;
};
std::optional<ConnEnds> connection_ends(int fd);

/* The application's side of the agent, shared between its thread and the agent's. */
struct AppLink {
	std::mutex lock;
	/*
	 * An application's connection of G: the number of its adding (a
	 * descriptor's number comes back for another connection), and its
	 * ends, asked of the socket once.
	 */
	struct Conn : ConnEnds {
		std::uint64_t added = 0;
	};
	std::map<int, Conn> conns;	/* by descriptor */
	std::uint64_t conns_added = 0;
	/* Their application states for the mirrors (Node::mirror_state), each with a version: 1, 2... */
	struct MirrorState {
		std::vector<std::byte> state;
		std::uint64_t version = 0;
	};
	std::map<int, MirrorState> mirror_states;
	std::uint64_t mirror_versions = 0;
	std::set<std::uint16_t> ports;		/* G's ports it serves: connections handed here must have one */
	/* What the program says of itself (Node::describe), and its counters (Node::count). */
	std::string description;
	std::vector<std::pair<std::string, std::uint64_t>> counters;
	/* The programs behind this link, when they are not this process alone (Node::host). */
	std::optional<std::vector<ProgramStatus>> programs;
	/* The distributed server's members as the agent saw them last (a second ago at most); with a cluster only. */
	std::vector<MemberStatus> members;
	/* hand_off() and decline() calls. */
	struct HandOff {
		in6_addr node;
		ConnEnds ends;			/* the first connection's, when hand_off() checked them */
		std::vector<Outgoing> conns;
		std::vector<UniqueFd> dups;	/* the agent's own descriptors of the same sockets */
	};
	struct Decline {
		in6_addr client;
		Error error;
	};
	/* The answer to a Drain. */
	struct Drained {
		Result<std::string> result;
	};
	std::deque<std::variant<HandOff, Decline, Drained>> commands;
	/* What the node's heartbeats say (wire::Mode): drain and leave follow Drain and drained(). */
	std::uint8_t mode = 0;
	/* Node::set_available(false): heartbeats say unavailable while the node serves. */
	bool unavailable = false;
	std::deque<NodeEvent> events;
	UniqueFd commands_fd;			/* eventfd: the agent polls it */
	UniqueFd events_fd;			/* eventfd: the application polls it */

	void post(NodeEvent event);
	/* Adds (or, for a descriptor number reused, replaces) the connection @fd between @ends. */
	void add(int fd, const ConnEnds &ends);
};

} // namespace gecko::agent

#endif /* GECKO_AGENT_HANDOFF_H */
