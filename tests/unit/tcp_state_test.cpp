// SPDX-License-Identifier: LGPL-2.1-or-later

#include "bytes.h"

#include <gecko/address.h>
#include <gecko/tcp_state.h>

#include <gtest/gtest.h>

#include <linux/gecko.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <string>
#include <string_view>

namespace {

/* A version 1 header, at the offsets of the UAPI header's table, a distinct value in each field. */
const Bytes header = hex("0001 0088 | 00000007 |"			/* version, hdr_len, SACK|WSCALE|TIMESTAMPS */
			 "01 | 07 | 09 | 00 | 05a0 | 0000 |"		/* ESTABLISHED, wscales, mss 1440 */
			 "10203040 | 50607080 |"			/* rcv_nxt, write_seq */
			 "00000003 | 00000005 | 00000002 |"		/* inq_len, outq_len, unsq_len */
			 "a1b2c3d4 |"					/* ts_val */
			 "11121314 | 00010000 | 00020000 | 00030000 | 10203001 |" /* the windows */
			 "00004e20 | 00001388 | 00030d40 |"		/* srtt 20 ms, rttvar 5 ms, rto 200 ms */
			 "00000001 00000005 | 00000002 00000003 |"	/* bytes_sent, bytes_received */
			 "fd00000a 00000000 00000000 00000100 |"	/* local fd00:a::100 */
			 "fd00000c 00000000 00000000 00000002 |"	/* remote fd00:c::2 */
			 "0050 | a112 |"				/* ports 80 and 41234 */
			 "00015400 | 00020000 | 00000000");		/* snd_buf, rcv_buf */

Bytes text(std::string_view s)
{
	const auto *p = reinterpret_cast<const std::byte *>(s.data());

	return {p, p + s.size()};
}

/* @hdr, the receive queue "abc", then the send queue "defgh", of which "gh" is unsent. */
Bytes state(Bytes hdr = header)
{
	const Bytes queues = text("abcdefgh");

	hdr.insert(hdr.end(), queues.begin(), queues.end());
	return hdr;
}

/* @value in @width octets, big-endian, at @offset of @buf. */
void put_be(Bytes &buf, std::size_t offset, std::uint64_t value, std::size_t width)
{
	for (std::size_t i = 0; i < width; i++)
		buf[offset + i] = static_cast<std::byte>(value >> 8 * (width - 1 - i));
}

TEST(TcpStateHeader, IsTheSizeTheUapiSays)
{
	EXPECT_EQ(header.size(), std::size_t{GECKO_TCP_STATE_HDR_LEN});
}

TEST(ParseTcpState, ReadsEveryField)
{
	const Bytes whole = state();

	auto st = gecko::parse_tcp_state(whole);

	ASSERT_TRUE(st) << st.error().describe();
	EXPECT_EQ(st->hdr_len, 136);
	EXPECT_EQ(st->flags, gecko::TcpState::sack | gecko::TcpState::wscale | gecko::TcpState::timestamps);
	EXPECT_EQ(st->state, TCP_ESTABLISHED);
	EXPECT_EQ(st->snd_wscale, 7);
	EXPECT_EQ(st->rcv_wscale, 9);
	EXPECT_EQ(st->mss_clamp, 1440);
	EXPECT_EQ(st->rcv_nxt, 0x10203040u);
	EXPECT_EQ(st->write_seq, 0x50607080u);
	EXPECT_EQ(st->inq_len, 3u);
	EXPECT_EQ(st->outq_len, 5u);
	EXPECT_EQ(st->unsq_len, 2u);
	EXPECT_EQ(st->ts_val, 0xa1b2c3d4u);
	EXPECT_EQ(st->snd_wl1, 0x11121314u);
	EXPECT_EQ(st->snd_wnd, 0x10000u);
	EXPECT_EQ(st->max_window, 0x20000u);
	EXPECT_EQ(st->rcv_wnd, 0x30000u);
	EXPECT_EQ(st->rcv_wup, 0x10203001u);
	EXPECT_EQ(st->srtt_us, 20000u);
	EXPECT_EQ(st->rttvar_us, 5000u);
	EXPECT_EQ(st->rto_us, 200000u);
	EXPECT_EQ(st->bytes_sent, 0x100000005u);
	EXPECT_EQ(st->bytes_received, 0x200000003u);
	EXPECT_EQ(gecko::format_address(st->local), "fd00:a::100");
	EXPECT_EQ(gecko::format_address(st->remote), "fd00:c::2");
	EXPECT_EQ(st->local_port, 80);
	EXPECT_EQ(st->remote_port, 41234);
	EXPECT_EQ(st->snd_buf, 87040u);
	EXPECT_EQ(st->rcv_buf, 131072u);
}

TEST(ParseTcpState, QueuesFollowTheHeader)
{
	const Bytes whole = state();

	auto st = gecko::parse_tcp_state(whole);

	ASSERT_TRUE(st) << st.error().describe();
	EXPECT_EQ(dump(gecko::receive_queue(*st, whole)), dump(text("abc")));
	EXPECT_EQ(dump(gecko::sent_queue(*st, whole)), dump(text("def")));
	EXPECT_EQ(dump(gecko::unsent_queue(*st, whole)), dump(text("gh")));
	EXPECT_EQ(gecko::receive_queue(*st, whole).data(), whole.data() + 136);
}

/* A later version's header is longer: its queues start where hdr_len says. */
TEST(ParseTcpState, LongerHeaderIsSkipped)
{
	Bytes hdr = header;
	put_be(hdr, 2, 144, 2);
	hdr.resize(144, std::byte{0xee});

	const Bytes whole = state(hdr);
	auto st = gecko::parse_tcp_state(whole);

	ASSERT_TRUE(st) << st.error().describe();
	EXPECT_EQ(st->hdr_len, 144);
	EXPECT_EQ(dump(gecko::receive_queue(*st, whole)), dump(text("abc")));
	EXPECT_EQ(dump(gecko::unsent_queue(*st, whole)), dump(text("gh")));
}

TEST(ParseTcpState, SnapshotIsTheHeaderAlone)
{
	Bytes snapshot = header;
	put_be(snapshot, 4, GECKO_TCP_STATE_F_SNAPSHOT, 4);

	auto st = gecko::parse_tcp_state(snapshot);

	ASSERT_TRUE(st) << st.error().describe();
	EXPECT_EQ(st->inq_len, 3u);
	EXPECT_EQ(st->outq_len, 5u);
	EXPECT_TRUE(gecko::receive_queue(*st, snapshot).empty());
	EXPECT_TRUE(gecko::sent_queue(*st, snapshot).empty());
	EXPECT_TRUE(gecko::unsent_queue(*st, snapshot).empty());
}

TEST(ParseTcpState, EmptyQueues)
{
	Bytes hdr = header;
	put_be(hdr, 24, 0, 12);

	auto st = gecko::parse_tcp_state(hdr);

	ASSERT_TRUE(st) << st.error().describe();
	EXPECT_TRUE(gecko::receive_queue(*st, hdr).empty());
	EXPECT_TRUE(gecko::sent_queue(*st, hdr).empty());
	EXPECT_TRUE(gecko::unsent_queue(*st, hdr).empty());
}

/* A whole state, spoilt one way, and the complaint. */
struct Refusal {
	const char *name;
	void (*spoil)(Bytes &state);
	int code;
	std::string why;
};

const Refusal refusals[] = {
	{"version_2", [](Bytes &s) { put_be(s, 0, 2, 2); }, EPROTONOSUPPORT,
	 "TCP state version 2: this library reads version 1"},
	{"version_0", [](Bytes &s) { put_be(s, 0, 0, 2); }, EPROTONOSUPPORT,
	 "TCP state version 0: this library reads version 1"},
	{"empty", [](Bytes &s) { s.clear(); }, EINVAL, "a TCP state of 0 octets is too short for its header"},
	{"no_header_length", [](Bytes &s) { s.resize(3); }, EINVAL,
	 "a TCP state of 3 octets is too short for its header"},
	{"cut_in_the_header", [](Bytes &s) { s.resize(100); }, EINVAL,
	 "a TCP state of 100 octets is cut short: its header has 136"},
	{"header_longer_than_state", [](Bytes &s) { put_be(s, 2, 200, 2); }, EINVAL,
	 "a TCP state of 144 octets is cut short: its header has 200"},
	/* The layout before the addresses were added. */
	{"header_length_88", [](Bytes &s) { put_be(s, 2, 88, 2); }, EINVAL,
	 "a TCP state header of 88 octets is shorter than version 1's 136"},
	{"reserved_11", [](Bytes &s) { put_be(s, 11, 1, 1); }, EINVAL,
	 "a TCP state has reserved octets that are not zero"},
	{"reserved_14", [](Bytes &s) { put_be(s, 14, 0x100, 2); }, EINVAL,
	 "a TCP state has reserved octets that are not zero"},
	{"reserved_132", [](Bytes &s) { put_be(s, 132, 1, 4); }, EINVAL,
	 "a TCP state has reserved octets that are not zero"},
	/* A socket closed under a snapshot loses its peer's port: never a connection's state. */
	{"no_remote_port", [](Bytes &s) { put_be(s, 122, 0, 2); }, EINVAL, "a TCP state without its ports"},
	{"no_local_port", [](Bytes &s) { put_be(s, 120, 0, 2); }, EINVAL, "a TCP state without its ports"},
	{"unsent_over_queued", [](Bytes &s) { put_be(s, 32, 6, 4); }, EINVAL,
	 "a TCP state has 6 octets unsent in a send queue of 5"},
	{"queue_octet_missing", [](Bytes &s) { s.pop_back(); }, EINVAL,
	 "a TCP state of 143 octets is not its header and queues (136 + 3 + 5)"},
	{"octet_after_the_queues", [](Bytes &s) { s.push_back(std::byte{0}); }, EINVAL,
	 "a TCP state of 145 octets is not its header and queues (136 + 3 + 5)"},
	/* Lengths that would wrap around to the size in 32 bits. */
	{"queues_wrapping",
	 [](Bytes &s) {
		 put_be(s, 24, 0xffffffff, 4);
		 put_be(s, 28, 9, 4);
	 },
	 EINVAL,
	 "a TCP state of 144 octets is not its header and queues (136 + 4294967295 + 9)"},
	{"snapshot_with_queues", [](Bytes &s) { put_be(s, 4, 0x7 | GECKO_TCP_STATE_F_SNAPSHOT, 4); }, EINVAL,
	 "a TCP state snapshot of 144 octets is not its header alone (136)"},
};

class ParseTcpStateRefuses : public testing::TestWithParam<Refusal> {};

TEST_P(ParseTcpStateRefuses, SayingWhy)
{
	Bytes spoilt = state();
	GetParam().spoil(spoilt);

	auto st = gecko::parse_tcp_state(spoilt);

	ASSERT_FALSE(st);
	EXPECT_EQ(st.error().code, GetParam().code);
	EXPECT_EQ(st.error().message, GetParam().why);
}

INSTANTIATE_TEST_SUITE_P(Cases, ParseTcpStateRefuses, testing::ValuesIn(refusals),
			 [](const auto &info) { return std::string(info.param.name); });

} // namespace
