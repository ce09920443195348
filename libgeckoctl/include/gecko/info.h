/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_INFO_H
#define GECKO_INFO_H

#include <gecko/export.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gecko {

struct Counter {
	std::uint16_t id;	/* enum gecko_counter */
	std::string name;	/* e.g. "nl_requests"; "counter_<id>" if this library predates it */
	std::uint64_t value;
};

/* The reply to GECKO_CMD_GET_INFO. */
struct Info {
	std::string module_version;	/* as in /sys/module/gecko/version */
	std::uint32_t protocol_version = 0;
	std::uint64_t features = 0;	/* bitmask of enum gecko_feature */
	std::vector<Counter> counters;	/* of the caller's network namespace, in the module's order */
};

/* Names of the bits set in @features; "feature_<bit>" if this library predates it. */
GECKO_API std::vector<std::string> feature_names(std::uint64_t features);

} // namespace gecko

#endif /* GECKO_INFO_H */
