// SPDX-License-Identifier: GPL-2.0-only

#include "args.h"
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
	{FlowState::probing, "probing"},
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
	if (flow.forward)
		out << " forward " << format_address(*flow.forward);
	if (flow.probe) {
		out << " probes " << flow.probe->sent;
		if (const auto &a = flow.probe->answer) {
			out << " answer seq " << a->seq << " ack " << a->ack << " window " << a->window;
			if (a->tsval)
				out << " tsval " << *a->tsval << " tsecr " << *a->tsecr;
			out << " age " << flow.probe->age.count() << "ms";
		}
	}
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
	if (flow.forward) {
		json.key("forward");
		json.value(format_address(*flow.forward));
	}
	if (flow.probe) {
		json.key("probes");
		json.value(flow.probe->sent);
		if (const auto &a = flow.probe->answer) {
			json.key("answer");
			json.begin_object();
			json.key("seq");
			json.value(a->seq);
			json.key("ack");
			json.value(a->ack);
			json.key("window");
			json.value(a->window);
			json.key("flags");
			json.value(a->flags);
			if (a->tsval) {
				json.key("tsval");
				json.value(*a->tsval);
				json.key("tsecr");
				json.value(*a->tsecr);
			}
			json.key("age-ms");
			json.value(static_cast<std::uint64_t>(flow.probe->age.count()));
			json.end_object();
		}
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

int cmd_flow_probe(const Invocation &inv)
{
	Args args(inv.args, {"seq", "ack", "window", "tsval", "tsecr", "timeout"});
	auto local = args.positional<in6_addr>("G");
	auto local_port = args.positional<std::uint16_t>("PORT");
	auto remote = args.positional<in6_addr>("CLIENT");
	auto remote_port = args.positional<std::uint16_t>("CLIENT-PORT");
	ProbeSegment seg{
		.seq = args.keyword<std::uint32_t>("seq"),
		.ack = args.keyword<std::uint32_t>("ack"),
		.window = args.optional_keyword<std::uint16_t>("window").value_or(0),
		.tsval = args.optional_keyword<std::uint32_t>("tsval"),
		.tsecr = args.optional_keyword<std::uint32_t>("tsecr"),
		.flags = 0,
	};
	auto timeout = args.optional_keyword<std::uint32_t>("timeout");
	args.done();

	return with_client(inv, [&](Client &client) {
		return client.probe_socket(local, local_port, remote, remote_port, seg,
					   timeout ? std::optional(std::chrono::milliseconds(*timeout)) : std::nullopt);
	});
}

} // namespace gecko::ctl
