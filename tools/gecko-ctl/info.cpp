// SPDX-License-Identifier: GPL-2.0-only

#include "commands.h"
#include "json.h"

#include <gecko/client.h>

#include <algorithm>
#include <iomanip>

namespace gecko::ctl {

namespace {

void print_text(std::ostream &out, const Info &info)
{
	std::size_t width = 0;

	out << "gecko " << info.module_version << " (protocol " << info.protocol_version << ")\n";

	out << "features:";
	auto features = feature_names(info.features);
	if (features.empty())
		out << " none";
	for (const auto &name : features)
		out << ' ' << name;

	out << "\ncounters:";
	if (info.counters.empty())
		out << " none";
	out << '\n';
	for (const auto &counter : info.counters)
		width = std::max(width, counter.name.size());
	for (const auto &counter : info.counters)
		out << "  " << std::left << std::setw(static_cast<int>(width) + 2) << counter.name
		    << counter.value << '\n';
}

void print_json(std::ostream &out, const Info &info)
{
	JsonWriter json(out);

	json.begin_object();
	json.key("module_version");
	json.value(info.module_version);
	json.key("protocol_version");
	json.value(info.protocol_version);
	json.key("features");
	json.begin_array();
	for (const auto &name : feature_names(info.features))
		json.value(name);
	json.end_array();
	json.key("features_mask");
	json.value(info.features);
	json.key("counters");
	json.begin_object();
	for (const auto &counter : info.counters) {
		json.key(counter.name);
		json.value(counter.value);
	}
	json.end_object();
	json.end_object();
	out << '\n';
}

} // namespace

void print_info(std::ostream &out, const Info &info, bool json)
{
	if (json)
		print_json(out, info);
	else
		print_text(out, info);
}

int cmd_info(const Invocation &inv)
{
	expect_no_arguments(inv);

	return with_client(inv, [&](Client &client) -> Result<void> {
		auto info = client.get_info();

		if (!info)
			return std::unexpected(info.error());
		print_info(inv.out, *info, inv.json);
		return {};
	});
}

} // namespace gecko::ctl
