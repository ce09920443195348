// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * gecko::Node: the node agent on a thread of the application, and the
 * queues between the two (agent/handoff.h's AppLink). Calls come from the
 * application's threads; the agent's thread does the work.
 */

#include <gecko/node.h>

#include "agent/impl.h"
#include "fail.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace gecko {

using agent::AppLink;
using agent::UniqueFd;

struct Node::Impl {
	std::unique_ptr<agent::Agent> agent;
	std::shared_ptr<AppLink> link;
	UniqueFd stop;
	std::thread thread;
};

namespace {

Result<UniqueFd> new_eventfd()
{
	UniqueFd fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	if (fd.get() < 0)
		return fail(errno, std::string("eventfd: ") + std::strerror(errno));
	return fd;
}

} // namespace

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Node>> Node::start(agent::Config config)
{
	auto impl = std::make_unique<Impl>();
	auto ports = config.ports;
	auto agent = agent::Agent::open(std::move(config));
	if (!agent)
		return std::unexpected(agent.error());
	auto commands = new_eventfd();
	auto events = new_eventfd();
	auto stop = new_eventfd();
	if (!commands || !events || !stop)
		return std::unexpected(!commands ? commands.error() : !events ? events.error() : stop.error());
	impl->link = std::make_shared<AppLink>();
	impl->link->ports.insert(ports.begin(), ports.end());
	impl->link->commands_fd = std::move(*commands);
	impl->link->events_fd = std::move(*events);
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
		if (auto ok = d.agent->run(d.stop.get()); !ok && d.agent->impl_->config.log)
			d.agent->impl_->config.log("node agent stopped: " + ok.error().describe());
	});
	return std::unique_ptr<Node>(new Node(std::move(impl)));
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

Result<void> Node::add(int fd)
{
	if (!agent::connection_ends(fd))
		return fail(ENOTCONN, "not a connected IPv6 socket");
	std::lock_guard guard(impl_->link->lock);
	impl_->link->conns.insert(fd);
	return {};
}

void Node::remove(int fd)
{
	std::lock_guard guard(impl_->link->lock);
	impl_->link->conns.erase(fd);
}

void Node::serve(std::uint16_t port)
{
	std::lock_guard guard(impl_->link->lock);
	impl_->link->ports.insert(port);
}

std::vector<agent::MemberStatus> Node::members() const
{
	std::lock_guard guard(impl_->link->lock);
	return impl_->link->members;
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
			if (!link.conns.contains(c.fd))
				return fail(EINVAL, "descriptor " + std::to_string(c.fd) + " was not added to the node");
			if (!ends || !agent::same(ends->first, first->first) || !agent::same(ends->second, first->second))
				return fail(EINVAL, "the connections belong to different clients");
		}
		/* The unit of handoff is the client: its binding moves every connection. */
		std::string missing;
		for (int fd : link.conns) {
			auto ends = agent::connection_ends(fd);
			if (ends && agent::same(ends->first, first->first) && agent::same(ends->second, first->second) &&
			    std::ranges::none_of(conns, [fd](const Outgoing &c) { return c.fd == fd; }))
				missing += ' ' + std::to_string(fd);
		}
		if (!missing.empty())
			return fail(EBUSY, "the client has other connections, which must move together: descriptors" +
						   missing);
		/* The agent's own descriptors: whatever becomes of these numbers, they name these sockets. */
		std::vector<UniqueFd> dups;
		for (const auto &c : conns) {
			UniqueFd dup(fcntl(c.fd, F_DUPFD_CLOEXEC, 0));
			if (dup.get() < 0)
				return fail(errno, std::string("cannot duplicate a descriptor: ") + std::strerror(errno));
			dups.push_back(std::move(dup));
		}
		link.commands.emplace_back(AppLink::HandOff{node, std::move(conns), std::move(dups)});
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
	send_command(*impl_->link, AppLink::Decline{request.client, std::move(error)});
}

void Node::drained(Result<std::string> result)
{
	send_command(*impl_->link, AppLink::Drained{std::move(result)});
}

} // namespace gecko
