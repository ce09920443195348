// SPDX-License-Identifier: LGPL-2.1-or-later

#include <gecko/address.h>

#include <gtest/gtest.h>

#include <cerrno>

namespace {

struct Text {
	const char *name;
	std::string_view in;
	std::string_view out;	/* the canonical form */
};

const Text good[] = {
	{"compressed", "fd00:a::100", "fd00:a::100"},
	{"full", "fd00:000a:0000:0000:0000:0000:0000:0100", "fd00:a::100"},
	{"upper_case", "FD00:A::100", "fd00:a::100"},
	{"unspecified", "::", "::"},
	{"mapped_ipv4", "::ffff:192.0.2.1", "::ffff:192.0.2.1"},
};

class GoodAddress : public testing::TestWithParam<Text> {};

TEST_P(GoodAddress, ParsesToCanonicalForm)
{
	auto addr = gecko::parse_address(GetParam().in);

	ASSERT_TRUE(addr) << addr.error().describe();
	EXPECT_EQ(gecko::format_address(*addr), GetParam().out);
}

INSTANTIATE_TEST_SUITE_P(Cases, GoodAddress, testing::ValuesIn(good),
			 [](const auto &info) { return std::string(info.param.name); });

class BadAddress : public testing::TestWithParam<Text> {};

TEST_P(BadAddress, IsEinvalQuotingTheText)
{
	auto addr = gecko::parse_address(GetParam().in);

	ASSERT_FALSE(addr);
	EXPECT_EQ(addr.error().code, EINVAL);
	EXPECT_EQ(addr.error().message, "not an IPv6 address: '" + std::string(GetParam().in) + "'");
}

const Text bad[] = {
	{"word", "xyz", ""},
	{"empty", "", ""},
	{"ipv4", "192.0.2.1", ""},
	{"two_gaps", "fd00::a::1", ""},
	{"prefix_length", "fd00:a::/64", ""},
	{"trailing_space", "fd00:a::1 ", ""},
	/* A string_view need not end in NUL: the parser must not read past it. */
	{"cut_from_longer", std::string_view("fd00:a::1", 6), ""},
};

INSTANTIATE_TEST_SUITE_P(Cases, BadAddress, testing::ValuesIn(bad),
			 [](const auto &info) { return std::string(info.param.name); });

} // namespace
