// SPDX-License-Identifier: GPL-2.0-only

#include "binding_cache.h"

#include <algorithm>
#include <cstring>
#include <ranges>

namespace gecko::cnd {

bool BindingCache::KeyLess::operator()(const std::pair<in6_addr, in6_addr> &a,
				       const std::pair<in6_addr, in6_addr> &b) const
{
	static_assert(sizeof(a) == 2 * sizeof(in6_addr));
	return std::memcmp(&a, &b, sizeof(a)) < 0;
}

const Binding *BindingCache::find(const in6_addr &cn, const in6_addr &home) const
{
	auto it = bindings_.find({cn, home});

	return it == bindings_.end() ? nullptr : &it->second;
}

void BindingCache::put(const Binding &b)
{
	bindings_.insert_or_assign({b.cn, b.home}, b);
}

void BindingCache::erase(const in6_addr &cn, const in6_addr &home)
{
	bindings_.erase({cn, home});
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

std::vector<Binding> BindingCache::refresh_due(Clock::time_point now, std::chrono::seconds advance)
{
	std::vector<Binding> due;

	if (advance == std::chrono::seconds::zero())
		return due;
	for (auto &b : bindings_ | std::views::values) {
		if (b.refresh_requested || b.expiry - advance > now)
			continue;
		b.refresh_requested = true;
		due.push_back(b);
	}
	return due;
}

std::optional<Clock::time_point> BindingCache::next_event(std::chrono::seconds advance) const
{
	std::optional<Clock::time_point> next;

	for (const auto &b : bindings_ | std::views::values) {
		auto when = b.refresh_requested || advance == std::chrono::seconds::zero() ? b.expiry
											    : b.expiry - advance;
		if (!next || when < *next)
			next = when;
	}
	return next;
}

} // namespace gecko::cnd
