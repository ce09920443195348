// SPDX-License-Identifier: GPL-2.0-only
/* gecko-had: a MIPv6 home agent. See gecko-had(8). */

#include "agent.h"
#include "config.h"

#include <iostream>

int main(int argc, char *argv[])
{
	using namespace gecko::had;

	auto config = parse_config({argv + 1, argv + argc}, std::cout, std::cerr);
	if (auto *status = std::get_if<int>(&config))
		return *status;

	auto agent = Agent::start(std::get<Config>(config));
	if (!agent) {
		std::cerr << "gecko-had: " << agent.error().describe() << std::endl;
		return exit_failure;
	}
	return (*agent)->run();
}
