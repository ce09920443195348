// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sets COUNT bindings of G, bound, for the clients fd00:c::FIRST on, in one
 * process, through Client::set_bindings() (many requests a system call):
 * thousands in the time gecko-ctl takes for a few. Stops after the first
 * batch the module refused some of, and prints the first refusal as
 * gecko-ctl does.
 *
 *   gecko-fill-bindings G FIRST COUNT
 */

#include <gecko/address.h>
#include <gecko/client.h>

#include <arpa/inet.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

int main(int argc, char **argv)
{
	if (argc != 4) {
		std::fprintf(stderr, "usage: gecko-fill-bindings G FIRST COUNT\n");
		return 2;
	}
	auto home = gecko::parse_address(argv[1]);
	auto client = gecko::Client::open();
	if (!home || !client) {
		std::fprintf(stderr, "gecko-fill-bindings: %s\n",
			     home ? client.error().describe().c_str() : "G is not an IPv6 address");
		return 1;
	}
	const unsigned long first = std::strtoul(argv[2], nullptr, 0), count = std::strtoul(argv[3], nullptr, 0);
	/* The clients' bindings in batches of this many: the memory stays small for a million. */
	constexpr unsigned long batch = 4096;
	std::vector<gecko::Binding> bindings;

	for (unsigned long n = first; n < first + count; n++) {
		/* The longest lifetime (RFC 6275 MAX_RR_BINDING_LIFETIME): none expires meanwhile. */
		gecko::Binding b{*home, *gecko::parse_address("fd00:c::"), gecko::BindingState::bound, 1, 420};
		const std::uint32_t be = htonl(static_cast<std::uint32_t>(n));

		std::memcpy(&b.peer.s6_addr[12], &be, sizeof(be));
		bindings.push_back(b);
		if (bindings.size() < batch && n + 1 < first + count)
			continue;
		if (auto ok = client->set_bindings(bindings); !ok) {
			std::printf("Error: %s\n", ok.error().describe().c_str());
			return 1;
		}
		bindings.clear();
	}
	return 0;
}
