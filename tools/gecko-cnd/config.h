/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_CND_CONFIG_H
#define GECKO_CND_CONFIG_H

#include "correspondent.h"

#include <shared_lock.h>

#include <chrono>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

namespace gecko::cnd {

struct Config {
	Limits limits;
	/* A Binding Refresh Request this long before a binding expires; 0: none. */
	std::chrono::seconds refresh_advance{2};
	std::string lock_dir = daemon::default_lock_dir;	/* see shared_lock.h */
};

/* Exit statuses, as gecko-cnd(8) documents them. */
enum Exit { exit_ok = 0, exit_failure = 1, exit_usage = 2 };

/*
 * The configuration from @args (argv without argv[0]) and the --config
 * file, command line first. On --help, --version or an error, the exit
 * status to return instead, after printing to @out or @err.
 */
std::variant<Config, int> parse_config(const std::vector<std::string> &args, std::ostream &out, std::ostream &err);

} // namespace gecko::cnd

#endif /* GECKO_CND_CONFIG_H */
