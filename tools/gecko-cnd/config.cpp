// SPDX-License-Identifier: GPL-2.0-only

#include "config.h"

#include <options.h>

namespace po = boost::program_options;

namespace gecko::cnd {

namespace {

using daemon::Usage;

po::options_description options()
{
	po::options_description opts("Options");
	const Config dflt;

	opts.add_options()
		("max-lifetime,l", po::value<unsigned>()->default_value(dflt.limits.max_lifetime.count()),
		 "the longest binding lifetime granted, in seconds (4 to 420)")
		("nonce-lifetime", po::value<unsigned>()->default_value(dflt.limits.nonces.lifetime.count()),
		 "how long a nonce is accepted after it was made, in seconds (at most 240)")
		("nonce-renewal", po::value<unsigned>()->default_value(dflt.limits.nonces.renewal.count()),
		 "how long a nonce is handed out before a new one is made, in seconds (below --nonce-lifetime)")
		("refresh-advance,r", po::value<unsigned>()->default_value(dflt.refresh_advance.count()),
		 "send a Binding Refresh Request this many seconds before a binding expires; 0: never")
		("lock-dir", po::value<std::string>()->default_value(dflt.lock_dir),
		 "where daemons of one network namespace agree on shared xfrm objects");
	/* --config, --help and --version: daemon::parse_options() adds them. */
	return opts;
}

std::chrono::seconds seconds(const po::variables_map &vm, const char *name)
{
	return std::chrono::seconds(vm[name].as<unsigned>());
}

Config to_config(const po::variables_map &vm)
{
	Config c;

	c.limits.max_lifetime = seconds(vm, "max-lifetime");
	if (c.limits.max_lifetime < mh::time_unit || c.limits.max_lifetime > rr::max_rr_binding_lifetime)
		throw Usage{"--max-lifetime: from 4 (the unit lifetimes travel in) to 420 seconds (RFC 6275 §12)"};
	c.limits.nonces.lifetime = seconds(vm, "nonce-lifetime");
	c.limits.nonces.renewal = seconds(vm, "nonce-renewal");
	if (c.limits.nonces.lifetime > rr::max_nonce_lifetime)
		throw Usage{"--nonce-lifetime: at most 240 seconds (RFC 6275 §12)"};
	if (c.limits.nonces.renewal <= std::chrono::seconds::zero() ||
	    c.limits.nonces.renewal >= c.limits.nonces.lifetime)
		throw Usage{"--nonce-renewal: more than 0 and less than --nonce-lifetime, or tokens would expire "
			    "as they are handed out"};
	c.refresh_advance = seconds(vm, "refresh-advance");
	c.lock_dir = vm["lock-dir"].as<std::string>();
	return c;
}

} // namespace

std::variant<Config, int> parse_config(const std::vector<std::string> &args, std::ostream &out, std::ostream &err)
{
	static_assert(exit_ok == daemon::exit_ok && exit_usage == daemon::exit_usage);
	static constexpr daemon::Program program = {
		"gecko-cnd",
		"A MIPv6 correspondent node (RFC 6275 route optimisation) for this host, in the foreground.",
		"SIGUSR1 logs the counters. See gecko-cnd(8).",
	};

	return daemon::parse_options<Config>(program, options(), args, out, err, to_config);
}

} // namespace gecko::cnd
