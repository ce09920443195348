// SPDX-License-Identifier: LGPL-2.1-or-later

#include "info_decode.h"

#include "attrs.h"
#include "names.h"

#include <linux/gecko.h>
#include <netlink/attr.h>

#include <utility>

namespace gecko {

namespace {

std::string counter_name(std::uint16_t id)
{
	/* A newer module's counter has no name here yet. */
	if (id < counter_names.size() && !counter_names[id].empty())
		return std::string(counter_names[id]);
	return "counter_" + std::to_string(id);
}

} // namespace

std::vector<std::string> feature_names(std::uint64_t features)
{
	std::vector<std::string> names;

	for (unsigned bit = 0; bit < 64; bit++) {
		if (!(features & (std::uint64_t{1} << bit)))
			continue;
		/* A newer module's feature has no name here yet. */
		if (bit < feature_bit_names.size())
			names.emplace_back(feature_bit_names[bit]);
		else
			names.push_back("feature_" + std::to_string(bit));
	}
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
