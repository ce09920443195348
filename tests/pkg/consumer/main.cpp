// SPDX-License-Identifier: GPL-2.0-only
// A program outside the tree, built against the installed libgeckoctl.
#include <gecko/client.h>
#include <gecko/policy.h>

#include <cstdio>

int main()
{
	/* The high-level API's headers are installed and its symbols exported. */
	if (!gecko::make_policy("round-robin") || !gecko::parse_cluster("", "none").error().code) {
		std::printf("policy: missing\n");
		return 1;
	}
	auto client = gecko::Client::open();
	if (!client) {
		std::printf("open: %s\n", client.error().describe().c_str());
		return 0;
	}
	auto info = client->get_info();
	std::printf("gecko %s\n", info ? info->module_version.c_str() : "?");
	return 0;
}
