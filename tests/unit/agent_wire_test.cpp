// SPDX-License-Identifier: GPL-2.0-only
/* The frames node agents and gecko-ctl exchange (libgeckoctl/src/agent/wire.h). */

#include "agent/wire.h"

#include <gecko/address.h>

#include <gtest/gtest.h>

#include <cerrno>

namespace gecko::agent::wire {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> values)
{
	std::vector<std::byte> out;
	for (int v : values)
		out.push_back(static_cast<std::byte>(v));
	return out;
}

Message sample()
{
	Message msg(Type::bu);
	msg.put(Attr::home, *parse_address("fd00:a::100")).put(Attr::client, *parse_address("fd00:c::2"));
	msg.put_u16(Attr::seq, 0x1234).put_u32(Attr::lifetime, 420).put_u64(Attr::elapsed_us, 1ULL << 40);
	msg.put(Attr::text, std::string("hello"));
	return msg;
}

TEST(AgentWire, RoundTrip)
{
	Reader reader;
	reader.feed(sample().encode());
	auto msg = reader.next();
	ASSERT_TRUE(msg && *msg);
	EXPECT_EQ((*msg)->type(), Type::bu);
	EXPECT_EQ(format_address(*(*msg)->address(Attr::home)), "fd00:a::100");
	EXPECT_EQ(format_address(*(*msg)->address(Attr::client)), "fd00:c::2");
	EXPECT_EQ(*(*msg)->u16(Attr::seq), 0x1234);
	EXPECT_EQ(*(*msg)->u32(Attr::lifetime), 420u);
	EXPECT_EQ(*(*msg)->u64(Attr::elapsed_us), 1ULL << 40);
	EXPECT_EQ(*(*msg)->text(Attr::text), "hello");
	auto none = reader.next();
	ASSERT_TRUE(none);
	EXPECT_FALSE(*none);
}

TEST(AgentWire, LayoutIsNetworkOrder)
{
	Message msg(Type::rr);
	msg.put_u16(Attr::seq, 0x0102);
	EXPECT_EQ(msg.encode(), bytes({0, 1, 0, 3, 0, 0, 0, 6, 0, 3, 0, 2, 1, 2}));
}

TEST(AgentWire, FramesArriveInPieces)
{
	auto frame = sample().encode();
	auto two = frame;
	two.insert(two.end(), frame.begin(), frame.end());
	Reader reader;
	int seen = 0;
	for (auto b : two) {
		reader.feed(std::span(&b, 1));
		for (;;) {
			auto msg = reader.next();
			ASSERT_TRUE(msg);
			if (!*msg)
				break;
			EXPECT_EQ(*(*msg)->u16(Attr::seq), 0x1234);
			seen++;
		}
	}
	EXPECT_EQ(seen, 2);
}

TEST(AgentWire, RefusesOtherVersions)
{
	Reader reader;
	reader.feed(bytes({0, 2, 0, 3, 0, 0, 0, 0}));
	auto msg = reader.next();
	ASSERT_FALSE(msg);
	EXPECT_EQ(msg.error().code, EPROTO);
}

TEST(AgentWire, RefusesHugeFrames)
{
	Reader reader;
	reader.feed(bytes({0, 1, 0, 3, 0, 1, 0, 1}));
	auto msg = reader.next();
	ASSERT_FALSE(msg);
	EXPECT_EQ(msg.error().code, EMSGSIZE);
}

TEST(AgentWire, RefusesTruncatedAttributes)
{
	for (auto frame : {bytes({0, 1, 0, 3, 0, 0, 0, 3, 0, 3, 0}),		 /* header cut */
			   bytes({0, 1, 0, 3, 0, 0, 0, 5, 0, 3, 0, 2, 1})}) { /* value cut */
		Reader reader;
		reader.feed(frame);
		auto msg = reader.next();
		ASSERT_FALSE(msg);
		EXPECT_EQ(msg.error().code, EBADMSG);
	}
}

TEST(AgentWire, WrongSizesAndMissingAttributesAreErrors)
{
	Message msg(Type::rr);
	msg.put_u32(Attr::seq, 7);
	auto seq = msg.u16(Attr::seq);
	ASSERT_FALSE(seq);
	EXPECT_EQ(seq.error().code, EBADMSG);
	auto home = msg.address(Attr::home);
	ASSERT_FALSE(home);
	EXPECT_NE(home.error().message.find("missing"), std::string::npos);
}

TEST(AgentWire, SkipsUnknownAttributes)
{
	Reader reader;
	reader.feed(bytes({0, 1, 0, 3, 0, 0, 0, 11, 0x7f, 0, 0, 1, 9, 0, 3, 0, 2, 0, 5}));
	auto msg = reader.next();
	ASSERT_TRUE(msg && *msg);
	EXPECT_EQ(*(*msg)->u16(Attr::seq), 5);
}

} // namespace
} // namespace gecko::agent::wire
