/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_CTL_CLI_H
#define GECKO_CTL_CLI_H

#include "commands.h"

#include <ostream>
#include <span>
#include <string>
#include <vector>

namespace gecko::ctl {

/* Runs gecko-ctl with @args (argv without argv[0]); returns its exit status. */
int run(const std::vector<std::string> &args, std::ostream &out, std::ostream &err);

/* The command table that run() dispatches from and the usage describes. */
std::span<const Command> commands();

void print_usage(std::ostream &out);

} // namespace gecko::ctl

#endif /* GECKO_CTL_CLI_H */
