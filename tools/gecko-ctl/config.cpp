// SPDX-License-Identifier: GPL-2.0-only

#include "args.h"
#include "commands.h"
#include "json.h"

#include <gecko/address.h>

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace gecko::ctl {

namespace {

const char *credentials(const Cluster &c)
{
	return c.security.key_file.empty() ? "certificates" : "cluster key";
}

} // namespace

void print_cluster(std::ostream &out, const Cluster &c, bool json)
{
	if (!json) {
		out << c.file << ": service " << format_address(c.service) << ", home agent "
		    << format_address(c.home_agent) << ", " << c.members.size() << " member"
		    << (c.members.size() == 1 ? "" : "s") << ", contact " << c.contact;
		for (std::size_t i = 0; i < c.backups.size(); i++)
			out << (i ? " " : ", backups ") << c.backups[i];
		out << ", policy " << c.policy << ", " << credentials(c) << ": ok\n";
		return;
	}
	JsonWriter w(out);
	w.begin_object();
	w.key("file");
	w.value(c.file);
	w.key("service");
	w.value(format_address(c.service));
	w.key("home_agent");
	w.value(format_address(c.home_agent));
	w.key("port");
	w.value(std::uint64_t{c.port});
	w.key("credentials");
	w.value(credentials(c));
	w.key("contact");
	w.value(c.contact);
	w.key("backups");
	w.begin_array();
	for (const auto &b : c.backups)
		w.value(b);
	w.end_array();
	w.key("members");
	w.begin_array();
	for (const auto &m : c.members) {
		w.begin_object();
		w.key("name");
		w.value(m.name);
		w.key("address");
		w.value(format_address(m.address));
		w.key("weight");
		w.value(std::uint64_t{m.weight});
		w.end_object();
	}
	w.end_array();
	w.key("heartbeat_period_ms");
	w.value(static_cast<std::uint64_t>(c.heartbeat_period.count()));
	w.key("heartbeat_misses");
	w.value(std::uint64_t{c.heartbeat_misses});
	w.key("registration_lifetime");
	w.value(static_cast<std::uint64_t>(c.registration_lifetime.count()));
	w.key("policy");
	w.value(c.policy);
	w.end_object();
	out << '\n';
}

int cmd_config_check(const Invocation &inv)
{
	Args args(inv.args, {});
	auto file = args.positional<std::string>("FILE");
	args.done();

	auto cluster = load_cluster(file);
	if (!cluster)
		return report(inv, cluster.error());
	print_cluster(inv.out, *cluster, inv.json);
	return exit_ok;
}

void print_members(std::ostream &out, std::span<const agent::MemberStatus> members, bool json)
{
	auto state = [](agent::MemberStatus::State st) {
		return std::ranges::find(agent::member_states, st,
					 &std::pair<agent::MemberStatus::State, std::string_view>::first)
			->second;
	};

	if (!json) {
		for (const auto &m : members) {
			std::ostringstream detail;
			bool serving = m.state == agent::MemberStatus::State::self ||
				       m.state == agent::MemberStatus::State::alive ||
				       m.state == agent::MemberStatus::State::draining ||
				       m.state == agent::MemberStatus::State::unavailable;

			if (serving)
				detail << m.connections << " connection" << (m.connections == 1 ? "" : "s");
			if (m.state != agent::MemberStatus::State::self) {
				detail << (serving ? ", " : "");
				if (m.silent)
					detail << "heard " << std::fixed << std::setprecision(1)
					       << m.silent->count() / 1000.0 << " s ago";
				else
					detail << "never heard";
			}
			if (m.joined)
				detail << ", joined";
			out << std::left << std::setw(12) << m.name << ' ' << std::setw(24) << format_address(m.address)
			    << ' ' << std::setw(11) << state(m.state) << ' ' << detail.str() << '\n';
		}
		return;
	}
	JsonWriter w(out);
	w.begin_array();
	for (const auto &m : members) {
		w.begin_object();
		w.key("name");
		w.value(m.name);
		w.key("address");
		w.value(format_address(m.address));
		w.key("state");
		w.value(state(m.state));
		if (m.silent) {
			w.key("silent_ms");
			w.value(static_cast<std::uint64_t>(m.silent->count()));
		}
		w.key("connections");
		w.value(std::uint64_t{m.connections});
		w.key("joined");
		w.value(m.joined);
		w.end_object();
	}
	w.end_array();
	out << '\n';
}

int cmd_members(const Invocation &inv)
{
	expect_no_arguments(inv);
	auto control = connect_agent();
	if (!control)
		return report(inv, control.error());
	auto members = control->members();
	if (!members)
		return report(inv, members.error());
	print_members(inv.out, *members, inv.json);
	return exit_ok;
}

int cmd_join(const Invocation &inv)
{
	Args args(inv.args, {"weight"});
	auto name = args.positional<std::string>("NAME");
	auto address = args.positional<in6_addr>("ADDRESS");
	auto weight = args.optional_keyword<std::uint32_t>("weight");
	args.done();

	auto control = connect_agent();
	if (!control)
		return report(inv, control.error());
	if (auto ok = control->join(name, address, weight.value_or(1)); !ok)
		return report(inv, ok.error());
	return exit_ok;
}

int cmd_leave(const Invocation &inv)
{
	Args args(inv.args);
	auto name = args.positional<std::string>("NAME");
	args.done();

	auto control = connect_agent();
	if (!control)
		return report(inv, control.error());
	if (auto ok = control->leave(name); !ok)
		return report(inv, ok.error());
	return exit_ok;
}

int cmd_proximity(const Invocation &inv)
{
	Args args(inv.args);
	auto client = args.positional<in6_addr>("CLIENT");
	args.done();

	auto control = connect_agent();
	if (!control)
		return report(inv, control.error());
	auto distances = control->proximity(client);
	if (!distances)
		return report(inv, distances.error());
	std::ranges::sort(*distances, {}, &agent::Distance::rtt);
	if (!inv.json) {
		for (const auto &d : *distances)
			inv.out << std::left << std::setw(12) << d.member << ' ' << std::fixed << std::setprecision(3)
				<< d.rtt.count() / 1000.0 << " ms\n";
		return exit_ok;
	}
	JsonWriter w(inv.out);
	w.begin_array();
	for (const auto &d : *distances) {
		w.begin_object();
		w.key("member");
		w.value(d.member);
		w.key("rtt_us");
		w.value(static_cast<std::uint64_t>(d.rtt.count()));
		w.end_object();
	}
	w.end_array();
	inv.out << '\n';
	return exit_ok;
}

int cmd_backups(const Invocation &inv)
{
	Args args(inv.args);
	auto client = args.optional_positional<in6_addr>("CLIENT");
	args.done();
	auto control = connect_agent();
	if (!control)
		return report(inv, control.error());
	auto b = control->backups(client);
	if (!b)
		return report(inv, b.error());
	if (!inv.json) {
		if (b->backup)
			inv.out << "mirrors " << b->mirrored << " connection" << (b->mirrored == 1 ? "" : "s") << " to "
				<< *b->backup << '\n';
		else
			inv.out << "mirrors nothing: no other member is alive\n";
		for (const auto &r : b->registrations)
			inv.out << "holds " << r.member << "'s home registration of " << format_address(r.home) << ": sequence "
				<< r.seq << ", " << r.left.count() << " s left, " << r.age.count() << " ms old\n";
		for (const auto &m : b->members)
			inv.out << "holds " << m.connections << " mirror" << (m.connections == 1 ? "" : "s") << " of "
				<< m.member << ", the oldest " << m.oldest.count() << " ms old\n";
		for (const auto &h : b->held)
			inv.out << "  " << std::left << std::setw(12) << h.member << ' ' << format_address(h.client)
				<< " port " << h.client_port << " -> " << h.port << ", " << h.age.count() << " ms old"
				<< (h.state_len ? ", state " + std::to_string(h.state_len) + " octets" : std::string())
				<< '\n';
		for (const auto &r : b->recoveries)
			inv.out << "took over " << format_address(r.client) << " from " << r.member << ": " << r.recovered
				<< " of " << r.conns << " connection" << (r.conns == 1 ? "" : "s") << " in "
				<< r.total.count() / 1000 << " ms (silent " << r.silent.count() << " ms, signalling "
				<< r.signalling.count() / 1000 << " ms, probes " << r.probe.count() / 1000 << " ms)"
				<< (r.error.empty() ? "" : ": " + r.error) << '\n';
		return exit_ok;
	}
	JsonWriter w(inv.out);
	w.begin_object();
	/* No "backup" while no other member is alive. */
	if (b->backup) {
		w.key("backup");
		w.value(*b->backup);
	}
	w.key("mirrored");
	w.value(std::uint64_t{b->mirrored});
	w.key("members");
	w.begin_array();
	for (const auto &m : b->members) {
		w.begin_object();
		w.key("member");
		w.value(m.member);
		w.key("connections");
		w.value(std::uint64_t{m.connections});
		w.key("oldest_ms");
		w.value(static_cast<std::uint64_t>(m.oldest.count()));
		w.end_object();
	}
	w.end_array();
	w.key("registrations");
	w.begin_array();
	for (const auto &r : b->registrations) {
		w.begin_object();
		w.key("member");
		w.value(r.member);
		w.key("home");
		w.value(format_address(r.home));
		w.key("seq");
		w.value(std::uint64_t{r.seq});
		w.key("left_s");
		w.value(static_cast<std::uint64_t>(r.left.count()));
		w.key("age_ms");
		w.value(static_cast<std::uint64_t>(r.age.count()));
		w.end_object();
	}
	w.end_array();
	w.key("held");
	w.begin_array();
	for (const auto &h : b->held) {
		w.begin_object();
		w.key("member");
		w.value(h.member);
		w.key("client");
		w.value(format_address(h.client));
		w.key("client_port");
		w.value(std::uint64_t{h.client_port});
		w.key("port");
		w.value(std::uint64_t{h.port});
		w.key("age_ms");
		w.value(static_cast<std::uint64_t>(h.age.count()));
		w.key("state_len");
		w.value(std::uint64_t{h.state_len});
		w.end_object();
	}
	w.end_array();
	w.key("recoveries");
	w.begin_array();
	for (const auto &r : b->recoveries) {
		w.begin_object();
		w.key("member");
		w.value(r.member);
		w.key("client");
		w.value(format_address(r.client));
		w.key("connections");
		w.value(std::uint64_t{r.conns});
		w.key("recovered");
		w.value(std::uint64_t{r.recovered});
		w.key("silent_ms");
		w.value(static_cast<std::uint64_t>(r.silent.count()));
		w.key("signalling_us");
		w.value(static_cast<std::uint64_t>(r.signalling.count()));
		w.key("probe_us");
		w.value(static_cast<std::uint64_t>(r.probe.count()));
		w.key("total_us");
		w.value(static_cast<std::uint64_t>(r.total.count()));
		if (!r.error.empty()) {
			w.key("error");
			w.value(r.error);
		}
		w.end_object();
	}
	w.end_array();
	w.end_object();
	inv.out << '\n';
	return exit_ok;
}

void print_programs(std::ostream &out, std::span<const agent::ProgramStatus> programs, bool json)
{
	auto ports = [](const agent::ProgramStatus &p) {
		std::string list;
		for (auto port : p.ports)
			list += (list.empty() ? "" : ",") + std::to_string(port);
		return list.empty() ? std::string("-") : list;
	};
	if (!json) {
		for (const auto &p : programs) {
			out << std::left << std::setw(8) << p.pid << ' ' << std::setw(18) << p.name << " ports "
			    << std::setw(12) << ports(p) << ' ' << p.connections << " connection"
			    << (p.connections == 1 ? "" : "s") << (p.detail.empty() ? "" : "; ") << p.detail;
			for (std::size_t i = 0; i < p.counters.size(); i++)
				out << (i ? " " : "; ") << p.counters[i].first << '=' << p.counters[i].second;
			out << '\n';
		}
		return;
	}
	JsonWriter w(out);
	w.begin_array();
	for (const auto &p : programs) {
		w.begin_object();
		w.key("pid");
		w.value(static_cast<std::uint64_t>(p.pid));
		w.key("name");
		w.value(p.name);
		w.key("ports");
		w.begin_array();
		for (auto port : p.ports)
			w.value(std::uint64_t{port});
		w.end_array();
		w.key("connections");
		w.value(std::uint64_t{p.connections});
		w.key("detail");
		w.value(p.detail);
		w.key("counters");
		w.begin_object();
		for (const auto &[name, value] : p.counters) {
			w.key(name);
			w.value(value);
		}
		w.end_object();
		w.end_object();
	}
	w.end_array();
	out << '\n';
}

int cmd_programs(const Invocation &inv)
{
	expect_no_arguments(inv);
	auto control = connect_agent();
	if (!control)
		return report(inv, control.error());
	auto programs = control->programs();
	if (!programs)
		return report(inv, programs.error());
	print_programs(inv.out, *programs, inv.json);
	return exit_ok;
}

int cmd_drain(const Invocation &inv)
{
	expect_no_arguments(inv);
	auto control = connect_agent();
	if (!control)
		return report(inv, control.error());
	auto done = control->drain();
	if (!done)
		return report(inv, done.error());
	if (inv.json) {
		JsonWriter w(inv.out);
		w.begin_object();
		w.key("drained");
		w.value(*done);
		w.end_object();
		inv.out << '\n';
	} else {
		inv.out << *done << '\n';
	}
	return exit_ok;
}

} // namespace gecko::ctl
