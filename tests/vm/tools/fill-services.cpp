// SPDX-License-Identifier: GPL-2.0-only
/*
 * Creates COUNT services, G = PREFIX with its last 32 bits FIRST on, all at
 * care-of address COA with contact node CONTACT, in one process: thousands
 * in the time gecko-ctl takes for a few. Stops at the first the module
 * refuses, and prints the refusal as gecko-ctl does.
 *
 *   gecko-fill-services PREFIX FIRST COUNT COA CONTACT
 */

#include <gecko/address.h>
#include <gecko/client.h>

#include <arpa/inet.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char **argv)
{
	if (argc != 6) {
		std::fprintf(stderr, "usage: gecko-fill-services PREFIX FIRST COUNT COA CONTACT\n");
		return 2;
	}
	auto prefix = gecko::parse_address(argv[1]);
	auto coa = gecko::parse_address(argv[4]);
	auto contact = gecko::parse_address(argv[5]);
	if (!prefix || !coa || !contact) {
		std::fprintf(stderr, "gecko-fill-services: PREFIX, COA and CONTACT are IPv6 addresses\n");
		return 2;
	}
	auto client = gecko::Client::open();
	if (!client) {
		std::fprintf(stderr, "gecko-fill-services: %s\n", client.error().describe().c_str());
		return 1;
	}
	const unsigned long first = std::strtoul(argv[2], nullptr, 0), count = std::strtoul(argv[3], nullptr, 0);
	gecko::Service svc;

	svc.home = *prefix;
	svc.coa = *coa;
	svc.contact_coa = *contact;

	for (unsigned long n = first; n < first + count; n++) {
		const std::uint32_t be = htonl(static_cast<std::uint32_t>(n));

		std::memcpy(&svc.home.s6_addr[12], &be, sizeof(be));
		if (auto ok = client->set_service(svc); !ok) {
			std::printf("Error: %s\n", ok.error().describe().c_str());
			return 1;
		}
	}
	return 0;
}
