// SPDX-License-Identifier: GPL-2.0-only
/*
 * gecko-policy-echo: the original design's example, on the high-level API
 * (gecko/framework.h). A TCP echo run on every node of a distributed
 * server from one configuration file: the contact node places each new
 * client by the policy, and a connection moves on to the member the
 * policy picks each time what it read holds an 'H'. One thread per
 * connection, blocking calls, as the API's simplest use. See
 * gecko-policy-echo(8) and Documentation/framework.md.
 */

#include "framework_server.h"
#include "server.h"

#include <options.h>

#include <gecko/address.h>

#include <algorithm>
#include <iostream>

namespace po = boost::program_options;

namespace gecko::examples {

namespace {

/* One connection: each read is written back; one that holds an 'H' then moves the connection on. */
void serve(GeckoSocket &socket)
{
	auto client = format_address(socket.GetPeerName().sin6_addr);
	say("serving ", client, " port ", ntohs(socket.GetPeerName().sin6_port), " (", socket.BytesReceived(),
	    " octets received and ", socket.BytesSent(), " sent so far)");
	std::byte buf[65536];
	for (;;) {
		auto n = socket.Read(buf);
		if (!n || *n == 0) {
			if (!n)
				say(client, ": ", n.error().describe());
			return;
		}
		std::span<const std::byte> got(buf, *n);
		if (auto w = socket.Write(got); !w) {
			say(client, ": ", w.error().describe());
			return;
		}
		if (std::ranges::find(got, std::byte{'H'}) == got.end())
			continue;
		/* Everything read went back: nothing to carry but the connection. */
		if (auto ok = socket.Handoff(); !ok) {
			say(client, ": stays here: ", ok.error().describe());
			continue;
		}
		say(client, ": handed off after ", socket.BytesReceived(), " octets");
		return;
	}
}

} // namespace

} // namespace gecko::examples

int main(int argc, char *argv[])
{
	using namespace gecko;
	static constexpr daemon::Program program = {
		"gecko-policy-echo",
		"A TCP echo served by every node of a Gecko distributed server: the contact node\n"
		"places each new client by the configuration's policy, and a connection moves to\n"
		"another member each time what the server reads from it holds an 'H'.",
		"See gecko-policy-echo(8).",
	};
	po::options_description opts("Options");
	examples::add_framework_options(opts, 7);
	auto options = daemon::parse_options<examples::FrameworkServerOptions>(
		program, opts, {argv + 1, argv + argc}, std::cout, std::cerr, examples::framework_options);
	if (auto *status = std::get_if<int>(&options))
		return *status;
	return examples::run_framework_server("gecko-policy-echo", std::get<examples::FrameworkServerOptions>(options),
					      examples::serve);
}
