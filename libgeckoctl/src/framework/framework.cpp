// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The high-level API on gecko::Node. One lock guards the framework's
 * state; the background thread waits for the listeners and the Node's
 * events and does the placements, the program's threads do their reads,
 * writes and handoffs, and wait on the condition variable for a handoff's
 * end. A connection's socket stays open until its GeckoSocket closes, so
 * no thread ever polls a number that was reused.
 */

#include <gecko/framework.h>
#include <gecko/node.h>

#include "agent/common.h"
#include "agent/proximity.h"
#include "fail.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace gecko {

using agent::same;
using agent::text;
using agent::UniqueFd;

namespace detail {

namespace {

Result<UniqueFd> new_eventfd()
{
	UniqueFd fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (fd.get() < 0)
		return sys_fail(errno, "eventfd");
	return fd;
}

/*
 * steady_clock's time to within a tick, read without the hardware clock
 * (which may trap to the kernel at every read): for what the loop of the
 * framework's thread looks at on every turn.
 */
std::chrono::steady_clock::time_point coarse_now()
{
	timespec ts{};
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return std::chrono::steady_clock::time_point(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
		std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
}

void signal(const UniqueFd &fd)
{
	std::uint64_t one = 1;
	if (fd.get() >= 0 && write(fd.get(), &one, sizeof(one)) < 0) {
		/* Fails only on overflow: it is readable anyway. */
	}
}

void drain(const UniqueFd &fd)
{
	std::uint64_t count;
	if (read(fd.get(), &count, sizeof(count)) < 0) {
		/* EAGAIN: it was not readable. */
	}
}

/*
 * A listening socket the program shares is looked at by the framework's
 * thread too once the program has not emptied it for that long (busy, or
 * at a limit of its own): no client waits unseen in the kernel for much
 * longer than that and the thread's 100 ms turn.
 */
constexpr std::chrono::milliseconds shared_grace{50};

/* How long the contact node sends a client's new connections where it moved the client. */
constexpr std::chrono::seconds moved_memory{3};

/* How many handoffs a placement tries before the client stays here. */
constexpr std::size_t max_placement_tries = 3;
/*
 * Handoffs this node has under way to one member at most; more new
 * clients for it wait their turn. Half what an acceptor takes at a time
 * (agent/handoff.h's max_inbound): room for other donors.
 */
constexpr unsigned max_outgoing = 8;

} // namespace

struct Connection {
	UniqueFd fd;
	/* eventfd: a handoff of it ended, for a Read or Write waiting in poll(); made by the first to wait */
	UniqueFd wake;
	sockaddr_in6 peer{};
	std::uint16_t port = 0;	/* G's */
	std::vector<std::byte> state;
	std::uint64_t sent = 0;
	std::uint64_t received = 0;
	bool recovered = false;		/* Arrival::recovered */
	bool blocking = true;
	enum class Where { here, leaving, gone } where = Where::here;
	bool busy = false;	/* a program thread reads or writes it */
	bool held = false;	/* GeckoSocket::Hold */
	bool program = false;	/* given to the program (Accept) */
	/*
	 * Accepted while its client's other connections were leaving or
	 * waiting to: it waits until none is, then goes where they went (or
	 * stays with them), never to be left behind the client's binding.
	 */
	bool following = false;
	/* While leaving: the policy chose the acceptor, and retries on failure; the members tried. */
	bool by_policy = false;
	bool retry = false;
	std::vector<in6_addr> tried;
	/* While leaving: the member this program asked for (the handoff may go elsewhere under gecko-agent). */
	in6_addr heading{};
	std::optional<Error> error;	/* why the last handoff did not move it */
	std::size_t drain_attempts = 0;	/* handoffs a drain made of it */

	/* Not to be taken from its program now. */
	bool in_use() const { return busy || held; }
};

struct Listener {
	UniqueFd fd;
	UniqueFd ready_fd;	/* eventfd: readable while @ready is not empty */
	std::uint16_t port = 0;
	std::deque<std::shared_ptr<Connection>> ready;
	bool blocking = true;
	bool closed = false;
	std::chrono::steady_clock::time_point paused_until;	/* accept() ran out of descriptors */
	/*
	 * GeckoServerSocket::ShareListeningSocket(): the program's Accept()
	 * takes connections from @fd itself; when it last emptied it (by
	 * coarse_now(); the clock's epoch: never).
	 */
	bool shared = false;
	std::chrono::steady_clock::time_point program_emptied;
	bool taking = false;	/* Accept() admits one to take it at once: no wake-up for it */
	unsigned accepting = 0;	/* Accept()s in accept() on @fd, without the lock: @fd stays open */

	/* When the framework's thread is to watch @fd: now, or once the program has not emptied it for a while. */
	std::chrono::steady_clock::time_point watched_from() const
	{
		return std::max(paused_until, shared ? program_emptied + shared_grace : decltype(paused_until){});
	}
};

struct Framework {
	std::shared_ptr<const Cluster> cluster;
	/* Members gecko-ctl join added to the agent, as its last list said (std::map: Candidates point in). */
	std::map<std::string, Member> joined;
	/* What the policy chose, for gecko-ctl programs: placements by where they went, handoffs it moved. */
	std::string policy_name;
	std::map<std::string, std::uint64_t> placed, moved_by_policy;
	std::string described;
	std::chrono::steady_clock::time_point described_at;
	const Member *self = nullptr;
	bool contact = false;
	bool available = true;	/* SetAvailable */
	std::string control_name;
	std::function<void(const std::string &)> log_fn;

	std::unique_ptr<Node> node;
	UniqueFd stop;
	UniqueFd wake;		/* the listeners changed */
	std::thread thread;

	std::mutex lock;
	std::condition_variable changed;
	bool stopped = false;
	std::unique_ptr<GeckoPolicy> policy;
	std::map<int, std::shared_ptr<Connection>> conns;	/* by descriptor: the Node's connections */
	std::map<std::uint16_t, std::shared_ptr<Listener>> listeners;	/* by port */
	std::map<in6_addr, unsigned, agent::AddrLess> outgoing;	/* handoffs under way, by acceptor */
	/* New clients waiting for room at the member the policy chose for them. */
	std::deque<std::pair<std::shared_ptr<Connection>, in6_addr>> queued;
	/*
	 * The contact node's clients moved elsewhere lately, and where: a
	 * connection the client opened before its binding changed may still
	 * arrive here, and it goes there too, whatever the policy would
	 * choose. Two generations of moved_memory each, the older dropped
	 * whole: the entries live between one and two of them.
	 */
	struct {
		std::map<in6_addr, in6_addr, agent::AddrLess> now, before;
		std::chrono::steady_clock::time_point since;
	} moved_lately;
	bool followers = false;		/* some connection is following (release_followers) */
	std::uint64_t choices = 0;	/* the policy's: this node's report number */
	/* gecko-ctl drain: every client to other members; what moved, and why the others did not. */
	struct {
		bool active = false;
		std::chrono::steady_clock::time_point started;
		unsigned clients = 0;
		unsigned conns = 0;
		std::map<in6_addr, Error, agent::AddrLess> failed;
	} draining;
	std::vector<Request> requests;	/* gecko-ctl handoffs waiting for the client's connections to be free */

	template <class... Args>
	void log(const Args &...args)
	{
		agent::log_line(log_fn, args...);
	}

	void run();
	void register_home();
	void shutdown();
	/* A connection accept() returned, not yet placed. */
	struct Accepted {
		std::shared_ptr<Listener> listener;
		UniqueFd fd;
		sockaddr_in6 peer;
	};
	static int accept_all(const std::shared_ptr<Listener> &listener, std::vector<Accepted> &accepted);
	static int accept_one(const std::shared_ptr<Listener> &listener, std::vector<Accepted> &accepted);
	/* Whether admit() would place @accepted by the policy (a wait for the agent): on this thread, then. */
	bool places(const Accepted &accepted);
	void admit(Accepted accepted);
	/* Accepted on a program's thread, to be placed on the framework's. */
	std::vector<Accepted> to_place;
	void place(const std::shared_ptr<Connection> &conn);
	void place_on(const std::shared_ptr<Connection> &conn, const in6_addr &target);
	void start_queued();
	void handle(Arrival &arrival);
	void handle(const Departure &departure);
	void settle(const Departure &departure);
	void follow(const Departure &departure);
	void release_followers();
	bool moving(const in6_addr &client) const;
	void age_moved();
	void moved(const in6_addr &client, const in6_addr &node);
	std::optional<in6_addr> moved_to(const in6_addr &client);
	void handle(const Request &request);
	void handle(const Drain &drain);
	void drain_step();
	void retry_requests();
	void deliver(Listener &listener, std::shared_ptr<Connection> conn);
	std::string name(const in6_addr &node) const;
	const Member *member(const in6_addr &node) const;
	std::vector<agent::MemberStatus> refresh_joined();
	void describe();

	/* Called with the lock held. */
	std::vector<std::shared_ptr<Connection>> of_client(const in6_addr &client) const;
	/* Whether @client has a connection here (of_client() not empty), without gathering them. */
	bool knows(const in6_addr &client) const;
	Result<void> hand_off(const in6_addr &client, const in6_addr &target, bool by_policy, bool retry);
	Result<in6_addr> choose(const Connection &conn);
	unsigned under_way(const in6_addr &target) const
	{
		auto it = outgoing.find(target);
		return it == outgoing.end() ? 0 : it->second;
	}
	void forget(const std::shared_ptr<Connection> &conn);
};

std::string Framework::name(const in6_addr &node) const
{
	const auto *m = member(node);
	return m ? m->name : text(node);
}

/* The agent's members, with those joined at run time copied to @joined. */
std::vector<agent::MemberStatus> Framework::refresh_joined()
{
	auto members = node->members();
	std::erase_if(joined, [&](const auto &e) {
		return std::ranges::none_of(members, [&](const auto &m) { return m.joined && m.name == e.first; });
	});
	for (const auto &m : members)
		if (m.joined)
			joined.insert_or_assign(m.name, Member{m.name, m.address, m.weight, {}});
	return members;
}

/* The file's member at @node, or one joined at run time. */
const Member *Framework::member(const in6_addr &node) const
{
	if (const auto *m = cluster->member(node))
		return m;
	auto it = std::ranges::find_if(joined, [&](const auto &e) { return same(e.second.address, node); });
	return it == joined.end() ? nullptr : &it->second;
}

bool Framework::knows(const in6_addr &client) const
{
	return std::ranges::any_of(conns, [&](const auto &e) {
		return same(e.second->peer.sin6_addr, client) && e.second->where != Connection::Where::gone;
	});
}

std::vector<std::shared_ptr<Connection>> Framework::of_client(const in6_addr &client) const
{
	std::vector<std::shared_ptr<Connection>> out;
	for (const auto &[fd, c] : conns)
		if (same(c->peer.sin6_addr, client) && c->where != Connection::Where::gone)
			out.push_back(c);
	return out;
}

/* The policy's choice for @conn's client among the members alive, not counting those tried. */
Result<in6_addr> Framework::choose(const Connection &conn)
{
	if (!policy)
		return fail(EHOSTUNREACH, "no redirection policy is set");
	std::vector<Candidate> candidates;
	auto members = refresh_joined();
	auto distances = node->distances(conn.peer.sin6_addr);
	for (const auto &m : members) {
		const auto *member = m.joined ? &joined.at(m.name) : cluster->member(m.name);
		bool self_ = m.state == agent::MemberStatus::State::self;
		if (!member || !((self_ && available) || m.state == agent::MemberStatus::State::alive) ||
		    std::ranges::any_of(conn.tried, [&](const in6_addr &t) { return same(t, m.address); }))
			continue;
		std::optional<std::chrono::microseconds> rtt;
		if (auto d = std::ranges::find(distances, m.name, &agent::Distance::member); d != distances.end())
			rtt = d->rtt;
		if (!self_) {
			candidates.push_back({member, false, m.connections, m.heartbeats, rtt});
			continue;
		}
		/* This node's count is exact and current: a new report each time, and no placement under way. */
		auto served = std::ranges::count_if(conns, [](const auto &c) { return c.second->program; });
		/* Its distance is this connection's own, when the stack has measured it (the handshake did). */
		if (auto own = agent::min_rtt(conn.fd.get()))
			rtt = own;
		candidates.push_back({member, true, static_cast<std::uint32_t>(served), ++choices, rtt});
	}
	return policy->SelectTarget({conn.peer.sin6_addr, ntohs(conn.peer.sin6_port), candidates,
				     agent::network(conn.peer.sin6_addr, cluster->proximity_prefix)});
}

Result<void> Framework::hand_off(const in6_addr &client, const in6_addr &target, bool by_policy, bool retry)
{
	if (stopped)
		return fail(ESHUTDOWN, "the framework stopped");
	if (same(target, self->address))
		return fail(EINVAL, "the connection is on " + self->name + " already");
	refresh_joined();
	if (!member(target))
		return fail(EHOSTUNREACH, text(target) + " is not a member of " + cluster->file +
						  ", nor joined this node's agent");
	auto all = of_client(client);
	std::vector<Outgoing> out;
	for (const auto &c : all) {
		if (c->in_use() || c->where != Connection::Where::here)
			return fail(EBUSY, "another connection of " + text(client) +
						   " is in use or moving; a client's connections move together");
		out.push_back({c->fd.get(), c->state});
	}
	if (auto ok = node->hand_off(target, std::move(out)); !ok)
		return ok;
	outgoing[target]++;
	for (const auto &c : all) {
		c->where = Connection::Where::leaving;
		c->by_policy = by_policy;
		c->retry = retry;
		c->tried.push_back(target);
		c->heading = target;
		c->error.reset();
	}
	log("hand-off: ", text(client), " to ", name(target), ", ", all.size(), " connection(s)");
	return {};
}

/* A new client on the contact node: hands it where the policy says. */
void Framework::place(const std::shared_ptr<Connection> &conn)
{
	if (!listeners.contains(conn->port))
		return forget(conn);
	if (conn->tried.size() < max_placement_tries) {
		auto target = choose(*conn);
		if (target && !same(*target, self->address))
			return place_on(conn, *target);
	}
	log("placement: ", text(conn->peer.sin6_addr), " stays on ", self->name);
	placed[self->name]++;
	deliver(*listeners.at(conn->port), conn);
}

void Framework::place_on(const std::shared_ptr<Connection> &conn, const in6_addr &target)
{
	if (under_way(target) >= max_outgoing) {
		queued.emplace_back(conn, target);
		return;
	}
	auto ok = hand_off(conn->peer.sin6_addr, target, true, true);
	if (ok)
		return;
	log("placement: ", text(conn->peer.sin6_addr), " to ", name(target), ": ", ok.error().describe());
	policy->NotifyFailedHandoff(target, conn->peer.sin6_addr);
	conn->tried.push_back(target);
	place(conn);
}

/* New clients whose member has room again, in the order they came. */
void Framework::start_queued()
{
	auto waiting = std::move(queued);
	queued.clear();
	for (auto &[conn, target] : waiting) {
		if (!policy) {
			place(conn);
			continue;
		}
		place_on(conn, target);
	}
}

void Framework::deliver(Listener &listener, std::shared_ptr<Connection> conn)
{
	conn->program = true;
	conn->tried.clear();
	if (listener.ready.empty() && !listener.taking)
		signal(listener.ready_fd);
	listener.ready.push_back(std::move(conn));
	changed.notify_all();
}

/* A connection that was never the program's: the Node lets it go and it closes. */
void Framework::forget(const std::shared_ptr<Connection> &conn)
{
	node->remove(conn->fd.get());
	conns.erase(conn->fd.get());
}

/*
 * What waits on @listener's socket, without the lock (accept() is a slow
 * system call, and the program's threads wait for the lock); the error
 * that stopped it other than "nothing more", or 0.
 */
int Framework::accept_all(const std::shared_ptr<Listener> &listener, std::vector<Accepted> &accepted)
{
	int err;
	while (!(err = accept_one(listener, accepted))) {
	}
	return err == EAGAIN ? 0 : err;
}

/* One connection waiting on @listener's socket, without the lock: 0, EAGAIN when none waits, or the error. */
int Framework::accept_one(const std::shared_ptr<Listener> &listener, std::vector<Accepted> &accepted)
{
	for (;;) {
		sockaddr_in6 peer{};
		socklen_t len = sizeof(peer);
		UniqueFd fd(accept4(listener->fd.get(), reinterpret_cast<sockaddr *>(&peer), &len, SOCK_CLOEXEC));

		if (fd.get() >= 0) {
			accepted.push_back({listener, std::move(fd), peer});
			return 0;
		}
		switch (errno) {
		/* The connection's own trouble, which accept(2) passes on: the next may be fine. */
		case ECONNABORTED:
		case EPROTO:
		case ENOPROTOOPT:
		case ENETDOWN:
		case ENETUNREACH:
		case EHOSTDOWN:
		case EHOSTUNREACH:
		case ENONET:
		case EOPNOTSUPP:
			continue;
		case EINTR:
			return EAGAIN;
		default:
			return errno;
		}
	}
}

bool Framework::places(const Accepted &accepted)
{
	const auto &client = accepted.peer.sin6_addr;
	if (knows(client))
		return false;	/* it stays with the client's others, or follows them */
	return ((contact || !available) && policy) || moved_to(client);
}

/* A connection just accepted: to the program, or placed elsewhere by the policy. */
void Framework::admit(Accepted accepted)
{
	auto &listener = *accepted.listener;
	/* Closed since: the connection goes as the program's own would (it never saw it). */
	if (listener.closed)
		return;
	const auto &peer = accepted.peer;
	auto conn = std::make_shared<Connection>();
	conn->fd = std::move(accepted.fd);
	conn->peer = peer;
	conn->port = listener.port;
	int n = conn->fd.get();
	/* Bound to G: the connection's local end is G and the port. */
	sockaddr_in6 local{};
	local.sin6_family = AF_INET6;
	local.sin6_addr = cluster->service;
	local.sin6_port = htons(listener.port);
	if (auto ok = node->add(n, local, peer); !ok) {
		log("accepted ", text(peer.sin6_addr), " on port ", listener.port,
		    ", which cannot be handed off: ", ok.error().describe());
		conns.emplace(n, conn);
		deliver(listener, conn);
		return;
	}
	bool known = knows(peer.sin6_addr);
	conns.emplace(n, conn);
	if (moving(peer.sin6_addr)) {
		conn->following = followers = true;
		return;
	}
	/* Opened before its client's binding moved to another member: it goes there too. */
	if (auto target = moved_to(peer.sin6_addr); !known && target && member(*target))
		return place_on(conn, *target);
	/* An unavailable node places elsewhere the new clients its bindings still bring. */
	if ((contact || !available) && policy && !known)
		place(conn);
	else
		deliver(listener, conn);
}

void Framework::handle(Arrival &arrival)
{
	UniqueFd fd(arrival.fd);
	sockaddr_in6 local{};
	socklen_t len = sizeof(local);

	getsockname(fd.get(), reinterpret_cast<sockaddr *>(&local), &len);
	auto listener = listeners.find(ntohs(local.sin6_port));
	if (listener == listeners.end()) {
		log("arrival: ", text(arrival.client), " on port ", ntohs(local.sin6_port),
		    ", which no program serves here now: closed");
		node->remove(fd.get());
		return;
	}
	auto conn = std::make_shared<Connection>();
	len = sizeof(conn->peer);
	getpeername(fd.get(), reinterpret_cast<sockaddr *>(&conn->peer), &len);
	conn->fd = std::move(fd);
	conn->port = listener->first;
	conn->state = std::move(arrival.app_state);
	conn->sent = arrival.bytes_sent;
	conn->received = arrival.bytes_received;
	conn->recovered = arrival.recovered;
	log(arrival.recovered ? "recovered: " : "arrival: ", text(arrival.client), " port ", ntohs(conn->peer.sin6_port), ", ", conn->sent,
	    " octets sent and ", conn->received, " received so far");
	int n = conn->fd.get();
	if (auto ok = node->add(n); !ok)
		log("arrival: ", text(arrival.client), " cannot be handed off again: ", ok.error().describe());
	conns.emplace(n, conn);
	deliver(*listener->second, std::move(conn));
}

/* @client has connections leaving this node, or waiting for room at the member they go to. */
bool Framework::moving(const in6_addr &client) const
{
	return std::ranges::any_of(conns,
				   [&](const auto &e) {
					   return same(e.second->peer.sin6_addr, client) &&
						  e.second->where == Connection::Where::leaving;
				   }) ||
	       std::ranges::any_of(queued, [&](const auto &q) { return same(q.first->peer.sin6_addr, client); });
}

/* Drops the older generation of moved_lately once the newer is moved_memory old. */
void Framework::age_moved()
{
	auto now = coarse_now();
	auto age = now - moved_lately.since;
	if (age < moved_memory)
		return;
	moved_lately.before = age < 2 * moved_memory ? std::move(moved_lately.now) : decltype(moved_lately.now){};
	moved_lately.now.clear();
	moved_lately.since = now;
}

void Framework::moved(const in6_addr &client, const in6_addr &node)
{
	age_moved();
	moved_lately.now.insert_or_assign(client, node);
}

std::optional<in6_addr> Framework::moved_to(const in6_addr &client)
{
	age_moved();
	for (const auto *gen : {&moved_lately.now, &moved_lately.before})
		if (auto it = gen->find(client); it != gen->end())
			return it->second;
	return std::nullopt;
}

void Framework::handle(const Departure &departure)
{
	settle(departure);
	follow(departure);
}

/*
 * The client's connections accepted while the others were leaving, once
 * none is and they moved: they go where the others went (still following
 * until that handoff ends too).
 */
void Framework::follow(const Departure &departure)
{
	if (departure.fate != Fate::moved || moving(departure.client))
		return;
	auto waiting = of_client(departure.client);
	std::erase_if(waiting, [](const auto &c) { return !c->following; });
	if (waiting.empty())
		return;
	if (auto ok = hand_off(departure.client, departure.node, false, false); !ok)
		log("hand-off: ", text(departure.client), "'s ", waiting.size(), " later connection(s) to ",
		    name(departure.node), ", where the others went: ", ok.error().describe());
}

/*
 * The following connections whose clients no longer move, and that did
 * not move with them: they stay, the program's (their client's others
 * stayed too, or a handoff failed before it started).
 */
void Framework::release_followers()
{
	if (!followers)
		return;
	followers = false;
	std::vector<std::shared_ptr<Connection>> staying;
	for (const auto &[fd, c] : conns) {
		if (!c->following)
			continue;
		if (c->where == Connection::Where::here && !moving(c->peer.sin6_addr))
			staying.push_back(c);
		else
			followers = true;
	}
	for (const auto &c : staying) {
		c->following = false;
		if (auto l = listeners.find(c->port); l != listeners.end())
			deliver(*l->second, c);
		else
			forget(c);
	}
}

void Framework::settle(const Departure &departure)
{
	auto why = departure.error ? *departure.error : Error{EIO, "no reason given"};
	std::vector<std::shared_ptr<Connection>> ended;

	/* Whoever waits for this handoff's end, or for room to that member, looks again once the lock is free. */
	changed.notify_all();

	for (int fd : departure.fds)
		if (auto it = conns.find(fd); it != conns.end())
			ended.push_back(it->second);
	/* Counted against the member it asked for: another program's handoff of the client may have chosen. */
	auto asked = ended.empty() ? departure.node : ended.front()->heading;
	if (auto it = outgoing.find(asked); it != outgoing.end() && --it->second == 0)
		outgoing.erase(it);
	if (departure.fate != Fate::stayed) {
		log("departure: ", text(departure.client), " to ", name(departure.node), ": ",
		    departure.fate == Fate::moved ? "moved" : "lost: " + why.describe(), ", frozen ",
		    departure.frozen.count() / 1000.0, " ms");
		if (departure.fate == Fate::moved && contact)
			moved(departure.client, departure.node);
		if (departure.fate == Fate::moved && !ended.empty()) {
			/* A placement's connection was never the program's. */
			if (!ended.front()->program)
				placed[name(departure.node)]++;
			else if (ended.front()->by_policy)
				moved_by_policy[name(departure.node)]++;
		}
		if (draining.active && departure.fate == Fate::moved && !ended.empty()) {
			draining.clients++;
			draining.conns += static_cast<unsigned>(ended.size());
			draining.failed.erase(departure.client);
		}
		for (const auto &c : ended) {
			c->where = Connection::Where::gone;
			if (departure.fate == Fate::lost)
				c->error = why;
			node->remove(c->fd.get());
			conns.erase(c->fd.get());
			/* A placement's socket was never the program's: it closes now. */
			if (c->program)
				signal(c->wake);
		}
		return;
	}
	log("departure: ", text(departure.client), " to ", name(departure.node), ": stayed here: ", why.describe());
	if (draining.active)
		draining.failed.insert_or_assign(departure.client, why);
	if (policy && !ended.empty() && ended.front()->by_policy)
		policy->NotifyFailedHandoff(departure.node, departure.client);
	for (const auto &c : ended) {
		c->where = Connection::Where::here;
		c->error = why;
	}
	if (!ended.empty() && ended.front()->retry) {
		const auto &first = ended.front();
		if (!first->program)
			return place(first);
		/* A non-blocking Handoff(): the policy's next choice. */
		while (first->tried.size() < max_placement_tries) {
			auto target = choose(*first);
			if (!target || same(*target, self->address))
				break;
			if (hand_off(departure.client, *target, true, true))
				return;
			policy->NotifyFailedHandoff(*target, departure.client);
			for (const auto &c : ended)
				c->tried.push_back(*target);
		}
	}
	for (const auto &c : ended) {
		c->tried.clear();
		signal(c->wake);
	}
}

void Framework::handle(const Request &request)
{
	log("request: ", text(request.client), " to ", name(request.node));
	requests.push_back(request);
}

void Framework::handle(const Drain &)
{
	if (contact) {
		log("drain: refused: ", self->name, " is the contact node");
		node->drained(fail(EBUSY, self->name + " is the contact node: it places the new clients, and no "
							"backup takes its role yet"));
		return;
	}
	log("drain: handing every client to other members");
	draining.active = true;
	draining.started = std::chrono::steady_clock::now();
	draining.clients = draining.conns = 0;
	draining.failed.clear();
	for (auto &[fd, c] : conns)
		c->drain_attempts = 0;
}

/*
 * One more handoff for each client still here whose connections are free,
 * to the member the policy picks among the others; the answer once every
 * client moved or had its tries.
 */
void Framework::drain_step()
{
	std::map<in6_addr, std::vector<std::shared_ptr<Connection>>, agent::AddrLess> clients;
	bool moving = false;
	for (const auto &[fd, c] : conns) {
		if (!c->program || c->where == Connection::Where::gone)
			continue;
		moving = moving || c->where == Connection::Where::leaving;
		clients[c->peer.sin6_addr].push_back(c);
	}
	bool waiting = false;
	for (const auto &[client, list] : clients) {
		const auto &first = list.front();
		if (std::ranges::any_of(list, [](const auto &c) {
			    return c->in_use() || c->where == Connection::Where::leaving;
		    })) {
			waiting = true;
			continue;
		}
		if (first->drain_attempts >= max_placement_tries)
			continue;
		first->tried.assign(1, self->address);
		auto target = choose(*first);
		first->tried.clear();
		if (!target) {
			draining.failed.insert_or_assign(client, target.error());
			for (const auto &c : list)
				c->drain_attempts = max_placement_tries;
			continue;
		}
		waiting = true;
		if (under_way(*target) >= max_outgoing)
			continue;
		for (const auto &c : list)
			c->drain_attempts++;
		if (auto ok = hand_off(client, *target, true, false); !ok)
			draining.failed.insert_or_assign(client, ok.error());
	}
	if (moving || waiting)
		return;
	draining.active = false;
	auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - draining.started);
	std::string moved = "moved " + std::to_string(draining.clients) + " client(s), " + std::to_string(draining.conns) +
			    " connection(s), in " + std::to_string(ms.count()) + " ms";
	if (clients.empty()) {
		log("drain: ", moved);
		node->drained(moved);
		return;
	}
	std::string why = moved + "; " + std::to_string(clients.size()) + " client(s) could not move and are served here";
	if (!draining.failed.empty())
		why += " (" + text(draining.failed.begin()->first) + ": " + draining.failed.begin()->second.describe() + ")";
	log("drain: ", why);
	node->drained(fail(EAGAIN, why));
}

/* gecko-ctl's requests, once the client's connections are free. */
void Framework::retry_requests()
{
	std::erase_if(requests, [this](const Request &r) {
		auto all = of_client(r.client);
		if (std::ranges::any_of(all, [](const auto &c) {
			    return c->in_use() || c->where == Connection::Where::leaving || !c->program;
		    }))
			return false;
		if (all.empty()) {
			node->decline(r, {ENOENT, "no connection of " + text(r.client) + " here"});
			return true;
		}
		if (auto ok = hand_off(r.client, r.node, false, false); !ok)
			node->decline(r, ok.error());
		return true;
	});
}

/* The contact node registers G with the home agent; its agent refreshes the registration from then on. */
void Framework::register_home()
{
	auto control = agent::Control::connect(control_name);
	auto lifetime = static_cast<std::uint32_t>(cluster->registration_lifetime.count());
	auto ok = control ? control->register_home(cluster->service, lifetime) : std::unexpected(control.error());
	if (ok)
		log("framework: ", text(cluster->service), " registered with the home agent ", text(cluster->home_agent),
		    " for ", ok->lifetime, " s");
	else
		log("framework: cannot register ", text(cluster->service), " with the home agent: ",
		    ok.error().describe());
}

void Framework::run()
{
	if (contact)
		register_home();
	for (;;) {
		std::vector<pollfd> fds{{stop.get(), POLLIN, 0}, {wake.get(), POLLIN, 0}, {node->event_fd(), POLLIN, 0}};
		std::vector<std::shared_ptr<Listener>> watched;
		/* A request waits for connections in use: look again soon. */
		auto timeout = std::chrono::milliseconds(100);
		{
			std::lock_guard guard(lock);
			auto now = coarse_now();
			for (const auto &[port, l] : listeners) {
				auto from = l->watched_from();
				fds.push_back({from <= now ? l->fd.get() : -1, POLLIN, 0});
				if (from > now)
					timeout = std::min(timeout, std::chrono::ceil<std::chrono::milliseconds>(from - now));
				watched.push_back(l);
			}
		}
		if (poll(fds.data(), fds.size(), static_cast<int>(timeout.count())) < 0 && errno != EINTR) {
			log("framework: poll: ", std::strerror(errno));
			return;
		}
		if (fds[0].revents)
			return;
		if (fds[1].revents)
			drain(wake);
		std::vector<Accepted> accepted;
		std::vector<int> failed(watched.size(), 0);
		for (std::size_t i = 0; i < watched.size(); i++)
			if (fds[3 + i].revents)
				failed[i] = accept_all(watched[i], accepted);
		std::lock_guard guard(lock);
		if (fds[2].revents) {
			for (auto &event : node->events())
				std::visit([this](auto &e) { handle(e); }, event);
			start_queued();
		}
		for (auto &a : accepted)
			admit(std::move(a));
		for (auto &a : std::exchange(to_place, {}))
			admit(std::move(a));
		for (std::size_t i = 0; i < watched.size(); i++) {
			if (!failed[i])
				continue;
			log("accept on port ", watched[i]->port, ": ", std::strerror(failed[i]));
			/* Out of descriptors: the client waits in the backlog; look again in a while, not at once. */
			if (failed[i] == EMFILE || failed[i] == ENFILE)
				watched[i]->paused_until = coarse_now() + std::chrono::milliseconds(100);
		}
		release_followers();
		retry_requests();
		if (draining.active)
			drain_step();
		describe();
	}
}

/* The policy and its choices so far, for gecko-ctl programs: at most twice a second, when they changed. */
void Framework::describe()
{
	auto now = coarse_now();
	if (now - described_at < std::chrono::milliseconds(500))
		return;
	auto list = [](const std::map<std::string, std::uint64_t> &counts) {
		std::string out;
		for (const auto &[member, n] : counts)
			out += (out.empty() ? "" : ", ") + member + ' ' + std::to_string(n);
		return out;
	};
	std::string text = "policy " + policy_name;
	if (!placed.empty())
		text += "; placed " + list(placed);
	if (!moved_by_policy.empty())
		text += "; moved by policy " + list(moved_by_policy);
	if (text == described)
		return;
	described = text;
	described_at = now;
	node->describe(std::move(text));
}

void Framework::shutdown()
{
	if (!thread.joinable())
		return;
	signal(stop);
	thread.join();
	/* Whoever holds the lock and sees this false may still use the Node. */
	{
		std::lock_guard guard(lock);
		stopped = true;
	}
	/* The agent goes: handoffs under way end as a node that stops must (see gecko/node.h). */
	node.reset();
	std::unique_lock guard(lock);
	for (auto &[fd, c] : conns)
		if (c->where == Connection::Where::leaving) {
			/* Rolled back, or dropped once its state left: which, nobody here will hear. */
			c->where = Connection::Where::gone;
			c->error = Error{ESHUTDOWN, "the framework stopped during a handoff of the connection"};
			signal(c->wake);
		}
	/* What the program never took closes now; what it took, when it closes it. */
	std::erase_if(conns, [](const auto &c) { return !c.second->program; });
	to_place.clear();
	/* An Accept() that calls accept() on a listening socket keeps it open until it has the lock again. */
	changed.wait(guard, [this] { return std::ranges::all_of(listeners, [](const auto &l) { return !l.second->accepting; }); });
	for (auto &[port, l] : listeners) {
		for (const auto &c : l->ready)
			conns.erase(c->fd.get());
		l->closed = true;
		l->ready.clear();
		l->fd = UniqueFd();
	}
	queued.clear();
	changed.notify_all();
}

} // namespace detail

using detail::Connection;
using Where = detail::Connection::Where;

/* --- GeckoSocket --- */

GeckoSocket::GeckoSocket() = default;
GeckoSocket::GeckoSocket(GeckoSocket &&other) noexcept = default;
GeckoSocket::~GeckoSocket()
{
	Close();
}

GeckoSocket &GeckoSocket::operator=(GeckoSocket &&other) noexcept
{
	if (this != &other) {
		Close();
		framework_ = std::move(other.framework_);
		conn_ = std::move(other.conn_);
	}
	return *this;
}

GeckoSocket::GeckoSocket(std::shared_ptr<detail::Framework> framework, std::shared_ptr<Connection> conn)
	: framework_(std::move(framework)), conn_(std::move(conn))
{
}

GeckoSocket::operator bool() const
{
	if (!conn_)
		return false;
	std::lock_guard guard(framework_->lock);
	return conn_->where != Where::gone;
}

int GeckoSocket::fd() const
{
	return conn_ ? conn_->fd.get() : -1;
}

namespace {

/*
 * Waits out a handoff of @conn; marks it in use if it is still here.
 * ENOTCONN once it moved.
 */
Result<void> claim(detail::Framework &f, Connection &conn)
{
	std::unique_lock guard(f.lock);
	f.changed.wait(guard, [&] { return conn.where != Where::leaving; });
	if (conn.where == Where::gone)
		return fail(ENOTCONN, "the connection moved to another node");
	conn.busy = true;
	return {};
}

/*
 * @waits: the caller is to wait in poll() next; the eventfd that the end
 * of a handoff signals is made now, under the lock, so that none is missed.
 */
Result<void> release(detail::Framework &f, Connection &conn, bool waits)
{
	std::lock_guard guard(f.lock);
	conn.busy = false;
	if (waits && conn.wake.get() < 0) {
		auto wake = detail::new_eventfd();
		if (!wake)
			return std::unexpected(wake.error());
		conn.wake = std::move(*wake);
	}
	return {};
}

/* One send or recv under claim(), and in blocking mode a wait until it can go. */
template <class Op>
Result<std::size_t> transfer(detail::Framework &f, Connection &conn, short events, Op op)
{
	for (;;) {
		if (auto ok = claim(f, conn); !ok)
			return std::unexpected(ok.error());
		ssize_t n = op();
		int err = errno;
		bool waits = n < 0 && err == EAGAIN && conn.blocking;
		if (auto ok = release(f, conn, waits); !ok)
			return std::unexpected(ok.error());
		if (n >= 0)
			return static_cast<std::size_t>(n);
		if (err == EINTR)
			continue;
		if (!waits)
			return sys_fail(err, events == POLLIN ? "read" : "write");
		/* Not in use while it waits: a handoff asked for meanwhile may start. */
		pollfd fds[] = {{conn.fd.get(), events, 0}, {conn.wake.get(), POLLIN, 0}};
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			return sys_fail(errno, "poll");
		if (fds[1].revents)
			detail::drain(conn.wake);
	}
}

} // namespace

Result<std::size_t> GeckoSocket::Read(std::span<std::byte> buf)
{
	if (!conn_)
		return fail(EBADF, "the socket is closed");
	auto n = transfer(*framework_, *conn_, POLLIN,
			  [&] { return recv(conn_->fd.get(), buf.data(), buf.size(), MSG_DONTWAIT); });
	if (n)
		conn_->received += *n;
	return n;
}

Result<std::size_t> GeckoSocket::Write(std::span<const std::byte> buf)
{
	if (!conn_)
		return fail(EBADF, "the socket is closed");
	std::size_t done = 0;
	do {
		auto rest = buf.subspan(done);
		auto n = transfer(*framework_, *conn_, POLLOUT, [&] {
			return send(conn_->fd.get(), rest.data(), rest.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
		});
		if (!n)
			return done ? Result<std::size_t>(done) : n;
		conn_->sent += *n;
		done += *n;
	} while (conn_->blocking && done < buf.size());
	return done;
}

Result<void> GeckoSocket::SetNonBlocking()
{
	if (!conn_)
		return fail(EBADF, "the socket is closed");
	conn_->blocking = false;
	return {};
}

Result<void> GeckoSocket::SetBlocking()
{
	if (!conn_)
		return fail(EBADF, "the socket is closed");
	conn_->blocking = true;
	return {};
}

bool GeckoSocket::IsBlocking() const
{
	return !conn_ || conn_->blocking;
}

sockaddr_in6 GeckoSocket::GetPeerName() const
{
	return conn_ ? conn_->peer : sockaddr_in6{};
}

std::uint64_t GeckoSocket::BytesSent() const
{
	return conn_ ? conn_->sent : 0;
}

std::uint64_t GeckoSocket::BytesReceived() const
{
	return conn_ ? conn_->received : 0;
}

bool GeckoSocket::Recovered() const
{
	return conn_ && conn_->recovered;
}

bool GeckoSocket::Hold(bool held)
{
	if (!conn_)
		return false;
	std::unique_lock guard(framework_->lock);
	if (held)
		framework_->changed.wait(guard, [&] { return conn_->where != Where::leaving; });
	if (conn_->where == Where::gone)
		return false;
	conn_->held = held;
	/* A gecko-ctl handoff or a drain may have waited for it: the framework looks now, not at its next tick. */
	if (!held && (!framework_->requests.empty() || framework_->draining.active))
		detail::signal(framework_->wake);
	return true;
}

void GeckoSocket::SetState(std::vector<std::byte> state)
{
	if (!conn_)
		return;
	/* The same again (geckoproxy sets it at every boundary between requests): no new mirror. */
	{
		std::lock_guard guard(framework_->lock);
		if (conn_->state == state)
			return;
	}
	/* Its mirror at the backup carries it too (not under the lock: the agent may take a moment). */
	(void)framework_->node->mirror_state(conn_->fd.get(), state);
	std::lock_guard guard(framework_->lock);
	conn_->state = std::move(state);
}

const std::vector<std::byte> &GeckoSocket::State() const
{
	static const std::vector<std::byte> none;
	return conn_ ? conn_->state : none;
}

std::optional<Error> GeckoSocket::HandoffError() const
{
	if (!conn_)
		return std::nullopt;
	std::lock_guard guard(framework_->lock);
	return conn_->error;
}

Result<void> GeckoSocket::Handoff(bool nonblocking)
{
	return handoff(std::nullopt, nonblocking);
}

Result<void> GeckoSocket::Handoff(const in6_addr &target, bool nonblocking)
{
	return handoff(target, nonblocking);
}

Result<void> GeckoSocket::handoff(std::optional<in6_addr> target, bool nonblocking)
{
	if (!conn_)
		return fail(EBADF, "the socket is closed");
	auto &f = *framework_;
	std::unique_lock guard(f.lock);
	f.changed.wait(guard, [&] { return conn_->where != Where::leaving; });
	if (conn_->where == Where::gone)
		return fail(ENOTCONN, "the connection moved to another node");
	if (f.stopped)
		return fail(ESHUTDOWN, "the framework stopped");
	const auto &client = conn_->peer.sin6_addr;
	bool by_policy = !target;
	if (by_policy) {
		/* Among the others: a handoff moves the connection. */
		conn_->tried.assign(1, f.self->address);
		auto chosen = f.choose(*conn_);
		conn_->tried.clear();
		if (!chosen)
			return std::unexpected(chosen.error());
		target = *chosen;
	}
	/* As many under way to one member as placements may have: more would be refused there. */
	f.changed.wait(guard, [&] { return f.stopped || f.under_way(*target) < detail::max_outgoing; });
	if (by_policy && nonblocking)
		conn_->tried.assign(1, f.self->address);
	if (auto ok = f.hand_off(client, *target, by_policy, by_policy && nonblocking); !ok) {
		conn_->tried.clear();
		return ok;
	}
	if (nonblocking)
		return {};
	f.changed.wait(guard, [&] { return conn_->where != Where::leaving; });
	if (conn_->where == Where::here)
		return std::unexpected(conn_->error.value_or(Error{EIO, "the handoff did not move the connection"}));
	if (conn_->error)
		return std::unexpected(*conn_->error);
	return {};
}

void GeckoSocket::Close()
{
	if (!conn_)
		return;
	auto &f = *framework_;
	{
		std::unique_lock guard(f.lock);
		f.changed.wait(guard, [&] { return conn_->where != Where::leaving; });
		/* Before close(): the number may be reused at once. */
		if (conn_->where == Where::here) {
			if (!f.stopped)
				f.node->remove(conn_->fd.get());
			f.conns.erase(conn_->fd.get());
		}
	}
	conn_.reset();
	framework_.reset();
}

/* --- GeckoServerSocket --- */

GeckoServerSocket::GeckoServerSocket(std::shared_ptr<detail::Framework> framework,
				     std::shared_ptr<detail::Listener> listener)
	: framework_(std::move(framework)), listener_(std::move(listener))
{
}

GeckoServerSocket::GeckoServerSocket(GeckoServerSocket &&other) noexcept = default;

GeckoServerSocket &GeckoServerSocket::operator=(GeckoServerSocket &&other) noexcept
{
	if (this != &other) {
		Close();
		framework_ = std::move(other.framework_);
		listener_ = std::move(other.listener_);
	}
	return *this;
}

GeckoServerSocket::~GeckoServerSocket()
{
	Close();
}

Result<GeckoServerSocket> GeckoServerSocket::Listen(GeckoFramework &framework, std::uint16_t port)
{
	auto &f = *framework.impl_;
	auto listener = std::make_shared<detail::Listener>();
	auto ready = detail::new_eventfd();
	if (!ready)
		return std::unexpected(ready.error());
	listener->ready_fd = std::move(*ready);
	listener->port = port;
	listener->fd = UniqueFd(socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	if (listener->fd.get() < 0)
		return sys_fail(errno, "socket");
	sockaddr_in6 sin6{};
	int one = 1;
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = f.cluster->service;
	sin6.sin6_port = htons(port);
	setsockopt(listener->fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* G may be put on the node after the program starts. */
	setsockopt(listener->fd.get(), IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(listener->fd.get(), reinterpret_cast<sockaddr *>(&sin6), sizeof(sin6)) < 0 ||
	    listen(listener->fd.get(), SOMAXCONN) < 0)
		return sys_fail(errno, "cannot listen on [" + text(sin6.sin6_addr) + "]:" + std::to_string(port));
	{
		std::lock_guard guard(f.lock);
		if (f.stopped)
			return fail(ESHUTDOWN, "the framework stopped");
		if (f.listeners.contains(port))
			return fail(EADDRINUSE, "port " + std::to_string(port) + " is served already");
		f.listeners.emplace(port, listener);
		f.node->serve(port);
	}
	detail::signal(f.wake);
	f.log("serving port ", port, " of ", text(f.cluster->service), " on ", f.self->name);
	return GeckoServerSocket(framework.impl_, std::move(listener));
}

Result<GeckoSocket> GeckoServerSocket::Accept()
{
	if (!listener_)
		return fail(ESHUTDOWN, "the server socket is closed");
	auto &f = *framework_;
	auto &l = *listener_;
	std::unique_lock guard(f.lock);
	if (l.blocking)
		f.changed.wait(guard, [&] { return !l.ready.empty() || l.closed; });
	if (l.closed)
		return fail(ESHUTDOWN, "the server socket is closed");
	/* Moved away by a handoff of the client's before the program took it. */
	auto skip_gone = [&l] {
		while (!l.ready.empty() && l.ready.front()->where == Where::gone)
			l.ready.pop_front();
	};
	skip_gone();
	/*
	 * Shared: from the kernel, admitted as the framework's thread would
	 * have; one the policy is to place (which waits for the agent) goes
	 * to that thread.
	 */
	while (l.shared && l.ready.empty() && !f.stopped) {
		std::vector<detail::Framework::Accepted> accepted;
		l.accepting++;
		guard.unlock();
		int err = detail::Framework::accept_one(listener_, accepted);
		guard.lock();
		if (--l.accepting == 0 && f.stopped)
			f.changed.notify_all();
		/* Closed meanwhile: the connection closes, as those waiting did. */
		if (l.closed || f.stopped)
			break;
		if (err == EAGAIN)
			l.program_emptied = detail::coarse_now();
		/* Any other error: the framework's thread finds it too, logs it and waits as it does. */
		if (err)
			break;
		if (f.places(accepted.front())) {
			f.to_place.push_back(std::move(accepted.front()));
			detail::signal(f.wake);
			continue;
		}
		l.taking = true;
		struct Taken {
			bool &taking;
			~Taken() { taking = false; }
		} taken{l.taking};
		f.admit(std::move(accepted.front()));
		skip_gone();
	}
	if (l.closed)
		return fail(ESHUTDOWN, "the server socket is closed");
	if (l.ready.empty())
		return fail(EAGAIN, "no connection waits");
	auto conn = std::move(l.ready.front());
	l.ready.pop_front();
	if (l.ready.empty())
		detail::drain(l.ready_fd);
	return GeckoSocket(framework_, std::move(conn));
}

int GeckoServerSocket::fd() const
{
	return listener_ ? listener_->ready_fd.get() : -1;
}

Result<int> GeckoServerSocket::ShareListeningSocket()
{
	if (!listener_)
		return fail(ESHUTDOWN, "the server socket is closed");
	std::lock_guard guard(framework_->lock);
	if (listener_->closed)
		return fail(ESHUTDOWN, "the server socket is closed");
	if (listener_->blocking)
		return fail(EINVAL, "a blocking server socket: its Accept() waits for the framework's thread");
	listener_->shared = true;
	return listener_->fd.get();
}

Result<void> GeckoServerSocket::SetNonBlocking()
{
	if (!listener_)
		return fail(ESHUTDOWN, "the server socket is closed");
	std::lock_guard guard(framework_->lock);
	listener_->blocking = false;
	return {};
}

Result<void> GeckoServerSocket::SetOption(int level, int name, int value)
{
	if (!listener_)
		return fail(ESHUTDOWN, "the server socket is closed");
	if (setsockopt(listener_->fd.get(), level, name, &value, sizeof(value)) < 0)
		return sys_fail(errno, "setsockopt");
	return {};
}

Result<void> GeckoServerSocket::SetBlocking()
{
	if (!listener_)
		return fail(ESHUTDOWN, "the server socket is closed");
	{
		std::lock_guard guard(framework_->lock);
		listener_->blocking = true;
		listener_->shared = false;
	}
	/* The framework's thread watches the socket again from now on. */
	detail::signal(framework_->wake);
	return {};
}

void GeckoServerSocket::Close()
{
	if (!listener_)
		return;
	auto &f = *framework_;
	{
		std::lock_guard guard(f.lock);
		if (listener_->closed)
			return;
		listener_->closed = true;
		/* Those a handoff is moving close when it ends, as any connection that moved. */
		for (const auto &c : listener_->ready)
			if (c->where == Where::here) {
				if (!f.stopped)
					f.node->remove(c->fd.get());
				f.conns.erase(c->fd.get());
			}
		listener_->ready.clear();
		if (auto it = f.listeners.find(listener_->port); it != f.listeners.end() && it->second == listener_)
			f.listeners.erase(it);
		f.changed.notify_all();
	}
	detail::signal(f.wake);
}

/* --- GeckoFramework --- */

GeckoFramework::GeckoFramework(std::shared_ptr<detail::Framework> impl) : impl_(std::move(impl)) {}
GeckoFramework::GeckoFramework(GeckoFramework &&other) noexcept = default;

GeckoFramework &GeckoFramework::operator=(GeckoFramework &&other) noexcept
{
	if (this != &other) {
		if (impl_)
			impl_->shutdown();
		impl_ = std::move(other.impl_);
	}
	return *this;
}

GeckoFramework::~GeckoFramework()
{
	if (impl_)
		impl_->shutdown();
}

Result<GeckoFramework> GeckoFramework::Create(const std::string &config_file, FrameworkOptions options)
{
	auto cluster = load_cluster(config_file);
	if (!cluster)
		return std::unexpected(cluster.error());
	auto f = std::make_shared<detail::Framework>();
	f->cluster = std::make_shared<const Cluster>(std::move(*cluster));
	f->log_fn = options.log;
	f->control_name = options.control;
	auto policy = make_policy(options.policy.value_or(f->cluster->policy));
	if (!policy)
		return std::unexpected(policy.error());
	f->policy = std::move(*policy);
	f->policy_name = options.policy.value_or(f->cluster->policy);

	agent::Config config;
	config.control = options.control;
	config.cluster = f->cluster;
	config.log = options.log;
	auto node = Node::start(std::move(config));
	if (!node)
		return std::unexpected(node.error());
	f->node = std::move(*node);
	for (const auto &m : f->node->members())
		if (m.state == agent::MemberStatus::State::self)
			f->self = f->cluster->member(m.name);
	if (!f->self)
		return fail(EINVAL, config_file + ": this node is none of its members");
	f->contact = f->self->name == f->cluster->contact;

	auto stop = detail::new_eventfd();
	auto wake = detail::new_eventfd();
	if (!stop || !wake)
		return std::unexpected(!stop ? stop.error() : wake.error());
	f->stop = std::move(*stop);
	f->wake = std::move(*wake);
	auto &d = *f;
	d.thread = std::thread([&d] {
		pthread_setname_np(pthread_self(), "gecko-framework");
		d.run();
	});
	d.log("framework: ", d.self->name, " of ", text(d.cluster->service), (d.contact ? " (contact node)" : ""),
	      ", policy ", options.policy.value_or(d.cluster->policy));
	return GeckoFramework(std::move(f));
}

void GeckoFramework::SetPolicy(std::unique_ptr<GeckoPolicy> policy)
{
	std::lock_guard guard(impl_->lock);
	impl_->policy_name = policy ? "(the program's own)" : "none";
	impl_->policy = std::move(policy);
}

void GeckoFramework::SetAvailable(bool available)
{
	std::lock_guard guard(impl_->lock);
	if (impl_->available == available)
		return;
	if (auto ok = impl_->node->set_available(available); !ok)
		return impl_->log("framework: ", ok.error().describe());
	impl_->available = available;
	impl_->log("framework: ", impl_->self->name, available ? " is available again" : " is unavailable: new clients go to other members");
}

Result<void> GeckoFramework::SetCounters(std::vector<std::pair<std::string, std::uint64_t>> counters)
{
	return impl_->node->count(std::move(counters));
}

const Cluster &GeckoFramework::cluster() const
{
	return *impl_->cluster;
}

const Member &GeckoFramework::self() const
{
	return *impl_->self;
}

std::vector<agent::MemberStatus> GeckoFramework::Members() const
{
	return impl_->node->members();
}

} // namespace gecko
