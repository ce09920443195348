// SPDX-License-Identifier: LGPL-2.1-or-later

#include "message.h"
#include "sock_codec.h"

#include <gecko/address.h>

#include <gtest/gtest.h>

#include <linux/gecko.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;

std::span<const std::byte> payload(const nlattr *nla)
{
	return {static_cast<const std::byte *>(nla_data(nla)), static_cast<std::size_t>(nla_len(nla))};
}

TEST(PutSock, NamesTheSocketAlone)
{
	Message msg(GECKO_CMD_SOCK_THAW);

	ASSERT_TRUE(gecko::put_sock(msg.get(), 7));

	auto tb = msg.nested(GECKO_A_SOCK, GECKO_SOCK_A_MAX);
	expect_attr(tb[GECKO_SOCK_A_FD], std::uint32_t{7}, "fd");
	EXPECT_EQ(std::ranges::count(tb, nullptr), GECKO_SOCK_A_MAX);
}

TEST(PutSock, CarriesDataAndTimeout)
{
	const Bytes data = hex("0001 0080 00000007");
	Message msg(GECKO_CMD_SOCK_RESTORE);

	ASSERT_TRUE(gecko::put_sock(msg.get(), 7, data, 2500ms));

	auto tb = msg.nested(GECKO_A_SOCK, GECKO_SOCK_A_MAX);
	expect_attr(tb[GECKO_SOCK_A_FD], std::uint32_t{7}, "fd");
	ASSERT_NE(tb[GECKO_SOCK_A_DATA], nullptr);
	EXPECT_EQ(dump(payload(tb[GECKO_SOCK_A_DATA])), dump(data));
	expect_attr(tb[GECKO_SOCK_A_TIMEOUT], std::uint32_t{2500}, "timeout");
}

/* Wrapped to 32 bits, 2^32 + 100 ms would be a timeout the module takes: 100 ms. */
TEST(PutSock, TimeoutOutOfRangeSaturates)
{
	Message negative(GECKO_CMD_SOCK_FREEZE), huge(GECKO_CMD_SOCK_FREEZE);

	ASSERT_TRUE(gecko::put_sock(negative.get(), 7, {}, -1ms));
	ASSERT_TRUE(gecko::put_sock(huge.get(), 7, {}, 4294967396ms));

	expect_attr(negative.nested(GECKO_A_SOCK, GECKO_SOCK_A_MAX)[GECKO_SOCK_A_TIMEOUT], std::uint32_t{0},
		    "timeout");
	expect_attr(huge.nested(GECKO_A_SOCK, GECKO_SOCK_A_MAX)[GECKO_SOCK_A_TIMEOUT], std::uint32_t{0xffffffff},
		    "timeout");
}

/* A page-sized message cannot carry a piece of a state: the request makes room for it. */
TEST(PutSock, FullPieceNeedsRoom)
{
	const Bytes piece(GECKO_SOCK_DATA_MAX);
	auto small = gecko::netlink::new_request(GENL_MIN_ID, GECKO_CMD_SOCK_RESTORE_DATA, GECKO_GENL_VERSION);
	auto roomy = gecko::netlink::new_request(GENL_MIN_ID, GECKO_CMD_SOCK_RESTORE_DATA, GECKO_GENL_VERSION,
						 piece.size());
	ASSERT_TRUE(small && roomy);

	auto refused = gecko::put_sock(small->get(), 7, piece);
	EXPECT_TRUE(gecko::put_sock(roomy->get(), 7, piece));

	ASSERT_FALSE(refused);
	EXPECT_EQ(refused.error().code, EMSGSIZE);
}

TEST(PutSockTuple, CarriesAddressesAndPortsInHostOrder)
{
	Message msg(GECKO_CMD_SOCK_CAPTURE);

	ASSERT_TRUE(gecko::put_sock_tuple(msg.get(), addr("fd00:a::100"), 80, addr("fd00:c::2"), 41234));

	auto tb = msg.nested(GECKO_A_SOCK, GECKO_SOCK_A_MAX);
	expect_attr(tb[GECKO_SOCK_A_LOCAL], addr("fd00:a::100"), "local");
	expect_attr(tb[GECKO_SOCK_A_LOCAL_PORT], std::uint16_t{80}, "local port");
	expect_attr(tb[GECKO_SOCK_A_REMOTE], addr("fd00:c::2"), "remote");
	expect_attr(tb[GECKO_SOCK_A_REMOTE_PORT], std::uint16_t{41234}, "remote port");
	EXPECT_EQ(tb[GECKO_SOCK_A_FD], nullptr);
}

Bytes text(std::string_view s)
{
	const auto *p = reinterpret_cast<const std::byte *>(s.data());

	return {p, p + s.size()};
}

/* One GECKO_CMD_SOCK_CAPTURE reply: a piece of the state, and the whole's length if given. */
Message piece(std::string_view data, std::optional<std::uint32_t> length = {})
{
	Fields fields{{GECKO_SOCK_A_DATA, text(data)}};

	if (length)
		fields.emplace_back(GECKO_SOCK_A_LENGTH, bytes_of(*length));
	return reply(GECKO_CMD_SOCK_CAPTURE, GECKO_A_SOCK, fields);
}

gecko::Result<std::vector<std::byte>> decode_capture(std::vector<Message> replies)
{
	std::vector<std::span<const std::byte>> attrs;

	for (auto &reply : replies)
		attrs.push_back(reply.attrs());
	return gecko::decode_capture(attrs);
}

TEST(DecodeCapture, JoinsThePiecesInOrder)
{
	std::vector<Message> replies;
	replies.push_back(piece("abc", 8));
	replies.push_back(piece("def"));
	replies.push_back(piece("gh"));

	auto state = decode_capture(std::move(replies));

	ASSERT_TRUE(state) << state.error().describe();
	EXPECT_EQ(dump(*state), dump(text("abcdefgh")));
}

TEST(DecodeCapture, OnePiece)
{
	std::vector<Message> replies;
	replies.push_back(piece("abc", 3));

	auto state = decode_capture(std::move(replies));

	ASSERT_TRUE(state) << state.error().describe();
	EXPECT_EQ(dump(*state), dump(text("abc")));
}

struct BadCapture {
	const char *name;
	std::vector<std::pair<std::string_view, std::optional<std::uint32_t>>> pieces;
	std::string why;
};

const BadCapture bad_captures[] = {
	{"short_of_the_length", {{"abc", 8}, {"def", {}}},
	 "malformed GECKO_CMD_SOCK_CAPTURE reply: GECKO_SOCK_A_DATA adds up to 6 octets, not GECKO_SOCK_A_LENGTH's 8"},
	{"past_the_length", {{"abc", 2}},
	 "malformed GECKO_CMD_SOCK_CAPTURE reply: GECKO_SOCK_A_DATA adds up to 3 octets, not GECKO_SOCK_A_LENGTH's 2"},
	{"length_missing", {{"abc", {}}},
	 "malformed GECKO_CMD_SOCK_CAPTURE reply: GECKO_SOCK_A_LENGTH is missing"},
	{"no_replies", {}, "the module sent no GECKO_CMD_SOCK_CAPTURE reply"},
};

class DecodeCaptureRefuses : public testing::TestWithParam<BadCapture> {};

TEST_P(DecodeCaptureRefuses, IsEproto)
{
	std::vector<Message> replies;
	for (const auto &[data, length] : GetParam().pieces)
		replies.push_back(piece(data, length));

	auto state = decode_capture(std::move(replies));

	ASSERT_FALSE(state);
	EXPECT_EQ(state.error().code, EPROTO);
	EXPECT_EQ(state.error().message, GetParam().why);
}

INSTANTIATE_TEST_SUITE_P(Cases, DecodeCaptureRefuses, testing::ValuesIn(bad_captures),
			 [](const auto &info) { return std::string(info.param.name); });

TEST(DecodeCapture, PieceWithoutDataIsEproto)
{
	std::vector<Message> replies;
	replies.push_back(piece("abc", 6));
	replies.push_back(reply(GECKO_CMD_SOCK_CAPTURE, GECKO_A_SOCK,
				{{GECKO_SOCK_A_LENGTH, bytes_of(std::uint32_t{6})}}));

	auto state = decode_capture(std::move(replies));

	ASSERT_FALSE(state);
	EXPECT_EQ(state.error().message, "malformed GECKO_CMD_SOCK_CAPTURE reply: GECKO_SOCK_A_DATA is missing");
}

Fields flow_fields()
{
	return {
		{GECKO_SOCK_A_LOCAL, bytes_of(addr("fd00:a::100"))},
		{GECKO_SOCK_A_LOCAL_PORT, bytes_of(std::uint16_t{80})},
		{GECKO_SOCK_A_REMOTE, bytes_of(addr("fd00:c::2"))},
		{GECKO_SOCK_A_REMOTE_PORT, bytes_of(std::uint16_t{41234})},
		{GECKO_SOCK_A_FLOW, bytes_of(std::uint8_t{GECKO_FLOW_RESTORING})},
		{GECKO_SOCK_A_HELD, bytes_of(std::uint32_t{3})},
		{GECKO_SOCK_A_TIMEOUT, bytes_of(std::uint32_t{9500})},
	};
}

gecko::Result<gecko::Flow> decode_flow(const Fields &fields)
{
	return gecko::decode_flow(reply(GECKO_CMD_SOCK_GET, GECKO_A_SOCK, fields).attrs());
}

TEST(DecodeFlow, GoodReply)
{
	auto flow = decode_flow(flow_fields());

	ASSERT_TRUE(flow) << flow.error().describe();
	EXPECT_EQ(gecko::format_address(flow->local), "fd00:a::100");
	EXPECT_EQ(flow->local_port, 80);
	EXPECT_EQ(gecko::format_address(flow->remote), "fd00:c::2");
	EXPECT_EQ(flow->remote_port, 41234);
	EXPECT_EQ(flow->state, gecko::FlowState::restoring);
	EXPECT_EQ(flow->held, 3u);
	EXPECT_EQ(flow->timeout_left, 9500ms);
	EXPECT_FALSE(flow->donor);
}

TEST(DecodeFlow, RestoredFromADonor)
{
	auto fields = flow_fields();
	fields.push_back({GECKO_SOCK_A_DONOR, bytes_of(addr("fd00:11::2"))});

	auto flow = decode_flow(fields);

	ASSERT_TRUE(flow) << flow.error().describe();
	ASSERT_TRUE(flow->donor);
	EXPECT_EQ(gecko::format_address(*flow->donor), "fd00:11::2");
}

TEST(DecodeFlow, EveryState)
{
	for (auto state : {gecko::FlowState::frozen, gecko::FlowState::restoring, gecko::FlowState::restored,
			   gecko::FlowState::moved, gecko::FlowState::committed, gecko::FlowState::arrived,
			   gecko::FlowState::probing}) {
		auto flow = decode_flow(change(flow_fields(), GECKO_SOCK_A_FLOW, bytes_of(state)));

		ASSERT_TRUE(flow) << flow.error().describe();
		EXPECT_EQ(flow->state, state);
	}
}

/* @fields as the attributes inside a nest: each its header, its value, its padding. */
Bytes nest_of(const Fields &fields)
{
	Bytes out;

	for (const auto &[type, value] : fields) {
		std::uint16_t header[2] = {static_cast<std::uint16_t>(NLA_HDRLEN + value.size()),
					   static_cast<std::uint16_t>(type)};
		auto h = bytes_of(header);
		out.insert(out.end(), h.begin(), h.end());
		out.insert(out.end(), value.begin(), value.end());
		out.resize(NLA_ALIGN(out.size()));
	}
	return out;
}

TEST(DecodeFlow, ProbingWithItsAnswer)
{
	auto fields = change(flow_fields(), GECKO_SOCK_A_FLOW, bytes_of(std::uint8_t{GECKO_FLOW_PROBING}));
	fields.push_back({GECKO_SOCK_A_PROBE, nest_of({
		{GECKO_PROBE_A_SENT, bytes_of(std::uint32_t{2})},
		{GECKO_PROBE_A_SEQ, bytes_of(std::uint32_t{4000000000})},
		{GECKO_PROBE_A_ACK, bytes_of(std::uint32_t{12345})},
		{GECKO_PROBE_A_WINDOW, bytes_of(std::uint16_t{501})},
		{GECKO_PROBE_A_FLAGS, bytes_of(std::uint8_t{0x10})},
		{GECKO_PROBE_A_AGE, bytes_of(std::uint32_t{15})},
		{GECKO_PROBE_A_TSVAL, bytes_of(std::uint32_t{7})},
		{GECKO_PROBE_A_TSECR, bytes_of(std::uint32_t{9})},
	})});

	auto flow = decode_flow(fields);

	ASSERT_TRUE(flow) << flow.error().describe();
	EXPECT_EQ(flow->state, gecko::FlowState::probing);
	ASSERT_TRUE(flow->probe);
	EXPECT_EQ(flow->probe->sent, 2u);
	ASSERT_TRUE(flow->probe->answer);
	EXPECT_EQ(flow->probe->answer->seq, 4000000000u);
	EXPECT_EQ(flow->probe->answer->ack, 12345u);
	EXPECT_EQ(flow->probe->answer->window, 501);
	EXPECT_EQ(flow->probe->answer->flags, 0x10);
	EXPECT_EQ(flow->probe->answer->tsval, 7u);
	EXPECT_EQ(flow->probe->answer->tsecr, 9u);
	EXPECT_EQ(flow->probe->age, 15ms);
}

TEST(DecodeFlow, ProbingUnansweredOrWithoutTimestamps)
{
	auto fields = change(flow_fields(), GECKO_SOCK_A_FLOW, bytes_of(std::uint8_t{GECKO_FLOW_PROBING}));
	fields.push_back({GECKO_SOCK_A_PROBE, nest_of({{GECKO_PROBE_A_SENT, bytes_of(std::uint32_t{1})}})});
	auto flow = decode_flow(fields);
	ASSERT_TRUE(flow) << flow.error().describe();
	ASSERT_TRUE(flow->probe);
	EXPECT_EQ(flow->probe->sent, 1u);
	EXPECT_FALSE(flow->probe->answer);

	fields.back().second = nest_of({
		{GECKO_PROBE_A_SENT, bytes_of(std::uint32_t{1})},
		{GECKO_PROBE_A_SEQ, bytes_of(std::uint32_t{1})},
		{GECKO_PROBE_A_ACK, bytes_of(std::uint32_t{2})},
		{GECKO_PROBE_A_WINDOW, bytes_of(std::uint16_t{0})},
		{GECKO_PROBE_A_FLAGS, bytes_of(std::uint8_t{0x10})},
		{GECKO_PROBE_A_AGE, bytes_of(std::uint32_t{0})},
	});
	flow = decode_flow(fields);
	ASSERT_TRUE(flow) << flow.error().describe();
	ASSERT_TRUE(flow->probe->answer);
	EXPECT_FALSE(flow->probe->answer->tsval);

	/* An answer without its acknowledgement is malformed, not half read. */
	fields.back().second = nest_of({
		{GECKO_PROBE_A_SENT, bytes_of(std::uint32_t{1})},
		{GECKO_PROBE_A_SEQ, bytes_of(std::uint32_t{1})},
	});
	flow = decode_flow(fields);
	ASSERT_FALSE(flow);
	EXPECT_EQ(flow.error().code, EPROTO);
	EXPECT_NE(flow.error().message.find("GECKO_PROBE_A_ACK is missing"), std::string::npos) << flow.error().message;
}

TEST(PutProbe, CarriesTheConnectionTheNumbersAndTheTimeout)
{
	Message msg(GECKO_CMD_SOCK_PROBE);
	gecko::ProbeSegment seg{.seq = 1, .ack = 2, .window = 3, .tsval = 4, .tsecr = 5, .flags = 0};

	ASSERT_TRUE(gecko::put_probe(msg.get(), addr("fd00:a::100"), 80, addr("fd00:c::2"), 41234, seg, 2500ms));

	auto tb = msg.nested(GECKO_A_SOCK, GECKO_SOCK_A_MAX);
	expect_attr(tb[GECKO_SOCK_A_LOCAL], addr("fd00:a::100"), "local");
	expect_attr(tb[GECKO_SOCK_A_REMOTE_PORT], std::uint16_t{41234}, "remote port");
	expect_attr(tb[GECKO_SOCK_A_TIMEOUT], std::uint32_t{2500}, "timeout");
	ASSERT_NE(tb[GECKO_SOCK_A_PROBE], nullptr);
	std::vector<nlattr *> pb(GECKO_PROBE_A_MAX + 1);
	ASSERT_EQ(nla_parse_nested(pb.data(), GECKO_PROBE_A_MAX, tb[GECKO_SOCK_A_PROBE], nullptr), 0);
	expect_attr(pb[GECKO_PROBE_A_SEQ], std::uint32_t{1}, "seq");
	expect_attr(pb[GECKO_PROBE_A_ACK], std::uint32_t{2}, "ack");
	expect_attr(pb[GECKO_PROBE_A_WINDOW], std::uint16_t{3}, "window");
	expect_attr(pb[GECKO_PROBE_A_TSVAL], std::uint32_t{4}, "tsval");
	expect_attr(pb[GECKO_PROBE_A_TSECR], std::uint32_t{5}, "tsecr");

	Message bare(GECKO_CMD_SOCK_PROBE);
	ASSERT_TRUE(gecko::put_probe(bare.get(), addr("fd00:a::100"), 80, addr("fd00:c::2"), 41234,
				     gecko::ProbeSegment{.seq = 1, .ack = 2, .window = 0, .tsval = {}, .tsecr = {}, .flags = 0},
				     {}));
	auto tb2 = bare.nested(GECKO_A_SOCK, GECKO_SOCK_A_MAX);
	EXPECT_EQ(tb2[GECKO_SOCK_A_TIMEOUT], nullptr);
	std::vector<nlattr *> pb2(GECKO_PROBE_A_MAX + 1);
	ASSERT_EQ(nla_parse_nested(pb2.data(), GECKO_PROBE_A_MAX, tb2[GECKO_SOCK_A_PROBE], nullptr), 0);
	EXPECT_EQ(pb2[GECKO_PROBE_A_TSVAL], nullptr);

	Message none(GECKO_CMD_SOCK_PROBE);
	ASSERT_TRUE(gecko::put_probe(none.get(), addr("fd00:a::100"), 80, addr("fd00:c::2"), 41234, std::nullopt, {}));
	auto tb3 = none.nested(GECKO_A_SOCK, GECKO_SOCK_A_MAX);
	expect_attr(tb3[GECKO_SOCK_A_LOCAL_PORT], std::uint16_t{80}, "local port");
	EXPECT_EQ(tb3[GECKO_SOCK_A_PROBE], nullptr) << "no segment: no probe nest";
}

const Malformed bad_flows[] = {
	{"local_missing", GECKO_SOCK_A_LOCAL, {}, "GECKO_SOCK_A_LOCAL is missing"},
	{"local_port_missing", GECKO_SOCK_A_LOCAL_PORT, {}, "GECKO_SOCK_A_LOCAL_PORT is missing"},
	{"remote_missing", GECKO_SOCK_A_REMOTE, {}, "GECKO_SOCK_A_REMOTE is missing"},
	{"remote_port_missing", GECKO_SOCK_A_REMOTE_PORT, {}, "GECKO_SOCK_A_REMOTE_PORT is missing"},
	{"flow_missing", GECKO_SOCK_A_FLOW, {}, "GECKO_SOCK_A_FLOW is missing"},
	{"held_missing", GECKO_SOCK_A_HELD, {}, "GECKO_SOCK_A_HELD is missing"},
	{"timeout_missing", GECKO_SOCK_A_TIMEOUT, {}, "GECKO_SOCK_A_TIMEOUT is missing"},
	{"remote_ipv4_sized", GECKO_SOCK_A_REMOTE, Bytes(4), "GECKO_SOCK_A_REMOTE has 4 bytes instead of 16"},
	{"local_port_u32", GECKO_SOCK_A_LOCAL_PORT, Bytes(4), "GECKO_SOCK_A_LOCAL_PORT has 4 bytes instead of 2"},
	{"flow_u32", GECKO_SOCK_A_FLOW, Bytes(4), "GECKO_SOCK_A_FLOW has 4 bytes instead of 1"},
	{"held_u16", GECKO_SOCK_A_HELD, Bytes(2), "GECKO_SOCK_A_HELD has 2 bytes instead of 4"},
	{"flow_unspec", GECKO_SOCK_A_FLOW, Bytes(1), "GECKO_SOCK_A_FLOW is 0, not a known state"},
	{"flow_unknown", GECKO_SOCK_A_FLOW, bytes_of(std::uint8_t{__GECKO_FLOW_STATE_MAX}),
	 "GECKO_SOCK_A_FLOW is 8, not a known state"},
	{"flow_draining", GECKO_SOCK_A_FLOW, bytes_of(std::uint8_t{31}), "GECKO_SOCK_A_FLOW is 31, not a known state"},
	{"donor_short", GECKO_SOCK_A_DONOR, Bytes(4), "GECKO_SOCK_A_DONOR has 4 bytes instead of 16"},
};

class DecodeFlowMalformed : public testing::TestWithParam<Malformed> {};

TEST_P(DecodeFlowMalformed, IsEproto)
{
	auto flow = decode_flow(change(flow_fields(), GetParam().type, GetParam().payload));

	ASSERT_FALSE(flow);
	EXPECT_EQ(flow.error().code, EPROTO);
	EXPECT_EQ(flow.error().message, "malformed GECKO_CMD_SOCK_GET reply: " + GetParam().why);
}

INSTANTIATE_TEST_SUITE_P(Cases, DecodeFlowMalformed, testing::ValuesIn(bad_flows),
			 [](const auto &info) { return std::string(info.param.name); });

/* A whole state of numbered octets with queues of these lengths, and its header. */
struct State {
	gecko::TcpState hdr;
	Bytes bytes;
};

State whole_state(std::uint32_t inq_len, std::uint32_t outq_len, std::uint32_t unsq_len)
{
	State st{{.hdr_len = GECKO_TCP_STATE_HDR_LEN, .inq_len = inq_len, .outq_len = outq_len, .unsq_len = unsq_len},
		 Bytes(GECKO_TCP_STATE_HDR_LEN + inq_len + outq_len)};

	for (std::size_t i = 0; i < st.bytes.size(); i++)
		st.bytes[i] = static_cast<std::byte>(i % 251);
	return st;
}

/* The receive queue and the send queue, cut at GECKO_SOCK_DATA_MAX, nothing more. */
struct Split {
	const char *name;
	std::uint32_t inq_len, outq_len, unsq_len;
	std::vector<std::size_t> sizes;
};

const Split splits[] = {
	{"small", 3, 5, 2, {8}},
	{"one_full_piece", GECKO_SOCK_DATA_MAX, 0, 0, {GECKO_SOCK_DATA_MAX}},
	{"across_both_queues", 100000, 40000, 1000, {GECKO_SOCK_DATA_MAX, GECKO_SOCK_DATA_MAX, 10000}},
	{"send_queue_alone", 0, 65001, 0, {GECKO_SOCK_DATA_MAX, 1}},
	{"all_unsent", 0, 5, 5, {5}},
	{"empty", 0, 0, 0, {}},
};

class RestoreData : public testing::TestWithParam<Split> {};

TEST_P(RestoreData, CutsTheQueuesInPieces)
{
	const auto &[name, inq_len, outq_len, unsq_len, sizes] = GetParam();
	auto st = whole_state(inq_len, outq_len, unsq_len);

	auto pieces = gecko::restore_data(st.hdr, st.bytes);

	std::vector<std::size_t> got;
	const std::byte *next = st.bytes.data() + GECKO_TCP_STATE_HDR_LEN;
	for (auto piece : pieces) {
		got.push_back(piece.size());
		EXPECT_EQ(piece.data(), next) << "pieces follow each other from the receive queue on";
		next += piece.size();
	}
	EXPECT_EQ(got, sizes);
}

INSTANTIATE_TEST_SUITE_P(Cases, RestoreData, testing::ValuesIn(splits),
			 [](const auto &info) { return std::string(info.param.name); });

TEST(RestoreData, NothingFollowsASnapshot)
{
	/* Its header gives the queues' lengths; their octets are not there. */
	State st{{.hdr_len = GECKO_TCP_STATE_HDR_LEN, .flags = gecko::TcpState::snapshot, .inq_len = 10,
		  .outq_len = 70000, .unsq_len = 5},
		 Bytes(GECKO_TCP_STATE_HDR_LEN)};

	EXPECT_TRUE(gecko::restore_data(st.hdr, st.bytes).empty());
}

} // namespace
