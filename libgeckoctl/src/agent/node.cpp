// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gecko::Node: the node agent on a thread of the application, and the
 * queues between the two (agent/handoff.h's AppLink); or, when the network
 * namespace has a node agent of its own (gecko-agent), a proxy of the
 * agent's Node over agent/programs.h, whose thread turns the agent's
 * messages into the same events. Calls come from the application's
 * threads.
 */

#include <gecko/node.h>

#include "agent/impl.h"
#include "agent/node_impl.h"
#include "fail.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <poll.h>
#include <thread>

namespace gecko {

using agent::AppLink;
using agent::UniqueFd;
namespace programs = agent::programs;


namespace {

/* How late a connection added or removed reaches the agent at most (Node::Impl::queue). */
constexpr std::chrono::milliseconds queue_delay{20};

void arm(int timer, std::chrono::nanoseconds after)
{
	itimerspec when{};
	when.it_value.tv_sec = static_cast<time_t>(after.count() / 1000000000);
	when.it_value.tv_nsec = static_cast<long>(after.count() % 1000000000);
	(void)timerfd_settime(timer, 0, &when, nullptr);
}

Result<UniqueFd> new_eventfd()
{
	UniqueFd fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (fd.get() < 0)
		return fail(errno, std::string("eventfd: ") + std::strerror(errno));
	return fd;
}

} // namespace

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

namespace {

/* The link's queues: the same in both modes. */
Result<std::shared_ptr<AppLink>> new_link(const std::vector<std::uint16_t> &ports)
{
	auto commands = new_eventfd();
	auto events = new_eventfd();
	if (!commands || !events)
		return std::unexpected(!commands ? commands.error() : events.error());
	auto link = std::make_shared<AppLink>();
	link->ports.insert(ports.begin(), ports.end());
	link->commands_fd = std::move(*commands);
	link->events_fd = std::move(*events);
	return link;
}

/* The namespace's node agent, if one takes programs: ECONNREFUSED or ENOENT when none runs. */
Result<UniqueFd> connect_host(const std::string &control)
{
	auto fd = agent::connect_unix(programs::socket_name(control), SOCK_SEQPACKET);
	if (!fd)
		return std::unexpected(fd.error());
	return UniqueFd(*fd);
}

} // namespace

Result<std::unique_ptr<Node>> Node::start(agent::Config config)
{
	auto host = connect_host(config.control);
	if (!host) {
		if (host.error().code == ECONNREFUSED || host.error().code == ENOENT)
			return start_local(std::move(config));
		return std::unexpected(host.error());
	}
	auto impl = std::make_unique<Impl>();
	auto link = new_link(config.ports);
	auto stop = new_eventfd();
	if (!link || !stop)
		return std::unexpected(!link ? link.error() : stop.error());
	UniqueFd timer(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
	if (timer.get() < 0)
		return fail(errno, std::string("timerfd_create: ") + std::strerror(errno));
	impl->link = std::move(*link);
	impl->stop = std::move(*stop);
	impl->host = std::move(*host);
	impl->queue_timer = std::move(timer);
	impl->log = config.log;

	/* The agent answers at once; one that does not is not worth waiting for. */
	timeval timeout{5, 0};
	setsockopt(impl->host.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	programs::Writer hello(programs::Type::hello);
	hello.u32(programs::version).u8(config.cluster ? 1 : 0).addr(config.cluster ? config.cluster->service : in6_addr{});
	if (auto ok = impl->send(hello); !ok)
		return std::unexpected(ok.error());
	auto answer = programs::receive(impl->host.get());
	if (!answer || !*answer)
		return fail(answer ? EPIPE : answer.error().code,
			    "the node agent of this network namespace did not answer: " +
				    (answer ? std::string("it closed the connection") : answer.error().describe()));
	programs::Parser p((*answer)->data);
	auto type = p.type();
	if (type == programs::Type::refused) {
		auto code = static_cast<int>(p.u32());
		auto why = p.text();
		return fail(p.ok() && code ? code : EPROTO, "the node agent refused this program: " + why);
	}
	auto members = programs::get_members(p);
	if (type != programs::Type::welcome || !p.ok())
		return fail(EPROTO, "the node agent answered with a message this program does not understand");
	impl->link->members = std::move(members);
	timeout = {};
	setsockopt(impl->host.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	for (auto port : config.ports)
		if (auto ok = impl->send(programs::Writer(programs::Type::serve).u16(port)); !ok)
			return std::unexpected(ok.error());
	agent::log_line(impl->log, "node: served by the node agent of this network namespace (@",
			programs::socket_name(config.control), ")");

	auto &d = *impl;
	d.thread = std::thread([&d] {
		pthread_setname_np(pthread_self(), "gecko-node");
		d.relay();
	});
	return std::unique_ptr<Node>(new Node(std::move(impl)));
}

Result<std::unique_ptr<Node>> Node::start_local(agent::Config config)
{
	auto impl = std::make_unique<Impl>();
	auto link = new_link(config.ports);
	auto stop = new_eventfd();
	if (!link || !stop)
		return std::unexpected(!link ? link.error() : stop.error());
	impl->log = config.log;
	auto agent = agent::Agent::open(std::move(config));
	if (!agent)
		return std::unexpected(agent.error());
	impl->link = std::move(*link);
	impl->stop = std::move(*stop);
	impl->agent = std::move(*agent);
	impl->agent->impl_->attach(impl->link);
	/* Who this node is, before the agent's thread first looks. */
	if (const auto &membership = impl->agent->impl_->membership)
		impl->link->members = membership->status(agent::Clock::now());

	auto &d = *impl;
	d.thread = std::thread([&d] {
		/* Named, so that its CPU time can be told from the application's. */
		pthread_setname_np(pthread_self(), "gecko-agent");
		if (auto ok = d.agent->run(d.stop.get()); !ok)
			agent::log_line(d.log, "node agent stopped: ", ok.error().describe());
	});
	return std::unique_ptr<Node>(new Node(std::move(impl)));
}

void Node::Impl::arm_queue_timer()
{
	arm(queue_timer.get(), queue_delay);
}

void Node::Impl::flush()
{
	std::uint32_t sync;
	{
		std::lock_guard guard(queue_lock);
		sync = sync_due.exchange(0);
		sending_added.swap(added);
		sending_removed.swap(removed);
	}
	std::span<const int> adds(sending_added);
	std::span<const programs::Removal> removals(sending_removed);
	while (!adds.empty() || !removals.empty() || sync) {
		auto a = adds.first(std::min(adds.size(), programs::max_passed));
		auto r = removals.first(std::min(removals.size(), max_removals));
		adds = adds.subspan(a.size());
		removals = removals.subspan(r.size());
		programs::Writer w(programs::Type::connections);
		/* The answer to a sync comes with the last of the batch. */
		bool last = adds.empty() && removals.empty();
		programs::put_connections(w, r, a, last ? std::exchange(sync, 0) : 0);
		/* An agent gone: nothing of the batch matters to it any more. */
		if (!programs::send(host.get(), w, a))
			break;
	}
	sending_removed.clear();
	{
		std::lock_guard guard(queue_lock);
		sending_added.clear();
	}
	sent.notify_all();
}

/* On this thread, which must not wait behind one that sends: the thread that has send_lock flushes later. */
void Node::Impl::flush_soon()
{
	if (std::unique_lock guard(send_lock, std::try_to_lock); guard)
		flush();
	else
		arm(queue_timer.get(), std::chrono::microseconds(100));
}

Result<void> Node::Impl::hand_off(const in6_addr &node, const in6_addr &client, const std::vector<Outgoing> &conns)
{
	std::lock_guard guard(send_lock);
	/* The agent knows the connections first. */
	flush();
	for (const auto &c : conns) {
		programs::Writer conn(programs::Type::conn);
		conn.u32(static_cast<std::uint32_t>(c.fd)).bytes(c.app_state);
		if (auto ok = programs::send(host.get(), conn); !ok)
			return ok;
	}
	return programs::send(host.get(), programs::Writer(programs::Type::handoff).addr(node).addr(client));
}

void Node::Impl::relay()
{
	for (;;) {
		pollfd fds[] = {{stop.get(), POLLIN, 0}, {host.get(), POLLIN, 0}, {queue_timer.get(), POLLIN, 0}};
		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		if (fds[0].revents)
			return;
		if (fds[2].revents) {
			std::uint64_t expired;
			(void)!read(queue_timer.get(), &expired, sizeof(expired));
			flush_soon();
		}
		if (!fds[1].revents)
			continue;
		auto message = programs::receive(host.get());
		Result<void> ok = message && *message ? relay_one(**message)
						      : fail(EPIPE, message ? "it closed the connection" : message.error().describe());
		if (ok)
			continue;
		/*
		 * The program keeps its connections; what it asked for ends here,
		 * and nothing can move until it starts again under a new agent.
		 */
		agent::log_line(log, "node: the node agent went away: ", ok.error().describe());
		decltype(outstanding) left;
		{
			std::lock_guard guard(link->lock);
			host_gone = true;
			left.swap(outstanding);
		}
		answered.notify_all();
		for (auto &[client, fds] : left) {
			Departure departure;
			departure.fds = std::move(fds);
			departure.client = client;
			departure.error = Error{EPIPE, "the node agent went away"};
			link->post(std::move(departure));
		}
		/* Wait for the Node to go. */
		pollfd stop_fd{stop.get(), POLLIN, 0};
		while (poll(&stop_fd, 1, -1) < 0 && errno == EINTR) {
		}
		return;
	}
}

Result<void> Node::Impl::relay_one(programs::Received &message)
{
	programs::Parser p(message.data);
	auto type = p.type();
	if (type == programs::Type::members) {
		auto members = programs::get_members(p);
		if (!p.ok())
			return fail(EPROTO, "a malformed members message");
		std::lock_guard guard(link->lock);
		link->members = std::move(members);
		return {};
	}
	if (type == programs::Type::distances) {
		auto tag = p.u32();
		auto count = p.u32();
		std::vector<agent::Distance> distances;
		for (std::uint32_t i = 0; i < count && !p.failed(); i++) {
			auto member = p.text();
			distances.push_back({std::move(member), std::chrono::microseconds(p.u64())});
		}
		if (!p.ok())
			return fail(EPROTO, "a malformed distances message");
		std::lock_guard guard(link->lock);
		if (auto it = asked.find(tag); it != asked.end())
			it->second = std::move(distances);
		answered.notify_all();
		return {};
	}
	if (type == programs::Type::arrival) {
		Arrival a;
		auto tag = p.u32();
		a.home = p.addr();
		a.client = p.addr();
		a.app_state = p.bytes(agent::max_app_state);
		a.bytes_sent = p.u64();
		a.bytes_acked = p.u64();
		a.bytes_received = p.u64();
		a.recovered = p.u8() != 0;
		if (!p.ok() || message.fd() < 0)
			return fail(EPROTO, "a malformed arrival");
		/*
		 * Not behind send_lock: an application thread may hold it while
		 * the agent waits for this thread to read. A single message
		 * cannot split another sequence.
		 */
		if (auto ok = programs::send(host.get(), programs::Writer(programs::Type::adopt)
								 .u32(tag)
								 .u32(static_cast<std::uint32_t>(message.fd())));
		    !ok)
			return ok;
		a.fd = message.fds.front().release();
		link->post(std::move(a));
		return {};
	}
	if (type == programs::Type::sync) {
		auto tag = p.u32();
		if (!p.ok() || !tag)
			return fail(EPROTO, "a malformed sync");
		sync_due = tag;
		flush_soon();
		return {};
	}
	if (type == programs::Type::departure) {
		Departure d;
		d.client = p.addr();
		d.node = p.addr();
		auto fate = p.u8();
		auto code = static_cast<int>(p.u32());
		auto why = p.text();
		d.frozen = std::chrono::microseconds(p.u64());
		auto count = p.u32();
		for (std::uint32_t i = 0; i < count && !p.failed(); i++) {
			d.fds.push_back(static_cast<int>(p.u32()));
			d.bytes_acked.push_back(p.u64());
		}
		if (!p.ok() || fate > static_cast<std::uint8_t>(Fate::lost))
			return fail(EPROTO, "a malformed departure");
		d.fate = static_cast<Fate>(fate);
		if (code)
			d.error = Error{code, why};
		if (d.fate == Fate::stayed)
			d.bytes_acked.clear();
		{
			std::lock_guard guard(link->lock);
			outstanding.erase(d.client);
		}
		link->post(std::move(d));
		return {};
	}
	if (type == programs::Type::request) {
		Request r;
		r.client = p.addr();
		r.node = p.addr();
		if (!p.ok())
			return fail(EPROTO, "a malformed request");
		link->post(r);
		return {};
	}
	if (type == programs::Type::drain && p.ok()) {
		link->post(Drain{});
		return {};
	}
	return fail(EPROTO, "a message this program does not understand");
}

Node::~Node()
{
	std::uint64_t one = 1;
	if (write(impl_->stop.get(), &one, sizeof(one)) < 0) {
		/* An eventfd write fails only on overflow. */
	}
	impl_->thread.join();
	/* The agent goes on this thread: handoffs under way roll back. */
	impl_->agent.reset();
}

int Node::event_fd() const
{
	return impl_->link->events_fd.get();
}

std::vector<NodeEvent> Node::events()
{
	std::uint64_t count;
	/* Reset first: an event posted after it wakes the application again. */
	if (read(impl_->link->events_fd.get(), &count, sizeof(count)) < 0 && errno != EAGAIN)
		return {};
	std::lock_guard guard(impl_->link->lock);
	std::vector<NodeEvent> events(std::make_move_iterator(impl_->link->events.begin()),
				      std::make_move_iterator(impl_->link->events.end()));
	impl_->link->events.clear();
	return events;
}

/*
 * With a host, the agent learns of the program's connections and ports as
 * they come; what it cannot be told (it went away) no longer matters.
 */
Result<void> Node::add(int fd)
{
	auto ends = agent::connection_ends(fd);
	if (!ends)
		return fail(ENOTCONN, "not a connected IPv6 socket");
	impl_->add(fd, *ends);
	return {};
}

Result<void> Node::add(int fd, const sockaddr_in6 &local, const sockaddr_in6 &peer)
{
	if (local.sin6_family != AF_INET6 || peer.sin6_family != AF_INET6)
		return fail(ENOTCONN, "not a connected IPv6 socket");
	impl_->add(fd, {local.sin6_addr, peer.sin6_addr, ntohs(local.sin6_port), ntohs(peer.sin6_port)});
	return {};
}

void Node::remove(int fd)
{
	std::optional<agent::ConnEnds> ends;
	{
		std::lock_guard guard(impl_->link->lock);
		if (auto it = impl_->link->conns.find(fd); it != impl_->link->conns.end())
			ends = it->second;
		impl_->link->conns.erase(fd);
		impl_->link->mirror_states.erase(fd);
		/* Its number may be reused: a made-up departure must not name it. */
		for (auto &[client, fds] : impl_->outstanding)
			std::erase(fds, fd);
	}
	/*
	 * Added and removed within one batch: the agent never hears of it.
	 * One the node no longer had (a departure took it) the agent has
	 * forgotten too.
	 */
	if (impl_->host.get() >= 0 && ends)
		impl_->queue(
			[&] {
				if (auto it = std::ranges::find(impl_->added, fd); it != impl_->added.end())
					impl_->added.erase(it);
				else
					impl_->removed.push_back(
						{static_cast<std::uint32_t>(fd), ends->client, ends->client_port});
			},
			fd);
}

Result<void> Node::mirror_state(int fd, std::vector<std::byte> state)
{
	if (state.size() > agent::max_mirror_state)
		return fail(E2BIG, "a mirror's application state of " + std::to_string(state.size()) + " octets: " +
					   std::to_string(agent::max_mirror_state) + " at most");
	std::unique_lock guard(impl_->link->lock);
	if (!impl_->link->conns.contains(fd))
		return fail(ENOENT, "descriptor " + std::to_string(fd) + " is no connection added to the node");
	if (impl_->host.get() >= 0) {
		guard.unlock();
		(void)impl_->send(programs::Writer(programs::Type::mirror).u32(static_cast<std::uint32_t>(fd)).bytes(state));
		return {};
	}
	impl_->link->mirror_states[fd] = {std::move(state), ++impl_->link->mirror_versions};
	return {};
}

void Node::serve(std::uint16_t port)
{
	{
		std::lock_guard guard(impl_->link->lock);
		impl_->link->ports.insert(port);
	}
	if (impl_->host.get() >= 0)
		(void)impl_->send(programs::Writer(programs::Type::serve).u16(port));
}

Result<void> Node::set_available(bool available)
{
	if (impl_->host.get() >= 0)
		return impl_->send(programs::Writer(programs::Type::available).u8(available ? 1 : 0));
	std::lock_guard guard(impl_->link->lock);
	impl_->link->unavailable = !available;
	return {};
}

Result<void> Node::count(std::vector<std::pair<std::string, std::uint64_t>> counters)
{
	if (counters.size() > agent::max_program_counters ||
	    !std::ranges::all_of(counters, [](const auto &c) { return agent::valid_counter_name(c.first); }))
		return fail(EINVAL, "at most " + std::to_string(agent::max_program_counters) +
					    " counters, each named with 1 to 32 of a-z, 0-9 and _");
	if (impl_->host.get() >= 0) {
		programs::Writer w(programs::Type::counters);
		programs::put_counters(w, counters);
		return impl_->send(w);
	}
	std::lock_guard guard(impl_->link->lock);
	impl_->link->counters = std::move(counters);
	return {};
}

void Node::describe(std::string text)
{
	if (impl_->host.get() >= 0) {
		(void)impl_->send(programs::Writer(programs::Type::describe).text(text));
		return;
	}
	std::lock_guard guard(impl_->link->lock);
	impl_->link->description = std::move(text);
}

std::vector<agent::MemberStatus> Node::members() const
{
	std::lock_guard guard(impl_->link->lock);
	return impl_->link->members;
}

std::vector<agent::Distance> Node::distances(const in6_addr &client) const
{
	auto &d = *impl_;
	if (d.host.get() < 0) {
		const auto &membership = d.agent->impl_->membership;
		return membership ? membership->proximity().lookup(client) : std::vector<agent::Distance>{};
	}
	std::unique_lock guard(d.link->lock);
	if (d.host_gone)
		return {};
	auto tag = ++d.next_tag;
	d.asked.emplace(tag, std::nullopt);
	guard.unlock();
	bool sent = d.send(programs::Writer(programs::Type::distance).u32(tag).addr(client)).has_value();
	guard.lock();
	if (sent)
		d.answered.wait_for(guard, std::chrono::milliseconds(100),
				    [&] { return d.asked.at(tag).has_value() || d.host_gone; });
	auto answer = std::move(d.asked.extract(tag).mapped());
	return answer.value_or(std::vector<agent::Distance>{});
}

Result<void> Node::hand_off(const in6_addr &node, std::vector<Outgoing> conns)
{
	if (conns.empty())
		return fail(EINVAL, "no connection to hand off");
	auto first = agent::connection_ends(conns.front().fd);
	if (!first)
		return fail(ENOTCONN, "the connection is not connected");
	auto &link = *impl_->link;
	{
		std::lock_guard guard(link.lock);
		for (const auto &c : conns) {
			auto ends = agent::connection_ends(c.fd);
			if (c.app_state.size() > agent::max_app_state)
				return fail(E2BIG, "an application state of " + std::to_string(c.app_state.size()) +
							   " octets: " + std::to_string(agent::max_app_state) + " at most");
			if (!link.conns.contains(c.fd))
				return fail(EINVAL, "descriptor " + std::to_string(c.fd) + " was not added to the node");
			if (!ends || !agent::same(ends->home, first->home) || !agent::same(ends->client, first->client))
				return fail(EINVAL, "the connections belong to different clients");
		}
		/* The unit of handoff is the client: its binding moves every connection. */
		std::string missing;
		/* The client's, by what their sockets said when added; still connected, by what they say now. */
		for (const auto &[fd, c] : link.conns)
			if (agent::same(c.home, first->home) && agent::same(c.client, first->client) &&
			    std::ranges::none_of(conns, [fd](const Outgoing &o) { return o.fd == fd; }) &&
			    agent::connection_ends(fd))
				missing += ' ' + std::to_string(fd);
		if (!missing.empty())
			return fail(EBUSY, "the client has other connections, which must move together: descriptors" +
						   missing);
		if (impl_->host.get() < 0) {
			/* The agent's own descriptors: whatever becomes of these numbers, they name these sockets. */
			std::vector<UniqueFd> dups;
			for (const auto &c : conns) {
				UniqueFd dup(fcntl(c.fd, F_DUPFD_CLOEXEC, 0));
				if (dup.get() < 0)
					return fail(errno, std::string("cannot duplicate a descriptor: ") +
								   std::strerror(errno));
				dups.push_back(std::move(dup));
			}
			link.commands.emplace_back(AppLink::HandOff{node, *first, std::move(conns), std::move(dups)});
		} else if (impl_->host_gone) {
			return fail(EPIPE, "the node agent went away");
		} else {
			auto &fds = impl_->outstanding[first->client];
			for (const auto &c : conns)
				fds.push_back(c.fd);
		}
	}
	if (impl_->host.get() >= 0) {
		auto ok = impl_->hand_off(node, first->client, conns);
		if (!ok) {
			std::lock_guard guard(link.lock);
			impl_->outstanding.erase(first->client);
		}
		return ok;
	}
	std::uint64_t one = 1;
	if (write(link.commands_fd.get(), &one, sizeof(one)) < 0)
		return fail(errno, std::string("cannot wake the node agent: ") + std::strerror(errno));
	return {};
}

namespace {

template <class Command>
void send_command(AppLink &link, Command command)
{
	{
		std::lock_guard guard(link.lock);
		link.commands.push_back(std::move(command));
	}
	std::uint64_t one = 1;
	if (write(link.commands_fd.get(), &one, sizeof(one)) < 0) {
		/* An eventfd write fails only on overflow: the agent is awake anyway. */
	}
}

} // namespace

void Node::decline(const Request &request, Error error)
{
	if (impl_->host.get() >= 0)
		(void)impl_->send(programs::Writer(programs::Type::decline)
					  .addr(request.client)
					  .u32(static_cast<std::uint32_t>(error.code))
					  .text(error.message));
	else
		send_command(*impl_->link, AppLink::Decline{request.client, std::move(error)});
}

void Node::drained(Result<std::string> result)
{
	if (impl_->host.get() >= 0)
		(void)impl_->send(programs::Writer(programs::Type::drained)
					  .u32(result ? 0 : static_cast<std::uint32_t>(result.error().code))
					  .text(result ? *result : result.error().message));
	else
		send_command(*impl_->link, AppLink::Drained{std::move(result)});
}

} // namespace gecko
