// SPDX-License-Identifier: LGPL-2.1-or-later

#include "message.h"
#include "service_codec.h"

#include <gecko/address.h>

#include <gtest/gtest.h>

#include <linux/gecko.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include <algorithm>
#include <cerrno>
#include <string>

namespace {

gecko::Service contact_service()
{
	return {addr("fd00:a::100"), addr("fd00:11::2"), addr("fd00:11::2"), addr("fd00:a::1"), true, 0};
}

TEST(PutService, CarriesEveryField)
{
	Message msg(GECKO_CMD_SERVICE_SET);

	ASSERT_TRUE(gecko::put_service(msg.get(), contact_service()));

	auto tb = msg.nested(GECKO_A_SERVICE, GECKO_SERVICE_A_MAX);
	expect_attr(tb[GECKO_SERVICE_A_HOME], addr("fd00:a::100"), "home");
	expect_attr(tb[GECKO_SERVICE_A_COA], addr("fd00:11::2"), "coa");
	expect_attr(tb[GECKO_SERVICE_A_CONTACT_COA], addr("fd00:11::2"), "contact coa");
	expect_attr(tb[GECKO_SERVICE_A_HA], addr("fd00:a::1"), "ha");
	expect_attr(tb[GECKO_SERVICE_A_FLAGS], std::uint32_t{GECKO_SERVICE_F_CONTACT}, "flags");
	EXPECT_EQ(tb[GECKO_SERVICE_A_BINDINGS], nullptr) << "reply-only";
}

/* SERVICE_SET replaces every field: no flags means none, not "unchanged". */
TEST(PutService, SendsZeroFlagsAndNoHaWhenUnset)
{
	gecko::Service svc{addr("fd00:a::100"), addr("fd00:12::2"), addr("fd00:11::2"), {}, false, 7};
	Message msg(GECKO_CMD_SERVICE_SET);

	ASSERT_TRUE(gecko::put_service(msg.get(), svc));

	auto tb = msg.nested(GECKO_A_SERVICE, GECKO_SERVICE_A_MAX);
	EXPECT_EQ(tb[GECKO_SERVICE_A_HA], nullptr);
	expect_attr(tb[GECKO_SERVICE_A_FLAGS], std::uint32_t{0}, "flags");
	EXPECT_EQ(tb[GECKO_SERVICE_A_BINDINGS], nullptr);
}

TEST(PutService, NoRoomIsEmsgsize)
{
	gecko::netlink::MessagePtr msg(nlmsg_alloc_size(64));
	genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, GENL_MIN_ID, 0, 0, GECKO_CMD_SERVICE_SET, 1);

	auto done = gecko::put_service(msg.get(), contact_service());

	ASSERT_FALSE(done);
	EXPECT_EQ(done.error().code, EMSGSIZE);
}

TEST(PutServiceHome, CarriesOnlyTheHome)
{
	Message msg(GECKO_CMD_SERVICE_DEL);

	ASSERT_TRUE(gecko::put_service_home(msg.get(), addr("fd00:a::100")));

	auto tb = msg.nested(GECKO_A_SERVICE, GECKO_SERVICE_A_MAX);
	expect_attr(tb[GECKO_SERVICE_A_HOME], addr("fd00:a::100"), "home");
	EXPECT_EQ(std::ranges::count(tb, nullptr), GECKO_SERVICE_A_MAX);
}

TEST(PutBinding, CarriesEveryFieldInItsWidth)
{
	gecko::Binding binding{addr("fd00:a::100"), addr("fd00:c::2"), gecko::BindingState::bound, 7, 60};
	gecko::netlink::Requests requests(GENL_MIN_ID, GECKO_GENL_VERSION);

	gecko::put_binding(requests, binding);

	ASSERT_EQ(requests.size(), 1U);
	Message msg(requests.bytes());
	EXPECT_EQ(genlmsg_hdr(nlmsg_hdr(msg.get()))->cmd, GECKO_CMD_BINDING_SET);
	auto tb = msg.nested(GECKO_A_BINDING, GECKO_BINDING_A_MAX);
	expect_attr(tb[GECKO_BINDING_A_HOME], addr("fd00:a::100"), "home");
	expect_attr(tb[GECKO_BINDING_A_PEER], addr("fd00:c::2"), "peer");
	expect_attr(tb[GECKO_BINDING_A_STATE], std::uint8_t{GECKO_BINDING_BOUND}, "state");
	expect_attr(tb[GECKO_BINDING_A_SEQ], std::uint16_t{7}, "seq");
	expect_attr(tb[GECKO_BINDING_A_LIFETIME], std::uint32_t{60}, "lifetime");
}

/* The requests built in place are what libnl builds, octet for octet, one after the other. */
TEST(PutBinding, IsWhatLibnlBuilds)
{
	const gecko::Binding bindings[] = {
		{addr("fd00:a::100"), addr("fd00:c::2"), gecko::BindingState::bound, 7, 60},
		{addr("fd00:a::100"), addr("fd00:c::3"), gecko::BindingState::pending, 65535, 420},
	};
	gecko::netlink::Requests requests(GENL_MIN_ID, GECKO_GENL_VERSION);
	Bytes expected;

	for (const auto &b : bindings) {
		gecko::put_binding(requests, b);
		Message msg(GECKO_CMD_BINDING_SET);
		nlattr *nest = nla_nest_start(msg.get(), GECKO_A_BINDING);
		nla_put(msg.get(), GECKO_BINDING_A_HOME, sizeof(b.home), &b.home);
		nla_put(msg.get(), GECKO_BINDING_A_PEER, sizeof(b.peer), &b.peer);
		nla_put_u8(msg.get(), GECKO_BINDING_A_STATE, static_cast<std::uint8_t>(b.state));
		nla_put_u16(msg.get(), GECKO_BINDING_A_SEQ, b.seq);
		nla_put_u32(msg.get(), GECKO_BINDING_A_LIFETIME, b.lifetime);
		nla_nest_end(msg.get(), nest);
		/* Socket::batch() numbers and flags each request as it sends them. */
		nlmsghdr *nlh = nlmsg_hdr(msg.get());
		nlh->nlmsg_flags = nlh->nlmsg_seq = nlh->nlmsg_pid = 0;
		const auto *raw = reinterpret_cast<const std::byte *>(nlh);
		expected.insert(expected.end(), raw, raw + nlh->nlmsg_len);
	}

	ASSERT_EQ(requests.size(), 2U);
	EXPECT_EQ(Bytes(requests.bytes().begin(), requests.bytes().end()), expected);
}

TEST(PutBindingKey, WithPeerNamesOneBinding)
{
	const in6_addr peer = addr("fd00:c::2");
	Message msg(GECKO_CMD_BINDING_DEL);

	ASSERT_TRUE(gecko::put_binding_key(msg.get(), addr("fd00:a::100"), &peer));

	auto tb = msg.nested(GECKO_A_BINDING, GECKO_BINDING_A_MAX);
	expect_attr(tb[GECKO_BINDING_A_HOME], addr("fd00:a::100"), "home");
	expect_attr(tb[GECKO_BINDING_A_PEER], peer, "peer");
	EXPECT_EQ(std::ranges::count(tb, nullptr), GECKO_BINDING_A_MAX - 1);
}

TEST(PutBindingKey, WithoutPeerIsADumpFilter)
{
	Message msg(GECKO_CMD_BINDING_GET);

	ASSERT_TRUE(gecko::put_binding_key(msg.get(), addr("fd00:a::100"), nullptr));

	auto tb = msg.nested(GECKO_A_BINDING, GECKO_BINDING_A_MAX);
	expect_attr(tb[GECKO_BINDING_A_HOME], addr("fd00:a::100"), "home");
	EXPECT_EQ(tb[GECKO_BINDING_A_PEER], nullptr);
}

Fields service_fields()
{
	return {
		{GECKO_SERVICE_A_HOME, bytes_of(addr("fd00:a::100"))},
		{GECKO_SERVICE_A_COA, bytes_of(addr("fd00:11::2"))},
		{GECKO_SERVICE_A_CONTACT_COA, bytes_of(addr("fd00:11::3"))},
		{GECKO_SERVICE_A_HA, bytes_of(addr("fd00:a::1"))},
		{GECKO_SERVICE_A_FLAGS, bytes_of(std::uint32_t{GECKO_SERVICE_F_CONTACT})},
		{GECKO_SERVICE_A_BINDINGS, bytes_of(std::uint32_t{3})},
	};
}

Fields binding_fields()
{
	return {
		{GECKO_BINDING_A_HOME, bytes_of(addr("fd00:a::100"))},
		{GECKO_BINDING_A_PEER, bytes_of(addr("fd00:c::2"))},
		{GECKO_BINDING_A_STATE, bytes_of(std::uint8_t{GECKO_BINDING_BOUND})},
		{GECKO_BINDING_A_SEQ, bytes_of(std::uint16_t{7})},
		{GECKO_BINDING_A_LIFETIME, bytes_of(std::uint32_t{58})},
	};
}

gecko::Result<gecko::Service> decode_service(const Fields &fields, const Bytes &stray = {})
{
	return gecko::decode_service(reply(GECKO_CMD_SERVICE_GET, GECKO_A_SERVICE, fields, stray).attrs());
}

gecko::Result<gecko::Binding> decode_binding(const Fields &fields, const Bytes &stray = {})
{
	return gecko::decode_binding(reply(GECKO_CMD_BINDING_GET, GECKO_A_BINDING, fields, stray).attrs());
}

TEST(DecodeService, GoodReply)
{
	auto svc = decode_service(service_fields());

	ASSERT_TRUE(svc) << svc.error().describe();
	EXPECT_EQ(gecko::format_address(svc->home), "fd00:a::100");
	EXPECT_EQ(gecko::format_address(svc->coa), "fd00:11::2");
	EXPECT_EQ(gecko::format_address(svc->contact_coa), "fd00:11::3");
	ASSERT_TRUE(svc->ha);
	EXPECT_EQ(gecko::format_address(*svc->ha), "fd00:a::1");
	EXPECT_TRUE(svc->contact);
	EXPECT_EQ(svc->bindings, 3u);
}

TEST(DecodeService, HaIsOptional)
{
	auto svc = decode_service(change(service_fields(), GECKO_SERVICE_A_HA, {}));

	ASSERT_TRUE(svc) << svc.error().describe();
	EXPECT_FALSE(svc->ha);
}

/* A newer module's flags and attributes. */
TEST(DecodeService, UnknownFlagsAndAttributesAreIgnored)
{
	auto fields = change(service_fields(), GECKO_SERVICE_A_FLAGS, bytes_of(std::uint32_t{0x80000000}));
	fields.emplace_back(GECKO_SERVICE_A_MAX + 1, bytes_of(std::uint64_t{1}));

	auto svc = decode_service(fields);

	ASSERT_TRUE(svc) << svc.error().describe();
	EXPECT_FALSE(svc->contact);
}

TEST(DecodeService, MissingNestIsEproto)
{
	Message msg(GECKO_CMD_SERVICE_GET);

	auto svc = gecko::decode_service(msg.attrs());

	ASSERT_FALSE(svc);
	EXPECT_EQ(svc.error().code, EPROTO);
	EXPECT_EQ(svc.error().message, "malformed GECKO_CMD_SERVICE_GET reply: GECKO_A_SERVICE is missing");
}

TEST(DecodeBinding, GoodReply)
{
	auto binding = decode_binding(binding_fields());

	ASSERT_TRUE(binding) << binding.error().describe();
	EXPECT_EQ(gecko::format_address(binding->home), "fd00:a::100");
	EXPECT_EQ(gecko::format_address(binding->peer), "fd00:c::2");
	EXPECT_EQ(binding->state, gecko::BindingState::bound);
	EXPECT_EQ(binding->seq, 7);
	EXPECT_EQ(binding->lifetime, 58u);
}

TEST(DecodeBinding, PendingState)
{
	auto binding = decode_binding(
		change(binding_fields(), GECKO_BINDING_A_STATE, bytes_of(std::uint8_t{GECKO_BINDING_PENDING})));

	ASSERT_TRUE(binding) << binding.error().describe();
	EXPECT_EQ(binding->state, gecko::BindingState::pending);
}

const Malformed bad_services[] = {
	{"home_missing", GECKO_SERVICE_A_HOME, {}, "GECKO_SERVICE_A_HOME is missing"},
	{"coa_missing", GECKO_SERVICE_A_COA, {}, "GECKO_SERVICE_A_COA is missing"},
	{"contact_coa_missing", GECKO_SERVICE_A_CONTACT_COA, {}, "GECKO_SERVICE_A_CONTACT_COA is missing"},
	{"flags_missing", GECKO_SERVICE_A_FLAGS, {}, "GECKO_SERVICE_A_FLAGS is missing"},
	{"bindings_missing", GECKO_SERVICE_A_BINDINGS, {}, "GECKO_SERVICE_A_BINDINGS is missing"},
	{"home_ipv4_sized", GECKO_SERVICE_A_HOME, Bytes(4), "GECKO_SERVICE_A_HOME has 4 bytes instead of 16"},
	{"coa_too_long", GECKO_SERVICE_A_COA, Bytes(20), "GECKO_SERVICE_A_COA has 20 bytes instead of 16"},
	{"ha_too_short", GECKO_SERVICE_A_HA, Bytes(15), "GECKO_SERVICE_A_HA has 15 bytes instead of 16"},
	{"flags_u16", GECKO_SERVICE_A_FLAGS, Bytes(2), "GECKO_SERVICE_A_FLAGS has 2 bytes instead of 4"},
	{"bindings_u64", GECKO_SERVICE_A_BINDINGS, Bytes(8), "GECKO_SERVICE_A_BINDINGS has 8 bytes instead of 4"},
};

class DecodeServiceMalformed : public testing::TestWithParam<Malformed> {};

TEST_P(DecodeServiceMalformed, IsEproto)
{
	auto svc = decode_service(change(service_fields(), GetParam().type, GetParam().payload));

	ASSERT_FALSE(svc);
	EXPECT_EQ(svc.error().code, EPROTO);
	EXPECT_EQ(svc.error().message, "malformed GECKO_CMD_SERVICE_GET reply: " + GetParam().why);
}

INSTANTIATE_TEST_SUITE_P(Cases, DecodeServiceMalformed, testing::ValuesIn(bad_services),
			 [](const auto &info) { return std::string(info.param.name); });

const Malformed bad_bindings[] = {
	{"home_missing", GECKO_BINDING_A_HOME, {}, "GECKO_BINDING_A_HOME is missing"},
	{"peer_missing", GECKO_BINDING_A_PEER, {}, "GECKO_BINDING_A_PEER is missing"},
	{"state_missing", GECKO_BINDING_A_STATE, {}, "GECKO_BINDING_A_STATE is missing"},
	{"seq_missing", GECKO_BINDING_A_SEQ, {}, "GECKO_BINDING_A_SEQ is missing"},
	{"lifetime_missing", GECKO_BINDING_A_LIFETIME, {}, "GECKO_BINDING_A_LIFETIME is missing"},
	{"peer_too_short", GECKO_BINDING_A_PEER, Bytes(12), "GECKO_BINDING_A_PEER has 12 bytes instead of 16"},
	{"state_u32", GECKO_BINDING_A_STATE, Bytes(4), "GECKO_BINDING_A_STATE has 4 bytes instead of 1"},
	{"seq_u32", GECKO_BINDING_A_SEQ, Bytes(4), "GECKO_BINDING_A_SEQ has 4 bytes instead of 2"},
	{"lifetime_u16", GECKO_BINDING_A_LIFETIME, Bytes(2), "GECKO_BINDING_A_LIFETIME has 2 bytes instead of 4"},
	{"state_unspec", GECKO_BINDING_A_STATE, Bytes(1), "GECKO_BINDING_A_STATE is 0, not a known state"},
	{"state_unknown", GECKO_BINDING_A_STATE, bytes_of(std::uint8_t{3}),
	 "GECKO_BINDING_A_STATE is 3, not a known state"},
};

class DecodeBindingMalformed : public testing::TestWithParam<Malformed> {};

TEST_P(DecodeBindingMalformed, IsEproto)
{
	auto binding = decode_binding(change(binding_fields(), GetParam().type, GetParam().payload));

	ASSERT_FALSE(binding);
	EXPECT_EQ(binding.error().code, EPROTO);
	EXPECT_EQ(binding.error().message, "malformed GECKO_CMD_BINDING_GET reply: " + GetParam().why);
}

INSTANTIATE_TEST_SUITE_P(Cases, DecodeBindingMalformed, testing::ValuesIn(bad_bindings),
			 [](const auto &info) { return std::string(info.param.name); });

/* Bytes that do not make an attribute: an nlattr header claiming 0 bytes. */
const Bytes stray(4);

TEST(DecodeService, StrayBytesInTheNestAreEproto)
{
	auto svc = decode_service(service_fields(), stray);

	ASSERT_FALSE(svc);
	EXPECT_EQ(svc.error().message, "malformed GECKO_CMD_SERVICE_GET reply: GECKO_A_SERVICE ends in 4 stray bytes");
}

TEST(DecodeBinding, StrayBytesInTheNestAreEproto)
{
	auto binding = decode_binding(binding_fields(), stray);

	ASSERT_FALSE(binding);
	EXPECT_EQ(binding.error().message, "malformed GECKO_CMD_BINDING_GET reply: GECKO_A_BINDING ends in 4 stray bytes");
}

TEST(DecodeBinding, StrayBytesAfterTheNestAreEproto)
{
	Message msg = reply(GECKO_CMD_BINDING_GET, GECKO_A_BINDING, binding_fields());
	nlmsg_append(msg.get(), const_cast<std::byte *>(stray.data()), stray.size(), NLMSG_ALIGNTO);

	auto binding = gecko::decode_binding(msg.attrs());

	ASSERT_FALSE(binding);
	EXPECT_EQ(binding.error().message, "malformed GECKO_CMD_BINDING_GET reply: payload ends in 4 stray bytes");
}

} // namespace
