// SPDX-License-Identifier: GPL-2.0-only

#include "cli.h"

#include <gecko/address.h>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

namespace {

struct Run {
	int status;
	std::string out;
	std::string err;
};

Run run(const std::vector<std::string> &args)
{
	std::ostringstream out, err;
	int status = gecko::ctl::run(args, out, err);

	return {status, out.str(), err.str()};
}

std::string usage()
{
	std::ostringstream out;

	gecko::ctl::print_usage(out);
	return out.str();
}

TEST(Usage, ListsEveryCommandWithItsHelp)
{
	const std::string text = usage();

	ASSERT_FALSE(gecko::ctl::commands().empty());
	for (const auto &cmd : gecko::ctl::commands()) {
		auto line = text.find("\n  " + std::string(cmd.name) + " ");

		ASSERT_NE(line, std::string::npos) << cmd.name;
		EXPECT_NE(text.find(cmd.help, line), std::string::npos) << cmd.name;
	}
}

TEST(Usage, ListsTheOptions)
{
	const std::string text = usage();

	EXPECT_NE(text.find("  -j, --json "), std::string::npos);
	EXPECT_NE(text.find("  -h, --help "), std::string::npos);
	EXPECT_NE(text.find("  -V, --version "), std::string::npos);
}

/* A command line, named for the test. */
struct Args {
	const char *name;
	std::vector<std::string> args;
};

std::string name_of(const testing::TestParamInfo<Args> &info)
{
	return info.param.name;
}

class Help : public testing::TestWithParam<Args> {};

TEST_P(Help, PrintsUsage)
{
	auto r = run(GetParam().args);

	EXPECT_EQ(r.status, 0);
	EXPECT_EQ(r.out, usage());
	EXPECT_EQ(r.err, "");
}

INSTANTIATE_TEST_SUITE_P(Spellings, Help,
			 testing::Values(Args{"long_option", {"--help"}},
					 Args{"short_option", {"-h"}},
					 Args{"command", {"help"}},
					 Args{"after_command", {"info", "--help"}}),
			 name_of);

TEST(Run, NoCommandIsAUsageError)
{
	auto r = run({});

	EXPECT_EQ(r.status, 2);
	EXPECT_EQ(r.out, "");
	EXPECT_EQ(r.err, usage());
}

TEST(Run, Version)
{
	auto r = run({"--version"});

	EXPECT_EQ(r.status, 0);
	EXPECT_EQ(r.out, "gecko-ctl " GECKO_VERSION "\n");
}

struct BadUsage {
	const char *name;
	std::vector<std::string> args;
	std::string why;
};

const BadUsage bad_usages[] = {
	{"unknown_command", {"frobnicate"}, "gecko-ctl: unknown command 'frobnicate'\n"},
	{"unknown_global_option", {"--frobnicate", "info"}, "gecko-ctl: info: unexpected argument '--frobnicate'\n"},
	{"unknown_command_option", {"info", "--frobnicate"}, "gecko-ctl: info: unexpected argument '--frobnicate'\n"},
	{"extra_argument", {"info", "extra"}, "gecko-ctl: info: unexpected argument 'extra'\n"},
	{"help_argument", {"help", "info"}, "gecko-ctl: help: unexpected argument 'info'\n"},
	{"option_value", {"--json=yes", "info"}, "gecko-ctl: option '--json' does not take any arguments\n"},
	{"family_without_command", {"service"}, "gecko-ctl: unknown command 'service'\n"},
	{"family_unknown_command", {"binding", "frob"}, "gecko-ctl: unknown command 'binding frob'\n"},
	{"unknown_command_with_argument", {"frob", "add"}, "gecko-ctl: unknown command 'frob'\n"},
};

class BadUsageTest : public testing::TestWithParam<BadUsage> {};

TEST_P(BadUsageTest, ExitsWithTwo)
{
	auto r = run(GetParam().args);

	EXPECT_EQ(r.status, 2);
	EXPECT_EQ(r.out, "");
	EXPECT_EQ(r.err, GetParam().why + "Try 'gecko-ctl help'.\n");
}

INSTANTIATE_TEST_SUITE_P(Cases, BadUsageTest, testing::ValuesIn(bad_usages),
			 [](const auto &info) { return std::string(info.param.name); });

#define G "fd00:a::100"
#define PEER "fd00:c::2"
#define SERVICE_ADD "service", "add", G
#define BINDING_SET "binding", "set", G, PEER

/* Every way a service or binding command's arguments can be wrong. */
const BadUsage bad_arguments[] = {
	{"service_add_no_home", {"service", "add"}, "service add: missing G"},
	{"service_add_bad_home", {"service", "add", "xyz", "coa", "fd00::2", "contact-coa", "fd00::1"},
	 "service add: 'G': not an IPv6 address: 'xyz'"},
	{"service_add_no_coa", {SERVICE_ADD, "contact-coa", "fd00::1"}, "service add: missing 'coa'"},
	{"service_add_no_contact_coa", {SERVICE_ADD, "coa", "fd00::2"}, "service add: missing 'contact-coa'"},
	{"service_add_bad_coa", {SERVICE_ADD, "coa", "xyz", "contact-coa", "fd00::1"},
	 "service add: 'coa': not an IPv6 address: 'xyz'"},
	{"service_add_bad_contact_coa", {SERVICE_ADD, "coa", "fd00::2", "contact-coa", "fd00::1::"},
	 "service add: 'contact-coa': not an IPv6 address: 'fd00::1::'"},
	{"service_add_bad_ha", {SERVICE_ADD, "coa", "fd00::2", "contact-coa", "fd00::1", "ha", "10.0.0.1"},
	 "service add: 'ha': not an IPv6 address: '10.0.0.1'"},
	{"service_add_no_value", {SERVICE_ADD, "contact-coa", "fd00::1", "coa"}, "service add: 'coa': missing value"},
	{"service_add_keyword_twice", {SERVICE_ADD, "coa", "fd00::2", "contact-coa", "fd00::1", "coa", "fd00::3"},
	 "service add: 'coa' given twice"},
	{"service_add_flag_twice", {SERVICE_ADD, "contact", "coa", "fd00::2", "contact"},
	 "service add: 'contact' given twice"},
	{"service_add_contact_without_ha", {SERVICE_ADD, "coa", "fd00::2", "contact-coa", "fd00::1", "contact"},
	 "service add: 'contact' needs 'ha'"},
	{"service_add_word_after_keywords", {SERVICE_ADD, "coa", "fd00::2", "contact-coa", "fd00::1", "primary"},
	 "service add: unexpected argument 'primary'"},
	{"service_add_extra_positional", {SERVICE_ADD, "fd00::9", "coa", "fd00::2", "contact-coa", "fd00::1"},
	 "service add: unexpected argument 'fd00::9'"},
	{"service_del_no_home", {"service", "del"}, "service del: missing G"},
	{"service_del_bad_home", {"service", "del", "fd00:a::100/64"},
	 "service del: 'G': not an IPv6 address: 'fd00:a::100/64'"},
	{"service_del_extra", {"service", "del", G, "now"}, "service del: unexpected argument 'now'"},
	{"service_show_bad_home", {"service", "show", "all"}, "service show: 'G': not an IPv6 address: 'all'"},
	{"service_show_extra", {"service", "show", G, PEER}, "service show: unexpected argument '" PEER "'"},
	{"binding_set_no_home", {"binding", "set"}, "binding set: missing G"},
	{"binding_set_no_peer", {"binding", "set", G, "state", "bound"}, "binding set: missing PEER"},
	{"binding_set_bad_peer", {"binding", "set", G, "peer", "state", "bound", "seq", "1", "lifetime", "60"},
	 "binding set: 'PEER': not an IPv6 address: 'peer'"},
	{"binding_set_no_state", {BINDING_SET, "seq", "1", "lifetime", "60"}, "binding set: missing 'state'"},
	{"binding_set_bad_state", {BINDING_SET, "state", "up", "seq", "1", "lifetime", "60"},
	 "binding set: 'state': not bound or pending: 'up'"},
	{"binding_set_no_seq", {BINDING_SET, "state", "bound", "lifetime", "60"}, "binding set: missing 'seq'"},
	{"binding_set_seq_not_a_number", {BINDING_SET, "state", "bound", "seq", "7th", "lifetime", "60"},
	 "binding set: 'seq': not a number from 0 to 65535: '7th'"},
	{"binding_set_seq_too_big", {BINDING_SET, "state", "bound", "seq", "65536", "lifetime", "60"},
	 "binding set: 'seq': not a number from 0 to 65535: '65536'"},
	{"binding_set_seq_negative", {BINDING_SET, "state", "bound", "seq", "-1", "lifetime", "60"},
	 "binding set: 'seq': not a number from 0 to 65535: '-1'"},
	{"binding_set_no_lifetime", {BINDING_SET, "state", "bound", "seq", "1"}, "binding set: missing 'lifetime'"},
	{"binding_set_lifetime_with_unit", {BINDING_SET, "state", "bound", "seq", "1", "lifetime", "60s"},
	 "binding set: 'lifetime': not a number from 0 to 4294967295: '60s'"},
	{"binding_set_lifetime_empty", {BINDING_SET, "state", "bound", "seq", "1", "lifetime", ""},
	 "binding set: 'lifetime': not a number from 0 to 4294967295: ''"},
	{"binding_set_lifetime_too_big", {BINDING_SET, "state", "bound", "seq", "1", "lifetime", "4294967296"},
	 "binding set: 'lifetime': not a number from 0 to 4294967295: '4294967296'"},
	{"binding_set_unknown_keyword", {BINDING_SET, "state", "bound", "seq", "1", "lifetime", "60", "ttl", "5"},
	 "binding set: unexpected argument 'ttl'"},
	{"binding_del_no_peer", {"binding", "del", G}, "binding del: missing PEER"},
	{"binding_del_bad_home", {"binding", "del", "x", PEER}, "binding del: 'G': not an IPv6 address: 'x'"},
	{"binding_del_extra", {"binding", "del", G, PEER, G}, "binding del: unexpected argument '" G "'"},
	{"binding_show_bad_home", {"binding", "show", "-"}, "binding show: 'G': not an IPv6 address: '-'"},
	{"binding_show_bad_peer", {"binding", "show", G, "fd00:c:2"},
	 "binding show: 'PEER': not an IPv6 address: 'fd00:c:2'"},
	{"binding_show_extra", {"binding", "show", G, PEER, "state"}, "binding show: unexpected argument 'state'"},
	{"flow_show_extra", {"flow", "show", G}, "flow show: unexpected argument '" G "'"},
	{"limits_show_extra", {"limits", "show", "all"}, "limits show: unexpected argument 'all'"},
	{"limits_set_nothing", {"limits", "set"},
	 "limits set: give at least one of services, bindings, flows, held"},
	{"limits_set_not_a_number", {"limits", "set", "flows", "many"},
	 "limits set: 'flows': not a number from 0 to 4294967295: 'many'"},
	{"limits_set_unknown", {"limits", "set", "sockets", "5"}, "limits set: unexpected argument 'sockets'"},
	{"handoff_no_client", {"handoff"}, "handoff: missing CLIENT"},
	{"handoff_bad_client", {"handoff", "client1", "to", "fd00:12::2"},
	 "handoff: 'CLIENT': not an IPv6 address: 'client1'"},
	{"handoff_no_to", {"handoff", PEER}, "handoff: missing 'to'"},
	{"handoff_to_without_node", {"handoff", PEER, "to"}, "handoff: 'to': missing value"},
	{"handoff_bad_node", {"handoff", PEER, "to", "node2"}, "handoff: 'to': not an IPv6 address: 'node2'"},
	{"handoff_extra", {"handoff", PEER, G, "to", "fd00:12::2"}, "handoff: unexpected argument '" G "'"},
	{"handoff_show_extra", {"handoff", "show", PEER}, "handoff show: unexpected argument '" PEER "'"},
	{"agent_fault_no_phase", {"agent", "fault"}, "agent fault: missing PHASE"},
	{"agent_fault_unknown_phase", {"agent", "fault", "crash"},
	 "agent fault: 'PHASE': not none, refuse, die, bu-reject, stall, hold-before-bu, hold-after-bu, "
	 "hold-after-ba or hold-after-thaw: 'crash'"},
	{"agent_fault_empty_phase", {"agent", "fault", ""},
	 "agent fault: 'PHASE': not none, refuse, die, bu-reject, stall, hold-before-bu, hold-after-bu, "
	 "hold-after-ba or hold-after-thaw: ''"},
	{"agent_fault_extra", {"agent", "fault", "stall", "now"}, "agent fault: unexpected argument 'now'"},
	{"agent_fault_hold_without_time", {"agent", "fault", "hold-after-bu"}, "agent fault: missing MS"},
	{"agent_fault_hold_bad_time", {"agent", "fault", "hold-after-bu", "soon"},
	 "agent fault: 'MS': not a number from 0 to 4294967295: 'soon'"},
	{"genkey_extra", {"genkey", "now"}, "genkey: unexpected argument 'now'"},
	{"config_check_no_file", {"config", "check"}, "config check: missing FILE"},
	{"config_check_two_files", {"config", "check", "a.conf", "b.conf"},
	 "config check: unexpected argument 'b.conf'"},
	{"config_unknown_command", {"config", "show"}, "unknown command 'config show'"},
	{"members_extra", {"members", "node1"}, "members: unexpected argument 'node1'"},
	{"drain_extra", {"drain", "now"}, "drain: unexpected argument 'now'"},
	{"agent_unknown_command", {"agent", "stop"}, "unknown command 'agent stop'"},
};

class BadArguments : public testing::TestWithParam<BadUsage> {};

TEST_P(BadArguments, ExitWithTwoSayingWhich)
{
	auto r = run(GetParam().args);

	EXPECT_EQ(r.status, 2);
	EXPECT_EQ(r.out, "");
	EXPECT_EQ(r.err, "gecko-ctl: " + GetParam().why + "\nTry 'gecko-ctl help'.\n");
}

INSTANTIATE_TEST_SUITE_P(Cases, BadArguments, testing::ValuesIn(bad_arguments),
			 [](const auto &info) { return std::string(info.param.name); });

/* --json is global, so it goes before or after the command. */
class WithoutModule : public testing::TestWithParam<Args> {};

TEST_P(WithoutModule, FailsWithKernelError)
{
	if (std::filesystem::exists("/sys/module/gecko"))
		GTEST_SKIP() << "gecko.ko is loaded: gecko-kernel-tests covers this host";

	auto r = run(GetParam().args);

	EXPECT_EQ(r.status, 1);
	EXPECT_EQ(r.out, "");
	EXPECT_EQ(r.err, "Error: generic netlink family 'gecko' not found: "
			 "is gecko.ko loaded? (modprobe gecko)\n");
}

INSTANTIATE_TEST_SUITE_P(Info, WithoutModule,
			 testing::Values(Args{"text", {"info"}},
					 Args{"json_after_command", {"info", "--json"}},
					 Args{"json_before_command", {"--json", "info"}},
					 Args{"short_json", {"-j", "info"}}),
			 name_of);

/* Arguments are checked first; only then is the module asked. */
INSTANTIATE_TEST_SUITE_P(Services, WithoutModule,
			 testing::Values(Args{"service_add", {SERVICE_ADD, "contact", "coa", "fd00:11::2",
								"contact-coa", "fd00:11::2", "ha", "fd00:a::1"}},
					 Args{"service_del", {"service", "del", G}},
					 Args{"service_show", {"service", "show"}},
					 Args{"service_show_one", {"service", "show", G, "--json"}},
					 Args{"binding_set", {BINDING_SET, "lifetime", "60", "seq", "0", "state",
								"pending"}},
					 Args{"binding_del", {"binding", "del", G, PEER}},
					 Args{"binding_show", {"-j", "binding", "show"}},
					 Args{"binding_show_home", {"binding", "show", G}},
					 Args{"binding_show_one", {"binding", "show", G, PEER}}),
			 name_of);

INSTANTIATE_TEST_SUITE_P(Flows, WithoutModule,
			 testing::Values(Args{"flow_show", {"flow", "show"}},
					 Args{"flow_show_json", {"flow", "show", "--json"}}),
			 name_of);

INSTANTIATE_TEST_SUITE_P(Limits, WithoutModule,
			 testing::Values(Args{"limits_show", {"limits", "show"}},
					 Args{"limits_show_json", {"limits", "show", "--json"}},
					 Args{"limits_set", {"limits", "set", "held", "100", "flows", "7"}}),
			 name_of);

/* The agent's commands, with no agent: the name $GECKO_AGENT gives is nobody's. */
class WithoutAgent : public testing::TestWithParam<Args> {
protected:
	void SetUp() override
	{
		const char *old = std::getenv("GECKO_AGENT");

		saved_ = old ? std::optional<std::string>(old) : std::nullopt;
		::setenv("GECKO_AGENT", ("gecko-cli-test-" + std::to_string(::getpid())).c_str(), 1);
	}
	void TearDown() override
	{
		if (saved_)
			::setenv("GECKO_AGENT", saved_->c_str(), 1);
		else
			::unsetenv("GECKO_AGENT");
	}

private:
	std::optional<std::string> saved_;
};

TEST_P(WithoutAgent, FailsSayingSo)
{
	auto r = run(GetParam().args);

	EXPECT_EQ(r.status, 1);
	EXPECT_EQ(r.out, "");
	EXPECT_TRUE(r.err.starts_with("Error: no node agent in this network namespace (@gecko-cli-test-")) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Agent, WithoutAgent,
			 testing::Values(Args{"handoff", {"handoff", PEER, "to", "fd00:12::2"}},
					 Args{"handoff_json", {"--json", "handoff", PEER, "to", "fd00:12::2"}},
					 Args{"handoff_show", {"handoff", "show"}},
					 Args{"handoff_show_json", {"handoff", "show", "-j"}},
					 Args{"agent_fault", {"agent", "fault", "bu-reject"}},
					 Args{"agent_fault_none", {"agent", "fault", "none"}},
					 Args{"agent_show", {"agent", "show"}},
					 Args{"members", {"members"}},
					 Args{"members_json", {"members", "--json"}},
					 Args{"drain", {"drain"}},
					 Args{"drain_json", {"drain", "--json"}}),
			 name_of);

gecko::Info sample()
{
	return {"0.1.0", 1, 0, {{2, "nl_requests", 5}, {3, "nl_errors", 0}}};
}

std::string print(const gecko::Info &info, bool json)
{
	std::ostringstream out;

	gecko::ctl::print_info(out, info, json);
	return out.str();
}

TEST(PrintInfo, Text)
{
	EXPECT_EQ(print(sample(), false), "gecko 0.1.0 (protocol 1)\n"
					  "features: none\n"
					  "counters:\n"
					  "  nl_requests  5\n"
					  "  nl_errors    0\n");
}

TEST(PrintInfo, Json)
{
	EXPECT_EQ(print(sample(), true),
		  R"({"module_version":"0.1.0","protocol_version":1,"features":[],"features_mask":0,)"
		  R"("counters":{"nl_requests":5,"nl_errors":0}})"
		  "\n");
}

/* What a newer module would send: a feature bit and a counter we cannot name. */
TEST(PrintInfo, TextWithUnknowns)
{
	gecko::Info info{"0.2.0-rc1", 2, 0b1000000, {{90, "counter_90", 12}}};

	EXPECT_EQ(print(info, false), "gecko 0.2.0-rc1 (protocol 2)\n"
				      "features: feature_6\n"
				      "counters:\n"
				      "  counter_90  12\n");
}

TEST(PrintInfo, JsonWithUnknownsAndQuotes)
{
	gecko::Info info{"0.2.0 \"dev\"", 2, 0b1000010, {}};

	EXPECT_EQ(print(info, true),
		  R"({"module_version":"0.2.0 \"dev\"","protocol_version":2,"features":["ownership","feature_6"],)"
		  R"("features_mask":66,"counters":{}})"
		  "\n");
}

const gecko::Service services[] = {
	{*gecko::parse_address(G), *gecko::parse_address("fd00:11::2"), *gecko::parse_address("fd00:11::2"),
	 *gecko::parse_address("fd00:a::1"), true, 3},
	{*gecko::parse_address("fd00:b::100"), *gecko::parse_address("fd00:12::2"),
	 *gecko::parse_address("fd00:11::2"), {}, false, 0},
};

const gecko::Binding bindings[] = {
	{*gecko::parse_address(G), *gecko::parse_address(PEER), gecko::BindingState::bound, 7, 58},
	{*gecko::parse_address(G), *gecko::parse_address("fd00:c::3"), gecko::BindingState::pending, 65535, 420},
};

template <class T>
std::string print(void (*printer)(std::ostream &, std::span<const T>, bool), std::span<const T> objects,
		  bool json)
{
	std::ostringstream out;

	printer(out, objects, json);
	return out.str();
}

TEST(PrintServices, Text)
{
	EXPECT_EQ(print<gecko::Service>(gecko::ctl::print_services, services, false),
		  "fd00:a::100 coa fd00:11::2 contact-coa fd00:11::2 ha fd00:a::1 contact bindings 3\n"
		  "fd00:b::100 coa fd00:12::2 contact-coa fd00:11::2 bindings 0\n");
}

TEST(PrintServices, Json)
{
	EXPECT_EQ(print<gecko::Service>(gecko::ctl::print_services, services, true),
		  R"([{"home":"fd00:a::100","coa":"fd00:11::2","contact-coa":"fd00:11::2","ha":"fd00:a::1",)"
		  R"("contact":true,"bindings":3},)"
		  R"({"home":"fd00:b::100","coa":"fd00:12::2","contact-coa":"fd00:11::2",)"
		  R"("contact":false,"bindings":0}])"
		  "\n");
}

TEST(PrintServices, NoneIsNoTextOrAnEmptyArray)
{
	EXPECT_EQ(print<gecko::Service>(gecko::ctl::print_services, {}, false), "");
	EXPECT_EQ(print<gecko::Service>(gecko::ctl::print_services, {}, true), "[]\n");
}

TEST(PrintBindings, Text)
{
	EXPECT_EQ(print<gecko::Binding>(gecko::ctl::print_bindings, bindings, false),
		  "fd00:a::100 fd00:c::2 bound seq 7 lifetime 58s\n"
		  "fd00:a::100 fd00:c::3 pending seq 65535 lifetime 420s\n");
}

TEST(PrintBindings, Json)
{
	EXPECT_EQ(print<gecko::Binding>(gecko::ctl::print_bindings, bindings, true),
		  R"([{"home":"fd00:a::100","peer":"fd00:c::2","state":"bound","seq":7,"lifetime":58},)"
		  R"({"home":"fd00:a::100","peer":"fd00:c::3","state":"pending","seq":65535,"lifetime":420}])"
		  "\n");
}

TEST(PrintBindings, NoneIsNoTextOrAnEmptyArray)
{
	EXPECT_EQ(print<gecko::Binding>(gecko::ctl::print_bindings, {}, false), "");
	EXPECT_EQ(print<gecko::Binding>(gecko::ctl::print_bindings, {}, true), "[]\n");
}

const gecko::Flow flows[] = {
	{*gecko::parse_address(G), 80, *gecko::parse_address(PEER), 41234, gecko::FlowState::frozen, 3,
	 std::chrono::milliseconds(9500), {}, {}, {}},
	{*gecko::parse_address(G), 443, *gecko::parse_address("fd00:c::3"), 50000, gecko::FlowState::moved, 0,
	 std::chrono::milliseconds(30000), {}, {}, {}},
	{*gecko::parse_address(G), 80, *gecko::parse_address(PEER), 41235, gecko::FlowState::committed, 1,
	 std::chrono::milliseconds(4000), {}, {}, *gecko::parse_address("fd00:12::2")},
	{*gecko::parse_address(G), 80, *gecko::parse_address(PEER), 41236, gecko::FlowState::arrived, 0,
	 std::chrono::milliseconds(29000), *gecko::parse_address("fd00:11::2"), {}, {}},
	{*gecko::parse_address(G), 80, *gecko::parse_address(PEER), 41237, gecko::FlowState::probing, 0,
	 std::chrono::milliseconds(2000), {},
	 gecko::Probe{2, gecko::ProbeSegment{100, 200, 501, 7, 9, 0x10}, std::chrono::milliseconds(12)}, {}},
	{*gecko::parse_address(G), 80, *gecko::parse_address(PEER), 41238, gecko::FlowState::probing, 0,
	 std::chrono::milliseconds(2500), {}, gecko::Probe{1, {}, {}}, {}},
};

TEST(PrintFlows, Text)
{
	EXPECT_EQ(print<gecko::Flow>(gecko::ctl::print_flows, flows, false),
		  "[fd00:a::100]:80 [fd00:c::2]:41234 frozen held 3 timeout 9500ms\n"
		  "[fd00:a::100]:443 [fd00:c::3]:50000 moved held 0 timeout 30000ms\n"
		  "[fd00:a::100]:80 [fd00:c::2]:41235 committed held 1 timeout 4000ms forward fd00:12::2\n"
		  "[fd00:a::100]:80 [fd00:c::2]:41236 arrived held 0 timeout 29000ms donor fd00:11::2\n"
		  "[fd00:a::100]:80 [fd00:c::2]:41237 probing held 0 timeout 2000ms probes 2 answer seq 100 ack 200 "
		  "window 501 tsval 7 tsecr 9 age 12ms\n"
		  "[fd00:a::100]:80 [fd00:c::2]:41238 probing held 0 timeout 2500ms probes 1\n");
}

TEST(PrintFlows, JsonProbing)
{
	EXPECT_EQ(print<gecko::Flow>(gecko::ctl::print_flows, std::span(flows).subspan(4, 2), true),
		  R"([{"local":"fd00:a::100","local-port":80,"remote":"fd00:c::2","remote-port":41237,)"
		  R"("state":"probing","held":0,"timeout-ms":2000,"probes":2,"answer":{"seq":100,"ack":200,)"
		  R"("window":501,"flags":16,"tsval":7,"tsecr":9,"age-ms":12}},)"
		  R"({"local":"fd00:a::100","local-port":80,"remote":"fd00:c::2","remote-port":41238,)"
		  R"("state":"probing","held":0,"timeout-ms":2500,"probes":1}])"
		  "\n");
}

TEST(PrintFlows, Json)
{
	EXPECT_EQ(print<gecko::Flow>(gecko::ctl::print_flows, std::span(flows).subspan(1, 3), true),
		  R"([{"local":"fd00:a::100","local-port":443,"remote":"fd00:c::3","remote-port":50000,)"
		  R"("state":"moved","held":0,"timeout-ms":30000},)"
		  R"({"local":"fd00:a::100","local-port":80,"remote":"fd00:c::2","remote-port":41235,)"
		  R"("state":"committed","held":1,"timeout-ms":4000,"forward":"fd00:12::2"},)"
		  R"({"local":"fd00:a::100","local-port":80,"remote":"fd00:c::2","remote-port":41236,)"
		  R"("state":"arrived","held":0,"timeout-ms":29000,"donor":"fd00:11::2"}])"
		  "\n");
}

const gecko::Limits limits{256, 1048576, 2, 65536, {1, 3000, 2, 17}};

std::string print(const gecko::Limits &l, bool json)
{
	std::ostringstream out;

	gecko::ctl::print_limits(out, l, json);
	return out.str();
}

TEST(PrintLimits, Text)
{
	EXPECT_EQ(print(limits, false),
		  "services  1 of 256\n"
		  "bindings  3000 of 1048576\n"
		  "flows     2 of 2\n"
		  "held      17 of 65536\n");
}

TEST(PrintLimits, Json)
{
	EXPECT_EQ(print(limits, true),
		  R"({"services":{"limit":256,"used":1},"bindings":{"limit":1048576,"used":3000},)"
		  R"("flows":{"limit":2,"used":2},"held":{"limit":65536,"used":17}})"
		  "\n");
}

TEST(PrintFlows, NoneIsNoTextOrAnEmptyArray)
{
	EXPECT_EQ(print<gecko::Flow>(gecko::ctl::print_flows, {}, false), "");
	EXPECT_EQ(print<gecko::Flow>(gecko::ctl::print_flows, {}, true), "[]\n");
}

using std::chrono::microseconds;
using std::chrono::milliseconds;

const gecko::agent::HandoffRecord handoffs[] = {
	{1, true, *gecko::parse_address(PEER), *gecko::parse_address("fd00:12::2"), 2, true, false, "",
	 microseconds(12340), microseconds(4500), microseconds(30020)},
	{2, false, *gecko::parse_address(PEER), *gecko::parse_address("fd00:13::2"), 1, false, false,
	 "the client refused the Binding Update: status 135", microseconds(0), microseconds(0),
	 microseconds(3000000)},
	{0xfedcba9876543210, false, *gecko::parse_address("fd00:c::3"), *gecko::parse_address("fd00:11::2"), 1,
	 true, false, "", microseconds(900), microseconds(0), microseconds(21070)},
	{4, true, *gecko::parse_address(PEER), *gecko::parse_address("fd00:13::2"), 1, false, true,
	 "the acceptor did not answer in time", microseconds(1000), microseconds(55000000), microseconds(55001000)},
};

TEST(PrintHandoffs, Text)
{
	EXPECT_EQ(print<gecko::agent::HandoffRecord>(gecko::ctl::print_handoffs, handoffs, false),
		  "0000000000000001 out fd00:c::2 to fd00:12::2 conns 2 prepare 12.3ms frozen 4.5ms total 30.0ms moved\n"
		  "0000000000000002 in fd00:c::2 from fd00:13::2 conns 1 prepare 0.0ms frozen 0.0ms total 3000.0ms "
		  "rolled back: the client refused the Binding Update: status 135\n"
		  "fedcba9876543210 in fd00:c::3 from fd00:11::2 conns 1 prepare 0.9ms frozen 0.0ms total 21.1ms moved\n"
		  "0000000000000004 out fd00:c::2 to fd00:13::2 conns 1 prepare 1.0ms frozen 55000.0ms total 55001.0ms "
		  "lost: the acceptor did not answer in time\n");
}

TEST(PrintHandoffs, Json)
{
	EXPECT_EQ(print<gecko::agent::HandoffRecord>(gecko::ctl::print_handoffs, std::span(handoffs, 2), true),
		  R"([{"id":"0000000000000001","direction":"out","client":"fd00:c::2","node":"fd00:12::2","conns":2,)"
		  R"("moved":true,"lost":false,"prepare-us":12340,"frozen-us":4500,"total-us":30020},)"
		  R"({"id":"0000000000000002","direction":"in","client":"fd00:c::2","node":"fd00:13::2","conns":1,)"
		  R"("moved":false,"lost":false,"error":"the client refused the Binding Update: status 135",)"
		  R"("prepare-us":0,"frozen-us":0,"total-us":3000000}])"
		  "\n");
}

TEST(PrintHandoffs, RolledBackWithoutAReason)
{
	gecko::agent::HandoffRecord r = handoffs[1];

	r.error.clear();
	EXPECT_EQ(print<gecko::agent::HandoffRecord>(gecko::ctl::print_handoffs, std::span(&r, 1), false),
		  "0000000000000002 in fd00:c::2 from fd00:13::2 conns 1 prepare 0.0ms frozen 0.0ms total 3000.0ms "
		  "rolled back: no reason given\n");
}

TEST(PrintHandoffs, NoneIsNoTextOrAnEmptyArray)
{
	EXPECT_EQ(print<gecko::agent::HandoffRecord>(gecko::ctl::print_handoffs, {}, false), "");
	EXPECT_EQ(print<gecko::agent::HandoffRecord>(gecko::ctl::print_handoffs, {}, true), "[]\n");
}

using State = gecko::agent::MemberStatus::State;
const gecko::agent::MemberStatus members[] = {
	{"node1", *gecko::parse_address("fd00:11::2"), State::self, milliseconds(0), 12},
	{"node2", *gecko::parse_address("fd00:12::2"), State::alive, milliseconds(230), 1},
	{"node3", *gecko::parse_address("fd00:13::2"), State::dead, milliseconds(61500), 9},
	{"node4", *gecko::parse_address("fd00:14::2"), State::unknown, std::nullopt, 0, 0, true},
	{"node5", *gecko::parse_address("fd00:15::2"), State::draining, milliseconds(900), 3},
	{"node6", *gecko::parse_address("fd00:16::2"), State::left, milliseconds(1200), 0},
	{"node7", *gecko::parse_address("fd00:17::2"), State::unavailable, milliseconds(400), 5},
};

TEST(PrintMembers, Text)
{
	EXPECT_EQ(print<gecko::agent::MemberStatus>(gecko::ctl::print_members, members, false),
		  "node1        fd00:11::2               self        12 connections\n"
		  "node2        fd00:12::2               alive       1 connection, heard 0.2 s ago\n"
		  "node3        fd00:13::2               dead        heard 61.5 s ago\n"
		  "node4        fd00:14::2               unknown     never heard, joined\n"
		  "node5        fd00:15::2               draining    3 connections, heard 0.9 s ago\n"
		  "node6        fd00:16::2               left        heard 1.2 s ago\n"
		  "node7        fd00:17::2               unavailable 5 connections, heard 0.4 s ago\n");
}

TEST(PrintMembers, Json)
{
	EXPECT_EQ(print<gecko::agent::MemberStatus>(gecko::ctl::print_members, members, true),
		  R"([{"name":"node1","address":"fd00:11::2","state":"self","silent_ms":0,"connections":12,"joined":false},)"
		  R"({"name":"node2","address":"fd00:12::2","state":"alive","silent_ms":230,"connections":1,"joined":false},)"
		  R"({"name":"node3","address":"fd00:13::2","state":"dead","silent_ms":61500,"connections":9,"joined":false},)"
		  R"({"name":"node4","address":"fd00:14::2","state":"unknown","connections":0,"joined":true},)"
		  R"({"name":"node5","address":"fd00:15::2","state":"draining","silent_ms":900,"connections":3,"joined":false},)"
		  R"({"name":"node6","address":"fd00:16::2","state":"left","silent_ms":1200,"connections":0,"joined":false},)"
		  R"({"name":"node7","address":"fd00:17::2","state":"unavailable","silent_ms":400,"connections":5,"joined":false}])"
		  "\n");
}

const gecko::agent::ProgramStatus programs[] = {
	{412, "geckoproxy", {80}, 3, "policy round-robin; placed node1 4", {{"sessions", 3}, {"in_octets", 1200}}},
	{518, "gecko-echo-server", {7, 8}, 1, "", {}},
};

TEST(PrintPrograms, Text)
{
	EXPECT_EQ(print<gecko::agent::ProgramStatus>(gecko::ctl::print_programs, programs, false),
		  "412      geckoproxy         ports 80           3 connections; policy round-robin; placed node1 4; "
		  "sessions=3 in_octets=1200\n"
		  "518      gecko-echo-server  ports 7,8          1 connection\n");
}

TEST(PrintPrograms, Json)
{
	EXPECT_EQ(print<gecko::agent::ProgramStatus>(gecko::ctl::print_programs, programs, true),
		  R"([{"pid":412,"name":"geckoproxy","ports":[80],"connections":3,"detail":"policy round-robin; placed node1 4",)"
		  R"("counters":{"sessions":3,"in_octets":1200}},)"
		  R"({"pid":518,"name":"gecko-echo-server","ports":[7,8],"connections":1,"detail":"","counters":{}}])"
		  "\n");
}

TEST(CounterNames, LowerCaseDigitsAndUnderscoresUpTo32)
{
	EXPECT_TRUE(gecko::agent::valid_counter_name("in_octets"));
	EXPECT_TRUE(gecko::agent::valid_counter_name(std::string(32, 'a')));
	EXPECT_FALSE(gecko::agent::valid_counter_name(""));
	EXPECT_FALSE(gecko::agent::valid_counter_name(std::string(33, 'a')));
	EXPECT_FALSE(gecko::agent::valid_counter_name("In"));
	EXPECT_FALSE(gecko::agent::valid_counter_name("a=b"));
	EXPECT_FALSE(gecko::agent::valid_counter_name("a,b"));
}

/* gecko-ctl config check on files of its own: the verdict, in text and JSON, and a refusal. */
class ConfigCheck : public testing::Test {
protected:
	void SetUp() override
	{
		char tmpl[] = "/tmp/gecko-ctl-config-XXXXXX";
		ASSERT_NE(mkdtemp(tmpl), nullptr);
		dir_ = tmpl;
		conf_ = dir_ + "/gecko.conf";
		std::ofstream(conf_) << "service = fd00:a::100\nhome-agent = fd00:a::1\nkey-file = k\n"
					"contact = n1\nbackup = n2\n[member.n1]\naddress = fd00:11::2\n"
					"[member.n2]\naddress = fd00:12::2\nweight = 2\n";
		std::ofstream(dir_ + "/k") << "Wm9vbVpvb21ab29tWm9vbVpvb21ab29tWm9vbVpvb20=\n";
		chmod((dir_ + "/k").c_str(), 0600);
	}
	void TearDown() override { std::filesystem::remove_all(dir_); }

	std::string dir_, conf_;
};

TEST_F(ConfigCheck, SaysWhatTheFileDescribes)
{
	auto r = run({"config", "check", conf_});

	EXPECT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(r.out, conf_ + ": service fd00:a::100, home agent fd00:a::1, 2 members, contact n1, backups n2, "
				 "policy random, cluster key: ok\n");
}

TEST_F(ConfigCheck, Json)
{
	auto r = run({"config", "check", conf_, "--json"});

	EXPECT_EQ(r.status, 0) << r.err;
	EXPECT_EQ(r.out, "{\"file\":\"" + conf_ +
				 "\",\"service\":\"fd00:a::100\",\"home_agent\":\"fd00:a::1\",\"port\":7433,"
				 "\"credentials\":\"cluster key\",\"contact\":\"n1\",\"backups\":[\"n2\"],"
				 "\"members\":[{\"name\":\"n1\",\"address\":\"fd00:11::2\",\"weight\":1},"
				 "{\"name\":\"n2\",\"address\":\"fd00:12::2\",\"weight\":2}],"
				 "\"heartbeat_period_ms\":1000,\"heartbeat_misses\":3,\"registration_lifetime\":420,"
				 "\"policy\":\"random\"}\n");
}

TEST_F(ConfigCheck, RefusesAKeyOthersMayReadNamingTheLine)
{
	chmod((dir_ + "/k").c_str(), 0644);
	auto r = run({"config", "check", conf_});

	EXPECT_EQ(r.status, 1);
	EXPECT_EQ(r.out, "");
	EXPECT_TRUE(r.err.starts_with("Error: " + conf_ + ":3: key-file: ")) << r.err;
}

} // namespace
