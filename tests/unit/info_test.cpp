// SPDX-License-Identifier: LGPL-2.1-or-later

#include "bytes.h"
#include "info_decode.h"
#include "netlink.h"

#include <gtest/gtest.h>

#include <linux/gecko.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include <cerrno>
#include <string>

namespace {

/* A GECKO_CMD_GET_INFO reply built with libnl. */
class Reply {
public:
	Reply() : msg_(nlmsg_alloc())
	{
		genlmsg_put(msg_.get(), NL_AUTO_PORT, NL_AUTO_SEQ, GENL_MIN_ID, 0, 0,
			    GECKO_CMD_GET_INFO, GECKO_GENL_VERSION);
	}

	nl_msg *get() { return msg_.get(); }

	/* Filled as gecko_info_fill() does, padding included, but for @skip. */
	Reply &fill(int skip = GECKO_A_UNSPEC)
	{
		if (skip != GECKO_A_MODULE_VERSION)
			nla_put_string(get(), GECKO_A_MODULE_VERSION, "0.1.0");
		if (skip != GECKO_A_PROTOCOL_VERSION)
			nla_put_u32(get(), GECKO_A_PROTOCOL_VERSION, 1);
		if (skip != GECKO_A_FEATURES) {
			nla_put(get(), GECKO_A_PAD, 0, nullptr);
			nla_put_u64(get(), GECKO_A_FEATURES, 0);
		}
		if (skip != GECKO_A_COUNTERS) {
			nlattr *nest = nla_nest_start(get(), GECKO_A_COUNTERS);

			nla_put(get(), GECKO_COUNTER_PAD, 0, nullptr);
			nla_put_u64(get(), GECKO_COUNTER_NL_REQUESTS, 5);
			nla_put_u64(get(), GECKO_COUNTER_NL_ERRORS, 0);
			nla_nest_end(get(), nest);
		}
		return *this;
	}

	gecko::Result<gecko::Info> decode() const
	{
		return gecko::decode_info(*gecko::netlink::attributes(msg_.get()));
	}

private:
	gecko::netlink::MessagePtr msg_;
};

TEST(DecodeInfo, GoodReply)
{
	auto info = Reply().fill().decode();

	ASSERT_TRUE(info) << info.error().describe();
	EXPECT_EQ(info->module_version, "0.1.0");
	EXPECT_EQ(info->protocol_version, 1u);
	EXPECT_EQ(info->features, 0u);
	ASSERT_EQ(info->counters.size(), 2u);
	EXPECT_EQ(info->counters[0].id, GECKO_COUNTER_NL_REQUESTS);
	EXPECT_EQ(info->counters[0].name, "nl_requests");
	EXPECT_EQ(info->counters[0].value, 5u);
	EXPECT_EQ(info->counters[1].id, GECKO_COUNTER_NL_ERRORS);
	EXPECT_EQ(info->counters[1].name, "nl_errors");
	EXPECT_EQ(info->counters[1].value, 0u);
}

TEST(DecodeInfo, UnknownCounterIsNamedById)
{
	Reply reply;
	reply.fill(GECKO_A_COUNTERS);
	nlattr *nest = nla_nest_start(reply.get(), GECKO_A_COUNTERS);
	nla_put_u64(reply.get(), 99, 7);
	nla_nest_end(reply.get(), nest);

	auto info = reply.decode();

	ASSERT_TRUE(info) << info.error().describe();
	ASSERT_EQ(info->counters.size(), 1u);
	EXPECT_EQ(info->counters[0].id, 99);
	EXPECT_EQ(info->counters[0].name, "counter_99");
	EXPECT_EQ(info->counters[0].value, 7u);
}

TEST(DecodeInfo, UnknownAttributeIsIgnored)
{
	Reply reply;
	reply.fill();
	nla_put_u32(reply.get(), GECKO_A_MAX + 1, 42);

	auto info = reply.decode();

	ASSERT_TRUE(info) << info.error().describe();
	EXPECT_EQ(info->counters.size(), 2u);
}

struct Missing {
	int type;
	const char *name;
};

class DecodeInfoMissing : public testing::TestWithParam<Missing> {};

TEST_P(DecodeInfoMissing, IsEproto)
{
	auto info = Reply().fill(GetParam().type).decode();

	ASSERT_FALSE(info);
	EXPECT_EQ(info.error().code, EPROTO);
	EXPECT_EQ(info.error().message, std::string("malformed GECKO_CMD_GET_INFO reply: ") +
						GetParam().name + " is missing");
}

INSTANTIATE_TEST_SUITE_P(Attributes, DecodeInfoMissing,
			 testing::Values(Missing{GECKO_A_MODULE_VERSION, "GECKO_A_MODULE_VERSION"},
					 Missing{GECKO_A_PROTOCOL_VERSION, "GECKO_A_PROTOCOL_VERSION"},
					 Missing{GECKO_A_FEATURES, "GECKO_A_FEATURES"},
					 Missing{GECKO_A_COUNTERS, "GECKO_A_COUNTERS"}),
			 [](const auto &info) { return std::string(info.param.name); });

struct Malformed {
	const char *name;
	int type;		/* replaced by @payload */
	Bytes payload;
	std::string why;
};

Bytes bytes(std::string_view s)
{
	const auto *p = reinterpret_cast<const std::byte *>(s.data());

	return {p, p + s.size()};
}

Bytes operator+(Bytes a, const Bytes &b)
{
	a.insert(a.end(), b.begin(), b.end());
	return a;
}

const Malformed malformed[] = {
	{"protocol_version_u16", GECKO_A_PROTOCOL_VERSION, bytes({"\1\0", 2}),
	 "GECKO_A_PROTOCOL_VERSION has 2 bytes instead of 4"},
	{"protocol_version_u64", GECKO_A_PROTOCOL_VERSION, bytes({"\1\0\0\0\0\0\0\0", 8}),
	 "GECKO_A_PROTOCOL_VERSION has 8 bytes instead of 4"},
	{"features_u32", GECKO_A_FEATURES, bytes({"\0\0\0\0", 4}),
	 "GECKO_A_FEATURES has 4 bytes instead of 8"},
	{"module_version_without_nul", GECKO_A_MODULE_VERSION, bytes("0.1.0"),
	 "GECKO_A_MODULE_VERSION is not NUL-terminated"},
	{"module_version_empty", GECKO_A_MODULE_VERSION, {},
	 "GECKO_A_MODULE_VERSION is not NUL-terminated"},
	{"counter_u32", GECKO_A_COUNTERS, attr(GECKO_COUNTER_NL_REQUESTS, {"\5\0\0\0", 4}),
	 "counter nl_requests has 4 bytes instead of 8"},
	{"counters_stray_bytes", GECKO_A_COUNTERS,
	 attr(GECKO_COUNTER_NL_REQUESTS, {"\5\0\0\0\0\0\0\0", 8}) + bytes({"\0\0", 2}),
	 "GECKO_A_COUNTERS ends in 2 stray bytes"},
};

class DecodeInfoMalformed : public testing::TestWithParam<Malformed> {};

TEST_P(DecodeInfoMalformed, IsEproto)
{
	Reply reply;
	reply.fill(GetParam().type);
	nla_put(reply.get(), GetParam().type, static_cast<int>(GetParam().payload.size()),
		GetParam().payload.data());

	auto info = reply.decode();

	ASSERT_FALSE(info);
	EXPECT_EQ(info.error().code, EPROTO);
	EXPECT_EQ(info.error().message, "malformed GECKO_CMD_GET_INFO reply: " + GetParam().why);
}

INSTANTIATE_TEST_SUITE_P(Cases, DecodeInfoMalformed, testing::ValuesIn(malformed),
			 [](const auto &info) { return std::string(info.param.name); });

TEST(FeatureNames, NoneForZero)
{
	EXPECT_TRUE(gecko::feature_names(0).empty());
}

TEST(FeatureNames, KnownBitsAreNamed)
{
	EXPECT_EQ(gecko::feature_names(GECKO_FEATURE_SOCKETS), (std::vector<std::string>{"sockets"}));
}

/* A newer module's features, among one this library knows. */
TEST(FeatureNames, UnknownBitsAreNamedByPosition)
{
	auto names = gecko::feature_names(0b11111111 | std::uint64_t{1} << 63);

	EXPECT_EQ(names, (std::vector<std::string>{"sockets", "ownership", "limits", "probe", "guard", "pass-on",
						   "feature_6", "feature_7", "feature_63"}));
}

} // namespace
