/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_HAD_BINDING_CACHE_H
#define GECKO_HAD_BINDING_CACHE_H

/* The home agent's binding cache (RFC 6275 §9.1): home address -> care-of address. */

#include <address.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace gecko::had {

using daemon::AddressLess;
using daemon::Prefix;
using daemon::parse_address;
using daemon::to_string;
using daemon::operator==;

/* Time is passed in, never read here, so tests choose it. */
using Clock = std::chrono::steady_clock;

struct Binding {
	in6_addr home;
	in6_addr coa;
	std::uint16_t seq;		/* of the last accepted Binding Update */
	std::chrono::seconds lifetime;	/* granted */
	Clock::time_point expiry;
};

class BindingCache {
public:
	const Binding *find(const in6_addr &home) const;

	/* Adds @b or replaces the binding of its home address. */
	void put(const Binding &b);
	void erase(const in6_addr &home);

	/* Removes and returns the bindings that expired at @now. */
	std::vector<Binding> expire(Clock::time_point now);

	/* When the next binding expires, if any is left. */
	std::optional<Clock::time_point> next_expiry() const;

	const std::map<in6_addr, Binding, AddressLess> &all() const { return bindings_; }

private:
	std::map<in6_addr, Binding, AddressLess> bindings_;
};

} // namespace gecko::had

#endif /* GECKO_HAD_BINDING_CACHE_H */
