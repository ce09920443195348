/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_MN_COMMON_H
#define GECKO_MN_COMMON_H

/* What gecko-mn's commands share: options, exit statuses, and the xfrm plumbing of a BU with an HAO. */

#include <gecko/error.h>
#include <gecko/xfrm.h>

#include <netinet/in.h>

#include <chrono>
#include <map>
#include <set>
#include <string>

namespace gecko::mn {

enum { exit_accepted = 0, exit_rejected = 1, exit_usage = 2, exit_error = 3 };

using Clock = std::chrono::steady_clock;
using Options = std::map<std::string, std::string>;

/* Prints "gecko-mn: WHY" and the synopsis of every command, and exits with exit_usage. */
[[noreturn]] void usage(const std::string &why);
/* Prints "gecko-mn: " and the error; returns exit_error. */
int report(const Error &error);
/* report(), then exits. */
[[noreturn]] void die(const Error &error);

/* argv[2...] as --name value pairs, and @flags, which take no value, as "1". */
Options parse(int argc, char **argv, const std::set<std::string> &names, const std::set<std::string> &flags = {});
/* Option --@name as an IPv6 address; it is required. */
in6_addr address(const Options &opts, const std::string &name);
/* Option --@name as a number, @dflt without it. */
unsigned long number(const Options &opts, const std::string &name, unsigned long dflt);

std::string text(const in6_addr &addr);

/* The xfrm states and policies a BU with an HAO and its BA need, removed when this ends. */
class Plumbing {
public:
	Plumbing(xfrm::Xfrm &xfrm, const xfrm::Binding &b);
	Plumbing(const Plumbing &) = delete;
	Plumbing &operator=(const Plumbing &) = delete;
	/* Removing what is not there succeeds, so this also undoes a partial install(). */
	~Plumbing();

	Result<void> install();

private:
	xfrm::Xfrm &xfrm_;
	xfrm::State out_state_;
	xfrm::Policy out_policy_;
};

} // namespace gecko::mn

#endif /* GECKO_MN_COMMON_H */
