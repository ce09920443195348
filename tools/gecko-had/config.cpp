// SPDX-License-Identifier: GPL-2.0-only

#include "config.h"

#include <shared_lock.h>

#include <options.h>

namespace po = boost::program_options;

namespace gecko::had {

namespace {

using daemon::Usage;

constexpr unsigned default_max_lifetime = 3600;	/* seconds */

po::options_description options()
{
	po::options_description opts("Options");

	opts.add_options()
		("interface,i", po::value<std::string>(), "the home link's interface (required)")
		("home-prefix,p", po::value<std::string>(), "the home prefix, e.g. fd00:a::/64 (required)")
		("address,a", po::value<std::string>(), "this home agent's address on the home link (required)")
		("allow-coa,c", po::value<std::vector<std::string>>(),
		 "a prefix care-of addresses may come from; repeat for more (at least one)")
		("max-lifetime,l", po::value<unsigned>()->default_value(default_max_lifetime),
		 "the longest binding lifetime granted, in seconds")
		("lock-dir", po::value<std::string>()->default_value(daemon::default_lock_dir),
		 "where daemons of one network namespace agree on shared xfrm objects");
	/* --config, --help and --version: daemon::parse_options() adds them. */
	return opts;
}

std::string required(const po::variables_map &vm, const char *name)
{
	if (!vm.count(name))
		throw Usage{std::string("--") + name + " is required"};
	return vm[name].as<std::string>();
}

Prefix prefix(const std::string &text, const char *what)
{
	auto p = Prefix::parse(text);

	if (!p)
		throw Usage{std::string(what) + ": '" + text + "' is not an IPv6 prefix (host bits must be zero)"};
	return *p;
}

Config to_config(const po::variables_map &vm)
{
	Config c;
	auto address = required(vm, "address");
	auto parsed = parse_address(address);

	c.interface = required(vm, "interface");
	if (!parsed)
		throw Usage{"--address: '" + address + "' is not an IPv6 address"};
	c.address = *parsed;
	c.policy.home_prefix = prefix(required(vm, "home-prefix"), "--home-prefix");
	if (!vm.count("allow-coa"))
		throw Usage{"--allow-coa is required: no care-of address would be allowed"};
	for (const auto &text : vm["allow-coa"].as<std::vector<std::string>>())
		c.policy.allowed_coas.push_back(prefix(text, "--allow-coa"));
	c.policy.max_lifetime = std::chrono::seconds(vm["max-lifetime"].as<unsigned>());
	c.lock_dir = vm["lock-dir"].as<std::string>();
	if (c.policy.max_lifetime < mh::time_unit)
		throw Usage{"--max-lifetime: at least 4 seconds, the unit lifetimes travel in"};
	return c;
}

} // namespace

std::variant<Config, int> parse_config(const std::vector<std::string> &args, std::ostream &out, std::ostream &err)
{
	static_assert(exit_ok == daemon::exit_ok && exit_usage == daemon::exit_usage);
	static constexpr daemon::Program program = {
		"gecko-had",
		"A MIPv6 home agent (RFC 6275) for the home prefix, in the foreground.",
		"See gecko-had(8).",
	};

	return daemon::parse_options<Config>(program, options(), args, out, err, to_config);
}

} // namespace gecko::had
