// SPDX-License-Identifier: GPL-2.0-only

#include "server.h"

#include <agent_options.h>
#include <options.h>
#include <signals.h>

#include <gecko/address.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/tcp.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ranges>

namespace po = boost::program_options;

namespace gecko::examples {

namespace {

using Clock = std::chrono::steady_clock;

/* How often at most --stats is rewritten while the status changes. */
constexpr auto stats_interval = std::chrono::milliseconds(200);

std::mutex say_lock;

bool same(const in6_addr &a, const in6_addr &b)
{
	return std::memcmp(&a, &b, sizeof(a)) == 0;
}

std::string text(const in6_addr &addr)
{
	return format_address(addr);
}

Fd listen_on(std::uint16_t port)
{
	Fd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
	sockaddr_in6 sa{};
	int one = 1;

	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons(port);
	if (!fd || ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    ::bind(fd.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) || ::listen(fd.get(), 64))
		return Fd();
	return fd;
}

/* What the client acknowledged on @fd since the connection began: restored with it on every node. */
std::uint64_t bytes_acked(int fd)
{
	tcp_info info{};
	socklen_t len = sizeof(info);

	return ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) ? 0 : info.tcpi_bytes_acked;
}

} // namespace

void say_line(const std::string &line)
{
	std::lock_guard hold(say_lock);
	std::string whole = line + '\n';

	/* One write: a reader of the log never sees half a line. */
	for (std::size_t off = 0; off < whole.size();) {
		auto n = ::write(STDOUT_FILENO, whole.data() + off, whole.size() - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		off += static_cast<std::size_t>(n);
	}
}

void add_options(po::options_description &opts, std::uint16_t default_port)
{
	opts.add_options()
		("port,p", po::value<std::uint16_t>()->default_value(default_port), "the TCP port to serve on, on [::]");
	daemon::add_agent_options(opts, "agent-port");
	opts.add_options()
		("spread", po::value<std::string>(),
		 "hand each new connection to the next of NODE[,NODE...] (care-of addresses, or \"self\")")
		("stats", po::value<std::string>(), "keep the status line (what SIGUSR1 prints) in FILE");
}

Options to_options(const po::variables_map &vm)
{
	Options o;

	o.port = vm["port"].as<std::uint16_t>();
	o.agent = daemon::agent_config(vm, "agent-port");
	/* Connections handed to this node must be to the port it serves. */
	o.agent.ports = {o.port};
	o.agent.log = say_line;
	if (vm.count("spread")) {
		for (auto word : std::views::split(vm["spread"].as<std::string>(), ',')) {
			std::string name(word.begin(), word.end());

			if (name == "self") {
				o.spread.emplace_back();
				continue;
			}
			auto addr = parse_address(name);
			if (!addr)
				throw daemon::Usage{"--spread: " + addr.error().message};
			o.spread.emplace_back(*addr);
		}
	}
	if (vm.count("stats"))
		o.stats = vm["stats"].as<std::string>();
	return o;
}

Server::~Server() = default;

int Server::run(const Options &options)
{
	/* Blocked before the Node starts, so that its thread inherits the mask and the signalfd sees them. */
	auto sigs = daemon::SignalFd::open({SIGINT, SIGTERM, SIGUSR1});
	if (!sigs) {
		say(name_, ": ", sigs.error().describe());
		return exit_failure;
	}
	Fd listener = listen_on(options.port);
	if (!listener) {
		say(name_, ": cannot listen on port ", options.port, ": ", std::strerror(errno));
		return exit_failure;
	}
	auto node = Node::start(options.agent);
	if (!node) {
		say(name_, ": ", node.error().describe());
		return exit_failure;
	}
	node_ = std::move(*node);
	spread_ = options.spread;
	stats_ = options.stats;
	write_stats();
	say(name_, ": serving port ", options.port);

	int exit_status = 0;
	for (;;) {
		std::vector<pollfd> pfds = {{sigs->fd(), POLLIN, 0},
					    {listener.get(), POLLIN, 0},
					    {node_->event_fd(), POLLIN, 0}};

		for (const auto &[fd, conn] : conns_)
			if (!conn.leaving)
				pfds.push_back({fd, conn.session->events(), 0});

		if (::poll(pfds.data(), pfds.size(), stats_wait()) < 0) {
			if (errno == EINTR)
				continue;
			say(name_, ": poll: ", std::strerror(errno));
			exit_status = exit_failure;
			break;
		}
		/* The connections first: the Node's events may close some and reuse their numbers. */
		for (const auto &p : pfds | std::views::drop(3)) {
			auto it = conns_.find(p.fd);

			if (!p.revents || it == conns_.end() || it->second.leaving)
				continue;
			if (!it->second.session->serve(p.fd, p.revents)) {
				say("closed ", text(it->second.client), " (fd ", p.fd, ")");
				end(p.fd);
				continue;
			}
			/* The backup's mirror of the connection carries what an acceptor would get. */
			if (auto state = it->second.session->state();
			    it->second.managed && state && state != it->second.mirrored &&
			    node_->mirror_state(p.fd, *state))
				it->second.mirrored = std::move(state);
		}
		if (pfds[2].revents) {
			for (auto &event : node_->events())
				std::visit([this](auto &e) { handle(e); }, event);
		}
		if (pfds[1].revents)
			accept_all(listener.get());
		retry_requests();

		if (pfds[0].revents) {
			int sig = sigs->take();

			if (sig == SIGINT || sig == SIGTERM) {
				say(name_, ": stopped on signal ", sig);
				break;
			}
			if (sig == SIGUSR1)
				say(status());
		}
	}
	/* The Node first: handoffs under way are rolled back, so the connections are ours to close. */
	node_.reset();
	for (auto &[fd, conn] : conns_)
		conn.session->ended(bytes_acked(fd));
	conns_.clear();
	write_stats();
	return exit_status;
}

void Server::accept_all(int listener)
{
	for (;;) {
		sockaddr_in6 sa{};
		socklen_t len = sizeof(sa);
		Fd fd(::accept4(listener, reinterpret_cast<sockaddr *>(&sa), &len, SOCK_NONBLOCK | SOCK_CLOEXEC));

		if (!fd) {
			if (errno != EAGAIN && errno != EINTR)
				say(name_, ": accept: ", std::strerror(errno));
			return;
		}
		int n = fd.get();
		Conn conn{std::move(fd), sa.sin6_addr, accepted(sa.sin6_addr)};
		auto added = node_->add(n);

		conn.managed = added.has_value();
		say("accepted ", text(sa.sin6_addr), " port ", ntohs(sa.sin6_port), " (fd ", n, ")",
		    added ? "" : ", which cannot be handed off: " + added.error().describe());
		conns_.emplace(n, std::move(conn));
		if (!conns_[n].managed || spread_.empty())
			continue;

		const auto &to = spread_[next_++ % spread_.size()];
		/* Nothing was read from it yet: the acceptor's application starts it afresh. */
		if (to && hand_off(sa.sin6_addr, *to) == HandOff::waiting)
			say("spread: ", text(sa.sin6_addr), " stays here: one of its connections cannot leave now");
	}
}

void Server::handle(Arrival &arrival)
{
	Fd fd(arrival.fd);
	int n = fd.get();

	say(arrival.recovered ? "recovered: " : "arrival: ", text(arrival.client), " (fd ", n, "), ", arrival.bytes_sent, " octets sent and ",
	    arrival.bytes_received, " received so far, application state ", arrival.app_state.size(), " octets");
	auto session = arrived(arrival);
	if (session && ::fcntl(n, F_SETFL, ::fcntl(n, F_GETFL) | O_NONBLOCK) < 0) {
		say("fd ", n, ": cannot make it nonblocking: ", std::strerror(errno));
		session.reset();
	}
	if (!session) {
		/* Before close(), as end() does; a reset tells the client at once that it cannot go on. */
		node_->remove(n);
		linger reset{1, 0};
		::setsockopt(n, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
		return;
	}

	Conn conn{std::move(fd), arrival.client, std::move(session)};
	auto added = node_->add(n);
	conn.managed = added.has_value();
	if (!added)
		say("fd ", n, ": cannot be handed off again: ", added.error().describe());
	conns_.emplace(n, std::move(conn));
}

void Server::handle(const Departure &departure)
{
	std::ostringstream how;

	auto why = departure.error ? departure.error->describe() : "no reason given";
	if (departure.fate == Fate::moved)
		how << "moved " << departure.fds.size() << " connection(s), frozen "
		    << static_cast<double>(departure.frozen.count()) / 1000 << " ms";
	else if (departure.fate == Fate::lost)
		how << "lost " << departure.fds.size() << " connection(s): " << why;
	else
		how << "stayed here: " << why;
	say("departure: ", text(departure.client), " to ", text(departure.node), ": ", how.str());

	for (std::size_t i = 0; i < departure.fds.size(); i++) {
		int fd = departure.fds[i];
		auto it = conns_.find(fd);

		if (it == conns_.end())
			continue;
		/* Its socket is dropped: the kernel's count is gone with it. */
		if (departure.fate != Fate::stayed)
			end(fd, i < departure.bytes_acked.size() ? departure.bytes_acked[i] : 0);
		else
			it->second.leaving = false;
	}
}

void Server::handle(const Request &request)
{
	say("request: ", text(request.client), " to ", text(request.node));
	requests_.push_back(request);
}

void Server::handle(const Drain &)
{
	say("drain: refused: this server has no policy to choose members by");
	node_->drained(std::unexpected(Error{EOPNOTSUPP, name_ + " has no redirection policy: hand its clients off "
								 "with gecko-ctl handoff, or use a GeckoFramework program"}));
}

/* Every connection of @client to @node, if each can leave now. */
Server::HandOff Server::hand_off(const in6_addr &client, const in6_addr &node)
{
	std::vector<Outgoing> out;

	for (const auto &[fd, conn] : conns_) {
		if (!conn.managed || !same(conn.client, client))
			continue;
		if (conn.leaving)
			return HandOff::waiting;
		auto state = conn.session->state();
		if (!state)
			return HandOff::waiting;
		out.push_back({fd, std::move(*state)});
	}

	/* Even with no connection, for the log line and the reason whoever asked gets. */
	std::vector<int> fds;
	for (const auto &o : out)
		fds.push_back(o.fd);
	if (auto ok = node_->hand_off(node, std::move(out)); !ok) {
		say("hand-off: ", text(client), " to ", text(node), ": ", ok.error().describe());
		failure_ = ok.error();
		return HandOff::failed;
	}
	for (int fd : fds)
		conns_[fd].leaving = true;
	say("hand-off: ", text(client), " to ", text(node), ", ", fds.size(), " connection(s)");
	return HandOff::started;
}

void Server::retry_requests()
{
	std::erase_if(requests_, [this](const Request &r) {
		auto result = hand_off(r.client, r.node);
		if (result == HandOff::failed)
			node_->decline(r, failure_);
		return result != HandOff::waiting;
	});
}

/* Renamed over the old one: a reader never sees it half written. */
void Server::write_stats()
{
	if (!stats_)
		return;
	auto line = status();
	auto tmp = *stats_ + ".tmp";
	{
		std::ofstream out(tmp, std::ios::trunc);
		out << line << '\n';
		if (!out.flush()) {
			say(name_, ": cannot write ", tmp);
			return;
		}
	}
	std::error_code ec;
	std::filesystem::rename(tmp, *stats_, ec);
	if (ec)
		say(name_, ": cannot rename ", tmp, ": ", ec.message());
	written_ = std::move(line);
	written_at_ = Clock::now();
}

/* Rewrites --stats if the status changed and the last write is old enough; how long poll() may wait, in ms. */
int Server::stats_wait()
{
	if (!stats_ || status() == written_)
		return -1;
	auto wait = written_at_ + stats_interval - Clock::now();
	if (wait <= Clock::duration::zero()) {
		write_stats();
		return -1;
	}
	return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(wait).count());
}

void Server::end(int fd, std::optional<std::uint64_t> acked)
{
	auto it = conns_.find(fd);

	if (it == conns_.end())
		return;
	it->second.session->ended(acked ? *acked : bytes_acked(fd));
	/* Before close(): the number may be reused at once. */
	if (it->second.managed)
		node_->remove(fd);
	conns_.erase(it);
}

} // namespace gecko::examples
