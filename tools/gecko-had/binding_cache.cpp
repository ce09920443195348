// SPDX-License-Identifier: GPL-2.0-only

#include "binding_cache.h"

#include <algorithm>
#include <ranges>

namespace gecko::had {

const Binding *BindingCache::find(const in6_addr &home) const
{
	auto it = bindings_.find(home);

	return it == bindings_.end() ? nullptr : &it->second;
}

void BindingCache::put(const Binding &b)
{
	bindings_.insert_or_assign(b.home, b);
}

void BindingCache::erase(const in6_addr &home)
{
	bindings_.erase(home);
}

std::vector<Binding> BindingCache::expire(Clock::time_point now)
{
	std::vector<Binding> gone;

	std::erase_if(bindings_, [&](const auto &entry) {
		if (entry.second.expiry > now)
			return false;
		gone.push_back(entry.second);
		return true;
	});
	return gone;
}

std::optional<Clock::time_point> BindingCache::next_expiry() const
{
	if (bindings_.empty())
		return std::nullopt;
	return std::ranges::min(bindings_ | std::views::values, {}, &Binding::expiry).expiry;
}

} // namespace gecko::had
