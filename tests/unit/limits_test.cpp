// SPDX-License-Identifier: LGPL-2.1-or-later

#include "limits_codec.h"
#include "message.h"

#include <gtest/gtest.h>

#include <linux/gecko.h>

#include <algorithm>
#include <cerrno>

namespace {

TEST(PutLimits, CarriesOnlyTheLimitsSet)
{
	Message msg(GECKO_CMD_LIMITS_SET);
	gecko::Limits limits;
	limits.flows = 7;
	limits.held = 0;
	limits.in_use.services = 3;	/* never sent */

	ASSERT_TRUE(gecko::put_limits(msg.get(), limits));

	auto tb = msg.nested(GECKO_A_LIMITS, GECKO_LIMITS_A_MAX);
	expect_attr(tb[GECKO_LIMITS_A_FLOWS], std::uint32_t{7}, "flows");
	expect_attr(tb[GECKO_LIMITS_A_HELD], std::uint32_t{0}, "held");
	EXPECT_EQ(std::ranges::count(tb, nullptr), GECKO_LIMITS_A_MAX + 1 - 2);
}

TEST(PutLimits, NoneSetIsEinval)
{
	Message msg(GECKO_CMD_LIMITS_SET);

	auto done = gecko::put_limits(msg.get(), gecko::Limits{});

	ASSERT_FALSE(done);
	EXPECT_EQ(done.error().code, EINVAL);
	EXPECT_EQ(done.error().message, "no limit to set");
}

Fields limits_fields()
{
	return {
		{GECKO_LIMITS_A_SERVICES, bytes_of(std::uint32_t{256})},
		{GECKO_LIMITS_A_BINDINGS, bytes_of(std::uint32_t{1 << 20})},
		{GECKO_LIMITS_A_FLOWS, bytes_of(std::uint32_t{65536})},
		{GECKO_LIMITS_A_HELD, bytes_of(std::uint32_t{100})},
		{GECKO_LIMITS_A_SERVICES_USED, bytes_of(std::uint32_t{1})},
		{GECKO_LIMITS_A_BINDINGS_USED, bytes_of(std::uint32_t{2})},
		{GECKO_LIMITS_A_FLOWS_USED, bytes_of(std::uint32_t{3})},
		{GECKO_LIMITS_A_HELD_USED, bytes_of(std::uint32_t{4})},
	};
}

gecko::Result<gecko::Limits> decode(const Fields &fields)
{
	return gecko::decode_limits(reply(GECKO_CMD_LIMITS_GET, GECKO_A_LIMITS, fields).attrs());
}

TEST(DecodeLimits, GoodReply)
{
	auto limits = decode(limits_fields());

	ASSERT_TRUE(limits) << limits.error().describe();
	EXPECT_EQ(limits->services, 256u);
	EXPECT_EQ(limits->bindings, 1u << 20);
	EXPECT_EQ(limits->flows, 65536u);
	EXPECT_EQ(limits->held, 100u);
	EXPECT_EQ(limits->in_use.services, 1u);
	EXPECT_EQ(limits->in_use.bindings, 2u);
	EXPECT_EQ(limits->in_use.flows, 3u);
	EXPECT_EQ(limits->in_use.held, 4u);
}

TEST(DecodeLimits, NewerModulesAttributesAreIgnored)
{
	auto limits = decode(change(limits_fields(), GECKO_LIMITS_A_MAX + 1, bytes_of(std::uint32_t{9})));

	ASSERT_TRUE(limits) << limits.error().describe();
	EXPECT_EQ(limits->held, 100u);
}

const Malformed bad_limits[] = {
	{"services_missing", GECKO_LIMITS_A_SERVICES, {}, "GECKO_LIMITS_A_SERVICES is missing"},
	{"held_used_missing", GECKO_LIMITS_A_HELD_USED, {}, "GECKO_LIMITS_A_HELD_USED is missing"},
	{"flows_u16", GECKO_LIMITS_A_FLOWS, Bytes(2), "GECKO_LIMITS_A_FLOWS has 2 bytes instead of 4"},
};

class DecodeLimitsMalformed : public testing::TestWithParam<Malformed> {};

TEST_P(DecodeLimitsMalformed, IsEproto)
{
	auto limits = decode(change(limits_fields(), GetParam().type, GetParam().payload));

	ASSERT_FALSE(limits);
	EXPECT_EQ(limits.error().code, EPROTO);
	EXPECT_EQ(limits.error().message, "malformed GECKO_CMD_LIMITS_GET reply: " + GetParam().why);
}

INSTANTIATE_TEST_SUITE_P(Cases, DecodeLimitsMalformed, testing::ValuesIn(bad_limits),
			 [](const auto &info) { return std::string(info.param.name); });

} // namespace
