/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_NODE_H
#define GECKO_NODE_H

/*
 * The node agent inside a server program: the low-level handoff interface
 * (Documentation/handoff.md). TCP connections belong to the application that
 * accepted them, so only it can let one go and only an application can
 * take one over. A Node runs the agent of gecko/agent.h on a thread of
 * this process (it is then the agent of its network namespace: gecko-ctl
 * talks to it), and between the two:
 *
 * - the application tells it which connections of G it serves (add) and
 *   when it closed one (remove);
 * - hand_off() moves every connection of one client to another node with
 *   an opaque application state per connection (which file, which
 *   request...). The application does not touch those sockets until the
 *   Departure event says whether they left (close them) or stayed
 *   (carry on serving: the handoff was rolled back);
 * - connections handed to this node arrive as Arrival events: the socket,
 *   the application state, and the octets sent and received since the
 *   connection began, counting what its queues still held;
 * - a handoff asked for from outside (gecko-ctl handoff) is a Request
 *   event: the application hands the client off when it can;
 * - gecko-ctl drain is a Drain event: the application hands every client
 *   to other members and says how it went (drained()). From the event on,
 *   the node's heartbeats say it drains, so no member sends it new
 *   clients; once drained without error, that it left.
 *
 * Events wait in a queue; event_fd() is readable while it is not empty,
 * for the application's poll loop. The handoff between agents: prepare
 * (the acceptor runs return routability ahead), freeze and capture at the
 * donor, transfer, restore frozen at the acceptor, Binding Update with the
 * donor's sequence number + 1, thaw once the client accepted it, the
 * donor drops its sockets. Any failure before the client accepted the
 * update rolls back: the donor thaws and keeps serving, and takes the
 * client back if the acceptor may have sent its update. Once the state
 * left, only the acceptor's word lets the donor thaw: one that never
 * answers costs the connections (Fate::lost), never two copies of them.
 * Arrivals are only connections of the client and G the handoff named,
 * on a port in agent::Config::ports.
 */

#include <gecko/agent.h>
#include <gecko/error.h>
#include <gecko/export.h>

#include <netinet/in.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace gecko {

/*
 * A connection handed to this process: the application owns @fd (a
 * blocking socket) now. Counts are octets since the connection began, on
 * whichever nodes it was served.
 */
struct Arrival {
	int fd = -1;
	in6_addr home{};		/* G */
	in6_addr client{};
	std::vector<std::byte> app_state;
	std::uint64_t bytes_sent = 0;	/* written by the application(s) */
	std::uint64_t bytes_acked = 0;	/* of those, acknowledged by the client when it moved */
	std::uint64_t bytes_received = 0;
	/*
	 * Taken over from a dead member: restored from its mirror where the
	 * client stood, nothing queued (bytes_sent == bytes_acked). What the
	 * client sent past what the dead member's program had answered is
	 * gone with it: app_state says what to redo, or the program resets
	 * the connection (Documentation/handoff.md, "Takeover").
	 */
	bool recovered = false;
};

/* Where the connections of a handoff are once it ended. */
enum class Fate {
	stayed,		/* here, running again: they are still yours */
	moved,		/* at the acceptor: close the fds */
	lost,		/* the acceptor never answered: dropped here, close the fds */
};

/* How a handoff this process asked for ended. */
struct Departure {
	std::vector<int> fds;		/* the connections it concerned */
	in6_addr client{};
	in6_addr node{};		/* the acceptor's care-of address */
	Fate fate = Fate::stayed;
	std::optional<Error> error;	/* why they did not move */
	std::chrono::microseconds frozen{};	/* how long the connections were frozen */
	/*
	 * When they moved (or were lost): for each of fds, what the client
	 * had acknowledged (octets since the connection began) when they were
	 * frozen, where the acceptor's Arrival::bytes_acked starts. What this
	 * node served is the difference from where it took the connection over.
	 */
	std::vector<std::uint64_t> bytes_acked;
};

/* Someone asked for a handoff of @client's connections to @node. */
struct Request {
	in6_addr client{};
	in6_addr node{};
};

/* Someone asked this node to hand every client to other members (gecko-ctl drain). */
struct Drain {};

using NodeEvent = std::variant<Arrival, Departure, Request, Drain>;

/* One connection to hand off, with what the acceptor's application needs to continue it. */
struct Outgoing {
	int fd = -1;
	std::vector<std::byte> app_state;
};

class GECKO_API Node {
public:
	/*
	 * When the network namespace has a node agent that takes programs
	 * (host(), gecko-agent), this Node is that agent's: the program joins
	 * it, and only @config's ports and log matter (a cluster must be the
	 * agent's; EINVAL otherwise). Otherwise opens an agent's sockets in
	 * this process and starts its thread.
	 */
	static Result<std::unique_ptr<Node>> start(agent::Config config);

	/*
	 * The node agent of this network namespace for every Gecko program
	 * in it, until @stop_fd is readable (gecko-agent): programs whose
	 * Node starts later join it. It keeps the membership and the node
	 * channel whatever the programs do; a client's handoff takes its
	 * connections from every program that holds one (each is asked with
	 * a Request, and must hand them off or decline within 5 s), and a
	 * connection handed to this node goes to the program that serves its
	 * port. A program that ends takes its connections with it.
	 */
	static Result<void> host(agent::Config config, int stop_fd);

	/* Readable while events wait. */
	int event_fd() const;
	/* The events waiting, oldest first; empties the queue. */
	std::vector<NodeEvent> events();

	/*
	 * A connection of G this application serves, which a handoff may
	 * move. Connections that arrive are added, those that left removed,
	 * by the node itself. Behind gecko-agent (Node::host), the agent
	 * hears of connections added and removed in batches, within 20 ms,
	 * and at once before anything else the program sends it.
	 */
	Result<void> add(int fd);
	/* The same, from a caller that knows both ends (accept() told the peer; the listener's address is the local one). */
	Result<void> add(int fd, const sockaddr_in6 &local, const sockaddr_in6 &peer);
	/* The application is done with it: before close(), whose number may be reused at once. */
	void remove(int fd);
	/*
	 * The application state of connection @fd changed (which file, which
	 * offset, which request): its mirror at this node's backup carries it
	 * from the next turn of the agent on, for a recovery. At most 16 KiB
	 * (E2BIG); ENOENT for a descriptor not added.
	 */
	Result<void> mirror_state(int fd, std::vector<std::byte> state);

	/*
	 * Connections of G on @port handed to this node are taken from now
	 * on (besides agent::Config::ports).
	 */
	void serve(std::uint16_t port);
	/*
	 * Whether the program can serve new clients (geckoproxy's health
	 * check of the program behind it). While it cannot, the node's
	 * heartbeats say it is unavailable: the members' policies send it no
	 * new client; the connections it serves stay. Behind gecko-agent
	 * (Node::host), the node is unavailable while any of its programs
	 * is: a client's binding takes all of them to one node.
	 */
	Result<void> set_available(bool available);
	/* What gecko-ctl programs shows of this program beside its ports: its policy and choices, say. */
	void describe(std::string text);
	/*
	 * The program's own counters, shown by gecko-ctl programs (--json:
	 * an object): at most agent::max_program_counters, each name
	 * agent::valid_counter_name (EINVAL otherwise).
	 */
	Result<void> count(std::vector<std::pair<std::string, std::uint64_t>> counters);
	/*
	 * The members of the distributed server (agent::Config::cluster) as
	 * the agent saw them at most a tenth of a second ago, in the
	 * configuration's order; empty without a cluster, or before the
	 * agent's first look.
	 */
	std::vector<agent::MemberStatus> members() const;
	/*
	 * How far the members are from @client's network (gecko.conf(5)
	 * proximity-prefix), as their TCP stacks measured: this node's among
	 * them. Members without a measurement are not listed; none without a
	 * cluster, or when the agent does not answer within a tenth of a second.
	 */
	std::vector<agent::Distance> distances(const in6_addr &client) const;

	/*
	 * Hands @conns, every connection of one client (EBUSY names those
	 * missing), to the node whose care-of address is @node. Returns at
	 * once; a Departure tells the end. The node works on its own
	 * descriptors of the sockets from here on: closing one of @conns, or
	 * its number being reused, cannot make it act on another socket.
	 */
	Result<void> hand_off(const in6_addr &node, std::vector<Outgoing> conns);
	/* Answers a Request the application will not act on, with @error. */
	void decline(const Request &request, Error error);
	/*
	 * Answers a Drain: @result says what moved, or why some clients
	 * could not (the node then still drains: gecko-ctl drain may be asked
	 * again). Success makes the node leave; EBUSY or EOPNOTSUPP refuse
	 * the drain, and the node serves as before.
	 */
	void drained(Result<std::string> result);

	/* Stops the agent thread; handoffs under way are rolled back. */
	~Node();

private:
	struct Impl;
	explicit Node(std::unique_ptr<Impl> impl);
	static Result<std::unique_ptr<Node>> start_local(agent::Config config);
	std::unique_ptr<Impl> impl_;
};

} // namespace gecko

#endif /* GECKO_NODE_H */
