// SPDX-License-Identifier: GPL-2.0-only
/* The commands carried out by the node agent of this network namespace: low-level MIPv6, counters, faults. */

#include "args.h"
#include "commands.h"
#include "json.h"

#include <gecko/agent.h>

#include <boost/program_options/errors.hpp>

#include <algorithm>
#include <cstdlib>
#include <iomanip>
#include <iterator>
#include <string_view>
#include <utility>

namespace po = boost::program_options;

namespace gecko::ctl {

namespace {

/* What "agent fault" takes, what the agent is sent for each, and whether it holds for MS. */
struct FaultPhase {
	std::string_view name;
	std::string_view sent;
	bool hold;
};
constexpr FaultPhase fault_phases[] = {
	{"none", "", false},
	{"refuse", "refuse", false},
	{"die", "die", false},
	{"bu-reject", "bu-reject", false},
	{"stall", "stall", false},
	{"hold-before-bu", "hold-before-bu", true},
	{"hold-after-bu", "hold-after-bu", true},
	{"hold-after-ba", "hold-after-ba", true},
	{"hold-after-thaw", "hold-after-thaw", true},
};

} // namespace

Result<agent::Control> connect_agent()
{
	/* $GECKO_AGENT names an agent started with --control. */
	const char *name = std::getenv("GECKO_AGENT");

	return agent::Control::connect(name && *name ? name : agent::default_control);
}

int with_agent(const Invocation &inv, const std::function<Result<agent::Outcome>(agent::Control &)> &op)
{
	auto control = connect_agent();
	if (!control)
		return report(inv, control.error());
	auto out = op(*control);
	if (!out)
		return report(inv, out.error());

	auto ms = static_cast<double>(out->elapsed.count()) / 1000;
	if (inv.json) {
		JsonWriter json(inv.out);
		json.begin_object();
		json.key("seq");
		json.value(out->seq);
		json.key("lifetime");
		json.value(out->lifetime);
		json.key("elapsed-us");
		json.value(static_cast<std::uint64_t>(out->elapsed.count()));
		json.end_object();
		inv.out << '\n';
	} else {
		if (out->lifetime)
			inv.out << "seq " << out->seq << " lifetime " << out->lifetime << ' ';
		inv.out << "in " << std::fixed << std::setprecision(1) << ms << " ms\n";
	}
	return exit_ok;
}

int cmd_register(const Invocation &inv)
{
	Args args(inv.args, {"lifetime"});
	auto home = args.positional<in6_addr>("G");
	auto lifetime = args.optional_keyword<std::uint32_t>("lifetime");
	args.done();

	return with_agent(inv, [&](agent::Control &c) { return c.register_home(home, lifetime); });
}

int cmd_deregister(const Invocation &inv)
{
	Args args(inv.args);
	auto home = args.positional<in6_addr>("G");
	args.done();

	return with_agent(inv, [&](agent::Control &c) { return c.deregister_home(home); });
}

int cmd_rr(const Invocation &inv)
{
	Args args(inv.args);
	auto home = args.positional<in6_addr>("G");
	auto client = args.positional<in6_addr>("CLIENT");
	args.done();

	return with_agent(inv, [&](agent::Control &c) { return c.rr(home, client); });
}

int cmd_bu(const Invocation &inv)
{
	Args args(inv.args, {"seq", "lifetime"});
	auto home = args.positional<in6_addr>("G");
	auto client = args.positional<in6_addr>("CLIENT");
	auto seq = args.optional_keyword<std::uint16_t>("seq");
	auto lifetime = args.optional_keyword<std::uint32_t>("lifetime");
	args.done();

	return with_agent(inv, [&](agent::Control &c) { return c.bu(home, client, seq, lifetime); });
}

int cmd_clear(const Invocation &inv)
{
	Args args(inv.args);
	auto home = args.positional<in6_addr>("G");
	auto client = args.positional<in6_addr>("CLIENT");
	args.done();

	return with_agent(inv, [&](agent::Control &c) { return c.clear(home, client); });
}

int cmd_agent_show(const Invocation &inv)
{
	expect_no_arguments(inv);
	auto control = connect_agent();
	if (!control)
		return report(inv, control.error());
	auto counters = control->counters();
	if (!counters)
		return report(inv, counters.error());

	if (!inv.json) {
		for (const auto &[field, name] : agent::counter_fields)
			inv.out << name << ' ' << (*counters).*field << '\n';
		return exit_ok;
	}
	JsonWriter json(inv.out);
	json.begin_object();
	json.key("counters");
	json.begin_object();
	for (const auto &[field, name] : agent::counter_fields) {
		json.key(name);
		json.value((*counters).*field);
	}
	json.end_object();
	json.end_object();
	inv.out << '\n';
	return exit_ok;
}

int cmd_agent_fault(const Invocation &inv)
{
	Args args(inv.args);
	auto name = args.positional<std::string>("PHASE");
	const auto *phase = std::ranges::find(fault_phases, name, &FaultPhase::name);
	if (phase == std::end(fault_phases))
		throw po::error("'PHASE': not none, refuse, die, bu-reject, stall, hold-before-bu, hold-after-bu, "
				"hold-after-ba or hold-after-thaw: '" + name + "'");
	std::string sent(phase->sent);
	if (phase->hold)
		sent += ":" + std::to_string(args.positional<std::uint32_t>("MS"));
	args.done();

	auto control = connect_agent();
	if (!control)
		return report(inv, control.error());
	if (auto done = control->inject_fault(sent); !done)
		return report(inv, done.error());
	return exit_ok;
}

int cmd_genkey(const Invocation &inv)
{
	expect_no_arguments(inv);
	auto key = agent::generate_key();
	if (!key)
		return report(inv, key.error());
	inv.out << *key << '\n';
	return exit_ok;
}

} // namespace gecko::ctl
