// SPDX-License-Identifier: GPL-2.0-only

#include "config.h"

#include <boost/program_options.hpp>

#include <fstream>

namespace po = boost::program_options;

namespace gecko::cnd {

namespace {

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
		 "where daemons of one network namespace agree on shared xfrm objects")
		("config,f", po::value<std::string>(), "read options from FILE (name = value lines)")
		("help,h", "show this help and exit")
		("version,V", "show the version and exit");
	return opts;
}

struct Usage {
	std::string why;
};

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
	auto opts = options();
	po::variables_map vm;

	try {
		po::store(po::command_line_parser(args).options(opts).run(), vm);
		if (vm.count("help")) {
			out << "Usage: gecko-cnd [OPTIONS]\n"
			       "A MIPv6 correspondent node (RFC 6275 route optimisation) for this host, in the "
			       "foreground.\n\n"
			    << opts << "\nSIGUSR1 logs the counters. See gecko-cnd(8).\n";
			return exit_ok;
		}
		if (vm.count("version")) {
			out << "gecko-cnd " GECKO_VERSION "\n";
			return exit_ok;
		}
		/* The command line was stored first, so it wins over the file. */
		if (vm.count("config")) {
			const auto &path = vm["config"].as<std::string>();
			std::ifstream file(path);
			if (!file)
				throw Usage{"cannot read " + path};
			po::store(po::parse_config_file(file, opts), vm);
		}
		po::notify(vm);
		return to_config(vm);
	} catch (const po::error &e) {
		err << "gecko-cnd: " << e.what() << "\nTry 'gecko-cnd --help'.\n";
	} catch (const Usage &u) {
		err << "gecko-cnd: " << u.why << "\nTry 'gecko-cnd --help'.\n";
	}
	return exit_usage;
}

} // namespace gecko::cnd
