// SPDX-License-Identifier: GPL-2.0-only

#include "args.h"
#include "commands.h"
#include "json.h"

#include <gecko/address.h>

#include <algorithm>

namespace gecko::ctl {

namespace {

std::string_view state_name(BindingState state)
{
	const auto *it = std::ranges::find(state_names, state, &std::pair<BindingState, std::string_view>::first);

	/* Decoding refuses states this table lacks. */
	return it->second;
}

void print_text(std::ostream &out, const Binding &binding)
{
	out << format_address(binding.home) << ' ' << format_address(binding.peer) << ' '
	    << state_name(binding.state) << " seq " << binding.seq << " lifetime " << binding.lifetime << "s\n";
}

void print_json(JsonWriter &json, const Binding &binding)
{
	json.begin_object();
	json.key("home");
	json.value(format_address(binding.home));
	json.key("peer");
	json.value(format_address(binding.peer));
	json.key("state");
	json.value(state_name(binding.state));
	json.key("seq");
	json.value(binding.seq);
	json.key("lifetime");
	json.value(binding.lifetime);
	json.end_object();
}

} // namespace

void print_bindings(std::ostream &out, std::span<const Binding> bindings, bool json)
{
	if (!json) {
		for (const auto &binding : bindings)
			print_text(out, binding);
		return;
	}
	JsonWriter writer(out);
	writer.begin_array();
	for (const auto &binding : bindings)
		print_json(writer, binding);
	writer.end_array();
	out << '\n';
}

int cmd_binding_set(const Invocation &inv)
{
	Args args(inv.args, {"state", "seq", "lifetime"});
	const Binding binding{
		.home = args.positional<in6_addr>("G"),
		.peer = args.positional<in6_addr>("PEER"),
		.state = args.keyword<BindingState>("state"),
		.seq = args.keyword<std::uint16_t>("seq"),
		/* The module knows the range (1 to 420 s); its error says so. */
		.lifetime = args.keyword<std::uint32_t>("lifetime"),
	};
	args.done();

	return with_client(inv, [&](Client &client) { return client.set_binding(binding); });
}

int cmd_binding_del(const Invocation &inv)
{
	Args args(inv.args);
	auto home = args.positional<in6_addr>("G");
	auto peer = args.positional<in6_addr>("PEER");
	args.done();

	return with_client(inv, [&](Client &client) { return client.del_binding(home, peer); });
}

int cmd_binding_show(const Invocation &inv)
{
	Args args(inv.args);
	auto home = args.optional_positional<in6_addr>("G");
	auto peer = args.optional_positional<in6_addr>("PEER");
	args.done();

	return with_client(inv, [&](Client &client) -> Result<void> {
		auto bindings = peer ? as_list(client.binding(*home, *peer)) : client.bindings(home);

		if (!bindings)
			return std::unexpected(bindings.error());
		print_bindings(inv.out, *bindings, inv.json);
		return {};
	});
}

} // namespace gecko::ctl
