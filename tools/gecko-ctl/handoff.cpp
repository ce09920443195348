// SPDX-License-Identifier: GPL-2.0-only
/*
 * Handoffs of a client's TCP connections between nodes, asked of the node
 * agent that runs inside the server application (gecko/node.h).
 */

#include "args.h"
#include "commands.h"
#include "json.h"

#include <gecko/address.h>

#include <iomanip>
#include <sstream>

namespace gecko::ctl {

namespace {

/* Microseconds as milliseconds with one decimal: "12.3ms". */
std::string ms(std::chrono::microseconds us)
{
	std::ostringstream text;

	text << std::fixed << std::setprecision(1) << static_cast<double>(us.count()) / 1000 << "ms";
	return text.str();
}

/* The free-text error comes last, so that a line splits on its first words. */
void print_text(std::ostream &out, const agent::HandoffRecord &r)
{
	out << std::hex << std::setw(16) << std::setfill('0') << r.id << std::dec << std::setfill(' ')
	    << (r.outbound ? " out " : " in ") << format_address(r.client) << (r.outbound ? " to " : " from ")
	    << format_address(r.node) << " conns " << r.conns << " prepare " << ms(r.prepare) << " frozen "
	    << ms(r.frozen) << " total " << ms(r.total);
	if (r.moved)
		out << " moved\n";
	else
		out << (r.lost ? " lost: " : " rolled back: ") << (r.error.empty() ? "no reason given" : r.error) << '\n';
}

void print_json(JsonWriter &json, const agent::HandoffRecord &r)
{
	json.begin_object();
	json.key("id");
	std::ostringstream id;
	id << std::hex << std::setw(16) << std::setfill('0') << r.id;
	json.value(id.str());
	json.key("direction");
	json.value(r.outbound ? "out" : "in");
	json.key("client");
	json.value(format_address(r.client));
	json.key("node");
	json.value(format_address(r.node));
	json.key("conns");
	json.value(r.conns);
	json.key("moved");
	json.value(r.moved);
	json.key("lost");
	json.value(r.lost);
	if (!r.moved) {
		json.key("error");
		json.value(r.error);
	}
	json.key("prepare-us");
	json.value(static_cast<std::uint64_t>(r.prepare.count()));
	json.key("frozen-us");
	json.value(static_cast<std::uint64_t>(r.frozen.count()));
	json.key("total-us");
	json.value(static_cast<std::uint64_t>(r.total.count()));
	json.end_object();
}

} // namespace

void print_handoffs(std::ostream &out, std::span<const agent::HandoffRecord> records, bool json)
{
	if (!json) {
		for (const auto &r : records)
			print_text(out, r);
		return;
	}
	JsonWriter writer(out);
	writer.begin_array();
	for (const auto &r : records)
		print_json(writer, r);
	writer.end_array();
	out << '\n';
}

int cmd_handoff(const Invocation &inv)
{
	Args args(inv.args, {"to"});
	auto client = args.positional<in6_addr>("CLIENT");
	auto node = args.keyword<in6_addr>("to");
	args.done();

	return with_agent(inv, [&](agent::Control &c) { return c.handoff(client, node); });
}

int cmd_handoff_show(const Invocation &inv)
{
	expect_no_arguments(inv);
	auto control = connect_agent();
	if (!control)
		return report(inv, control.error());
	auto records = control->handoffs();
	if (!records)
		return report(inv, records.error());
	print_handoffs(inv.out, *records, inv.json);
	return exit_ok;
}

} // namespace gecko::ctl
