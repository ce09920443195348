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

/* What "agent fault" takes, and what the agent is sent for each. */
constexpr std::pair<std::string_view, std::string_view> fault_phases[] = {
	{"none", ""}, {"refuse", "refuse"}, {"die", "die"}, {"bu-reject", "bu-reject"}, {"stall", "stall"},
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
	args.done();

	const auto *phase = std::ranges::find(fault_phases, name, &std::pair<std::string_view, std::string_view>::first);
	if (phase == std::end(fault_phases))
		throw po::error("'PHASE': not none, refuse, die, bu-reject or stall: '" + name + "'");

	auto control = connect_agent();
	if (!control)
		return report(inv, control.error());
	if (auto done = control->inject_fault(std::string(phase->second)); !done)
		return report(inv, done.error());
	return exit_ok;
}

} // namespace gecko::ctl
