// SPDX-License-Identifier: GPL-2.0-only

#include "commands.h"
#include "json.h"

#include <gecko/address.h>

#include <algorithm>
#include <utility>

namespace gecko::ctl {

namespace {

constexpr std::pair<FlowState, std::string_view> flow_state_names[] = {
	{FlowState::frozen, "frozen"},
	{FlowState::restoring, "restoring"},
	{FlowState::restored, "restored"},
	{FlowState::moved, "moved"},
	{FlowState::committed, "committed"},
	{FlowState::arrived, "arrived"},
};

std::string_view state_name(FlowState state)
{
	const auto *it = std::ranges::find(flow_state_names, state,
					   &std::pair<FlowState, std::string_view>::first);

	/* Decoding refuses states this table lacks. */
	return it->second;
}

/* As RFC 5952 §6 writes an address with a port. */
std::string endpoint(const in6_addr &addr, std::uint16_t port)
{
	return "[" + format_address(addr) + "]:" + std::to_string(port);
}

void print_text(std::ostream &out, const Flow &flow)
{
	out << endpoint(flow.local, flow.local_port) << ' ' << endpoint(flow.remote, flow.remote_port) << ' '
	    << state_name(flow.state) << " held " << flow.held << " timeout " << flow.timeout_left.count() << "ms";
	if (flow.donor)
		out << " donor " << format_address(*flow.donor);
	out << '\n';
}

void print_json(JsonWriter &json, const Flow &flow)
{
	json.begin_object();
	json.key("local");
	json.value(format_address(flow.local));
	json.key("local-port");
	json.value(flow.local_port);
	json.key("remote");
	json.value(format_address(flow.remote));
	json.key("remote-port");
	json.value(flow.remote_port);
	json.key("state");
	json.value(state_name(flow.state));
	json.key("held");
	json.value(flow.held);
	json.key("timeout-ms");
	json.value(static_cast<std::uint64_t>(flow.timeout_left.count()));
	if (flow.donor) {
		json.key("donor");
		json.value(format_address(*flow.donor));
	}
	json.end_object();
}

} // namespace

void print_flows(std::ostream &out, std::span<const Flow> flows, bool json)
{
	if (!json) {
		for (const auto &flow : flows)
			print_text(out, flow);
		return;
	}
	JsonWriter writer(out);
	writer.begin_array();
	for (const auto &flow : flows)
		print_json(writer, flow);
	writer.end_array();
	out << '\n';
}

int cmd_flow_show(const Invocation &inv)
{
	expect_no_arguments(inv);

	return with_client(inv, [&](Client &client) -> Result<void> {
		auto flows = client.flows();

		if (!flows)
			return std::unexpected(flows.error());
		print_flows(inv.out, *flows, inv.json);
		return {};
	});
}

} // namespace gecko::ctl
