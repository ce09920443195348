// SPDX-License-Identifier: LGPL-2.1-or-later

#include "bytes.h"

#include <gecko/mh.h>
#include <gecko/rr.h>

#include <gtest/gtest.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace mh = gecko::mh;
namespace rr = gecko::rr;
using namespace std::chrono_literals;

template <std::size_t N>
std::array<std::uint8_t, N> array(std::string_view text)
{
	const Bytes bytes = hex(text);
	std::array<std::uint8_t, N> a{};

	std::ranges::transform(bytes, a.begin(), [](std::byte b) { return std::to_integer<std::uint8_t>(b); });
	return a;
}

template <std::size_t N>
bool same(const rr::Secret<N> &secret, std::string_view text)
{
	return std::ranges::equal(secret.bytes(), array<N>(text));
}

in6_addr ip(const char *text)
{
	in6_addr addr{};

	inet_pton(AF_INET6, text, &addr);
	return addr;
}

/*
 * The vectors below were computed with Python's hmac and hashlib, not with
 * this library:
 * home keygen token = First(64, HMAC_SHA1(Kcn, home | home nonce | 0))
 *   python3 -c "import hmac,hashlib,ipaddress as i;k=bytes.fromhex('00112233445566778899aabbccddeeff01234567');
 *     print(hmac.new(k,i.IPv6Address('fd00:a::100').packed+bytes.fromhex('a0a1a2a3a4a5a6a7')+b'\0',
 *     hashlib.sha1).hexdigest()[:16])"
 * care-of keygen token = First(64, HMAC_SHA1(Kcn, care-of | care-of nonce | 1))
 *   python3 -c "import hmac,hashlib,ipaddress as i;k=bytes.fromhex('00112233445566778899aabbccddeeff01234567');
 *     print(hmac.new(k,i.IPv6Address('fd00:12::2').packed+bytes.fromhex('b0b1b2b3b4b5b6b7')+b'\1',
 *     hashlib.sha1).hexdigest()[:16])"
 * Kbm = SHA1(home token | care-of token), and SHA1(home token) to de-register
 *   python3 -c "import hashlib;print(hashlib.sha1(bytes.fromhex('dd6ce4c8cdb886e77481dabcf9ad3f70')).hexdigest())"
 *   python3 -c "import hashlib;print(hashlib.sha1(bytes.fromhex('dd6ce4c8cdb886e7')).hexdigest())"
 * Authenticator = First(96, HMAC_SHA1(Kbm, care-of | correspondent | MH Data)),
 * MH Data being the BU below up to its authenticator, checksum zero
 *   python3 -c "import hmac,hashlib,ipaddress as i;a=lambda s:i.IPv6Address(s).packed;
 *     print(hmac.new(bytes.fromhex('cb9084ec424923cde9075f4385ab15da6c08f50b'),a('fd00:12::2')+a('fd00:c::2')+
 *     bytes.fromhex('3b0305000000123490000069040400010002050c'),hashlib.sha1).hexdigest()[:24])"
 * The wire checksum of the signed BU, sent from the home address (it
 * carries a Home Address option) to fd00:c::2, is 0xdab3 by the one-liner
 * in mh_test.cpp.
 */
const rr::Kcn kcn{array<20>("00112233445566778899aabbccddeeff01234567")};
const rr::Nonce home_nonce = array<8>("a0a1a2a3a4a5a6a7");
const rr::Nonce care_of_nonce = array<8>("b0b1b2b3b4b5b6b7");
const in6_addr home = ip("fd00:a::100");
const in6_addr coa = ip("fd00:12::2");
const in6_addr cn = ip("fd00:c::2");
const mh::KeygenToken home_token = array<8>("dd6ce4c8cdb886e7");
const mh::KeygenToken care_of_token = array<8>("7481dabcf9ad3f70");
const rr::AuthAddresses bu_addrs{.care_of = coa, .correspondent = cn};

const mh::Bu bu{.seq = 0x1234, .a = true, .k = true, .lifetime_units = 0x69,
		.options = {.nonce_indices = mh::NonceIndices{1, 2}, .auth = mh::Authenticator{}}};
constexpr std::string_view signed_bu =
	"3b 03 05 00 0000 | 1234 90 00 0069 | 04 04 0001 0002 | 05 0c 6fc1338c57381e26a5957f95";

TEST(RrKeygenToken, MatchesHmacSha1)
{
	EXPECT_EQ(rr::keygen_token(kcn, home, home_nonce, rr::Path::home), home_token);
	EXPECT_EQ(rr::keygen_token(kcn, coa, care_of_nonce, rr::Path::care_of), care_of_token);
}

TEST(RrKeygenToken, DependsOnThePath)
{
	EXPECT_NE(rr::keygen_token(kcn, home, home_nonce, rr::Path::care_of), home_token);
}

TEST(RrKbm, MatchesSha1)
{
	EXPECT_TRUE(same(rr::kbm(home_token, care_of_token), "cb9084ec424923cde9075f4385ab15da6c08f50b"));
	EXPECT_TRUE(same(rr::kbm(home_token), "8dcb2960b156d67d5a432a226a8346f4f1bc0a9d"));
}

/* This machine's libcrypto has a generator: a correspondent starts. */
TEST(RrPrepare, SeedsTheGenerator)
{
	auto ready = rr::prepare();
	EXPECT_TRUE(ready) << ready.error().describe();
}

TEST(RrAuthenticator, MatchesHmacSha1)
{
	auto auth = rr::authenticator(mh::encode(bu), rr::kbm(home_token, care_of_token), bu_addrs);

	ASSERT_TRUE(auth) << auth.error().message;
	EXPECT_EQ(*auth, array<12>("6fc1338c57381e26a5957f95"));
}

TEST(RrSign, FillsTheAuthenticatorThenTheChecksumCoversIt)
{
	Bytes wire = mh::encode(bu);

	ASSERT_TRUE(rr::sign(wire, rr::kbm(home_token, care_of_token), bu_addrs));
	EXPECT_EQ(dump(wire), dump(hex(signed_bu)));
	mh::set_checksum(wire, {home, cn});
	EXPECT_EQ(dump(wire), "3b030500dab3123490000069040400010002050c6fc1338c57381e26a5957f95");
}

/* What a correspondent receives: the kernel checked the checksum, which the authenticator does not cover. */
TEST(RrVerify, AcceptsTheSignedMessageWhateverItsChecksum)
{
	Bytes wire = hex(signed_bu);

	mh::set_checksum(wire, {home, cn});
	EXPECT_TRUE(rr::verify(wire, rr::kbm(home_token, care_of_token), bu_addrs));
}

struct Tamper {
	const char *name;
	std::size_t offset;	/* of the octet flipped in the signed BU, or past it for none */
	bool deregistration_key;
	rr::AuthAddresses addrs;
};

const Tamper tampers[] = {
	{"sequence_number", 7, false, bu_addrs},
	{"nonce_index", 15, false, bu_addrs},
	{"option_length", 19, false, bu_addrs},
	{"authenticator", 31, false, bu_addrs},
	{"other_key", 99, true, bu_addrs},
	{"other_care_of", 99, false, {home, cn}},
	{"addresses_swapped", 99, false, {cn, coa}},
};

void PrintTo(const Tamper &c, std::ostream *os)
{
	*os << c.name;
}

class RrVerifyTampered : public testing::TestWithParam<Tamper> {};

TEST_P(RrVerifyTampered, Rejects)
{
	Bytes wire = hex(signed_bu);
	const rr::Kbm kbm = GetParam().deregistration_key ? rr::kbm(home_token) : rr::kbm(home_token, care_of_token);

	if (GetParam().offset < wire.size())
		wire[GetParam().offset] ^= std::byte{0x01};
	EXPECT_FALSE(rr::verify(wire, kbm, GetParam().addrs));
}

INSTANTIATE_TEST_SUITE_P(Changes, RrVerifyTampered, testing::ValuesIn(tampers),
			 [](const auto &info) { return info.param.name; });

TEST(RrSign, BindingAcknowledgementRoundTrips)
{
	const rr::Kbm kbm = rr::kbm(home_token, care_of_token);
	Bytes wire = mh::encode(mh::Ba{.status = mh::ba_accepted, .seq = 0x1234, .lifetime_units = 0x69,
				       .options = {.refresh_units = 0x50, .auth = mh::Authenticator{}}});

	ASSERT_TRUE(rr::sign(wire, kbm, bu_addrs));
	EXPECT_TRUE(rr::verify(wire, kbm, bu_addrs));
}

struct Unsignable {
	const char *name;
	std::string_view wire;
	int code;
	std::string message;
};

const Unsignable unsignables[] = {
	{"bu_without_auth", "3b 01 05 00 0000 | 1234 90 00 0069 | 01 02 0000", EINVAL,
	 "Binding Update carries no Binding Authorization Data to authenticate"},
	/* Ends in octets that look like the option's header and data, inside the Alternate CoA. */
	{"bu_alt_coa_looking_like_auth",
	 "3b 03 05 00 0000 | 0001 00 00 0069 | 01 00 | 03 10 fd00050c000000000000000000000002", EINVAL,
	 "Binding Update carries no Binding Authorization Data to authenticate"},
	{"hoti", "3b 01 01 00 0000 | 0000 0102030405060708", EINVAL,
	 "Home Test Init carries no Binding Authorization Data to authenticate"},
	{"malformed", "3b 03 05 00 0000 | 1234 90 00 0069 | 04 04 0001 0002 | 05 0c 00", EBADMSG,
	 "Binding Update: Header Len 3 means 32 octets, not the 21 received"},
};

void PrintTo(const Unsignable &c, std::ostream *os)
{
	*os << c.name;
}

class RrUnsignable : public testing::TestWithParam<Unsignable> {};

TEST_P(RrUnsignable, FailsAndNeverVerifies)
{
	Bytes wire = hex(GetParam().wire);
	const Bytes before = wire;
	const rr::Kbm kbm = rr::kbm(home_token);

	auto signed_ok = rr::sign(wire, kbm, bu_addrs);

	ASSERT_FALSE(signed_ok);
	EXPECT_EQ(signed_ok.error().code, GetParam().code);
	EXPECT_EQ(signed_ok.error().message, GetParam().message);
	EXPECT_EQ(dump(wire), dump(before));
	EXPECT_FALSE(rr::verify(wire, kbm, bu_addrs));
}

INSTANTIATE_TEST_SUITE_P(Messages, RrUnsignable, testing::ValuesIn(unsignables),
			 [](const auto &info) { return info.param.name; });

TEST(RrWipe, ZeroesTheBuffer)
{
	std::array<std::uint8_t, 4> secret{1, 2, 3, 4};

	rr::wipe(secret);
	EXPECT_EQ(secret, (std::array<std::uint8_t, 4>{}));
}

const rr::NonceTable::Time t0 = rr::NonceTable::Time{} + 1000s;

TEST(RrNonceTable, KeepsOneNonceForTheRenewalPeriod)
{
	rr::NonceTable table;

	auto first = table.issue(home, rr::Path::home, t0);
	auto again = table.issue(home, rr::Path::home, t0 + 29s);
	auto renewed = table.issue(home, rr::Path::home, t0 + 30s);

	ASSERT_TRUE(first && again && renewed);
	EXPECT_EQ(again->nonce_index, first->nonce_index);
	EXPECT_EQ(again->token, first->token);
	EXPECT_EQ(renewed->nonce_index, static_cast<std::uint16_t>(first->nonce_index + 1));
	EXPECT_NE(renewed->token, first->token);
}

TEST(RrNonceTable, RecomputesIssuedTokens)
{
	rr::NonceTable table;

	auto hot = table.issue(home, rr::Path::home, t0);
	auto cot = table.issue(coa, rr::Path::care_of, t0 + 1s);

	ASSERT_TRUE(hot && cot);
	EXPECT_EQ(cot->nonce_index, hot->nonce_index);
	EXPECT_EQ(table.token(hot->nonce_index, home, rr::Path::home, t0 + 5s), hot->token);
	EXPECT_EQ(table.token(cot->nonce_index, coa, rr::Path::care_of, t0 + 5s), cot->token);
	EXPECT_NE(table.token(hot->nonce_index, coa, rr::Path::home, t0 + 5s), hot->token);
}

TEST(RrNonceTable, ForgetsNoncesAfterTheirLifetime)
{
	rr::NonceTable table;

	auto issued = table.issue(home, rr::Path::home, t0);

	ASSERT_TRUE(issued);
	EXPECT_TRUE(table.token(issued->nonce_index, home, rr::Path::home, t0 + rr::max_nonce_lifetime - 1s));
	EXPECT_FALSE(table.token(issued->nonce_index, home, rr::Path::home, t0 + rr::max_nonce_lifetime));
	EXPECT_FALSE(table.token(issued->nonce_index + 1, home, rr::Path::home, t0));
}

TEST(RrNonceTable, KeepsTheLastSixteenNonces)
{
	rr::NonceTable table({.lifetime = 3600s, .renewal = 1s});
	std::vector<rr::NonceTable::Issued> issued;

	for (int i = 0; i < 17; i++) {
		auto next = table.issue(home, rr::Path::home, t0 + i * 1s);
		ASSERT_TRUE(next);
		issued.push_back(*next);
	}
	EXPECT_FALSE(table.token(issued[0].nonce_index, home, rr::Path::home, t0 + 17s));
	for (int i = 1; i < 17; i++)
		EXPECT_EQ(table.token(issued[i].nonce_index, home, rr::Path::home, t0 + 17s), issued[i].token);
}

/* The whole exchange: mobile node and correspondent derive the same Kbm on their own. */
TEST(RrNonceTable, SupportsACorrespondentsBindingCheck)
{
	rr::NonceTable table;
	auto hot = table.issue(home, rr::Path::home, t0);
	auto cot = table.issue(coa, rr::Path::care_of, t0 + 40s);
	ASSERT_TRUE(hot && cot);

	/* Mobile node */
	mh::Bu update = bu;
	update.options.nonce_indices = mh::NonceIndices{hot->nonce_index, cot->nonce_index};
	Bytes wire = mh::encode(update);
	ASSERT_TRUE(rr::sign(wire, rr::kbm(hot->token, cot->token), bu_addrs));

	/* Correspondent */
	auto received = mh::parse(wire);
	ASSERT_TRUE(received);
	const mh::NonceIndices ni = *std::get<mh::Bu>(*received).options.nonce_indices;
	auto home_token = table.token(ni.home, home, rr::Path::home, t0 + 50s);
	auto care_of_token = table.token(ni.care_of, coa, rr::Path::care_of, t0 + 50s);
	ASSERT_TRUE(home_token && care_of_token);
	EXPECT_TRUE(rr::verify(wire, rr::kbm(*home_token, *care_of_token), bu_addrs));
}

} // namespace
