/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_TRANSPORT_H
#define GECKO_AGENT_TRANSPORT_H

/*
 * The node agent's connections: gecko-ctl's, on an abstract Unix socket
 * (root or the agent's user only), and the node channel, TCP between
 * care-of addresses under TLS 1.3 (agent/tls.h). Frames (agent/wire.h) are
 * cut out of both and handed on whole; a peer's messages come with the
 * care-of address it proved, and nothing of a peer reaches the rest of the
 * agent before its handshake completed.
 *
 * A connection that fails to authenticate, is too slow to, or comes when
 * too many are waiting is closed and counted (Counters::peer_refused),
 * and logged at most once per address and minute. The agent listens on
 * its care-of addresses only, never on G.
 */

#include <gecko/agent.h>

#include "agent/common.h"
#include "agent/tls.h"
#include "agent/wire.h"

#include <netinet/in.h>
#include <poll.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gecko::agent {

using Clock = std::chrono::steady_clock;

class Transport {
public:
	/* What arrives, for the agent to dispatch. */
	class Handler {
	public:
		virtual void control_message(std::uint64_t conn, const wire::Message &msg) = 0;
		/* From the agent of the node whose care-of address is @node, authenticated. */
		virtual void peer_message(std::uint64_t conn, const in6_addr &node, const wire::Message &msg) = 0;
		/* @conn is gone; @node for a peer's. Messages queued on it are lost. */
		virtual void closed(std::uint64_t conn, const std::optional<in6_addr> &node, const std::string &why) = 0;

	protected:
		~Handler() = default;
	};

	struct Settings {
		std::string control;
		std::uint16_t port = default_port;
		/* Where the node channel listens; empty with no credentials (the channel is off). */
		std::vector<in6_addr> addresses;
		Security security;
	};

	static Result<std::unique_ptr<Transport>> open(const Settings &settings, Handler &handler, Counters &counters,
						       Log log);
	~Transport();

	/* "cluster key", "certificates", or nullptr when the node channel is off. */
	const char *channel() const;

	/* Appends what poll() should watch; ready() takes the same entries back, in order. */
	void watch(std::vector<pollfd> &fds);
	void ready(std::span<const pollfd> fds);
	/* Closes handshakes that took too long. */
	void tick(Clock::time_point now);
	/* Writes what this turn queued now, rather than after the next poll(): an answer is on the critical path. */
	void flush_queued();

	/* Queues @msg; false if @conn is gone (or had to go: it does not read what it is sent). */
	bool send(std::uint64_t conn, const wire::Message &msg);
	/*
	 * The connection to the agent at @node: an authenticated one, or ours
	 * on its way (messages wait for its handshake), else a new one from
	 * @self. ENOKEY when the node channel is off.
	 */
	Result<std::uint64_t> peer(const in6_addr &self, const in6_addr &node);
	/* @conn is still connecting or in its handshake (false once established, or gone). */
	bool handshaking(std::uint64_t conn) const;
	void close(std::uint64_t conn, const std::string &why);
	/*
	 * Closes every connection with the agent at @node, declared dead:
	 * what its dead process left in its kernel's queues (heartbeats from
	 * before its death, sent once its link is back) is refused, not taken
	 * for news. A new connection comes from whatever runs there next.
	 */
	void forget(const in6_addr &node, const std::string &why);

private:
	struct Conn {
		UniqueFd fd;
		bool peer = false;		/* the node channel, else gecko-ctl */
		bool outgoing = false;		/* ours */
		bool connecting = false;	/* our nonblocking connect() has not finished */
		bool established = false;	/* authenticated (gecko-ctl's: at once) */
		bool want_write = false;	/* TLS needs the socket writable to go on */
		in6_addr node{};		/* a peer's address, proved once established */
		std::unique_ptr<tls::Session> tls;
		Clock::time_point deadline;	/* for the handshake */
		wire::Reader in;
		std::vector<std::byte> out;	/* frames not yet written (plaintext) */
		std::string doomed;		/* why it is closed on the next turn */
	};
	/* One entry watch() appended: a listener (conn 0) or a connection. */
	struct Slot {
		int listener = -1;		/* -1: conn */
		bool peer = false;
		std::uint64_t conn = 0;
	};

	Transport(const Settings &settings, Handler &handler, Counters &counters, Log log);
	void log(const std::string &line);
	/* Counts and (at most once per address and minute) logs a peer refused. */
	void refuse(const in6_addr &from, const std::string &why);
	std::uint64_t add(Conn conn);
	void accept_on(int fd, bool peer);
	void read(std::uint64_t id);
	void flush(std::uint64_t id);
	void handshake(std::uint64_t id);
	void deliver(std::uint64_t id);

	Settings settings_;
	Handler &handler_;
	Counters &counters_;
	Log log_;
	std::unique_ptr<tls::Context> tls_;
	UniqueFd control_fd_;
	std::vector<UniqueFd> peer_fds_;
	std::map<std::uint64_t, Conn> conns_;
	std::uint64_t next_ = 1;
	std::vector<Slot> slots_;	/* what watch() appended, for ready() */
	Clock::time_point paused_until_;
	std::map<in6_addr, Clock::time_point, AddrLess> logged_;	/* refusals logged, by address */
};

} // namespace gecko::agent

#endif /* GECKO_AGENT_TRANSPORT_H */
