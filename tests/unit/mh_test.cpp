// SPDX-License-Identifier: LGPL-2.1-or-later

#include "bytes.h"

#include <gecko/mh.h>

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace mh = gecko::mh;

in6_addr ip(const char *text)
{
	in6_addr addr{};

	inet_pton(AF_INET6, text, &addr);
	return addr;
}

std::string str(const in6_addr &addr)
{
	char buf[INET6_ADDRSTRLEN];

	return inet_ntop(AF_INET6, &addr, buf, sizeof(buf));
}

const mh::Cookie cookie{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
const mh::Cookie cookie2{0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8};
const mh::KeygenToken token{0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18};
const mh::KeygenToken token2{0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28};
const mh::Authenticator auth{0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc};
const in6_addr coa = ip("fd00:12::2");
const in6_addr coa3 = ip("fd00:13::2");
const in6_addr home = ip("fd00:a::100");
const in6_addr cn = ip("fd00:c::2");

/*
 * Every message type and option combination, laid out by hand from RFC 6275
 * §6.1 and §6.2: "Payload Proto, Header Len, MH Type, Reserved, Checksum |
 * fixed part | options". The same bytes came out of an independent Python
 * struct.pack() encoder.
 */
struct WireCase {
	const char *name;
	mh::Message msg;
	std::string_view wire;
};

const WireCase wire_cases[] = {
	{"brr", mh::Brr{}, "3b 00 00 00 0000 | 0000"},
	{"hoti", mh::Hoti{cookie}, "3b 01 01 00 0000 | 0000 0102030405060708"},
	{"coti", mh::Coti{cookie2}, "3b 01 02 00 0000 | 0000 a1a2a3a4a5a6a7a8"},
	{"hot", mh::Hot{0x0102, cookie, token},
	 "3b 02 03 00 0000 | 0102 0102030405060708 1112131415161718"},
	{"cot", mh::Cot{0x0304, cookie2, token2},
	 "3b 02 04 00 0000 | 0304 a1a2a3a4a5a6a7a8 2122232425262728"},
	/* §6.1.7: without options, 4 octets of padding and Header Len 1. */
	{"bu_plain", mh::Bu{.seq = 0x1234, .a = true, .k = true, .lifetime_units = 0x69},
	 "3b 01 05 00 0000 | 1234 90 00 0069 | 01 02 0000"},
	/* What a mobile node sends a correspondent: NI falls on 2n and BAD on 8n+2 without padding. */
	{"bu_nonce_indices_auth",
	 mh::Bu{.seq = 0x1234, .a = true, .k = true, .lifetime_units = 0x69,
		.options = {.nonce_indices = mh::NonceIndices{1, 2}, .auth = mh::Authenticator{}}},
	 "3b 03 05 00 0000 | 1234 90 00 0069 | 04 04 0001 0002 | 05 0c 000000000000000000000000"},
	{"bu_every_option_and_flag",
	 mh::Bu{.seq = 0xfffe, .a = true, .h = true, .l = true, .k = true, .lifetime_units = 0,
		.options = {coa, mh::NonceIndices{1, 2}, auth}},
	 "3b 06 05 00 0000 | fffe f0 00 0000 | 01 00 | 03 10 fd000012000000000000000000000002 |"
	 " 04 04 0001 0002 | 01 02 0000 | 05 0c c1c2c3c4c5c6c7c8c9cacbcc"},
	{"bu_alt_coa", mh::Bu{.seq = 1, .h = true, .l = true, .lifetime_units = 0xffff, .options = {.alt_coa = coa3}},
	 "3b 03 05 00 0000 | 0001 60 00 ffff | 01 00 | 03 10 fd000013000000000000000000000002"},
	/* §6.1.8: likewise 4 octets of padding. */
	{"ba_plain", mh::Ba{.status = mh::ba_accepted, .seq = 0x1234, .lifetime_units = 0x69},
	 "3b 01 06 00 0000 | 00 00 1234 0069 | 01 02 0000"},
	{"ba_refresh_auth", mh::Ba{mh::ba_accepted, true, 0x1234, 0x69, {0x50, auth}},
	 "3b 03 06 00 0000 | 00 80 1234 0069 | 02 02 0050 | 01 00 | 05 0c c1c2c3c4c5c6c7c8c9cacbcc"},
	{"ba_expired_nonces_auth",
	 mh::Ba{.status = mh::ba_expired_nonces, .seq = 0x1234, .lifetime_units = 0, .options = {.auth = auth}},
	 "3b 03 06 00 0000 | 8a 00 1234 0000 | 01 04 00000000 | 05 0c c1c2c3c4c5c6c7c8c9cacbcc"},
	{"ba_refresh",
	 mh::Ba{.status = mh::ba_prefix_discovery_necessary, .seq = 7, .lifetime_units = 0x69,
		.options = {.refresh_units = 0x50}},
	 "3b 01 06 00 0000 | 01 00 0007 0069 | 02 02 0050"},
	{"be", mh::Be{mh::be_unrecognized_mh_type, home},
	 "3b 02 07 00 0000 | 02 00 fd00000a000000000000000000000100"},
};

std::string_view wire_of(std::string_view name)
{
	return std::ranges::find(wire_cases, name, &WireCase::name)->wire;
}

void PrintTo(const WireCase &c, std::ostream *os)
{
	*os << c.name;
}

class MhWire : public testing::TestWithParam<WireCase> {};

TEST_P(MhWire, EncodesToExactBytes)
{
	EXPECT_EQ(dump(mh::encode(GetParam().msg)), dump(hex(GetParam().wire)));
}

TEST_P(MhWire, ParsesBackToTheSameMessage)
{
	const Bytes wire = hex(GetParam().wire);

	auto msg = mh::parse(wire);

	ASSERT_TRUE(msg) << msg.error().message;
	EXPECT_EQ(mh::type_of(*msg), mh::type_of(GetParam().msg));
	/* Encoding writes every field, so equal bytes mean equal messages. */
	EXPECT_EQ(dump(mh::encode(*msg)), dump(wire));
}

INSTANTIATE_TEST_SUITE_P(Messages, MhWire, testing::ValuesIn(wire_cases),
			 [](const auto &info) { return info.param.name; });

TEST(MhParse, BindingUpdateFields)
{
	auto msg = mh::parse(hex(wire_of("bu_every_option_and_flag")));

	ASSERT_TRUE(msg) << msg.error().message;
	const auto &bu = std::get<mh::Bu>(*msg);
	EXPECT_EQ(bu.seq, 0xfffe);
	EXPECT_TRUE(bu.a && bu.h && bu.l && bu.k);
	EXPECT_EQ(bu.lifetime_units, 0);
	ASSERT_TRUE(bu.options.alt_coa);
	EXPECT_EQ(str(*bu.options.alt_coa), "fd00:12::2");
	ASSERT_TRUE(bu.options.nonce_indices);
	EXPECT_EQ(bu.options.nonce_indices->home, 1);
	EXPECT_EQ(bu.options.nonce_indices->care_of, 2);
	EXPECT_EQ(bu.options.auth, auth);
}

TEST(MhParse, BindingAcknowledgementFields)
{
	auto msg = mh::parse(hex("3b 03 06 00 0000 | 8a 80 1234 0069 | 02 02 0050 | 01 00 | 05 0c c1c2c3c4c5c6c7c8c9cacbcc"));

	ASSERT_TRUE(msg) << msg.error().message;
	const auto &ba = std::get<mh::Ba>(*msg);
	EXPECT_EQ(ba.status, mh::ba_expired_nonces);
	EXPECT_TRUE(ba.k);
	EXPECT_EQ(ba.seq, 0x1234);
	EXPECT_EQ(ba.lifetime_units, 0x69);
	EXPECT_EQ(ba.options.refresh_units, 0x50);
	EXPECT_EQ(ba.options.auth, auth);
}

TEST(MhParse, TestFieldsKeepTheirPlaces)
{
	auto hot = mh::parse(hex(wire_of("hot")));
	auto cot = mh::parse(hex(wire_of("cot")));
	auto be = mh::parse(hex(wire_of("be")));

	ASSERT_TRUE(hot && cot && be);
	EXPECT_EQ(std::get<mh::Hot>(*hot).nonce_index, 0x0102);
	EXPECT_EQ(std::get<mh::Hot>(*hot).cookie, cookie);
	EXPECT_EQ(std::get<mh::Hot>(*hot).token, token);
	EXPECT_EQ(std::get<mh::Cot>(*cot).nonce_index, 0x0304);
	EXPECT_EQ(std::get<mh::Cot>(*cot).cookie, cookie2);
	EXPECT_EQ(std::get<mh::Cot>(*cot).token, token2);
	EXPECT_EQ(std::get<mh::Be>(*be).status, mh::be_unrecognized_mh_type);
	EXPECT_EQ(str(std::get<mh::Be>(*be).home), "fd00:a::100");
}

/* §6.1.2-§6.1.9: "The receiver MUST ignore and skip any options which it does not understand." */
TEST(MhParse, SkipsUnknownOptions)
{
	auto bu = mh::parse(hex("3b 04 05 00 0000 | 1234 90 00 0069 | c8 02 abcd | 04 04 0001 0002 | 01 02 0000 |"
				" 05 0c c1c2c3c4c5c6c7c8c9cacbcc"));
	auto hoti = mh::parse(hex("3b 02 01 00 0000 | 0000 0102030405060708 | c8 06 010203040506"));

	ASSERT_TRUE(bu) << bu.error().message;
	EXPECT_EQ(std::get<mh::Bu>(*bu).options.nonce_indices->care_of, 2);
	EXPECT_EQ(std::get<mh::Bu>(*bu).options.auth, auth);
	ASSERT_TRUE(hoti) << hoti.error().message;
	EXPECT_EQ(std::get<mh::Hoti>(*hoti).cookie, cookie);
}

/* Reserved fields and PadN contents "MUST be ignored by the receiver" (§6.1, §6.2.3). */
TEST(MhParse, IgnoresReservedBitsAndPaddingContents)
{
	auto bu = mh::parse(hex("3b 01 05 ff 0000 | 1234 9f ff 0069 | 01 02 ffff"));
	auto ba = mh::parse(hex("3b 01 06 ff 0000 | 00 7f 1234 0069 | 00 00 00 00"));

	ASSERT_TRUE(bu) << bu.error().message;
	const auto &b = std::get<mh::Bu>(*bu);
	EXPECT_TRUE(b.a && b.k);
	EXPECT_FALSE(b.h || b.l);
	ASSERT_TRUE(ba) << ba.error().message;
	EXPECT_FALSE(std::get<mh::Ba>(*ba).k);
}

TEST(MhTypeName, NamesKnownTypesOnly)
{
	EXPECT_EQ(mh::type_name(mh::Type::bu), "Binding Update");
	EXPECT_EQ(mh::type_name(static_cast<mh::Type>(8)), "unknown MH Type");
}

struct RejectCase {
	const char *name;
	std::string_view wire;
	int code;
	std::string message;
};

const RejectCase reject_cases[] = {
	/* Framing */
	{"empty", "", EBADMSG, "mobility header: 0 octets, shorter than its 6-octet header"},
	{"five_octets", "3b 00 00 00 00", EBADMSG, "mobility header: 5 octets, shorter than its 6-octet header"},
	{"unknown_type", "3b 00 08 00 0000 0000", mh::unknown_mh_type, "mobility header: unknown MH Type 8"},
	/* §9.2 checks the type before Payload Proto: a Binding Error is still due. */
	{"unknown_type_and_payload_proto", "06 07 ff 00 0000 0000", mh::unknown_mh_type,
	 "mobility header: unknown MH Type 255"},
	{"payload_proto_tcp", "06 00 00 00 0000 0000", EBADMSG,
	 "Binding Refresh Request: Payload Proto 6 is not 59 (no next header)"},
	{"header_len_past_buffer", "3b 02 01 00 0000 | 0000 0102030405060708", EBADMSG,
	 "Home Test Init: Header Len 2 means 24 octets, not the 16 received"},
	{"buffer_past_header_len", "3b 00 00 00 0000 | 0000 | 0000 0000 0000 0000", EBADMSG,
	 "Binding Refresh Request: Header Len 0 means 8 octets, not the 16 received"},
	{"header_cut_short", "3b 00 00 00 0000", EBADMSG,
	 "Binding Refresh Request: Header Len 0 means 8 octets, not the 6 received"},

	/* Least Header Len per type, as the kernel's mip6_mh_filter() */
	{"hoti_below_minimum", "3b 00 01 00 0000 0000", EBADMSG, "Home Test Init: Header Len 0 is below its minimum 1"},
	{"coti_below_minimum", "3b 00 02 00 0000 0000", EBADMSG,
	 "Care-of Test Init: Header Len 0 is below its minimum 1"},
	{"hot_below_minimum", "3b 01 03 00 0000 | 0102 0102030405060708", EBADMSG,
	 "Home Test: Header Len 1 is below its minimum 2"},
	{"cot_below_minimum", "3b 01 04 00 0000 | 0102 0102030405060708", EBADMSG,
	 "Care-of Test: Header Len 1 is below its minimum 2"},
	{"bu_below_minimum", "3b 00 05 00 0000 | 1234", EBADMSG, "Binding Update: Header Len 0 is below its minimum 1"},
	{"ba_below_minimum", "3b 00 06 00 0000 | 0000", EBADMSG,
	 "Binding Acknowledgement: Header Len 0 is below its minimum 1"},
	{"be_below_minimum", "3b 01 07 00 0000 | 02 00 fd00000a00000000", EBADMSG,
	 "Binding Error: Header Len 1 is below its minimum 2"},

	/* Option TLVs */
	{"padn_overruns", "3b 01 06 00 0000 | 00 00 1234 0069 | 01 03 0000", EBADMSG,
	 "Binding Acknowledgement: an option at offset 12 of length 3 overruns the message by 1"},
	{"no_room_for_length", "3b 01 00 00 0000 | 0000 | 00 00 00 00 00 00 00 01", EBADMSG,
	 "Binding Refresh Request: an option at offset 15 has no room for its length"},

	/* Option lengths: BAD only as HMAC_SHA1-96 */
	{"refresh_advice_length_3", "3b 02 06 00 0000 | 00 00 1234 0069 | 02 03 0050 00 | 01 05 0000000000", EBADMSG,
	 "Binding Acknowledgement: Binding Refresh Advice option at offset 12 has length 3, not 2"},
	{"alt_coa_length_15",
	 "3b 03 05 00 0000 | 1234 00 00 0069 | 01 00 | 03 0f fd0000120000000000000000000000 | 00", EBADMSG,
	 "Binding Update: Alternate Care-of Address option at offset 14 has length 15, not 16"},
	{"nonce_indices_length_5", "3b 02 05 00 0000 | 1234 00 00 0069 | 04 05 0001 0002 00 | 01 03 000000", EBADMSG,
	 "Binding Update: Nonce Indices option at offset 12 has length 5, not 4"},
	{"auth_length_16",
	 "3b 04 05 00 0000 | 1234 00 00 0069 | 01 04 00000000 | 05 10 c1c2c3c4c5c6c7c8c9cacbcccdcecfd0 | 01 02 0000",
	 EBADMSG, "Binding Update: Binding Authorization Data option at offset 18 has length 16, not 12"},

	/* Option alignment */
	{"refresh_advice_at_odd_offset", "3b 02 06 00 0000 | 00 00 1234 0069 | 00 | 02 02 0050 | 01 05 0000000000",
	 EBADMSG, "Binding Acknowledgement: Binding Refresh Advice option at offset 13 breaks its alignment 2n+0"},
	{"alt_coa_at_8n_4", "3b 03 05 00 0000 | 1234 00 00 0069 | 03 10 fd000012000000000000000000000002 | 01 00",
	 EBADMSG, "Binding Update: Alternate Care-of Address option at offset 12 breaks its alignment 8n+6"},
	{"nonce_indices_at_odd_offset", "3b 02 05 00 0000 | 1234 00 00 0069 | 00 | 04 04 0001 0002 | 01 03 000000",
	 EBADMSG, "Binding Update: Nonce Indices option at offset 13 breaks its alignment 2n+0"},
	{"auth_at_8n", "3b 03 05 00 0000 | 1234 00 00 0069 | 01 02 0000 | 05 0c c1c2c3c4c5c6c7c8c9cacbcc | 01 00",
	 EBADMSG, "Binding Update: Binding Authorization Data option at offset 16 breaks its alignment 8n+2"},

	/* Binding Authorization Data last, padding included */
	{"padn_after_auth",
	 "3b 04 05 00 0000 | 1234 00 00 0069 | 04 04 0001 0002 | 05 0c c1c2c3c4c5c6c7c8c9cacbcc | 01 06 000000000000",
	 EBADMSG,
	 "Binding Update: an option at offset 32 follows Binding Authorization Data, which must be the last"},
	{"pad1_after_auth",
	 "3b 04 05 00 0000 | 1234 00 00 0069 | 04 04 0001 0002 | 05 0c c1c2c3c4c5c6c7c8c9cacbcc | 0000000000000000",
	 EBADMSG,
	 "Binding Update: an option at offset 32 follows Binding Authorization Data, which must be the last"},
	{"nonce_indices_after_auth",
	 "3b 04 05 00 0000 | 1234 00 00 0069 | 01 04 00000000 | 05 0c c1c2c3c4c5c6c7c8c9cacbcc | 04 04 0001 0002 | 01 00",
	 EBADMSG,
	 "Binding Update: an option at offset 32 follows Binding Authorization Data, which must be the last"},
	{"refresh_advice_after_auth",
	 "3b 04 06 00 0000 | 00 00 1234 0069 | 01 04 00000000 | 05 0c c1c2c3c4c5c6c7c8c9cacbcc | 02 02 0050 | 01 02 0000",
	 EBADMSG,
	 "Binding Acknowledgement: an option at offset 32 follows Binding Authorization Data, which must be the last"},

	/* Duplicates */
	{"nonce_indices_twice", "3b 02 05 00 0000 | 1234 00 00 0069 | 04 04 0001 0002 | 04 04 0003 0004", EBADMSG,
	 "Binding Update: Nonce Indices option at offset 18 repeats an earlier one"},
	{"alt_coa_twice",
	 "3b 06 05 00 0000 | 1234 00 00 0069 | 01 00 | 03 10 fd000012000000000000000000000002 | 01 04 00000000 |"
	 " 03 10 fd000013000000000000000000000002",
	 EBADMSG, "Binding Update: Alternate Care-of Address option at offset 38 repeats an earlier one"},
	{"refresh_advice_twice", "3b 02 06 00 0000 | 00 00 1234 0069 | 02 02 0050 | 02 02 0060 | 01 02 0000", EBADMSG,
	 "Binding Acknowledgement: Binding Refresh Advice option at offset 16 repeats an earlier one"},

	/* Options outside the messages §6.1.x lists them for */
	{"refresh_advice_in_bu", "3b 01 05 00 0000 | 1234 00 00 0069 | 02 02 0050", EBADMSG,
	 "Binding Update: Binding Refresh Advice option at offset 12 is not valid in this message"},
	{"alt_coa_in_ba", "3b 03 06 00 0000 | 00 00 1234 0069 | 01 00 | 03 10 fd000012000000000000000000000002",
	 EBADMSG, "Binding Acknowledgement: Alternate Care-of Address option at offset 14 is not valid in this message"},
	{"nonce_indices_in_ba", "3b 02 06 00 0000 | 00 00 1234 0069 | 04 04 0001 0002 | 01 04 00000000", EBADMSG,
	 "Binding Acknowledgement: Nonce Indices option at offset 12 is not valid in this message"},
	{"refresh_advice_in_brr", "3b 01 00 00 0000 | 0000 | 02 02 0050 | 01 02 0000", EBADMSG,
	 "Binding Refresh Request: Binding Refresh Advice option at offset 8 is not valid in this message"},
	{"auth_in_hoti", "3b 03 01 00 0000 | 0000 0102030405060708 | 01 00 | 05 0c c1c2c3c4c5c6c7c8c9cacbcc", EBADMSG,
	 "Home Test Init: Binding Authorization Data option at offset 18 is not valid in this message"},
	{"auth_in_hot",
	 "3b 04 03 00 0000 | 0102 0102030405060708 1112131415161718 | 01 00 | 05 0c c1c2c3c4c5c6c7c8c9cacbcc", EBADMSG,
	 "Home Test: Binding Authorization Data option at offset 26 is not valid in this message"},
	{"nonce_indices_in_be", "3b 03 07 00 0000 | 02 00 fd00000a000000000000000000000100 | 04 04 0001 0002 | 01 00",
	 EBADMSG, "Binding Error: Nonce Indices option at offset 24 is not valid in this message"},
};

void PrintTo(const RejectCase &c, std::ostream *os)
{
	*os << c.name;
}

class MhReject : public testing::TestWithParam<RejectCase> {};

TEST_P(MhReject, FailsWithReason)
{
	auto msg = mh::parse(hex(GetParam().wire));

	ASSERT_FALSE(msg);
	EXPECT_EQ(msg.error().code, GetParam().code);
	EXPECT_EQ(msg.error().message, GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(Malformed, MhReject, testing::ValuesIn(reject_cases),
			 [](const auto &info) { return info.param.name; });

/*
 * Checksums from an independent computation over the pseudo-header
 * (src fd00:a::100, dst fd00:c::2), for the HoTI above:
 *   python3 -c "import struct,ipaddress as i;a=lambda s:i.IPv6Address(s).packed;
 *     m=bytes.fromhex('3b010100000000000102030405060708');
 *     d=a('fd00:a::100')+a('fd00:c::2')+struct.pack('>IxxxB',len(m),135)+m;
 *     s=sum(struct.unpack('>%dH'%(len(d)//2),d));s=(s&0xffff)+(s>>16);s=(s&0xffff)+(s>>16);
 *     print(hex(~s&0xffff))"
 * gives 0xb839; with the cookie ending in bf41 instead of 0708 it gives 0.
 */
const mh::PseudoHeader to_cn{home, cn};

TEST(MhChecksum, MatchesIndependentComputation)
{
	const Bytes hoti = hex(wire_of("hoti"));

	EXPECT_EQ(mh::checksum(home, cn, hoti), 0xb839);
	EXPECT_EQ(dump(mh::encode(mh::Hoti{cookie}, to_cn)), "3b010100b83900000102030405060708");
}

TEST(MhChecksum, IgnoresTheFieldItIsFor)
{
	const Bytes filled = mh::encode(mh::Hoti{cookie}, to_cn);

	EXPECT_EQ(mh::checksum(home, cn, filled), 0xb839);
}

TEST(MhChecksum, VerifiesOnlyIntactMessages)
{
	Bytes filled = mh::encode(mh::Hoti{cookie}, to_cn);

	EXPECT_TRUE(mh::checksum_ok(filled, to_cn));
	EXPECT_FALSE(mh::checksum_ok(filled, {home, coa}));
	filled[9] ^= std::byte{0x40};
	EXPECT_FALSE(mh::checksum_ok(filled, to_cn));
	EXPECT_FALSE(mh::checksum_ok(Bytes(5), to_cn));
}

TEST(MhChecksum, AcceptsEitherZero)
{
	Bytes msg = hex("3b 01 01 00 0000 | 0000 010203040506bf41");

	EXPECT_EQ(mh::checksum(home, cn, msg), 0);
	EXPECT_TRUE(mh::checksum_ok(msg, to_cn));
	msg[4] = msg[5] = std::byte{0xff};
	EXPECT_TRUE(mh::checksum_ok(msg, to_cn));
}

TEST(MhChecksum, SetChecksumStoresIt)
{
	Bytes msg = hex(wire_of("hoti"));

	mh::set_checksum(msg, to_cn);
	EXPECT_EQ(dump(msg), dump(mh::encode(mh::Hoti{cookie}, to_cn)));
}

/* Deterministic: std::mt19937's sequence is fixed by the standard, and only its raw output is used. */
class Random {
public:
	std::uint32_t next() { return gen_(); }
	std::uint8_t u8() { return static_cast<std::uint8_t>(gen_()); }
	std::uint16_t u16() { return static_cast<std::uint16_t>(gen_()); }
	bool coin() { return gen_() & 1; }

	template <std::size_t N>
	std::array<std::uint8_t, N> array()
	{
		std::array<std::uint8_t, N> a;

		for (auto &b : a)
			b = u8();
		return a;
	}

	in6_addr addr()
	{
		in6_addr a;

		std::ranges::copy(array<16>(), a.s6_addr);
		return a;
	}

	template <class T>
	std::optional<T> maybe(T value)
	{
		return coin() ? std::optional<T>(value) : std::nullopt;
	}

	mh::Message message()
	{
		switch (next() % 8) {
		case 0:
			return mh::Brr{};
		case 1:
			return mh::Hoti{array<8>()};
		case 2:
			return mh::Coti{array<8>()};
		case 3:
			return mh::Hot{u16(), array<8>(), array<8>()};
		case 4:
			return mh::Cot{u16(), array<8>(), array<8>()};
		case 5:
			return mh::Bu{u16(), coin(), coin(), coin(), coin(), u16(),
				      {maybe(addr()), maybe(mh::NonceIndices{u16(), u16()}), maybe(array<12>())}};
		case 6:
			return mh::Ba{u8(), coin(), u16(), u16(), {maybe(u16()), maybe(array<12>())}};
		default:
			return mh::Be{u8(), addr()};
		}
	}

private:
	std::mt19937 gen_{6275};
};

TEST(MhRandom, RoundTrips)
{
	Random random;

	for (int i = 0; i < 2000; i++) {
		const mh::Message msg = random.message();
		const mh::PseudoHeader addrs{random.addr(), random.addr()};
		const Bytes wire = mh::encode(msg, addrs);
		SCOPED_TRACE("message " + std::to_string(i));

		ASSERT_EQ(wire.size() % 8, 0u);
		EXPECT_EQ(std::to_integer<std::size_t>(wire[1]), wire.size() / 8 - 1);
		EXPECT_TRUE(mh::checksum_ok(wire, addrs));
		auto parsed = mh::parse(wire);
		ASSERT_TRUE(parsed) << parsed.error().message;
		EXPECT_EQ(mh::type_of(*parsed), mh::type_of(msg));
		EXPECT_EQ(dump(mh::encode(*parsed, addrs)), dump(wire));
	}
}

TEST(MhRandom, CorruptedMessagesParseOrFailCleanly)
{
	Random random;

	for (int i = 0; i < 5000; i++) {
		Bytes wire = mh::encode(random.message());
		for (std::uint32_t n = random.next() % 4 + 1; n; n--)
			wire[random.next() % wire.size()] = std::byte{random.u8()};
		if (random.coin())
			wire.resize(random.next() % (wire.size() + 9));
		SCOPED_TRACE("message " + std::to_string(i));

		auto parsed = mh::parse(wire);
		if (parsed) {
			EXPECT_TRUE(mh::parse(mh::encode(*parsed)));
		} else {
			EXPECT_TRUE(parsed.error().code == EBADMSG || parsed.error().code == mh::unknown_mh_type);
			EXPECT_FALSE(parsed.error().message.empty());
		}
	}
}

} // namespace
