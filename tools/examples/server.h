/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_EXAMPLES_SERVER_H
#define GECKO_EXAMPLES_SERVER_H

/*
 * What the example servers share: one thread, one poll() loop over the
 * listening socket, the connections, the signals and a gecko::Node, which
 * runs the node agent inside this process (gecko/node.h). The loop keeps
 * the Node's rules, so that each server only says how to serve one
 * connection (a Session), what state a connection needs to continue on
 * another node, and how to continue one that arrived:
 *
 * - every accepted connection is add()ed, and remove()d before it closes;
 * - a connection is not touched between its hand_off() and the Departure
 *   that ends it: closed if it moved, served again if it stayed;
 * - a Request (gecko-ctl handoff) hands off every connection of the
 *   client, once each of them can leave (Session::state());
 * - --spread hands each new connection to the next node of a list before
 *   anything was read from it, the way a front end spreads its load;
 * - --stats keeps the status line (what SIGUSR1 prints) in a file, for
 *   scripts that watch how much each node served.
 */

#include <gecko/agent.h>
#include <gecko/node.h>

#include <fd.h>

#include <boost/program_options.hpp>

#include <netinet/in.h>
#include <poll.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace gecko::examples {

inline constexpr int exit_failure = 1;

/* One line on standard output, never mixed with one the agent's thread writes. */
void say_line(const std::string &line);

template <class... Args>
void say(const Args &...args)
{
	std::ostringstream line;

	(line << ... << args);
	say_line(line.str());
}

using daemon::Fd;

/* The application's side of one connection; the server owns the socket. */
class Session {
public:
	virtual ~Session() = default;

	/* What poll() should wait for on the socket (POLLIN, POLLOUT). */
	virtual short events() const = 0;
	/* The socket is ready (@revents); false ends the connection, which the server then closes. */
	virtual bool serve(int fd, short revents) = 0;
	/*
	 * What the acceptor's application needs to continue the connection
	 * (Outgoing::app_state), or nothing while it cannot leave yet.
	 */
	virtual std::optional<std::vector<std::byte>> state() const = 0;
	/*
	 * The connection ends here, closed or moved on: the client had
	 * acknowledged @acked octets of what was written on it since it began
	 * (on whichever nodes).
	 */
	virtual void ended(std::uint64_t acked) { (void)acked; }
};

/* The options both servers take. */
struct Options {
	std::uint16_t port = 0;
	agent::Config agent;
	/* --spread, in order: a care-of address, or nothing for "self". */
	std::vector<std::optional<in6_addr>> spread;
	std::optional<std::string> stats;	/* --stats */
};

/* Adds --port (default @default_port), the node agent's options (--agent-port...), --spread and --stats to @opts. */
void add_options(boost::program_options::options_description &opts, std::uint16_t default_port);
/* Reads them back; throws daemon::Usage for a bad --spread or --control. */
Options to_options(const boost::program_options::variables_map &vm);

class Server {
public:
	explicit Server(std::string name) : name_(std::move(name)) {}
	virtual ~Server();

	/*
	 * Listens on [::]:port and serves until SIGINT or SIGTERM; returns
	 * the exit status. SIGUSR1 prints status(); --stats keeps it in a
	 * file, replaced by a rename at most every 0.2 s while it changes,
	 * and when the server starts and stops.
	 */
	int run(const Options &options);

protected:
	/* A connection accepted here, from @client. */
	virtual std::unique_ptr<Session> accepted(const in6_addr &client) = 0;
	/* A connection handed to this node; null if it cannot continue here (say why). */
	virtual std::unique_ptr<Session> arrived(const Arrival &arrival) = 0;
	/* A line on what was served, for SIGUSR1 and --stats. */
	virtual std::string status() const = 0;

	const std::string &name() const { return name_; }

private:
	struct Conn {
		Fd fd;
		in6_addr client{};
		std::unique_ptr<Session> session;
		bool managed = false;	/* add()ed to the Node: a connection of G */
		bool leaving = false;	/* handed off, its Departure has not come */
		std::optional<std::vector<std::byte>> mirrored{};	/* the state its mirror carries */
	};
	enum class HandOff { started, waiting, failed };

	void accept_all(int listener);
	void handle(Arrival &arrival);
	void handle(const Departure &departure);
	void handle(const Request &request);
	void handle(const Drain &drain);
	HandOff hand_off(const in6_addr &client, const in6_addr &node);
	void retry_requests();
	/* @acked: Session::ended()'s, read from the socket if not given. */
	void end(int fd, std::optional<std::uint64_t> acked = std::nullopt);
	void write_stats();
	int stats_wait();

	std::string name_;
	std::unique_ptr<Node> node_;
	std::map<int, Conn> conns_;
	std::vector<Request> requests_;	/* waiting until the client's connections can leave */
	Error failure_;				/* why the last hand_off() failed */
	std::vector<std::optional<in6_addr>> spread_;
	std::size_t next_ = 0;		/* in spread_ */
	std::optional<std::string> stats_;	/* the file, with --stats */
	std::string written_;			/* the line last written there */
	std::chrono::steady_clock::time_point written_at_;
};

} // namespace gecko::examples

#endif /* GECKO_EXAMPLES_SERVER_H */
