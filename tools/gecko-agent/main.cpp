// SPDX-License-Identifier: GPL-2.0-only
/* gecko-agent: the node agent of libgeckoctl as a daemon. See gecko-agent(8). */

#include <log.h>
#include <options.h>
#include <signals.h>

#include <gecko/agent.h>

#include <csignal>
#include <iostream>

namespace po = boost::program_options;

namespace {

constexpr int exit_failure = 1;

po::options_description options()
{
	po::options_description opts("Options");

	opts.add_options()
		("port,p", po::value<std::uint16_t>()->default_value(gecko::agent::default_port),
		 "the TCP port the agents of the other nodes reach this one on")
		("control", po::value<std::string>()->default_value(gecko::agent::default_control),
		 "the abstract Unix socket gecko-ctl reaches this agent on");
	return opts;
}

gecko::agent::Config to_config(const po::variables_map &vm)
{
	gecko::agent::Config c;

	c.port = vm["port"].as<std::uint16_t>();
	c.control = vm["control"].as<std::string>();
	if (c.control.empty())
		throw gecko::daemon::Usage{"--control: the socket needs a name"};
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
		"contact node, return routability, Binding Updates to clients, Home Test relay.",
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
	auto a = agent::Agent::open(std::get<agent::Config>(config));
	if (!a) {
		std::cerr << "gecko-agent: " << a.error().describe() << std::endl;
		return exit_failure;
	}
	auto ok = (*a)->run(signals->fd());
	if (!ok) {
		std::cerr << "gecko-agent: " << ok.error().describe() << std::endl;
		return exit_failure;
	}
	daemon::log("stopped on signal ", signals->take());
	return daemon::exit_ok;
}
