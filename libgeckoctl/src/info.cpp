// SPDX-License-Identifier: LGPL-2.1-or-later

#include "info_decode.h"

#include "fail.h"

#include <linux/gecko.h>
#include <netlink/attr.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string_view>
#include <utility>

namespace gecko {

namespace {

constexpr std::array<std::pair<std::uint16_t, std::string_view>, 2> counter_names{{
	{GECKO_COUNTER_NL_REQUESTS, "nl_requests"},
	{GECKO_COUNTER_NL_ERRORS, "nl_errors"},
}};
/* A counter added to the UAPI header needs its name here. */
static_assert(counter_names.size() == __GECKO_COUNTER_LAST - GECKO_COUNTER_PAD - 1);

constexpr std::array<std::string_view, __GECKO_A_LAST> attr_names{
	"GECKO_A_UNSPEC",
	"GECKO_A_PAD",
	"GECKO_A_MODULE_VERSION",
	"GECKO_A_PROTOCOL_VERSION",
	"GECKO_A_FEATURES",
	"GECKO_A_COUNTERS",
};

std::string counter_name(std::uint16_t id)
{
	auto it = std::ranges::find(counter_names, id, &std::pair<std::uint16_t, std::string_view>::first);

	return it != counter_names.end() ? std::string(it->second) : "counter_" + std::to_string(id);
}

std::unexpected<Error> malformed(std::string_view what, const std::string &why)
{
	return fail(EPROTO, "malformed GECKO_CMD_GET_INFO reply: " + std::string(what) + " " + why);
}

std::string wrong_length(int len, std::size_t expected)
{
	return "has " + std::to_string(len) + " bytes instead of " + std::to_string(expected);
}

/* Attribute @type of @tb, which must be present with @len bytes (any if 0). */
Result<nlattr *> required(nlattr *const *tb, int type, std::size_t len = 0)
{
	if (!tb[type])
		return malformed(attr_names[type], "is missing");
	if (len && static_cast<std::size_t>(nla_len(tb[type])) != len)
		return malformed(attr_names[type], wrong_length(nla_len(tb[type]), len));
	return tb[type];
}

} // namespace

std::vector<std::string> feature_names(std::uint64_t features)
{
	/* enum gecko_feature names no bit yet; each one gets its name here. */
	std::vector<std::string> names;

	for (unsigned bit = 0; bit < 64; bit++)
		if (features & (std::uint64_t{1} << bit))
			names.push_back("feature_" + std::to_string(bit));
	return names;
}

Result<Info> decode_info(std::span<const std::byte> attrs)
{
	nlattr *tb[GECKO_A_MAX + 1];
	Info info;

	/* nla_parse() only reads, whatever its prototype says. */
	auto *head = reinterpret_cast<nlattr *>(const_cast<std::byte *>(attrs.data()));
	if (nla_parse(tb, GECKO_A_MAX, head, static_cast<int>(attrs.size()), nullptr) < 0)
		return fail(EPROTO, "malformed GECKO_CMD_GET_INFO reply");

	auto version = required(tb, GECKO_A_MODULE_VERSION);
	if (!version)
		return std::unexpected(version.error());
	const auto *text = static_cast<const char *>(nla_data(*version));
	int len = nla_len(*version);
	if (len == 0 || text[len - 1] != '\0')
		return malformed("GECKO_A_MODULE_VERSION", "is not NUL-terminated");
	info.module_version = text;

	auto protocol = required(tb, GECKO_A_PROTOCOL_VERSION, sizeof(std::uint32_t));
	if (!protocol)
		return std::unexpected(protocol.error());
	info.protocol_version = nla_get_u32(*protocol);

	auto features = required(tb, GECKO_A_FEATURES, sizeof(std::uint64_t));
	if (!features)
		return std::unexpected(features.error());
	info.features = nla_get_u64(*features);

	auto counters = required(tb, GECKO_A_COUNTERS);
	if (!counters)
		return std::unexpected(counters.error());
	nlattr *counter;
	int rem;
	nla_for_each_nested(counter, *counters, rem) {
		std::uint16_t id = nla_type(counter);

		/* Aligns the u64 after it; not a counter. */
		if (id == GECKO_COUNTER_PAD)
			continue;
		if (nla_len(counter) != sizeof(std::uint64_t))
			return malformed("counter " + counter_name(id),
					 wrong_length(nla_len(counter), sizeof(std::uint64_t)));
		info.counters.push_back({id, counter_name(id), nla_get_u64(counter)});
	}
	if (rem > 0)
		return malformed("GECKO_A_COUNTERS", "ends in " + std::to_string(rem) + " stray bytes");
	return info;
}

} // namespace gecko
