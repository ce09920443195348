// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Node::host: the node agent for every Gecko program of its network
 * namespace (agent/programs.h). The agent runs with a Node of its own, as
 * an application holding every program's connections: it learns each one
 * as the program adds it (a copy comes with it), and a handoff of a client
 * gathers its connections from every program that holds one before the
 * Node hands them off together.
 */

#include <gecko/cluster.h>
#include <gecko/node.h>

#include "agent/node_impl.h"
#include "fail.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace gecko {

namespace {

using agent::AddrLess;
using agent::ProgramStatus;
using agent::UniqueFd;
using agent::text;
using Clock = std::chrono::steady_clock;
namespace programs = agent::programs;

/* How long the other programs holding a client's connections have to hand them over. */
constexpr std::chrono::seconds gather_timeout{5};
/*
 * How long a handoff waits for the other programs' connections not told
 * yet (sync); one that does not answer (stopped, say) delays it no more.
 */
constexpr std::chrono::seconds sync_timeout{1};
/* A program that does not read its messages for this long is let go. */
constexpr timeval send_timeout{1, 0};

class Host {
public:
	Host(Node &node, agent::AppLink &link, std::shared_ptr<const Cluster> cluster, agent::Log log)
		: node_(node), link_(link), cluster_(std::move(cluster)), log_fn_(std::move(log))
	{
	}

	Result<void> run(int listener, int stop_fd);

private:
	/* A connection of some program, by the agent's descriptor of it. */
	struct Conn {
		UniqueFd fd;
		std::uint64_t session = 0;	/* 0: its program ended, or closed it, while a handoff had it */
		std::optional<std::uint32_t> id;	/* the program's; none until it adopts an arrival */
		in6_addr client{};
		std::uint16_t client_port = 0;	/* 0: not known */
		bool in_flight = false;		/* in a handoff the Node runs */
	};
	struct Session {
		UniqueFd sock;
		ProgramStatus status;		/* pid and name; ports and connections filled in when asked */
		std::string who;		/* "NAME (PID)", for the log and the answers */
		bool welcomed = false;
		std::set<std::uint16_t> ports;
		std::map<std::uint32_t, int> conns;	/* program's id -> agent's descriptor */
		/* The conn messages before a handoff: the program's ids and states. */
		std::vector<std::pair<std::uint32_t, std::vector<std::byte>>> staged;
		std::optional<std::string> broken;	/* why it ends, at the next turn of the loop */
		bool unavailable = false;	/* it said it cannot serve new clients */
		std::uint32_t syncs = 0;	/* the last sync sent to it */
	};
	/* A client's handoff, waiting for every program that holds some of its connections. */
	struct Gathering {
		in6_addr node{};
		std::map<std::uint64_t, std::vector<Outgoing>> got;	/* by session */
		std::set<std::uint64_t> waiting;
		/* The other programs, until their connections not told yet came (by the sync each is to answer). */
		std::map<std::uint64_t, std::uint32_t> syncing;
		std::optional<Request> request;	/* gecko-ctl's, to decline if it fails */
		Clock::time_point deadline;
		Clock::time_point sync_deadline;
	};
	/*
	 * A drain, waiting for every program's answer. A program without a
	 * policy (EOPNOTSUPP) has its clients moved by the agent, to the
	 * members with the fewest connections: it answers once they all ended.
	 */
	struct Draining {
		std::set<std::uint64_t> waiting;
		std::vector<std::string> moved;
		std::optional<Error> error;
		std::map<in6_addr, std::uint64_t, AddrLess> moving;	/* client -> the program it is moved for */
		std::map<std::uint64_t, std::pair<unsigned, unsigned>> counts;	/* moved, not moved */
		std::map<std::uint64_t, Error> why;	/* the first reason one did not move */
	};

	template <class... Args>
	void log(const Args &...args)
	{
		agent::log_line(log_fn_, args...);
	}

	void accept_session(int listener);
	void session_message(std::uint64_t sid);
	Result<void> handle(std::uint64_t sid, Session &s, programs::Received &message);
	void end_session(std::uint64_t sid, const std::string &why);
	/* The node takes new clients while every program can serve them: the binding is the client's, not a port's. */
	void update_availability();
	void send(std::uint64_t sid, const programs::Writer &message, int pass = -1);

	void add(std::uint64_t sid, Session &s, std::uint32_t id, UniqueFd fd);
	void remove(Session &s, const programs::Removal &r);
	void answered(std::uint64_t sid, std::uint32_t tag);
	void forget(int fd);
	void hand_off(std::uint64_t sid, Session &s, const in6_addr &node, const in6_addr &client);
	void decline(std::uint64_t sid, const in6_addr &client, Error error);
	void launch(const in6_addr &client);
	void fail_gathering(const in6_addr &client, const Error &error);
	Gathering &gather(const in6_addr &client, const in6_addr &node, std::uint64_t except);
	/* Program @sid is asked for @client's connections, once per gathering @g. */
	void ask(std::uint64_t sid, const in6_addr &client, Gathering &g);
	void depart(std::uint64_t sid, const Departure &d, const std::vector<std::pair<std::uint32_t, std::uint64_t>> &ids);
	void drained(std::uint64_t sid, Result<std::string> result);
	void move_for(std::uint64_t sid);
	void moved_for(const in6_addr &client, const Error *error);
	void finish_drain();
	void update_ports();
	void publish_programs();

	void on(Arrival &a);
	void on(Departure &d);
	void on(Request &r);
	void on(Drain &);
	void tick();

	Node &node_;
	agent::AppLink &link_;
	std::shared_ptr<const Cluster> cluster_;
	agent::Log log_fn_;
	std::uint64_t next_session_ = 1;
	std::map<std::uint64_t, Session> sessions_;
	std::map<int, Conn> conns_;
	std::map<in6_addr, Gathering, AddrLess> gatherings_;
	std::optional<Draining> draining_;
	std::vector<std::byte> members_sent_;
	Clock::time_point members_checked_;
};

void Host::send(std::uint64_t sid, const programs::Writer &message, int pass)
{
	auto it = sessions_.find(sid);
	if (it == sessions_.end() || it->second.broken)
		return;
	/* Ended by the loop: the caller may be walking what ending it changes. */
	if (auto ok = programs::send(it->second.sock.get(), message, pass); !ok)
		it->second.broken = ok.error().code == EAGAIN ? "it does not read its messages" : ok.error().describe();
}

void Host::accept_session(int listener)
{
	UniqueFd sock(accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
	if (sock.get() < 0)
		return;
	ucred cred{};
	socklen_t len = sizeof(cred);
	getsockopt(sock.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len);
	if (!agent::control_peer_allowed(sock.get())) {
		log("programs: refused process ", cred.pid, " (uid ", cred.uid,
		    "): only root or the agent's user may hand it connections");
		return;
	}
	setsockopt(sock.get(), SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
	auto sid = next_session_++;
	auto &s = sessions_[sid];
	s.sock = std::move(sock);
	s.status.pid = cred.pid;
	/* Its command's name, as ps shows it. */
	std::ifstream cmdline("/proc/" + std::to_string(cred.pid) + "/cmdline");
	std::getline(cmdline, s.status.name, '\0');
	s.status.name = std::filesystem::path(s.status.name).filename();
	s.who = (s.status.name.empty() ? std::string("program") : s.status.name) + " (" + std::to_string(cred.pid) + ")";
}

void Host::session_message(std::uint64_t sid)
{
	auto &s = sessions_.at(sid);
	auto message = programs::receive(s.sock.get());
	if (!message) {
		end_session(sid, message.error().describe());
		return;
	}
	if (!*message) {
		end_session(sid, "it ended");
		return;
	}
	if (auto ok = handle(sid, s, **message); !ok)
		end_session(sid, ok.error().describe());
}

Result<void> Host::handle(std::uint64_t sid, Session &s, programs::Received &message)
{
	programs::Parser p(message.data);
	auto type = p.type();
	if (!s.welcomed) {
		auto version = p.u32();
		auto has_service = p.u8();
		auto service = p.addr();
		if (type != programs::Type::hello || !p.ok())
			return fail(EPROTO, "no hello");
		std::optional<Error> refused;
		if (version != programs::version)
			refused = Error{EPROTO, "it speaks version " + std::to_string(version) + ", the agent " +
							 std::to_string(programs::version)};
		else if (has_service && !cluster_)
			refused = Error{EINVAL, "this node agent runs without a cluster (gecko-agent --cluster FILE)"};
		else if (has_service && !agent::same(service, cluster_->service))
			refused = Error{EINVAL, "this node agent serves the cluster of " + text(cluster_->service) +
							", not of " + text(service)};
		if (refused) {
			send(sid, programs::Writer(programs::Type::refused)
					  .u32(static_cast<std::uint32_t>(refused->code))
					  .text(refused->message));
			return fail(refused->code, "refused: " + refused->message);
		}
		s.welcomed = true;
		programs::Writer welcome(programs::Type::welcome);
		programs::put_members(welcome, node_.members());
		log("programs: ", s.who, " joined");
		send(sid, welcome);
		return {};
	}
	switch (type.value_or(programs::Type{})) {
	case programs::Type::serve: {
		auto port = p.u16();
		if (!p.ok())
			break;
		s.ports.insert(port);
		update_ports();
		return {};
	}
	case programs::Type::connections: {
		auto c = programs::get_connections(p);
		if (!p.ok() || c.added.size() != message.fds.size())
			break;
		for (const auto &r : c.removed)
			remove(s, r);
		/* Before the sync it answers: one of a gathered client's is asked for. */
		for (std::size_t i = 0; i < c.added.size(); i++)
			add(sid, s, c.added[i], std::move(message.fds[i]));
		if (c.synced)
			answered(sid, c.synced);
		return {};
	}
	case programs::Type::conn: {
		auto id = p.u32();
		auto state = p.bytes(agent::max_app_state);
		if (!p.ok() || s.staged.size() >= agent::max_conns_per_handoff)
			break;
		s.staged.emplace_back(id, std::move(state));
		return {};
	}
	case programs::Type::handoff: {
		auto to = p.addr();
		auto client = p.addr();
		if (!p.ok())
			break;
		hand_off(sid, s, to, client);
		return {};
	}
	case programs::Type::decline: {
		auto client = p.addr();
		auto code = static_cast<int>(p.u32());
		auto why = p.text();
		if (!p.ok())
			break;
		decline(sid, client, Error{code ? code : EINVAL, why});
		return {};
	}
	case programs::Type::drained: {
		auto code = static_cast<int>(p.u32());
		auto what = p.text();
		if (!p.ok())
			break;
		drained(sid, code ? Result<std::string>(fail(code, what)) : Result<std::string>(what));
		return {};
	}
	case programs::Type::distance: {
		auto tag = p.u32();
		auto client = p.addr();
		if (!p.ok())
			break;
		auto distances = node_.distances(client);
		programs::Writer answer(programs::Type::distances);
		answer.u32(tag).u32(static_cast<std::uint32_t>(distances.size()));
		for (const auto &d : distances)
			answer.text(d.member).u64(static_cast<std::uint64_t>(d.rtt.count()));
		send(sid, answer);
		return {};
	}
	case programs::Type::mirror: {
		auto id = p.u32();
		auto state = p.bytes(agent::max_mirror_state);
		if (!p.ok())
			break;
		/* A connection it removed meanwhile has nothing to mirror. */
		if (auto it = s.conns.find(id); it != s.conns.end())
			(void)node_.mirror_state(it->second, std::move(state));
		return {};
	}
	case programs::Type::available: {
		auto flag = p.u8();
		if (!p.ok())
			break;
		if (s.unavailable != (flag == 0)) {
			s.unavailable = flag == 0;
			log("programs: ", s.who, s.unavailable ? " cannot serve new clients" : " serves new clients again");
			update_availability();
		}
		return {};
	}
	case programs::Type::counters: {
		auto counters = programs::get_counters(p);
		if (!counters)
			return std::unexpected(counters.error());
		if (!p.ok())
			break;
		s.status.counters = std::move(*counters);
		return {};
	}
	case programs::Type::describe: {
		auto detail = p.text();
		if (!p.ok())
			break;
		s.status.detail = std::move(detail);
		return {};
	}
	case programs::Type::adopt: {
		auto tag = static_cast<int>(p.u32());
		auto id = p.u32();
		if (!p.ok())
			break;
		auto it = conns_.find(tag);
		if (it == conns_.end() || it->second.session != sid || it->second.id)
			return fail(EPROTO, "adopts a connection it was not given");
		/* A number it reused without saying it closed the first. */
		if (auto old = s.conns.find(id); old != s.conns.end()) {
			auto fd = old->second;
			s.conns.erase(old);
			forget(fd);
		}
		it->second.id = id;
		s.conns[id] = tag;
		return {};
	}
	default:
		break;
	}
	if (!type)
		return fail(EPROTO, "an empty message");
	return fail(EPROTO, "a malformed message (or one of an unknown type) of type " +
				    std::to_string(static_cast<unsigned>(*type)));
}

void Host::add(std::uint64_t sid, Session &s, std::uint32_t id, UniqueFd fd)
{
	auto ends = agent::connection_ends(fd.get());
	if (!ends) {
		log("programs: ", s.who, " added descriptor ", id, ", which is not a connected IPv6 socket");
		return;
	}
	/* A number the program reused without saying it closed the first. */
	if (auto it = s.conns.find(id); it != s.conns.end()) {
		auto old = it->second;
		s.conns.erase(it);
		forget(old);
	}
	int n = fd.get();
	link_.add(n, *ends);
	auto &c = conns_[n];
	c.fd = std::move(fd);
	c.session = sid;
	c.id = id;
	c.client = ends->client;
	c.client_port = ends->client_port;
	s.conns[id] = n;
	/* Added while the client's connections are gathered for a handoff (its message crossed the request): asked too. */
	if (auto g = gatherings_.find(c.client); g != gatherings_.end() && !g->second.got.contains(sid))
		ask(sid, c.client, g->second);
}

/*
 * The program closed a connection. It may have reused the number for an
 * arrival it adopted before this reached the agent: that connection,
 * another client's or another port's, stays.
 */
void Host::remove(Session &s, const programs::Removal &r)
{
	auto it = s.conns.find(r.id);
	if (it == s.conns.end())
		return;
	if (auto c = conns_.find(it->second); c != conns_.end() && r.port && c->second.client_port &&
					       (!agent::same(c->second.client, r.client) || c->second.client_port != r.port))
		return;
	auto fd = it->second;
	s.conns.erase(it);
	forget(fd);
}

/* The program is done with the connection: the agent closes its copy, now or once a handoff ends. */
void Host::forget(int fd)
{
	auto it = conns_.find(fd);
	if (it == conns_.end())
		return;
	for (auto &[client, g] : gatherings_)
		for (auto &[sid, list] : g.got)
			std::erase_if(list, [fd](const Outgoing &o) { return o.fd == fd; });
	if (it->second.in_flight) {
		it->second.session = 0;
		it->second.id.reset();
		return;
	}
	node_.remove(fd);
	conns_.erase(it);
}

Host::Gathering &Host::gather(const in6_addr &client, const in6_addr &node, std::uint64_t except)
{
	auto [it, fresh] = gatherings_.try_emplace(client);
	auto &g = it->second;
	if (!fresh)
		return g;
	g.node = node;
	g.deadline = Clock::now() + gather_timeout;
	g.sync_deadline = Clock::now() + sync_timeout;
	for (const auto &[fd, c] : conns_)
		if (c.session && c.session != except && !c.in_flight && agent::same(c.client, client))
			ask(c.session, client, g);
	/* The others may have one of the client's that they have not told of yet. */
	for (auto &[sid, s] : sessions_)
		if (sid != except && s.welcomed && !g.waiting.contains(sid)) {
			g.syncing[sid] = ++s.syncs;
			send(sid, programs::Writer(programs::Type::sync).u32(s.syncs));
		}
	return g;
}

/* Program @sid told every connection it had when it read sync @tag: the gatherings that waited for it may start. */
void Host::answered(std::uint64_t sid, std::uint32_t tag)
{
	std::vector<in6_addr> ready;
	for (auto &[client, g] : gatherings_)
		if (auto it = g.syncing.find(sid); it != g.syncing.end() && it->second <= tag) {
			g.syncing.erase(it);
			ready.push_back(client);
		}
	for (const auto &client : ready)
		launch(client);
}

void Host::ask(std::uint64_t sid, const in6_addr &client, Gathering &g)
{
	if (g.waiting.insert(sid).second)
		send(sid, programs::Writer(programs::Type::request).addr(client).addr(g.node));
}

void Host::hand_off(std::uint64_t sid, Session &s, const in6_addr &to, const in6_addr &client)
{
	auto staged = std::exchange(s.staged, {});
	std::vector<Outgoing> conns;
	std::optional<Error> error;
	if (staged.empty())
		error = Error{EINVAL, "no connection to hand off"};
	for (auto &[id, state] : staged) {
		auto at = s.conns.find(id);
		auto c = at == s.conns.end() ? conns_.end() : conns_.find(at->second);
		if (c == conns_.end() || !agent::same(c->second.client, client))
			error = Error{EINVAL, "descriptor " + std::to_string(id) + " is no connection of " + text(client) +
						      " the agent knows"};
		else if (c->second.in_flight)
			error = Error{EBUSY, "a handoff of descriptor " + std::to_string(id) + " is under way"};
		else
			conns.push_back({c->first, std::move(state)});
	}
	/* Every id it named, so that the program hears of each; none of them was touched. */
	if (error) {
		Departure d;
		d.client = client;
		d.node = to;
		d.error = error;
		std::vector<std::pair<std::uint32_t, std::uint64_t>> ids;
		for (const auto &[id, state] : staged)
			ids.emplace_back(id, 0);
		depart(sid, d, ids);
		return;
	}
	auto &g = gather(client, to, sid);
	g.waiting.erase(sid);
	auto &mine = g.got[sid];
	for (auto &o : conns)
		if (std::ranges::none_of(mine, [&o](const Outgoing &m) { return m.fd == o.fd; }))
			mine.push_back(std::move(o));
	launch(client);
}

void Host::decline(std::uint64_t sid, const in6_addr &client, Error error)
{
	auto it = gatherings_.find(client);
	if (it == gatherings_.end() || !it->second.waiting.contains(sid))
		return;
	auto who = sessions_.at(sid).who;
	fail_gathering(client, Error{error.code, who + " keeps its connections: " + error.message});
}

/* The handoff, once every program that holds connections of the client gave them. */
void Host::launch(const in6_addr &client)
{
	auto it = gatherings_.find(client);
	if (it == gatherings_.end() || !it->second.waiting.empty() || !it->second.syncing.empty())
		return;
	auto &g = it->second;
	std::vector<Outgoing> all;
	for (auto &[sid, list] : g.got)
		std::ranges::move(list, std::back_inserter(all));
	if (all.empty()) {
		fail_gathering(client, Error{ENOENT, "no program here has a connection of " + text(client)});
		return;
	}
	std::vector<int> fds;
	for (const auto &o : all)
		fds.push_back(o.fd);
	auto to = g.node;
	if (auto ok = node_.hand_off(to, std::move(all)); !ok) {
		fail_gathering(client, ok.error());
		return;
	}
	for (int fd : fds)
		if (auto c = conns_.find(fd); c != conns_.end())
			c->second.in_flight = true;
	gatherings_.erase(it);
}

void Host::fail_gathering(const in6_addr &client, const Error &error)
{
	auto g = std::move(gatherings_.at(client));
	gatherings_.erase(client);
	log("programs: the handoff of ", text(client), " to ", text(g.node), " did not start: ", error.describe());
	for (const auto &[sid, list] : g.got) {
		Departure d;
		d.client = client;
		d.node = g.node;
		d.error = error;
		std::vector<std::pair<std::uint32_t, std::uint64_t>> ids;
		for (const auto &o : list)
			if (auto c = conns_.find(o.fd); c != conns_.end() && c->second.id)
				ids.emplace_back(*c->second.id, 0);
		depart(sid, d, ids);
	}
	if (g.request)
		node_.decline(*g.request, error);
	moved_for(client, &error);
}

void Host::depart(std::uint64_t sid, const Departure &d, const std::vector<std::pair<std::uint32_t, std::uint64_t>> &ids)
{
	programs::Writer w(programs::Type::departure);
	w.addr(d.client)
		.addr(d.node)
		.u8(static_cast<std::uint8_t>(d.fate))
		.u32(d.error ? static_cast<std::uint32_t>(d.error->code) : 0)
		.text(d.error ? d.error->message : std::string())
		.u64(static_cast<std::uint64_t>(d.frozen.count()))
		.u32(static_cast<std::uint32_t>(ids.size()));
	for (const auto &[id, acked] : ids)
		w.u32(id).u64(acked);
	send(sid, w);
}

void Host::on(Departure &d)
{
	std::map<std::uint64_t, std::vector<std::pair<std::uint32_t, std::uint64_t>>> by_session;
	for (std::size_t i = 0; i < d.fds.size(); i++) {
		auto it = conns_.find(d.fds[i]);
		if (it == conns_.end())
			continue;
		auto &c = it->second;
		c.in_flight = false;
		if (c.session && c.id)
			by_session[c.session].emplace_back(*c.id, i < d.bytes_acked.size() ? d.bytes_acked[i] : 0);
		if (d.fate != Fate::stayed || !c.session) {
			if (auto s = sessions_.find(c.session); s != sessions_.end() && c.id)
				s->second.conns.erase(*c.id);
			if (d.fate == Fate::stayed)
				node_.remove(it->first);
			conns_.erase(it);
		}
	}
	for (const auto &[sid, ids] : by_session)
		depart(sid, d, ids);
	auto why = d.error.value_or(Error{EIO, "no reason given"});
	moved_for(d.client, d.fate == Fate::stayed ? &why : nullptr);
}

void Host::on(Arrival &a)
{
	UniqueFd fd(a.fd);
	auto ends = agent::connection_ends(fd.get()).value_or(agent::ConnEnds{a.home, a.client});
	auto port = ends.port;
	auto s = std::ranges::find_if(sessions_, [port](const auto &e) { return e.second.ports.contains(port); });
	if (s == sessions_.end()) {
		/* Its program ended while the handoff ran. */
		log("programs: a connection of ", text(a.client), " arrived on port ", port, ", which no program serves now");
		node_.remove(fd.get());
		return;
	}
	auto sid = s->first;
	int n = fd.get();
	auto &c = conns_[n];
	c.fd = std::move(fd);
	c.session = sid;
	c.client = a.client;
	c.client_port = ends.client_port;
	send(sid, programs::Writer(programs::Type::arrival)
			  .u32(static_cast<std::uint32_t>(n))
			  .addr(a.home)
			  .addr(a.client)
			  .bytes(a.app_state)
			  .u64(a.bytes_sent)
			  .u64(a.bytes_acked)
			  .u64(a.bytes_received)
			  .u8(a.recovered),
	     n);
}

void Host::on(Request &r)
{
	if (gatherings_.contains(r.client)) {
		node_.decline(r, {EBUSY, "a handoff of " + text(r.client) + " is being prepared"});
		return;
	}
	auto &g = gather(r.client, r.node, 0);
	g.request = r;
	launch(r.client);
}

void Host::on(Drain &)
{
	Draining d;
	for (const auto &[sid, s] : sessions_)
		if (s.welcomed)
			d.waiting.insert(sid);
	draining_ = std::move(d);
	log("programs: drain: asking ", draining_->waiting.size(), " program(s)");
	for (auto sid : std::set(draining_->waiting))
		send(sid, programs::Writer(programs::Type::drain));
	finish_drain();
}

void Host::drained(std::uint64_t sid, Result<std::string> result)
{
	if (!draining_ || !draining_->waiting.contains(sid) || draining_->counts.contains(sid))
		return;
	if (!result && result.error().code == EOPNOTSUPP)
		return move_for(sid);
	draining_->waiting.erase(sid);
	auto who = sessions_.at(sid).who;
	if (result)
		draining_->moved.push_back(who + ": " + *result);
	else if (auto code = result.error().code; !draining_->error || code == EBUSY || code == EOPNOTSUPP)
		draining_->error = Error{code, who + ": " + result.error().message};
	finish_drain();
}

/* The clients of a program that cannot drain, each to the member with the fewest connections. */
void Host::move_for(std::uint64_t sid)
{
	auto &d = *draining_;
	d.counts[sid] = {0, 0};
	std::vector<std::pair<std::uint32_t, in6_addr>> targets;
	for (const auto &m : node_.members())
		if (m.state == agent::MemberStatus::State::alive)
			targets.emplace_back(m.connections, m.address);
	std::set<in6_addr, AddrLess> clients;
	for (const auto &[fd, c] : conns_)
		if (c.session == sid && !c.in_flight && !gatherings_.contains(c.client) && !d.moving.contains(c.client))
			clients.insert(c.client);
	log("programs: drain: ", sessions_.at(sid).who, " has no policy: the agent moves its ", clients.size(),
	    " client(s)");
	if (targets.empty() && !clients.empty())
		d.why.emplace(sid, Error{EHOSTUNREACH, "no other member is alive to take its clients"});
	/* All marked first: one that fails at once must not answer for the program. */
	std::vector<std::pair<in6_addr, in6_addr>> moves;
	for (const auto &client : clients) {
		if (targets.empty()) {
			d.counts[sid].second++;
			continue;
		}
		auto &target = *std::ranges::min_element(targets, {}, &std::pair<std::uint32_t, in6_addr>::first);
		target.first++;
		d.moving.emplace(client, sid);
		moves.emplace_back(client, target.second);
	}
	for (const auto &[client, target] : moves) {
		gather(client, target, 0);
		launch(client);
	}
	moved_for(in6_addr{}, nullptr);
}

/* One client the agent moved for a program ended (@error: it did not move); answers for the programs done. */
void Host::moved_for(const in6_addr &client, const Error *error)
{
	if (!draining_)
		return;
	auto &d = *draining_;
	if (auto it = d.moving.find(client); it != d.moving.end()) {
		auto sid = it->second;
		d.moving.erase(it);
		(error ? d.counts[sid].second : d.counts[sid].first)++;
		if (error)
			d.why.try_emplace(sid, *error);
	}
	for (const auto &[sid, counts] : d.counts) {
		if (!d.waiting.contains(sid) ||
		    std::ranges::any_of(d.moving, [sid](const auto &e) { return e.second == sid; }))
			continue;
		d.waiting.erase(sid);
		auto who = sessions_.contains(sid) ? sessions_.at(sid).who : std::string("a program that ended");
		auto line = who + ": the agent moved " + std::to_string(counts.first) + " client(s)";
		if (counts.second && !d.error)
			d.error = Error{EAGAIN, line + "; " + std::to_string(counts.second) + " could not move (" +
							d.why.at(sid).describe() + ") and are served here"};
		else if (!counts.second)
			d.moved.push_back(line);
	}
	finish_drain();
}

void Host::finish_drain()
{
	if (!draining_ || !draining_->waiting.empty())
		return;
	auto d = std::move(*draining_);
	draining_.reset();
	if (d.error) {
		node_.drained(std::unexpected(*d.error));
		return;
	}
	std::string moved;
	for (const auto &line : d.moved)
		moved += (moved.empty() ? "" : "; ") + line;
	node_.drained(moved.empty() ? "no program runs here: nothing to move" : moved);
}

void Host::update_availability()
{
	bool available = std::ranges::none_of(sessions_, [](const auto &e) { return e.second.unavailable; });
	(void)node_.set_available(available);
}

void Host::end_session(std::uint64_t sid, const std::string &why)
{
	auto it = sessions_.find(sid);
	if (it == sessions_.end())
		return;
	auto s = std::move(it->second);
	sessions_.erase(it);
	if (s.unavailable)
		update_availability();
	if (s.welcomed)
		log("programs: ", s.who, " left (", why, "); ", s.conns.size(), " connection(s) closed with it");
	/* Its copies of the connections went with it, and so do the agent's. */
	std::vector<int> fds;
	for (const auto &[fd, c] : conns_)
		if (c.session == sid)
			fds.push_back(fd);
	for (int fd : fds)
		forget(fd);
	for (auto g = gatherings_.begin(); g != gatherings_.end();) {
		auto client = g->first;
		g->second.waiting.erase(sid);
		g->second.syncing.erase(sid);
		g->second.got.erase(sid);
		++g;
		launch(client);
	}
	if (draining_ && draining_->waiting.erase(sid)) {
		draining_->moved.push_back(s.who + " ended");
		finish_drain();
	}
	update_ports();
}

/* The Node takes handoffs on the ports some program serves, and only those. */
void Host::update_ports()
{
	std::set<std::uint16_t> ports;
	for (const auto &[sid, s] : sessions_)
		ports.insert(s.ports.begin(), s.ports.end());
	std::lock_guard guard(link_.lock);
	link_.ports = std::move(ports);
}

/* For gecko-ctl programs, at most a tenth of a second old. */
void Host::publish_programs()
{
	std::vector<ProgramStatus> list;
	for (const auto &[sid, s] : sessions_) {
		if (!s.welcomed)
			continue;
		auto p = s.status;
		p.ports.assign(s.ports.begin(), s.ports.end());
		p.connections = static_cast<std::uint32_t>(
			std::ranges::count_if(conns_, [sid](const auto &e) { return e.second.session == sid; }));
		list.push_back(std::move(p));
	}
	std::lock_guard guard(link_.lock);
	link_.programs = std::move(list);
}

void Host::tick()
{
	auto now = Clock::now();
	std::vector<in6_addr> late, unsynced;
	for (const auto &[client, g] : gatherings_) {
		if (now >= g.deadline)
			late.push_back(client);
		else if (now >= g.sync_deadline && !g.syncing.empty())
			unsynced.push_back(client);
	}
	for (const auto &client : unsynced) {
		auto &g = gatherings_.at(client);
		for (const auto &[sid, tag] : g.syncing)
			log("programs: ", sessions_.at(sid).who, " did not tell its new connections within ", sync_timeout.count(),
			    " s: the handoff of ", text(client), " goes on without them");
		g.syncing.clear();
		launch(client);
	}
	for (const auto &client : late) {
		std::string who;
		for (auto sid : gatherings_.at(client).waiting)
			who += (who.empty() ? "" : ", ") + sessions_.at(sid).who;
		fail_gathering(client, Error{ETIMEDOUT, who + " did not hand over its connections of " + text(client)});
	}
	if (now - members_checked_ < std::chrono::milliseconds(100))
		return;
	members_checked_ = now;
	publish_programs();
	programs::Writer w(programs::Type::members);
	programs::put_members(w, node_.members());
	auto bytes = w.data();
	if (std::ranges::equal(bytes, members_sent_))
		return;
	members_sent_.assign(bytes.begin(), bytes.end());
	for (auto sid : [this] {
		     std::vector<std::uint64_t> ids;
		     for (const auto &[sid, s] : sessions_)
			     if (s.welcomed)
				     ids.push_back(sid);
		     return ids;
	     }())
		send(sid, w);
}

Result<void> Host::run(int listener, int stop_fd)
{
	for (;;) {
		std::vector<pollfd> fds{{stop_fd, POLLIN, 0}, {listener, POLLIN, 0}, {node_.event_fd(), POLLIN, 0}};
		std::vector<std::uint64_t> order;
		for (const auto &[sid, s] : sessions_) {
			fds.push_back({s.sock.get(), POLLIN, 0});
			order.push_back(sid);
		}
		if (poll(fds.data(), fds.size(), 100) < 0 && errno != EINTR)
			return fail(errno, std::string("poll: ") + std::strerror(errno));
		if (fds[0].revents)
			break;
		if (fds[1].revents)
			accept_session(listener);
		if (fds[2].revents)
			for (auto &event : node_.events())
				std::visit([this](auto &e) { on(e); }, event);
		for (std::size_t i = 0; i < order.size(); i++)
			if (fds[3 + i].revents && sessions_.contains(order[i]))
				session_message(order[i]);
		tick();
		for (auto it = sessions_.begin(); it != sessions_.end();) {
			auto [sid, broken] = std::pair(it->first, it->second.broken);
			++it;
			if (broken)
				end_session(sid, *broken);
		}
	}
	/* The programs keep their connections; the agent's copies go. */
	while (!sessions_.empty())
		end_session(sessions_.begin()->first, "the node agent stops");
	return {};
}

} // namespace

Result<void> Node::host(agent::Config config, int stop_fd)
{
	auto listener = agent::listen_unix(agent::programs::socket_name(config.control), SOCK_SEQPACKET);
	if (!listener)
		return std::unexpected(listener.error());
	auto cluster = config.cluster;
	auto log = config.log;
	auto node = start_local(std::move(config));
	if (!node)
		return std::unexpected(node.error());
	Host host(**node, *(*node)->impl_->link, std::move(cluster), std::move(log));
	return host.run(listener->get(), stop_fd);
}

} // namespace gecko
