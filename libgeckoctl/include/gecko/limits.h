/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_LIMITS_H
#define GECKO_LIMITS_H

/*
 * gecko.ko's limits on what a network namespace keeps (the UAPI header's
 * "Limits"): services, bindings, flows, and packets held for flows. Past
 * one, a request fails with ENOSPC naming it, or a packet is dropped and
 * counted; lowering one keeps what exists and refuses new ones.
 */

#include <cstdint>
#include <optional>

namespace gecko {

struct Limits {
	/*
	 * The limits. Client::limits() sets them all; Client::set_limits()
	 * changes those set and leaves the others as they are.
	 */
	std::optional<std::uint32_t> services;
	std::optional<std::uint32_t> bindings;
	std::optional<std::uint32_t> flows;
	std::optional<std::uint32_t> held;	/* packets, all flows together */

	/* What counts against each now: Client::limits() fills it, set_limits() ignores it. */
	struct InUse {
		std::uint32_t services = 0;
		std::uint32_t bindings = 0;
		std::uint32_t flows = 0;
		std::uint32_t held = 0;
	} in_use;
};

} // namespace gecko

#endif /* GECKO_LIMITS_H */
