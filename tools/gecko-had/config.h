/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_HAD_CONFIG_H
#define GECKO_HAD_CONFIG_H

#include "registrar.h"

#include <ostream>
#include <string>
#include <variant>
#include <vector>

namespace gecko::had {

struct Config {
	std::string interface;	/* the home link */
	in6_addr address;	/* the home agent's own address */
	Policy policy;
	std::string lock_dir;	/* see shared_lock.h */
};

/* Exit statuses, as gecko-had(8) documents them. */
enum Exit { exit_ok = 0, exit_failure = 1, exit_usage = 2 };

/*
 * The configuration from @args (argv without argv[0]) and the --config
 * file, command line first. On --help, --version or an error, the exit
 * status to return instead, after printing to @out or @err.
 */
std::variant<Config, int> parse_config(const std::vector<std::string> &args, std::ostream &out, std::ostream &err);

} // namespace gecko::had

#endif /* GECKO_HAD_CONFIG_H */
