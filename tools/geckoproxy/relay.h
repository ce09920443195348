/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_PROXY_RELAY_H
#define GECKO_PROXY_RELAY_H

/*
 * geckoproxy's data path: each client connection is relayed to a TCP
 * connection of its own to the local program, both ways, with splice()
 * through a pipe per direction, so that the octets never enter this
 * process. A Relay is one thread's, with one epoll set, edge-triggered;
 * RelayThreads runs one on each of several threads.
 *
 * - Backpressure: a direction reads from its source only while its pipe
 *   has room; what the proxy holds per connection is bounded by the two
 *   pipes, whatever either side does.
 * - Half-close: the end of one side's stream (its FIN) becomes a
 *   shutdown(SHUT_WR) of the other once the pipe is empty; the session
 *   ends when both directions have ended.
 * - Resets: a side that resets or fails makes the other reset too (an
 *   abortive disconnect, whoever else holds the socket), never a clean
 *   end of a stream that was cut.
 * - The local program refusing the connection, or not answering within
 *   the connect timeout, sends the client elsewhere if it can (its
 *   connection is untouched then: nothing was read from it), else resets
 *   it; a session idle for longer than the idle timeout, if one is set,
 *   is reset too.
 * - PROXY protocol version 2, if asked: the program's connection starts
 *   with a header that names the client's address and port and G's.
 * - Keepalives on the client's socket end a session whose client vanished
 *   without a word.
 * - HTTP mode: the relay frames the requests and responses (framing.h) and
 *   holds the client's connection (GeckoSocket::Hold) except between two
 *   exchanges, every request answered and nothing of the next one taken
 *   from the socket: a handoff may move it then, and its next request
 *   goes to the program of the member it moved to, on a new connection
 *   there, while this node closes its own to the program. A stream that
 *   cannot be framed is relayed as in TCP mode and its connection stays.
 */

#include <fd.h>

#include <gecko/error.h>

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gecko::proxy {

/* The client's side of a session: its socket, and what to do with it at the end. */
struct ClientEnd {
	int fd = -1;
	sockaddr_in6 peer{};
	/* The session ended: the socket is to be closed (it was reset already if it had to be). */
	std::function<void()> close;
	/*
	 * The program cannot take the connection: the connection is to go to
	 * another node, untouched (the relay forgets it, neither reset nor
	 * closed). None: it is reset.
	 */
	std::function<void()> elsewhere;
	/*
	 * HTTP mode: lets the connection go between requests (false) and
	 * takes it back (true), which fails once it moved to another member.
	 * None: the connection never moves (TCP mode).
	 */
	std::function<bool(bool)> hold;
};

/* How one session ended, for its log line. */
struct SessionEnd {
	sockaddr_in6 client{};
	std::uint64_t from_client = 0;	/* octets relayed to the program */
	std::uint64_t to_client = 0;	/* octets relayed to the client */
	std::chrono::milliseconds duration{};
	std::string how;		/* "closed", "client reset", "program refused"... */
};

struct RelayOptions {
	/* Where the local program listens: tried in order for each connection. */
	std::vector<sockaddr_in6> program;
	/*
	 * The sessions that ended, given together once the turn of events
	 * that ended them is done (one log write for many); at once for those
	 * that end outside Relay::run().
	 */
	std::function<void(std::span<const SessionEnd>)> ended;
	/* An address of the program that has not answered by then is given up for the next. */
	std::chrono::milliseconds connect_timeout{5000};
	/* A session where no octet moved for that long is reset; 0: never. */
	std::chrono::milliseconds idle_timeout{0};
	bool proxy_protocol = false;
	/* Frames HTTP/1.1 and lets connections move between requests (new sessions only). */
	bool http = false;
	/* Empty pipes that ended sessions leave, kept for the next ones: two system calls fewer each way. */
	std::size_t spare_pipes = 256;
};

/*
 * The options of the client's socket. Each write of a relayed octet goes
 * out at once: the program's or client's own pace decides. Keepalives on
 * the client's connection end a session whose client vanished without a
 * word (a host gone, a NAT that forgot it) in about 2 minutes of silence,
 * instead of holding its descriptors for ever; the program is on this
 * host, its kernel resets what it leaves. Set on the listening socket,
 * the connections accepted inherit them; the relay sets them on those
 * that lack them.
 */
struct SocketOption {
	int level;
	int name;
	int value;
};
std::vector<SocketOption> client_options();

/*
 * Ends @fd's connection with a reset, whoever else holds the socket (the
 * node agent may keep a copy): connect() to AF_UNSPEC disconnects it.
 */
void abort_connection(int fd);

/* The PROXY protocol version 2 header of a connection from @client to @local. */
std::vector<std::byte> proxy_header(const sockaddr_in6 &client, const sockaddr_in6 &local);

class Relay {
public:
	/*
	 * Also makes the process ignore SIGPIPE: a splice() into a socket
	 * that was reset raises it, and no flag asks it not to.
	 */
	static Result<Relay> create(RelayOptions options);
	/*
	 * Options from now on (@options' ended is ignored): the program's
	 * addresses for the next connections, the timeouts for all.
	 */
	Result<void> configure(RelayOptions options);

	Relay(Relay &&) noexcept;
	Relay &operator=(Relay &&) noexcept;
	/* Ends every session (a reset for both sides: their streams were cut). */
	~Relay();

	/* Readable when a session has work: then call run(). */
	int fd() const;
	/*
	 * run() also calls @readable when @fd becomes readable (an eventfd,
	 * a listening socket), watched edge-triggered and exclusive (of the
	 * relays waiting on @fd, one wakes): @readable is to take all that
	 * waits, or have another relay take it.
	 */
	Result<void> watch(int fd, std::function<void()> readable);
	/* Relays @client to a new connection to the program. */
	void add(ClientEnd client);
	/* Resets @client's connection instead, and logs it as ended @how. */
	void refuse(ClientEnd client, std::string how);
	/*
	 * Does what the events ask, the sessions' and the watched
	 * descriptors'; waits up to @timeout_ms for one first (-1: as long as
	 * it takes).
	 */
	void run(int timeout_ms = 0);
	std::size_t sessions() const;

private:
	struct Impl;
	explicit Relay(std::unique_ptr<Impl> impl);
	std::unique_ptr<Impl> impl_;
};

/* A new client, as a ClientSource gives it: relayed, or refused (reset, and logged as ended @refused). */
struct NewClient {
	ClientEnd client;
	std::optional<std::string> refused;
};

/*
 * Where RelayThreads take their new clients, themselves: one of @fds
 * becomes readable each time clients begin to wait (an eventfd such as
 * GeckoServerSocket::fd(), a listening socket); take() gives the next
 * one, or nothing when none waits. take() runs on any of the threads,
 * several at once.
 */
struct ClientSource {
	std::vector<int> fds;
	std::function<std::optional<NewClient>()> take;
};

/*
 * The relay on several threads, as HAProxy runs one per CPU: each thread
 * has a Relay of its own (its sessions, its epoll set, where the source's
 * descriptors are too), and takes new clients from the source itself while
 * fewer than the limit are relayed, and while it has at most a few more
 * sessions than the thread with the fewest (else that thread is asked to
 * take them). The options' ended, each client's callbacks and the
 * source's take() run on those threads.
 */
class RelayThreads {
public:
	static Result<RelayThreads> create(RelayOptions options, unsigned threads, ClientSource source,
					   std::size_t limit);
	/* As Relay::configure(), each thread from its next turn; refused here if the options are. */
	Result<void> configure(RelayOptions options);
	/* Sessions relayed at once from now on; more clients wait in the source. */
	void set_limit(std::size_t limit);

	RelayThreads(RelayThreads &&) noexcept;
	RelayThreads &operator=(RelayThreads &&) noexcept;
	/* Stops the threads: each ends its sessions as ~Relay() does. */
	~RelayThreads();

	/*
	 * Taken from the source (or being taken), and not reported ended yet
	 * (at the end of the turn that ended them), on every thread.
	 */
	std::size_t sessions() const;
	unsigned threads() const;

private:
	struct Impl;
	explicit RelayThreads(std::unique_ptr<Impl> impl);
	std::unique_ptr<Impl> impl_;
};

} // namespace gecko::proxy

#endif /* GECKO_PROXY_RELAY_H */
