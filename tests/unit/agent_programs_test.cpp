// SPDX-License-Identifier: GPL-2.0-only
/* The messages between the node agent and its programs (libgeckoctl/src/agent/programs.h). */

#include "agent/programs.h"

#include <gecko/address.h>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace gecko::agent::programs {
namespace {

struct Pair {
	UniqueFd a, b;
};

Pair seqpacket_pair()
{
	int fds[2];
	EXPECT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
	return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

TEST(AgentPrograms, FieldsRoundTripInOrder)
{
	auto client = *parse_address("fd00:c::1:5");
	std::vector<std::byte> state{std::byte{1}, std::byte{2}, std::byte{3}};
	Writer w(Type::arrival);
	w.u32(7).addr(client).bytes(state).u64(1ULL << 40).i64(-1).text("hello").u16(80).u8(9);

	Parser p(w.data());
	EXPECT_EQ(p.type(), Type::arrival);
	EXPECT_EQ(p.u32(), 7u);
	EXPECT_EQ(format_address(p.addr()), "fd00:c::1:5");
	EXPECT_EQ(p.bytes(16), state);
	EXPECT_EQ(p.u64(), 1ULL << 40);
	EXPECT_EQ(p.i64(), -1);
	EXPECT_EQ(p.text(), "hello");
	EXPECT_EQ(p.u16(), 80);
	EXPECT_EQ(p.u8(), 9);
	EXPECT_TRUE(p.ok());
}

TEST(AgentPrograms, TruncatedOrOverlongMessagesAreBad)
{
	Writer w(Type::request);
	w.addr(*parse_address("fd00:c::1")).addr(*parse_address("fd00:12::2"));
	auto data = w.data();

	Parser cut(data.first(data.size() - 1));
	cut.type();
	cut.addr();
	EXPECT_EQ(format_address(cut.addr()), "::");
	EXPECT_FALSE(cut.ok());
	EXPECT_TRUE(cut.failed());

	Parser extra(data);
	extra.type();
	extra.addr();
	EXPECT_FALSE(extra.ok()) << "one field left unread";
}

TEST(AgentPrograms, BytesLongerThanAllowedOrThanTheMessageAreBad)
{
	std::vector<std::byte> big(100);
	Writer w(Type::conn);
	w.u32(3).bytes(big);

	Parser limited(w.data());
	limited.type();
	limited.u32();
	EXPECT_TRUE(limited.bytes(99).empty());
	EXPECT_TRUE(limited.failed());

	/* A length that claims more than the message holds. */
	Writer lie(Type::conn);
	lie.u32(3).u32(1000);
	Parser p(lie.data());
	p.type();
	p.u32();
	EXPECT_TRUE(p.bytes(4096).empty());
	EXPECT_TRUE(p.failed());
}

TEST(AgentPrograms, ALongTextIsCutNotABrokenMessage)
{
	Writer w(Type::decline);
	w.text(std::string(max_text + 100, 'x')).u32(7);
	Parser p(w.data());
	p.type();
	EXPECT_EQ(p.text(), std::string(max_text, 'x'));
	EXPECT_EQ(p.u32(), 7u);
	EXPECT_TRUE(p.ok());
}

TEST(AgentPrograms, MembersRoundTrip)
{
	std::vector<MemberStatus> members(2);
	members[0] = {"node1", *parse_address("fd00:11::2"), MemberStatus::State::self, std::nullopt, 12, 0};
	members[1] = {"node2", *parse_address("fd00:12::2"), MemberStatus::State::draining,
		      std::chrono::milliseconds(250), 3, 41, true, 3};
	Writer w(Type::members);
	put_members(w, members);

	Parser p(w.data());
	ASSERT_EQ(p.type(), Type::members);
	auto got = get_members(p);
	ASSERT_TRUE(p.ok());
	ASSERT_EQ(got.size(), 2u);
	EXPECT_EQ(got[0].name, "node1");
	EXPECT_EQ(got[0].state, MemberStatus::State::self);
	EXPECT_FALSE(got[0].silent);
	EXPECT_EQ(got[0].connections, 12u);
	EXPECT_EQ(format_address(got[1].address), "fd00:12::2");
	EXPECT_EQ(got[1].state, MemberStatus::State::draining);
	EXPECT_EQ(got[1].silent, std::chrono::milliseconds(250));
	EXPECT_EQ(got[1].heartbeats, 41u);
	EXPECT_FALSE(got[0].joined);
	EXPECT_TRUE(got[1].joined);
	EXPECT_EQ(got[1].weight, 3u);
}

TEST(AgentPrograms, AMemberCountPastTheMessageIsBad)
{
	Writer w(Type::members);
	w.u32(1000000);
	Parser p(w.data());
	p.type();
	EXPECT_TRUE(get_members(p).size() <= 1);
	EXPECT_FALSE(p.ok());
}

TEST(AgentPrograms, ConnectionsRoundTrip)
{
	std::vector<Removal> removed{{9, *parse_address("fd00:c::7"), 41234}, {12, *parse_address("fd00:c::8"), 0}};
	std::vector<int> added{3, 4, 5};
	Writer w(Type::connections);
	put_connections(w, removed, added, 17);

	Parser p(w.data());
	EXPECT_EQ(p.type(), Type::connections);
	auto got = get_connections(p);
	EXPECT_TRUE(p.ok());
	ASSERT_EQ(got.removed.size(), 2u);
	EXPECT_EQ(got.removed[0].id, 9u);
	EXPECT_EQ(format_address(got.removed[0].client), "fd00:c::7");
	EXPECT_EQ(got.removed[0].port, 41234);
	EXPECT_EQ(got.removed[1].id, 12u);
	EXPECT_EQ(format_address(got.removed[1].client), "fd00:c::8");
	EXPECT_EQ(got.removed[1].port, 0);
	EXPECT_EQ(got.added, (std::vector<std::uint32_t>{3, 4, 5}));
	EXPECT_EQ(got.synced, 17u);
}

TEST(AgentPrograms, AConnectionsCountPastTheMessageIsBad)
{
	Writer w(Type::connections);
	w.u32(1000000);
	Parser p(w.data());
	p.type();
	auto got = get_connections(p);
	EXPECT_LE(got.removed.size(), 1u);
	EXPECT_FALSE(p.ok());
}

TEST(AgentPrograms, DescriptorsTravelWithTheirMessageInOrder)
{
	auto [a, b] = seqpacket_pair();
	std::vector<UniqueFd> pipes;
	std::vector<int> pass;
	for (int i = 0; i < 3; i++) {
		int fds[2];
		ASSERT_EQ(pipe(fds), 0);
		pipes.emplace_back(fds[0]);
		pipes.emplace_back(fds[1]);
		pass.push_back(fds[i % 2]);
	}

	Writer msg(Type::connections);
	put_connections(msg, {}, std::vector<int>{4, 5, 6}, 0);
	ASSERT_TRUE(send(a.get(), msg, pass));
	auto got = receive(b.get());
	ASSERT_TRUE(got && *got);
	Parser p((*got)->data);
	EXPECT_EQ(p.type(), Type::connections);
	ASSERT_EQ((*got)->fds.size(), 3u);
	EXPECT_EQ((*got)->fd(), -1) << "not the one descriptor of a message";
	for (std::size_t i = 0; i < pass.size(); i++) {
		struct stat mine, theirs;
		ASSERT_EQ(fstat(pass[i], &mine), 0);
		ASSERT_EQ(fstat((*got)->fds[i].get(), &theirs), 0);
		EXPECT_EQ(mine.st_ino, theirs.st_ino) << "descriptor " << i;
	}
	/* More than the kernel passes in one message is refused before it is tried. */
	std::vector<int> many(max_passed + 1, pass.front());
	auto refused = send(a.get(), Writer(Type::connections), many);
	ASSERT_FALSE(refused);
	EXPECT_EQ(refused.error().code, EINVAL);
}

TEST(AgentPrograms, TheEndOfTheSessionIsNoMessage)
{
	auto pair = seqpacket_pair();
	ASSERT_TRUE(send(pair.a.get(), Writer(Type::drain)));
	pair.a = UniqueFd();
	auto first = receive(pair.b.get());
	ASSERT_TRUE(first && *first);
	auto end = receive(pair.b.get());
	ASSERT_TRUE(end);
	EXPECT_FALSE(*end);
	/* And sending to a program that is gone is EPIPE, not SIGPIPE. */
	auto again = seqpacket_pair();
	again.b = UniqueFd();
	auto sent = send(again.a.get(), Writer(Type::drain));
	ASSERT_FALSE(sent);
	EXPECT_EQ(sent.error().code, EPIPE);
}

TEST(AgentPrograms, TheDescriptorsOfATooLongMessageAreClosed)
{
	auto [a, b] = seqpacket_pair();
	int size = 4 * max_message;
	ASSERT_EQ(setsockopt(a.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0);
	int fds[2];
	ASSERT_EQ(pipe(fds), 0);
	UniqueFd r(fds[0]), w(fds[1]);
	Writer msg(Type::describe);
	msg.bytes(std::vector<std::byte>(max_message));
	ASSERT_TRUE(send(a.get(), msg, std::span<const int>(fds)));
	w = UniqueFd();

	auto got = receive(b.get());
	ASSERT_FALSE(got);
	EXPECT_EQ(got.error().code, EMSGSIZE);
	/* Both copies it received are closed: the pipe's write end is gone everywhere. */
	char x;
	EXPECT_EQ(read(r.get(), &x, 1), 0);
}

TEST(AgentPrograms, CountersRoundTrip)
{
	Counters counters{{"sessions", 3}, {"in_octets", 1ULL << 40}};
	Writer w(Type::counters);
	put_counters(w, counters);

	Parser p(w.data());
	ASSERT_EQ(p.type(), Type::counters);
	auto got = get_counters(p);
	ASSERT_TRUE(got);
	EXPECT_TRUE(p.ok());
	EXPECT_EQ(*got, counters);
}

TEST(AgentPrograms, TooManyCountersOrABadNameAreRefused)
{
	Counters many;
	for (std::size_t i = 0; i <= gecko::agent::max_program_counters; i++)
		many.emplace_back("c" + std::to_string(i), i);
	for (const auto &bad : std::vector<Counters>{many, {{"Capital", 1}}, {{"", 1}}}) {
		Writer w(Type::counters);
		put_counters(w, bad);
		Parser p(w.data());
		p.type();
		auto got = get_counters(p);
		ASSERT_FALSE(got);
		EXPECT_EQ(got.error().code, EPROTO);
	}
	Writer cut(Type::counters);
	cut.u32(2).text("sessions").u64(1);
	Parser p(cut.data());
	p.type();
	EXPECT_FALSE(get_counters(p));
}

} // namespace
} // namespace gecko::agent::programs
