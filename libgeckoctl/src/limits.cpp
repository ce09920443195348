// SPDX-License-Identifier: LGPL-2.1-or-later

#include "limits_codec.h"

#include "attrs.h"
#include "fail.h"
#include "names.h"

#include <linux/gecko.h>
#include <netlink/attr.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace gecko {

namespace {

/* Each limit with its attribute and the attribute of what it counts. */
struct Field {
	std::optional<std::uint32_t> Limits::*limit;
	std::uint32_t Limits::InUse::*used;
	int attr;
	int used_attr;
};

constexpr Field fields[] = {
	{&Limits::services, &Limits::InUse::services, GECKO_LIMITS_A_SERVICES, GECKO_LIMITS_A_SERVICES_USED},
	{&Limits::bindings, &Limits::InUse::bindings, GECKO_LIMITS_A_BINDINGS, GECKO_LIMITS_A_BINDINGS_USED},
	{&Limits::flows, &Limits::InUse::flows, GECKO_LIMITS_A_FLOWS, GECKO_LIMITS_A_FLOWS_USED},
	{&Limits::held, &Limits::InUse::held, GECKO_LIMITS_A_HELD, GECKO_LIMITS_A_HELD_USED},
};

} // namespace

Result<void> put_limits(nl_msg *msg, const Limits &limits)
{
	if (std::ranges::none_of(fields, [&](const Field &f) { return (limits.*f.limit).has_value(); }))
		return fail(EINVAL, "no limit to set");
	return netlink::put_nest(msg, GECKO_A_LIMITS, [&] {
		for (const auto &f : fields)
			if (const auto &value = limits.*f.limit; value && nla_put_u32(msg, f.attr, *value))
				return true;
		return false;
	});
}

Result<Limits> decode_limits(std::span<const std::byte> data)
{
	netlink::Decoder dec("GECKO_CMD_LIMITS_GET reply");
	auto attrs = dec.attrs(data, attr_names).nested(GECKO_A_LIMITS, limits_attr_names);
	Limits limits;

	for (const auto &f : fields) {
		limits.*f.limit = attrs.get<std::uint32_t>(f.attr);
		limits.in_use.*f.used = attrs.get<std::uint32_t>(f.used_attr);
	}
	return dec.result(std::move(limits));
}

} // namespace gecko
