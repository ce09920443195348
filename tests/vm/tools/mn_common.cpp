// SPDX-License-Identifier: GPL-2.0-only

#include "mn_common.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <exception>
#include <iostream>

namespace gecko::mn {

namespace {

constexpr const char *synopsis =
	"usage: gecko-mn register --home G --coa COA --ha HA [--seq N] [--lifetime S] [--timeout S]\n"
	"       gecko-mn hot --home G --cn CN [--timeout S]\n"
	"       gecko-mn ro --home G --coa COA --cn CN [--seq N] [--lifetime S] [--timeout S]\n"
	"                   [--home-nonce N --home-token HEX] [--wait S]\n"
	"                   [--bad-auth] [--wrong-nonce home|care-of|both] [--h-flag]\n";

} // namespace

void usage(const std::string &why)
{
	std::cerr << "gecko-mn: " << why << '\n' << synopsis;
	std::exit(exit_usage);
}

int report(const Error &error)
{
	std::cerr << "gecko-mn: " << error.describe() << '\n';
	return exit_error;
}

void die(const Error &error)
{
	std::exit(report(error));
}

Options parse(int argc, char **argv, const std::set<std::string> &names, const std::set<std::string> &flags)
{
	Options opts;

	for (int i = 2; i < argc; i++) {
		std::string key = argv[i];
		if (key.rfind("--", 0) != 0)
			usage("expected an option, got '" + key + "'");
		key = key.substr(2);
		if (!flags.contains(key) && !names.contains(key))
			usage("unknown option --" + key);
		if (flags.contains(key)) {
			opts[key] = "1";
			continue;
		}
		if (++i >= argc)
			usage("--" + key + " needs a value");
		opts[key] = argv[i];
	}
	return opts;
}

in6_addr address(const Options &opts, const std::string &name)
{
	in6_addr addr;
	auto it = opts.find(name);

	if (it == opts.end())
		usage("--" + name + " is required");
	if (inet_pton(AF_INET6, it->second.c_str(), &addr) != 1)
		usage("--" + name + ": not an IPv6 address: " + it->second);
	return addr;
}

unsigned long number(const Options &opts, const std::string &name, unsigned long dflt)
{
	auto it = opts.find(name);

	if (it == opts.end())
		return dflt;
	try {
		return std::stoul(it->second);
	} catch (const std::exception &) {
		usage("--" + name + ": not a number: " + it->second);
	}
}

std::string text(const in6_addr &addr)
{
	char buf[INET6_ADDRSTRLEN];

	return inet_ntop(AF_INET6, &addr, buf, sizeof(buf));
}

Plumbing::Plumbing(xfrm::Xfrm &xfrm, const xfrm::Binding &b)
	: xfrm_(xfrm), out_state_(xfrm::hao_out_state(b)), out_policy_(xfrm::mh_hao_out_policy(b))
{
}

Result<void> Plumbing::install()
{
	return xfrm_.apply({xfrm::install(out_state_), xfrm::install(out_policy_), xfrm::install(xfrm::rh2_receive_state()),
			    xfrm::install(xfrm::mh_receive_policy(xfrm::Kind::rh2))});
}

Plumbing::~Plumbing()
{
	(void)xfrm_.apply({xfrm::remove(xfrm::mh_receive_policy(xfrm::Kind::rh2)), xfrm::remove(xfrm::rh2_receive_state()),
			   xfrm::remove(out_policy_), xfrm::remove(out_state_)});
}

} // namespace gecko::mn
