/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_DAEMON_OPTIONS_H
#define GECKO_DAEMON_OPTIONS_H

/*
 * The command line and --config file of a MIPv6 daemon, handled alike for
 * gecko-had and gecko-cnd: --help, --version, and usage errors printed as
 * "NAME: why" with a hint to --help.
 */

#include <boost/program_options.hpp>

#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace gecko::daemon {

/* Exit statuses both daemons' man pages document for these cases. */
inline constexpr int exit_ok = 0;
inline constexpr int exit_usage = 2;

/* Thrown by a daemon's conversion of the options: a usage error. */
struct Usage {
	std::string why;
};

struct Program {
	const char *name;	/* e.g. "gecko-had" */
	const char *about;	/* the --help lines between the usage and the options */
	const char *footer;	/* the --help lines after the options */
};

/*
 * Stores @args (argv without argv[0]) and then the --config file, so the
 * command line wins, into a map that @convert turns into a configuration.
 * @opts gets --config, --help and --version appended. Returns nothing when
 * @convert succeeded, else the exit status, after printing to @out or @err.
 */
std::optional<int> parse_options(const Program &program, boost::program_options::options_description opts,
				 const std::vector<std::string> &args, std::ostream &out, std::ostream &err,
				 const std::function<void(const boost::program_options::variables_map &)> &convert);

template <typename Config, typename Convert>
std::variant<Config, int> parse_options(const Program &program, boost::program_options::options_description opts,
					const std::vector<std::string> &args, std::ostream &out, std::ostream &err,
					Convert convert)
{
	std::optional<Config> config;
	auto status = parse_options(program, std::move(opts), args, out, err,
				    [&](const boost::program_options::variables_map &vm) { config = convert(vm); });

	if (status)
		return *status;
	return std::move(*config);
}

} // namespace gecko::daemon

#endif /* GECKO_DAEMON_OPTIONS_H */
