/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_FRAMEWORK_H
#define GECKO_FRAMEWORK_H

/*
 * The high-level API (Documentation/framework.md): a distributed server
 * from one configuration file (gecko/cluster.h), with the names the
 * original XtreemOS design gave its classes.
 *
 * - GeckoFramework: one per node and program. It starts the node agent
 *   on a thread of this process (gecko/node.h) with the file's members,
 *   so the node sends heartbeats and knows who is alive, and runs the
 *   framework's own background thread: it accepts the clients, places
 *   them by the redirection policy, takes the connections handed to this
 *   node and answers the handoffs asked for with gecko-ctl.
 * - GeckoServerSocket: a port of G. Accept() returns a connection this
 *   program is to serve: a new client the policy placed on this node, or
 *   a connection handed here by another node, with what was sent and
 *   received on it so far and the state its previous server attached.
 * - GeckoSocket: one connection. Read, Write, blocking or not, and
 *   Handoff(): to the member the policy picks, or to a named one.
 *
 * Placement: the contact node asks the policy where each new client goes
 * (a client none of whose connections this program serves yet) and hands
 * the connection there before the program sees it; the policy may keep
 * it. Other nodes serve the clients that reach them: those the contact
 * node placed there, which keep their binding to the node. Without a
 * policy (SetPolicy(nullptr)), every node serves what reaches it.
 *
 * The unit of a handoff is the client address (Documentation/handoff.md):
 * Handoff() moves every connection of the client this program serves,
 * each with the state its socket carries (SetState), and fails with
 * EBUSY while another thread uses one of them.
 *
 * A handoff asked from outside (gecko-ctl handoff, gecko-ctl drain) takes
 * the client's connections once no thread is inside a Read or Write of
 * theirs: between a program's Read and its Write, say. Such a Write then
 * fails with ENOTCONN; a program that must finish an exchange first keeps
 * the connection's state (SetState) current, for the acceptor.
 *
 * Threads: the framework's calls may come from any thread; one
 * GeckoSocket is used by one thread at a time, like a socket. Every
 * object here is move-only and closes what it holds when it goes; a
 * socket may outlive its framework (Handoff() then fails with ESHUTDOWN).
 */

#include <gecko/agent.h>
#include <gecko/cluster.h>
#include <gecko/error.h>
#include <gecko/export.h>
#include <gecko/policy.h>

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gecko {

namespace detail {
struct Framework;
struct Connection;
struct Listener;
} // namespace detail

struct FrameworkOptions {
	/* gecko-ctl's way in: one agent per network namespace. */
	std::string control = agent::default_control;
	/* Instead of the file's "policy". */
	std::optional<std::string> policy;
	/* One line per event (the agent's and the framework's); none when empty. */
	std::function<void(const std::string &)> log;
};

class GECKO_API GeckoSocket {
public:
	/* Closed: every call fails with EBADF. */
	GeckoSocket();
	GeckoSocket(GeckoSocket &&other) noexcept;
	GeckoSocket &operator=(GeckoSocket &&other) noexcept;
	~GeckoSocket();

	/* Open here: not closed, not moved to another node. */
	explicit operator bool() const;
	/*
	 * The socket, for the program's own poll loop (wait for it, then
	 * call Read or Write); -1 once closed. Reading or writing it directly
	 * bypasses the counts Arrival keeps, and never hand it to close().
	 */
	int fd() const;

	/*
	 * Up to @buf's size octets from the client; 0 at the end of its
	 * stream. Non-blocking: EAGAIN when nothing waits. ENOTCONN once the
	 * connection moved to another node.
	 */
	Result<std::size_t> Read(std::span<std::byte> buf);
	/* Some of @buf, at least one octet (blocking: all of it); EAGAIN, ENOTCONN as Read. */
	Result<std::size_t> Write(std::span<const std::byte> buf);

	Result<void> SetNonBlocking();
	Result<void> SetBlocking();
	bool IsBlocking() const;

	/* The client's address and port, as it sees the connection (to G). */
	sockaddr_in6 GetPeerName() const;
	/* Octets since the connection began, on whichever nodes it was served. */
	std::uint64_t BytesSent() const;
	std::uint64_t BytesReceived() const;
	/*
	 * Taken over from a dead member (gecko::Arrival::recovered): nothing
	 * was queued, the client has every octet sent; what it sent past what
	 * the dead member's program answered is the program's to redo from
	 * State(), or to reset the connection for.
	 */
	bool Recovered() const;

	/*
	 * What the next server of this connection needs to continue it (the
	 * file and offset, the request being answered): travels with a
	 * handoff, and Accept() gives it to the acceptor's program. Its
	 * mirror at the node's backup carries it too (16 KiB at most there).
	 */
	void SetState(std::vector<std::byte> state);
	const std::vector<std::byte> &State() const;

	/*
	 * While held, this connection stays with this program: a handoff
	 * asked from outside (gecko-ctl handoff, drain) waits as it does
	 * during a Read or Write, and Handoff() of the client's connections
	 * fails with EBUSY. For a program that moves octets on the
	 * descriptor itself (geckoproxy relays it with splice()) and can let
	 * the connection go only between two exchanges. Holding waits out a
	 * handoff under way (one a drain started before the program took the
	 * connection) and returns false, holding nothing, if the connection
	 * moved to another node.
	 */
	bool Hold(bool held);

	/*
	 * Hands this connection, and every other connection of its client
	 * this program serves, to the member the policy picks (EHOSTUNREACH
	 * when it picks none, or keeps the client here). Blocking: returns
	 * once the connections are at the acceptor (the socket is closed
	 * here) or the handoff rolled back (its error; the socket is served
	 * here as before, and the policy was told). Non-blocking: returns at
	 * once; if the handoff fails, the policy's next choice is tried, then
	 * the connection stays. Read and Write wait until it ended. Either
	 * way it first waits while this node has 8 handoffs under way to
	 * that member (an acceptor takes 16 at a time).
	 */
	Result<void> Handoff(bool nonblocking = false);
	/* The same, to the member whose care-of address is @target. */
	Result<void> Handoff(const in6_addr &target, bool nonblocking = false);
	/* Why the last handoff of this connection did not move it, if it did not. */
	std::optional<Error> HandoffError() const;

	/* Closes the connection (waits for a handoff under way to end). */
	void Close();

private:
	friend class GeckoServerSocket;
	GeckoSocket(std::shared_ptr<detail::Framework> framework, std::shared_ptr<detail::Connection> conn);
	Result<void> handoff(std::optional<in6_addr> target, bool nonblocking);

	std::shared_ptr<detail::Framework> framework_;
	std::shared_ptr<detail::Connection> conn_;
};

class GeckoFramework;

class GECKO_API GeckoServerSocket {
public:
	/*
	 * Serves @port of G: listens there (EADDRINUSE if another program
	 * of this framework does) and takes the connections to it that other
	 * nodes hand over.
	 */
	static Result<GeckoServerSocket> Listen(GeckoFramework &framework, std::uint16_t port);

	GeckoServerSocket(GeckoServerSocket &&other) noexcept;
	GeckoServerSocket &operator=(GeckoServerSocket &&other) noexcept;
	~GeckoServerSocket();

	/*
	 * The next connection to serve. Blocking by default; non-blocking:
	 * EAGAIN when none waits. ESHUTDOWN once closed.
	 */
	Result<GeckoSocket> Accept();
	/* Readable while a connection waits, for the program's poll loop. */
	int fd() const;
	/*
	 * The listening socket, for a non-blocking program whose threads
	 * each wait in a poll loop of their own and call Accept() as soon as
	 * it or fd() is readable (epoll's EPOLLEXCLUSIVE wakes one of them).
	 * From then on Accept() takes a new connection from it directly when
	 * none waits in the framework's queue (one the policy is to place
	 * elsewhere goes to the framework's thread, and what stays comes
	 * through fd()), and the framework's thread no longer wakes for each:
	 * it looks at the socket only when no Accept() has emptied it for
	 * 50 ms (the program idle, busy, or at a limit of its own), and
	 * queues what waits there as before. accept()'s own errors are that
	 * thread's to log and wait out: Accept() then fails with EAGAIN.
	 * EINVAL in blocking mode (SetBlocking() ends the sharing), ESHUTDOWN
	 * once closed. Never accept() from it nor close it: the framework
	 * closes it when it stops.
	 */
	Result<int> ShareListeningSocket();
	Result<void> SetNonBlocking();
	Result<void> SetBlocking();
	/*
	 * setsockopt() on the listening socket: the connections accepted here
	 * from then on inherit what the kernel copies (TCP_NODELAY,
	 * SO_KEEPALIVE, TCP_KEEPIDLE...); those other nodes hand over do not.
	 */
	Result<void> SetOption(int level, int name, int value);
	/* Stops listening; connections waiting are closed. */
	void Close();

private:
	GeckoServerSocket(std::shared_ptr<detail::Framework> framework, std::shared_ptr<detail::Listener> listener);

	std::shared_ptr<detail::Framework> framework_;
	std::shared_ptr<detail::Listener> listener_;
};

class GECKO_API GeckoFramework {
public:
	/*
	 * Reads @config_file (load_cluster(): every error names the file,
	 * the line and the key), finds this node among its members by the
	 * care-of addresses of the module's services, and starts the node
	 * agent and the background thread, with the file's policy.
	 */
	static Result<GeckoFramework> Create(const std::string &config_file, FrameworkOptions options = {});

	GeckoFramework(GeckoFramework &&other) noexcept;
	GeckoFramework &operator=(GeckoFramework &&other) noexcept;
	/* Stops the background thread and the agent: handoffs under way roll back. */
	~GeckoFramework();

	/* The redirection policy from now on; none: no placement, and Handoff() needs a target. */
	void SetPolicy(std::unique_ptr<GeckoPolicy> policy);
	/*
	 * Whether this program can serve new clients (available at the
	 * start). While it cannot (the server behind geckoproxy fails its
	 * health check), this node takes no new client: its heartbeats say
	 * so and the members' policies leave it out, and the new clients that
	 * still reach it (a binding from an earlier connection, a placement
	 * sent before the news) are placed on other members by the policy.
	 * The connections it serves stay.
	 */
	void SetAvailable(bool available);
	/*
	 * The program's own counters, which gecko-ctl programs shows beside
	 * the framework's description (--json: an object); EINVAL unless
	 * there are at most 32, each named with 1 to 32 of a-z, 0-9 and _.
	 */
	Result<void> SetCounters(std::vector<std::pair<std::string, std::uint64_t>> counters);

	const Cluster &cluster() const;
	/* This node. */
	const Member &self() const;
	/* The members as this node sees them (gecko-ctl members). */
	std::vector<agent::MemberStatus> Members() const;

private:
	friend class GeckoServerSocket;
	explicit GeckoFramework(std::shared_ptr<detail::Framework> impl);

	std::shared_ptr<detail::Framework> impl_;
};

} // namespace gecko

#endif /* GECKO_FRAMEWORK_H */
