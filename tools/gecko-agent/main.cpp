// SPDX-License-Identifier: GPL-2.0-only
/* gecko-agent: the node agent of libgeckoctl as a daemon. See gecko-agent(8). */

#include <agent_options.h>
#include <log.h>
#include <options.h>
#include <signals.h>

#include <gecko/node.h>

#include <sys/resource.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>

namespace po = boost::program_options;

namespace {

constexpr int exit_failure = 1;

po::options_description options()
{
	po::options_description opts("Options");

	gecko::daemon::add_agent_options(opts, "port,p");
	return opts;
}

gecko::agent::Config to_config(const po::variables_map &vm)
{
	auto c = gecko::daemon::agent_config(vm, "port");

	c.log = [](const std::string &line) { gecko::daemon::log(line); };
	return c;
}

} // namespace

int main(int argc, char *argv[])
{
	using namespace gecko;
	static constexpr daemon::Program program = {
		"gecko-agent",
		"The node agent of a Gecko service, in the foreground: home registration of the\n"
		"contact node, return routability, Binding Updates to clients, Home Test relay;\n"
		"the node channel to the other nodes' agents under TLS 1.3, with the cluster key\n"
		"or certificates. The Gecko programs of its network namespace join it: a client's\n"
		"handoff takes its connections from all of them.",
		"See gecko-agent(8).",
	};

	auto config = daemon::parse_options<agent::Config>(program, options(), {argv + 1, argv + argc}, std::cout,
							   std::cerr, to_config);
	if (auto *status = std::get_if<int>(&config))
		return *status;

	auto signals = daemon::SignalFd::open({SIGINT, SIGTERM});
	if (!signals) {
		std::cerr << "gecko-agent: " << signals.error().describe() << std::endl;
		return exit_failure;
	}
	/* A copy of every connection of the programs that join it. */
	if (rlimit nofile; getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
			daemon::log("cannot raise the limit on open files: ", std::strerror(errno));
	}
	auto ok = Node::host(std::get<agent::Config>(config), signals->fd());
	if (!ok) {
		std::cerr << "gecko-agent: " << ok.error().describe() << std::endl;
		return exit_failure;
	}
	daemon::log("stopped on signal ", signals->take());
	return daemon::exit_ok;
}
