/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_CND_BINDING_CACHE_H
#define GECKO_CND_BINDING_CACHE_H

/*
 * The correspondent's binding cache (RFC 6275 §9.1): which care-of address
 * a home address is reached at from one of our addresses. Soft state: the
 * mobile node refreshes it before it expires, and registers again after a
 * restart lost it.
 */

#include <address.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace gecko::cnd {

using Clock = std::chrono::steady_clock;
using daemon::operator==;

struct Binding {
	in6_addr cn;	/* our address the mobile node talks to */
	in6_addr home;
	in6_addr coa;
	std::uint16_t seq;	/* of the last accepted Binding Update */
	Clock::time_point expiry;
	bool refresh_requested = false;	/* a Binding Refresh Request went out for it */
};

class BindingCache {
public:
	const Binding *find(const in6_addr &cn, const in6_addr &home) const;

	/* Adds @b or replaces the binding of its (cn, home). */
	void put(const Binding &b);
	void erase(const in6_addr &cn, const in6_addr &home);

	/* Removes and returns the bindings expired at @now. */
	std::vector<Binding> expire(Clock::time_point now);

	/*
	 * Marks and returns the bindings that expire within @advance of @now
	 * and have not been asked to refresh yet; none if @advance is 0.
	 */
	std::vector<Binding> refresh_due(Clock::time_point now, std::chrono::seconds advance);

	/* When expire() or refresh_due() will next have something to do, if ever. */
	std::optional<Clock::time_point> next_event(std::chrono::seconds advance) const;

	std::size_t size() const { return bindings_.size(); }

private:
	struct KeyLess {
		bool operator()(const std::pair<in6_addr, in6_addr> &a, const std::pair<in6_addr, in6_addr> &b) const;
	};

	std::map<std::pair<in6_addr, in6_addr>, Binding, KeyLess> bindings_;
};

} // namespace gecko::cnd

#endif /* GECKO_CND_BINDING_CACHE_H */
