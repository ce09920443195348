/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_H
#define GECKO_AGENT_H

/*
 * The node agent: the server side of the MIPv6 signalling that moves a
 * client between the nodes of a service (Documentation/signalling.md), and
 * the control interface gecko-ctl drives it through.
 *
 * - Home registration (the seed's mip6_addr_active): the node becomes the
 *   contact node of G. Binding Update with the H and A flags from G to the
 *   home agent, which gecko.ko sends from the care-of address with a Home
 *   Address option; on the Binding Acknowledgement, the reverse tunnel to
 *   the home agent (ip6ip6), the rule that sends what G emits up that
 *   tunnel, and the service's contact flag. Refreshed at 80 % of the
 *   granted lifetime (or the Binding Refresh Advice). At start, the agent
 *   resumes the registrations of every service the module marks contact.
 * - Return routability for a client (run ahead of a handoff, or as part of
 *   one): Care-of Test Init from this node's care-of address; Home Test
 *   Init from G, sent by the contact node, which relays the Home Test back
 *   over the agents' TCP channel (or sent here when this node is the
 *   contact node). The tokens are kept for the Binding Update.
 * - Binding Update to a client from G (the Home Address option and the
 *   care-of address source added by gecko.ko), sequence number the caller's
 *   (the donor's + 1) or, when none is given, the local binding's + 1,
 *   resynchronised once from a "sequence number out of window" answer. The
 *   module's binding is pending while the update travels, bound once the
 *   client accepts, and put back as it was if it does not.
 * - Binding clear: a de-registration (lifetime 0, home keygen token only)
 *   from the node that serves the client, which then returns to the
 *   contact node; the module's binding goes.
 *
 * Retransmissions follow RFC 6275 §11.8: 1 s, doubling, 4 tries.
 *
 * The node channel between agents is TCP between care-of addresses (port
 * 7433 by default) under TLS 1.3, mutually authenticated by the cluster
 * key every member holds or by certificates (Security): a host without
 * them gets nothing from this agent, not even a Home Test relay. The agent
 * listens on its care-of addresses only. Without credentials the channel
 * is off and the node works alone. gecko-ctl reaches the agent of its
 * network namespace through an abstract Unix socket and must run as the
 * agent's user or root. Needs CAP_NET_ADMIN and CAP_NET_RAW.
 */

#include <gecko/error.h>
#include <gecko/export.h>

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gecko {
class Node;
struct Cluster;
}

namespace gecko::agent {

inline constexpr std::uint16_t default_port = 7433;
/* The abstract Unix socket's name ("@gecko-agent"): one agent per network namespace. */
inline constexpr const char *default_control = "gecko-agent";
/* The routing table and rule priority of the reverse tunnel's route are these plus the tunnel's ifindex / 0. */
inline constexpr std::uint32_t reverse_table_base = 0x67650000;
inline constexpr std::uint32_t reverse_rule_priority = 1000;

/*
 * How this node proves it is a member of the service on the node channel,
 * and checks that its peers are: the cluster key, or certificates. Secret
 * files must belong to root or to this process's user and be readable by
 * their owner only; anything else is refused at open(), saying why.
 */
struct Security {
	std::string key_file;		/* the cluster key: 32 octets in base64 (generate_key()) */
	std::string cert_file;		/* or this node's certificate (PEM), naming its care-of address */
	std::string cert_key_file;	/*    its private key (PEM) */
	std::string ca_file;		/*    the CA that signs the members' certificates (PEM) */
};

struct Config {
	std::string control = default_control;
	std::uint16_t port = default_port;
	Security security;
	/* Where the node channel listens: by default the care-of addresses of the module's services. */
	std::vector<in6_addr> addresses;
	/*
	 * The distributed server this node is a member of (gecko/cluster.h),
	 * found in it by one of the addresses above: the agent sends heartbeats
	 * to the other members and tracks who is alive (Control::members). The
	 * node channel's port is the cluster's, and so are its credentials
	 * unless @security names some.
	 */
	std::shared_ptr<const Cluster> cluster;
	/* G's ports the application serves (gecko/node.h): connections handed to this node must have one. */
	std::vector<std::uint16_t> ports;
	/* One line per event; none when empty. */
	std::function<void(const std::string &)> log;
};

/* A new cluster key, in the format of Security::key_file. */
GECKO_API Result<std::string> generate_key();

/* What the agent saw, for gecko-ctl agent status. */
struct Counters {
	std::uint64_t mh_received = 0;
	std::uint64_t mh_bad_checksum = 0;	/* dropped */
	std::uint64_t mh_malformed = 0;		/* dropped */
	std::uint64_t mh_unexpected = 0;	/* well-formed, but nothing here waited for it */
	std::uint64_t hot_relayed = 0;		/* Home Tests passed on to another node */
	std::uint64_t bu_sent = 0;		/* to clients, retransmissions included */
	std::uint64_t bu_accepted = 0;
	std::uint64_t bu_rejected = 0;
	std::uint64_t registrations = 0;	/* home registrations and refreshes accepted */
	std::uint64_t peer_errors = 0;		/* malformed frames or requests, and peers that do not read */
	std::uint64_t peer_refused = 0;		/* node channel connections that did not authenticate, or came too many */
	std::uint64_t handoffs_out = 0;		/* handoffs this node made as donor */
	std::uint64_t handoffs_in = 0;		/* taken as acceptor */
	std::uint64_t rollbacks = 0;		/* handoffs, either side, that ended with the donor serving */
	std::uint64_t handoffs_refused = 0;	/* asked of this node and refused before anything was restored */
	std::uint64_t handoffs_lost = 0;	/* made here, dropped without the acceptor's answer */
	std::uint64_t recoveries = 0;		/* clients of dead members this node took over */
	std::uint64_t recovered = 0;		/* their connections restored and handed to a program */
	std::uint64_t recovery_lost = 0;	/* their connections that could not be */
};

/* Each counter and its name, in the order they travel from the agent to gecko-ctl. */
inline constexpr std::pair<std::uint64_t Counters::*, std::string_view> counter_fields[] = {
	{&Counters::mh_received, "mh_received"},
	{&Counters::mh_bad_checksum, "mh_bad_checksum"},
	{&Counters::mh_malformed, "mh_malformed"},
	{&Counters::mh_unexpected, "mh_unexpected"},
	{&Counters::hot_relayed, "hot_relayed"},
	{&Counters::bu_sent, "bu_sent"},
	{&Counters::bu_accepted, "bu_accepted"},
	{&Counters::bu_rejected, "bu_rejected"},
	{&Counters::registrations, "registrations"},
	{&Counters::peer_errors, "peer_errors"},
	{&Counters::peer_refused, "peer_refused"},
	{&Counters::handoffs_out, "handoffs_out"},
	{&Counters::handoffs_in, "handoffs_in"},
	{&Counters::rollbacks, "rollbacks"},
	{&Counters::handoffs_refused, "handoffs_refused"},
	{&Counters::handoffs_lost, "handoffs_lost"},
	{&Counters::recoveries, "recoveries"},
	{&Counters::recovered, "recovered"},
	{&Counters::recovery_lost, "recovery_lost"},
};

class GECKO_API Agent {
public:
	/*
	 * Opens its sockets (EADDRINUSE if another agent serves this
	 * namespace) and loads its credentials (EPERM for a secret file others
	 * may read, EINVAL for one that is not what it should be).
	 */
	static Result<std::unique_ptr<Agent>> open(Config config);

	/* Serves until @stop_fd becomes readable. Registrations stay in place. */
	Result<void> run(int stop_fd);

	~Agent();

private:
	friend class gecko::Node;	/* runs an agent with an application attached */
	struct Impl;
	explicit Agent(std::unique_ptr<Impl> impl);
	std::unique_ptr<Impl> impl_;
};

/* One handoff this agent made (donor) or took (acceptor), for gecko-ctl handoff show. */
struct HandoffRecord {
	std::uint64_t id = 0;
	bool outbound = false;			/* this node was the donor */
	in6_addr client{};
	in6_addr node{};			/* the other node's care-of address */
	std::uint32_t conns = 0;		/* connections moved together */
	bool moved = false;			/* the acceptor serves them */
	bool lost = false;			/* donor only: dropped without the acceptor's answer */
	std::string error;			/* why not */
	std::chrono::microseconds prepare{};	/* until the acceptor's return routability was done */
	std::chrono::microseconds frozen{};	/* the connections' freeze, donor side */
	std::chrono::microseconds total{};
};

/* A member of the distributed server, as this node's agent sees it. */
struct MemberStatus {
	enum class State {
		self,		/* this node */
		alive,		/* heard from within the failure bound */
		dead,		/* heard from once, silent since for longer than the bound */
		unknown,	/* never heard from */
		draining,	/* alive, handing its clients to others: is sent no new one */
		left,		/* drained, and said it leaves: is sent no client until it serves again */
		unavailable,	/* alive, but its program cannot serve (Node::set_available): is sent no new client */
	};
	std::string name;
	in6_addr address{};
	State state = State::unknown;
	std::optional<std::chrono::milliseconds> silent;	/* since its last heartbeat; none if never */
	std::uint32_t connections = 0;				/* it serves, as it last said */
	std::uint64_t heartbeats = 0;				/* heard from it: a new one is a new count */
	bool joined = false;					/* by gecko-ctl join, not from the file */
	unsigned weight = 1;					/* its share under the weighted policy */
};

/* How far a member is from a client's network, as its TCP stack measured (the proximity policy's). */
struct Distance {
	std::string member;
	std::chrono::microseconds rtt{};
};

/* A connection of G a member mirrored to this node, for its recovery. */
struct MirrorHeld {
	std::string member;			/* whose */
	in6_addr client{};
	std::uint16_t client_port = 0;
	std::uint16_t port = 0;			/* G's */
	std::chrono::milliseconds age{};	/* since its last mirror */
	std::uint32_t state_len = 0;		/* its application state's octets */
};

/* The mirrors of one member's connections this node holds. */
struct MirrorsOf {
	std::string member;
	std::uint32_t connections = 0;
	std::chrono::milliseconds oldest{};	/* the age of the oldest mirror */
};

/* The contact node's home registration, as it mirrored it to this node (one of its backups). */
struct RegistrationHeld {
	std::string member;			/* the contact node */
	in6_addr home{};			/* G */
	std::uint16_t seq = 0;			/* of its last Binding Update to the home agent */
	std::chrono::seconds left{};		/* of the lifetime the home agent granted, when mirrored */
	std::chrono::milliseconds age{};	/* since the mirror */
};

/*
 * A client of a dead member this node took over: its connections
 * restored from their mirrors at the client's numbers and handed to
 * their programs (Documentation/handoff.md, "Takeover").
 */
struct RecoveryRecord {
	std::string member;			/* the dead member */
	in6_addr client{};
	std::uint32_t conns = 0;		/* its connections mirrored here */
	std::uint32_t recovered = 0;		/* of those, restored and handed to a program */
	std::string error;			/* why some were not */
	std::chrono::milliseconds silent{};	/* the member's silence when it was declared dead */
	std::chrono::microseconds signalling{};	/* return routability and Binding Update */
	std::chrono::microseconds probe{};	/* from the client's binding here to its last answer */
	std::chrono::microseconds total{};	/* from the member declared dead to the connections handed over */
};

/* What a node mirrors to its backup, and what it holds of the other members' (Control::backups). */
struct Backups {
	/* Mirrors listed one by one at most: the reply stays one message. */
	static constexpr std::size_t max_listed = 256;

	std::optional<std::string> backup;	/* the member it mirrors to now; none while no other is alive */
	std::uint32_t mirrored = 0;		/* its connections mirrored there */
	std::vector<MirrorsOf> members;		/* each member's whose mirrors it holds */
	std::vector<MirrorHeld> held;		/* the first max_listed of those mirrors (of the client asked for) */
	std::vector<RegistrationHeld> registrations;
	std::vector<RecoveryRecord> recoveries;	/* the last ones this node made, oldest first */
};

/* The states by the names the agent and gecko-ctl print. */
inline constexpr std::pair<MemberStatus::State, std::string_view> member_states[] = {
	{MemberStatus::State::self, "self"},
	{MemberStatus::State::alive, "alive"},
	{MemberStatus::State::dead, "dead"},
	{MemberStatus::State::unknown, "unknown"},
	{MemberStatus::State::draining, "draining"},
	{MemberStatus::State::left, "left"},
	{MemberStatus::State::unavailable, "unavailable"},
};

/* A program whose connections the agent can hand off (gecko/node.h), for gecko-ctl programs. */
struct ProgramStatus {
	std::int32_t pid = 0;
	std::string name;			/* its command name */
	std::vector<std::uint16_t> ports;	/* G's ports it serves */
	std::uint32_t connections = 0;
	std::string detail;			/* what the program says of itself (gecko::Node::describe) */
	/* Its own counters (gecko::Node::count), by name. */
	std::vector<std::pair<std::string, std::uint64_t>> counters;
};

/* A program's counters: at most this many, each name of [a-z0-9_] and at most 32 characters. */
inline constexpr std::size_t max_program_counters = 32;
inline bool valid_counter_name(std::string_view name)
{
	return !name.empty() && name.size() <= 32 &&
	       name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string_view::npos;
}

/* How a signalling operation went. */
struct Outcome {
	std::uint16_t seq = 0;			/* of the Binding Update that was accepted */
	std::uint32_t lifetime = 0;		/* seconds the binding was granted */
	std::chrono::microseconds elapsed{};	/* from the request to the answer */
};

/*
 * gecko-ctl's side. Each call waits for the operation to finish; a
 * refusal by the peer is an error naming the Binding Acknowledgement's
 * status (EACCES), silence is ETIMEDOUT.
 */
class GECKO_API Control {
public:
	/* ECONNREFUSED / ENOENT when no agent runs in this network namespace. */
	static Result<Control> connect(const std::string &name = default_control);

	Result<Outcome> register_home(const in6_addr &home, std::optional<std::uint32_t> lifetime = {});
	Result<Outcome> deregister_home(const in6_addr &home);
	Result<Outcome> rr(const in6_addr &home, const in6_addr &client);
	Result<Outcome> bu(const in6_addr &home, const in6_addr &client, std::optional<std::uint16_t> seq = {},
			   std::optional<std::uint32_t> lifetime = {});
	Result<Outcome> clear(const in6_addr &home, const in6_addr &client);
	Result<Counters> counters();
	/*
	 * Asks the application this agent runs in (gecko/node.h) to hand
	 * @client's connections to the node whose care-of address is @node,
	 * and waits for the end: EOPNOTSUPP without an application, the
	 * handoff's error if it was rolled back.
	 */
	Result<Outcome> handoff(const in6_addr &client, const in6_addr &node);
	/* The last handoffs this agent made or took, oldest first. */
	Result<std::vector<HandoffRecord>> handoffs();
	/*
	 * The programs it serves: those that joined it (gecko-agent), or the
	 * one it runs in; none for an agent alone.
	 */
	Result<std::vector<ProgramStatus>> programs();
	/* The members of its distributed server, in the configuration's order; EOPNOTSUPP without one. */
	Result<std::vector<MemberStatus>> members();
	/*
	 * How far the members are from @client's network, as they told this
	 * agent (the proximity policy's measure): those that measured it.
	 */
	Result<std::vector<Distance>> proximity(const in6_addr &client);
	/*
	 * Where this node mirrors its connections, and the mirrors it holds of
	 * the others' (of @client's connections only, if given: Backups::held
	 * lists the first max_listed); EOPNOTSUPP without a cluster.
	 */
	Result<Backups> backups(std::optional<in6_addr> client = std::nullopt);
	/*
	 * Adds a member the cluster file does not list, until leave() or the
	 * agent stops: it gets heartbeats, its own count, and (on a contact
	 * node) clients. EEXIST if the name or address is a member's.
	 */
	Result<void> join(const std::string &name, const in6_addr &address, unsigned weight = 1);
	/* Forgets a member join() added: EPERM for one of the file's. */
	Result<void> leave(const std::string &name);
	/*
	 * Asks the application this agent runs in to hand every client it
	 * serves to other members, and waits for the end: a line saying what
	 * moved, after which the node has left (the others take it for
	 * gone, not dead); the error if some clients could not move (they are
	 * still served here, the node still drains). EOPNOTSUPP without a
	 * cluster or an application that can drain.
	 */
	Result<std::string> drain();
	/*
	 * Tests only: the handoffs this agent accepts from now on fail at
	 * @phase: "refuse" (at prepare), "die" (the process dies once the
	 * state arrived), "bu-reject" (as if the client refused the Binding
	 * Update), "stall" (never sends its Binding Update); or are held back
	 * for MS milliseconds, as a slow node would: "hold-before-bu:MS",
	 * "hold-after-bu:MS" (the client's answer waits), "hold-after-ba:MS"
	 * (the thaw waits), "hold-after-thaw:MS" (the answer to the donor
	 * waits); "" for none.
	 */
	Result<void> inject_fault(const std::string &phase);

	Control(Control &&other) noexcept;
	Control &operator=(Control &&other) noexcept;
	Control(const Control &) = delete;
	Control &operator=(const Control &) = delete;
	~Control();

private:
	explicit Control(int fd) : fd_(fd) {}

	int fd_;
};

} // namespace gecko::agent

#endif /* GECKO_AGENT_H */
