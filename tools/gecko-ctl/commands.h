/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_CTL_COMMANDS_H
#define GECKO_CTL_COMMANDS_H

#include <gecko/error.h>
#include <gecko/info.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace gecko::ctl {

/* Documented in gecko-ctl(8). */
enum ExitStatus : int {
	exit_ok = 0,
	exit_failure = 1,	/* the operation failed */
	exit_usage = 2,		/* unknown command or option, bad arguments */
};

/* A command's arguments (after its name) and where it writes. */
struct Invocation {
	std::vector<std::string> args;
	bool json;
	std::ostream &out;
	std::ostream &err;
};

/*
 * Handlers throw boost::program_options::error for bad arguments, which
 * run() turns into a usage error.
 */
using Handler = int (*)(const Invocation &);

struct Command {
	std::string_view name;
	Handler handler;
	std::string_view help;
};

/* Throws a usage error if @inv has arguments: the command takes none. */
void expect_no_arguments(const Invocation &inv);

/* Prints "Error: <text>" and returns exit_failure. */
int report(const Invocation &inv, const Error &error);

int cmd_info(const Invocation &inv);

/* cmd_info's output, apart so it can be tested without the module. */
void print_info(std::ostream &out, const Info &info, bool json);

} // namespace gecko::ctl

#endif /* GECKO_CTL_COMMANDS_H */
