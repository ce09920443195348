// SPDX-License-Identifier: LGPL-2.1-or-later

#include "info_decode.h"

#include "attrs.h"
#include "names.h"

#include <linux/gecko.h>
#include <netlink/attr.h>

#include <algorithm>
#include <iterator>
#include <utility>

namespace gecko {

namespace {

constexpr std::pair<std::uint16_t, std::string_view> counter_names[] = {
	{GECKO_COUNTER_NL_REQUESTS, "nl_requests"},
	{GECKO_COUNTER_NL_ERRORS, "nl_errors"},
	{GECKO_COUNTER_BINDINGS_EXPIRED, "bindings_expired"},
	{GECKO_COUNTER_RH2_IN, "rh2_in"},
	{GECKO_COUNTER_RH2_TRUNCATED, "rh2_truncated"},
	{GECKO_COUNTER_RH2_BAD_LENGTH, "rh2_bad_length"},
	{GECKO_COUNTER_RH2_BAD_SEGMENTS, "rh2_bad_segments"},
	{GECKO_COUNTER_RH2_BAD_ADDRESS, "rh2_bad_address"},
	{GECKO_COUNTER_RH2_NO_BINDING, "rh2_no_binding"},
	{GECKO_COUNTER_HAO_OUT, "hao_out"},
	{GECKO_COUNTER_HAO_FAILED, "hao_failed"},
	{GECKO_COUNTER_MSS_CLAMPED, "mss_clamped"},
};
/* A counter added to the UAPI header needs its name here. */
static_assert(std::size(counter_names) == __GECKO_COUNTER_LAST - GECKO_COUNTER_PAD - 1);

std::string counter_name(std::uint16_t id)
{
	const auto *it = std::ranges::find(counter_names, id, &std::pair<std::uint16_t, std::string_view>::first);

	return it != std::ranges::end(counter_names) ? std::string(it->second) : "counter_" + std::to_string(id);
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

Result<Info> decode_info(std::span<const std::byte> data)
{
	netlink::Decoder dec("GECKO_CMD_GET_INFO reply");
	auto attrs = dec.attrs(data, attr_names);
	Info info{
		.module_version = attrs.string(GECKO_A_MODULE_VERSION),
		.protocol_version = attrs.get<std::uint32_t>(GECKO_A_PROTOCOL_VERSION),
		.features = attrs.get<std::uint64_t>(GECKO_A_FEATURES),
		.counters = {},
	};

	/* Counters are not a fixed set: a newer module sends more. */
	const nlattr *counters = attrs.required(GECKO_A_COUNTERS);
	if (!counters)
		return dec.result(std::move(info));
	nlattr *counter;
	int rem;
	nla_for_each_nested(counter, counters, rem) {
		std::uint16_t id = nla_type(counter);

		/* Aligns the u64 after it; not a counter. */
		if (id == GECKO_COUNTER_PAD)
			continue;
		if (!dec.check_length("counter " + counter_name(id), nla_len(counter), sizeof(std::uint64_t)))
			break;
		info.counters.push_back({id, counter_name(id), nla_get_u64(counter)});
	}
	dec.check_end("GECKO_A_COUNTERS", rem);
	return dec.result(std::move(info));
}

} // namespace gecko
