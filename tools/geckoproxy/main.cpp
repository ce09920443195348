// SPDX-License-Identifier: GPL-2.0-only
/*
 * geckoproxy: a distributed server for a program that knows nothing of
 * Gecko. It runs on every node in front of the local program, on the high-level
 * API (gecko/framework.h): the contact node's proxy places each new client
 * by the configuration's policy, and the proxy of the node that serves it
 * relays the connection to the program's local port (relay.h). See
 * geckoproxy(8).
 */

#include "health.h"
#include "relay.h"

#include <log.h>
#include <options.h>
#include <signals.h>

#include <gecko/address.h>
#include <gecko/framework.h>

#include <arpa/inet.h>
#include <poll.h>
#include <sys/resource.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace po = boost::program_options;

namespace gecko::proxy {

namespace {

constexpr int exit_failure = 1;

struct Options {
	std::string cluster;
	std::uint16_t app_port = 0;
	std::uint16_t port = 0;	/* G's */
	std::vector<sockaddr_in6> program;
	std::optional<std::string> policy;
	std::size_t max_connections = 0;
	std::chrono::milliseconds check_interval{};	/* 0: no health check */
	unsigned fall = 0, rise = 0;
	std::chrono::milliseconds connect_timeout{}, idle_timeout{};
	bool proxy_protocol = false;
};

/* A duration as gecko.conf(5) writes them: milliseconds, or with "ms" or "s". */
std::chrono::milliseconds duration(const po::variables_map &vm, const char *option)
{
	auto text = vm[option].as<std::string>();
	std::size_t end = 0;
	unsigned long long n = 0;
	try {
		n = std::stoull(text, &end);
	} catch (const std::exception &) {
		end = 0;
	}
	auto unit = text.substr(end);
	bool digits = end > 0 && std::isdigit(static_cast<unsigned char>(text[0]));
	if (!digits || (unit != "" && unit != "ms" && unit != "s") || n > 86400000)
		throw daemon::Usage{std::string("--") + option + ": '" + text +
				    "' is not a duration: a whole number of milliseconds, or with 'ms' or 's' (at most a day)"};
	return std::chrono::milliseconds(unit == "s" ? n * 1000 : n);
}

sockaddr_in6 endpoint(const in6_addr &addr, std::uint16_t port)
{
	sockaddr_in6 sa{};
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = addr;
	sa.sin6_port = htons(port);
	return sa;
}

/* --app-address: an IPv6 or IPv4 address; "localhost" is ::1, then 127.0.0.1. */
std::vector<sockaddr_in6> program_addresses(const std::string &text, std::uint16_t port)
{
	in6_addr addr{};
	if (text == "localhost")
		return {endpoint(in6addr_loopback, port), endpoint(*parse_address("::ffff:127.0.0.1"), port)};
	if (auto v6 = parse_address(text))
		return {endpoint(*v6, port)};
	in_addr v4{};
	if (::inet_pton(AF_INET, text.c_str(), &v4) != 1)
		throw daemon::Usage{"--app-address: '" + text + "' is not an IPv6 or IPv4 address"};
	addr.s6_addr[10] = addr.s6_addr[11] = 0xff;
	std::memcpy(&addr.s6_addr[12], &v4, 4);
	return {endpoint(addr, port)};
}

Options to_options(const po::variables_map &vm)
{
	Options o;
	o.cluster = vm["cluster"].as<std::string>();
	o.app_port = vm["app-port"].as<std::uint16_t>();
	o.port = vm.count("port") ? vm["port"].as<std::uint16_t>() : o.app_port;
	if (o.app_port == 0 || o.port == 0)
		throw daemon::Usage{"a port cannot be 0"};
	o.program = program_addresses(vm["app-address"].as<std::string>(), o.app_port);
	if (vm.count("policy"))
		o.policy = vm["policy"].as<std::string>();
	o.max_connections = vm["max-connections"].as<std::size_t>();
	if (o.max_connections == 0)
		throw daemon::Usage{"--max-connections must be at least 1"};
	o.check_interval = duration(vm, "check-interval");
	o.fall = vm["check-fall"].as<unsigned>();
	o.rise = vm["check-rise"].as<unsigned>();
	if (o.fall == 0 || o.rise == 0)
		throw daemon::Usage{"--check-fall and --check-rise must be at least 1"};
	o.connect_timeout = duration(vm, "connect-timeout");
	if (o.connect_timeout.count() == 0)
		throw daemon::Usage{"--connect-timeout cannot be 0"};
	o.idle_timeout = duration(vm, "idle-timeout");
	o.proxy_protocol = vm["proxy-protocol"].as<bool>();
	return o;
}

std::string describe(const sockaddr_in6 &sa)
{
	return '[' + format_address(sa.sin6_addr) + "]:" + std::to_string(ntohs(sa.sin6_port));
}

/* Each relayed connection holds four descriptors (two sockets, two pipes) and the framework's own. */
void raise_open_files()
{
	rlimit nofile;
	if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		if (::setrlimit(RLIMIT_NOFILE, &nofile) < 0)
			daemon::log("geckoproxy: cannot raise the limit on open files: ", std::strerror(errno));
	}
}

int run(const Options &options)
{
	/* Blocked before the framework's threads start, so that they inherit the mask. */
	auto sigs = daemon::SignalFd::open({SIGINT, SIGTERM});
	if (!sigs) {
		daemon::log("geckoproxy: ", sigs.error().describe());
		return exit_failure;
	}
	raise_open_files();
	FrameworkOptions fo;
	fo.policy = options.policy;
	fo.log = [](const std::string &line) { daemon::log(line); };
	auto framework = GeckoFramework::Create(options.cluster, fo);
	if (!framework) {
		daemon::log("geckoproxy: ", framework.error().describe());
		return exit_failure;
	}
	auto server = GeckoServerSocket::Listen(*framework, options.port);
	if (!server) {
		daemon::log("geckoproxy: port ", options.port, ": ", server.error().describe());
		return exit_failure;
	}
	(void)server->SetNonBlocking();
	const std::string node = framework->self().name;
	RelayOptions ro;
	ro.program = options.program;
	ro.connect_timeout = options.connect_timeout;
	ro.idle_timeout = options.idle_timeout;
	ro.proxy_protocol = options.proxy_protocol;
	ro.ended = [&node](const SessionEnd &e) {
		daemon::log("geckoproxy: client=", describe(e.client), " node=", node, " in=", e.from_client,
			    " out=", e.to_client, " ms=", e.duration.count(), " end=\"", e.how, '"');
	};
	auto relay = Relay::create(std::move(ro));
	if (!relay) {
		daemon::log("geckoproxy: ", relay.error().describe());
		return exit_failure;
	}
	std::optional<HealthCheck> health;
	if (options.check_interval.count() > 0) {
		HealthOptions ho;
		ho.program = options.program;
		ho.interval = options.check_interval;
		ho.fall = options.fall;
		ho.rise = options.rise;
		ho.changed = [&](bool up, const std::string &why) {
			if (up)
				daemon::log("geckoproxy: the program is up again: ", node, " takes new clients");
			else
				daemon::log("geckoproxy: the program is down (", why, ", ", options.fall,
					    " checks in a row): new clients go to other members");
			framework->SetAvailable(up);
		};
		auto h = HealthCheck::create(std::move(ho));
		if (!h) {
			daemon::log("geckoproxy: ", h.error().describe());
			return exit_failure;
		}
		health.emplace(std::move(*h));
	}
	daemon::log("geckoproxy: ", node, " serves port ", options.port, " of ",
		    format_address(framework->cluster().service), " from ", describe(options.program.front()),
		    options.proxy_protocol ? " with the PROXY protocol" : "");

	for (;;) {
		/* At the limit, new clients wait in the framework's queue (and then the kernel's). */
		bool accepting = relay->sessions() < options.max_connections;
		pollfd fds[] = {{sigs->fd(), POLLIN, 0}, {relay->fd(), POLLIN, 0},
				{accepting ? server->fd() : -1, POLLIN, 0}, {health ? health->fd() : -1, POLLIN, 0}};
		if (::poll(fds, 4, -1) < 0 && errno != EINTR) {
			daemon::log("geckoproxy: poll: ", std::strerror(errno));
			return exit_failure;
		}
		if (fds[0].revents) {
			daemon::log("geckoproxy: stopped on signal ", sigs->take(), ", ", relay->sessions(),
				    " connection(s) reset");
			return daemon::exit_ok;
		}
		if (fds[1].revents)
			relay->run();
		if (fds[3].revents)
			health->run();
		while (accepting && relay->sessions() < options.max_connections) {
			auto socket = server->Accept();
			if (!socket)
				break;
			/* The proxy moves the octets itself: the connection is not to be taken mid-exchange. */
			if (!socket->Hold(true))
				continue;	/* a drain moved it before it was accepted */
			bool resumed = socket->Recovered();
			auto held = std::make_shared<GeckoSocket>(std::move(*socket));
			ClientEnd client{held->fd(), held->GetPeerName(), [held] { held->Close(); }};
			/*
			 * Taken over from a dead member: the program here never saw
			 * the exchange it is in, so a clean reset rather than a
			 * stream that goes on wrong.
			 */
			if (resumed)
				relay->refuse(std::move(client), "reset: taken over mid-stream, the program cannot resume it");
			else
				relay->add(std::move(client));
		}
	}
}

} // namespace

} // namespace gecko::proxy

int main(int argc, char *argv[])
{
	using namespace gecko;
	static constexpr daemon::Program program = {
		"geckoproxy",
		"Makes a program that knows nothing of Gecko a distributed server: run on every\n"
		"node in front of the local program, the proxies place each new client on a node\n"
		"by the configuration's policy, and that node's proxy relays the connection to\n"
		"the program's local port.",
		"See geckoproxy(8).",
	};
	po::options_description opts("Options");
	opts.add_options()
		("cluster,g", po::value<std::string>()->required(), "the distributed server's configuration (gecko.conf(5))")
		("app-port,a", po::value<std::uint16_t>()->required(), "the local program's port")
		("app-address", po::value<std::string>()->default_value("localhost"),
		 "the local program's address (localhost: ::1, then 127.0.0.1)")
		("port,p", po::value<std::uint16_t>(), "G's port to serve (default: the program's port)")
		("policy", po::value<std::string>(), "the redirection policy, instead of the file's")
		("max-connections", po::value<std::size_t>()->default_value(10000),
		 "connections relayed at once; more wait to be accepted")
		("proxy-protocol", po::bool_switch(), "start each connection to the program with a PROXY protocol v2 header")
		("connect-timeout", po::value<std::string>()->default_value("5s"),
		 "give up an address of the program that has not answered by then")
		("idle-timeout", po::value<std::string>()->default_value("0"),
		 "reset a connection where nothing moved for that long (0: never)")
		("check-interval", po::value<std::string>()->default_value("2s"),
		 "health check of the program: a connection this often (0: none)")
		("check-fall", po::value<unsigned>()->default_value(3), "failed checks in a row that make the program down")
		("check-rise", po::value<unsigned>()->default_value(2), "good checks in a row that make it up again");
	auto options = daemon::parse_options<proxy::Options>(program, opts, {argv + 1, argv + argc}, std::cout,
							      std::cerr, proxy::to_options);
	if (auto *status = std::get_if<int>(&options))
		return *status;
	return proxy::run(std::get<proxy::Options>(options));
}
