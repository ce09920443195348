// SPDX-License-Identifier: GPL-2.0-only

#include "cli.h"

#include <gtest/gtest.h>

#include <filesystem>
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

/* --json is global, so it goes before or after the command. */
class InfoWithoutModule : public testing::TestWithParam<Args> {};

TEST_P(InfoWithoutModule, FailsWithKernelError)
{
	if (std::filesystem::exists("/sys/module/gecko"))
		GTEST_SKIP() << "gecko.ko is loaded: gecko-kernel-tests covers this host";

	auto r = run(GetParam().args);

	EXPECT_EQ(r.status, 1);
	EXPECT_EQ(r.out, "");
	EXPECT_EQ(r.err, "Error: generic netlink family 'gecko' not found: "
			 "is gecko.ko loaded? (modprobe gecko)\n");
}

INSTANTIATE_TEST_SUITE_P(Spellings, InfoWithoutModule,
			 testing::Values(Args{"text", {"info"}},
					 Args{"json_after_command", {"info", "--json"}},
					 Args{"json_before_command", {"--json", "info"}},
					 Args{"short_json", {"-j", "info"}}),
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
	gecko::Info info{"0.2.0-rc1", 2, 0b10, {{9, "counter_9", 12}}};

	EXPECT_EQ(print(info, false), "gecko 0.2.0-rc1 (protocol 2)\n"
				      "features: feature_1\n"
				      "counters:\n"
				      "  counter_9  12\n");
}

TEST(PrintInfo, JsonWithUnknownsAndQuotes)
{
	gecko::Info info{"0.2.0 \"dev\"", 2, 0b10, {}};

	EXPECT_EQ(print(info, true),
		  R"({"module_version":"0.2.0 \"dev\"","protocol_version":2,"features":["feature_1"],)"
		  R"("features_mask":2,"counters":{}})"
		  "\n");
}

} // namespace
