// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a backup keeps of the members' mirrors (agent/mirrors.h): the last
 * snapshot of each connection, forgotten when it ends, and nothing a
 * malformed, foreign or excess mirror could add.
 */

#include "agent/handoff.h"
#include "agent/mirrors.h"
#include "bytes.h"

#include <gecko/address.h>

#include <gtest/gtest.h>

#include <linux/gecko.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>

namespace gecko::agent {
namespace {

using std::chrono::milliseconds;

in6_addr addr(const std::string &text)
{
	return *parse_address(text);
}

/* A snapshot of G's connection from fd00:c::2 port @client_port to port 80, rcv_nxt @rcv_nxt. */
Bytes snapshot(std::uint16_t client_port, std::uint32_t rcv_nxt = 0x10203040, const char *local = "fd00000a")
{
	Bytes b = hex("0001 0088 | 00000027 |"				/* version, hdr_len, SACK|WSCALE|TIMESTAMPS|SNAPSHOT */
		      "01 | 07 | 07 | 00 | 05a0 | 0000 |"		/* ESTABLISHED, wscales, mss 1440 */
		      "10203040 | 50607080 |"				/* rcv_nxt, write_seq */
		      "00000000 | 00000005 | 00000002 |"		/* inq_len, outq_len, unsq_len */
		      "a1b2c3d4 |"					/* ts_val */
		      "11121314 | 00010000 | 00020000 | 00030000 | 10203001 |" /* the windows */
		      "00004e20 | 00001388 | 00030d40 |"		/* srtt, rttvar, rto */
		      "00000000 00000010 | 00000000 00000020 |"		/* bytes_sent, bytes_received */
		      "00000000 00000000 00000000 00000100 |"		/* local: set below */
		      "fd00000c 00000000 00000000 00000002 |"		/* remote fd00:c::2 */
		      "0050 | 0000 |"					/* ports: set below */
		      "00015400 | 00020000 | 00000000");		/* snd_buf, rcv_buf */
	Bytes l = hex(local);
	std::copy(l.begin(), l.end(), b.begin() + 88);
	b[122] = std::byte(client_port >> 8);
	b[123] = std::byte(client_port & 0xff);
	for (int i = 0; i < 4; i++)
		b[16 + i] = std::byte(rcv_nxt >> (24 - 8 * i));
	return b;
}

wire::Message mirror(const Bytes &snap, std::optional<Bytes> state = std::nullopt)
{
	wire::Message m(wire::Type::mirror);
	m.put(wire::Attr::data, snap);
	if (state)
		m.put(wire::Attr::app_state, *state);
	return m;
}

wire::Message gone(std::uint16_t client_port)
{
	wire::Message m(wire::Type::mirror_gone);
	m.put(wire::Attr::client, addr("fd00:c::2")).put_u32(wire::Attr::ports, 80U << 16 | client_port);
	return m;
}

const MirroredConn conn40000{addr("fd00:c::2"), 40000, 80};

class Store : public ::testing::Test {
protected:
	MirrorStore store_{addr("fd00:a::100"), "node1"};
	Clock::time_point t0_ = Clock::now();

	/* The snapshot of @member's connection from port 40000 held, and its state, as "snapshot|state" in hex. */
	std::string held(const std::string &member)
	{
		const auto *h = store_.mirror(member, conn40000);
		return h ? dump(h->snapshot) + "|" + dump(h->state) : "none";
	}

	Backups status(Clock::time_point now, std::optional<in6_addr> client = std::nullopt)
	{
		Backups b;
		store_.status(b, now, client);
		return b;
	}
};

TEST_F(Store, KeepsTheLastMirrorOfEachConnection)
{
	ASSERT_TRUE(store_.heard("node2", mirror(snapshot(40000, 1)), t0_));
	ASSERT_TRUE(store_.heard("node2", mirror(snapshot(40001)), t0_));
	ASSERT_TRUE(store_.heard("node2", mirror(snapshot(40000, 2)), t0_ + milliseconds(300)));
	ASSERT_TRUE(store_.heard("node3", mirror(snapshot(40000, 3)), t0_ + milliseconds(100)));

	EXPECT_EQ(held("node2"), dump(snapshot(40000, 2)) + "|") << "the later mirror replaces the earlier";
	EXPECT_EQ(held("node3"), dump(snapshot(40000, 3)) + "|") << "members' mirrors are apart";
	auto b = status(t0_ + milliseconds(1000));
	ASSERT_EQ(b.members.size(), 2u);
	EXPECT_EQ(b.members[0].member, "node2");
	EXPECT_EQ(b.members[0].connections, 2u);
	EXPECT_EQ(b.members[0].oldest, milliseconds(1000));
	EXPECT_EQ(b.members[1].connections, 1u);
	ASSERT_EQ(b.held.size(), 3u);
	EXPECT_EQ(b.held[0].member, "node2");
	EXPECT_EQ(b.held[0].client_port, 40000);
	EXPECT_EQ(b.held[0].port, 80);
	EXPECT_EQ(b.held[0].age, milliseconds(700));
}

TEST_F(Store, TakesOverTheFreshMirrorsOfADeadMember)
{
	ASSERT_TRUE(store_.heard("node2", mirror(snapshot(40000, 1), hex("0102")), t0_));
	ASSERT_TRUE(store_.heard("node2", mirror(snapshot(40001)), t0_));
	ASSERT_TRUE(store_.heard("node2", mirror(snapshot(40000, 2)), t0_ + milliseconds(900)));
	ASSERT_TRUE(store_.heard("node3", mirror(snapshot(40002)), t0_));

	auto taken = store_.take("node2", t0_ + milliseconds(500));
	ASSERT_EQ(taken.fresh.size(), 1u);
	EXPECT_EQ(taken.fresh[0].first.client_port, 40000);
	EXPECT_EQ(dump(taken.fresh[0].second.snapshot), dump(snapshot(40000, 2))) << "the last mirror";
	EXPECT_EQ(dump(taken.fresh[0].second.state), "0102") << "with the state the renewal kept";
	EXPECT_EQ(taken.stale, 1u) << "port 40001 was not renewed since";
	EXPECT_EQ(held("node2"), "none") << "taken over or stale, nothing stays";
	auto b = status(t0_);
	ASSERT_EQ(b.members.size(), 1u);
	EXPECT_EQ(b.members[0].member, "node3") << "another member's mirrors stay";
	EXPECT_TRUE(store_.take("node2", t0_).fresh.empty()) << "taken once";
	EXPECT_TRUE(store_.take("node9", t0_).fresh.empty());
}

TEST_F(Store, ForgetsAConnectionThatEnded)
{
	ASSERT_TRUE(store_.heard("node2", mirror(snapshot(40000)), t0_));
	ASSERT_TRUE(store_.heard("node2", mirror(snapshot(40001)), t0_));

	ASSERT_TRUE(store_.heard("node2", gone(40000), t0_));
	ASSERT_TRUE(store_.heard("node3", gone(40001), t0_)) << "another member's: nothing to forget";
	ASSERT_TRUE(store_.heard("node4", gone(40001), t0_)) << "nothing held: nothing to forget";

	EXPECT_EQ(held("node2"), "none");
	auto b = status(t0_);
	ASSERT_EQ(b.held.size(), 1u);
	EXPECT_EQ(b.held[0].client_port, 40001);
	ASSERT_EQ(b.members.size(), 1u) << "members with nothing held are not listed";
}

TEST_F(Store, KeepsTheApplicationStateUntilANewOne)
{
	ASSERT_TRUE(store_.heard("node2", mirror(snapshot(40000, 1), hex("0102")), t0_));
	ASSERT_TRUE(store_.heard("node2", mirror(snapshot(40000, 2)), t0_)) << "a renewal without a state";
	EXPECT_EQ(held("node2"), dump(snapshot(40000, 2)) + "|" + dump(hex("0102")));
	ASSERT_TRUE(store_.heard("node2", mirror(snapshot(40000, 3), hex("030405")), t0_));
	EXPECT_EQ(held("node2"), dump(snapshot(40000, 3)) + "|" + dump(hex("030405")));
	ASSERT_TRUE(store_.heard("node2", mirror(snapshot(40000, 4), Bytes{}), t0_)) << "the state emptied";
	EXPECT_EQ(held("node2"), dump(snapshot(40000, 4)) + "|");
	EXPECT_EQ(status(t0_).held[0].state_len, 0u);
}

TEST_F(Store, BoundsTheStatesAMemberMakesItHold)
{
	const Bytes big(max_mirror_state, std::byte{7});
	const std::size_t fit = MirrorStore::max_state_per_member / big.size();
	for (std::size_t i = 0; i < fit; i++)
		ASSERT_TRUE(store_.heard("node2", mirror(snapshot(static_cast<std::uint16_t>(1 + i)), big), t0_)) << i;

	auto kept = store_.heard("node2", mirror(snapshot(60000), Bytes(1)), t0_);
	ASSERT_FALSE(kept);
	EXPECT_EQ(kept.error().code, ENOSPC);
	EXPECT_TRUE(store_.heard("node2", mirror(snapshot(1), Bytes(10)), t0_)) << "a smaller state where a big one was";
	EXPECT_TRUE(store_.heard("node2", mirror(snapshot(60000), Bytes(1)), t0_)) << "room again";
	EXPECT_TRUE(store_.heard("node2", gone(2), t0_));
	EXPECT_TRUE(store_.heard("node2", mirror(snapshot(60001), big), t0_)) << "what ended freed its room";
	EXPECT_TRUE(store_.heard("node3", mirror(snapshot(1), big), t0_)) << "another member has its own bound";
}

wire::Message registration(const char *home, std::uint16_t seq, std::uint32_t lifetime)
{
	wire::Message m(wire::Type::registration);
	m.put(wire::Attr::home, addr(home)).put_u16(wire::Attr::seq, seq).put_u32(wire::Attr::lifetime, lifetime);
	return m;
}

TEST_F(Store, KeepsTheContactNodesRegistration)
{
	ASSERT_TRUE(store_.heard("node1", registration("fd00:a::100", 7, 420), t0_));
	ASSERT_TRUE(store_.heard("node1", registration("fd00:a::100", 8, 400), t0_ + milliseconds(500)));

	auto b = status(t0_ + std::chrono::seconds(100));
	ASSERT_EQ(b.registrations.size(), 1u);
	EXPECT_EQ(b.registrations[0].member, "node1");
	EXPECT_EQ(format_address(b.registrations[0].home), "fd00:a::100");
	EXPECT_EQ(b.registrations[0].seq, 8);
	EXPECT_EQ(b.registrations[0].left, std::chrono::seconds(300));
	EXPECT_EQ(b.registrations[0].age, milliseconds(99500));
	EXPECT_EQ(status(t0_ + std::chrono::seconds(1000)).registrations[0].left, std::chrono::seconds(0))
		<< "a lifetime past is none left, not a negative one";
}

TEST_F(Store, TakesARegistrationFromTheContactNodeOnlyAndOfGOnly)
{
	ASSERT_TRUE(store_.heard("node1", registration("fd00:a::100", 7, 420), t0_));

	auto other = store_.heard("node2", registration("fd00:a::100", 9, 420), t0_);
	ASSERT_FALSE(other);
	EXPECT_EQ(other.error().code, EPERM);
	auto foreign = store_.heard("node1", registration("fd00:a::200", 9, 420), t0_);
	ASSERT_FALSE(foreign);
	EXPECT_EQ(foreign.error().code, EINVAL);
	auto cut = store_.heard("node1", wire::Message(wire::Type::registration).put(wire::Attr::home, addr("fd00:a::100")), t0_);
	ASSERT_FALSE(cut);
	EXPECT_EQ(cut.error().code, EBADMSG);
	EXPECT_EQ(status(t0_).registrations.at(0).seq, 7) << "what was refused changed nothing";
}

TEST_F(Store, FollowsTheMemberThatTookTheContactNodesPlace)
{
	EXPECT_FALSE(store_.registration_seq()) << "nothing mirrored yet";
	ASSERT_TRUE(store_.heard("node1", registration("fd00:a::100", 7, 420), t0_));
	EXPECT_EQ(store_.registration_seq(), 7);
	store_.contact("node1");
	EXPECT_EQ(store_.registration_seq(), 7) << "the same contact node keeps its registration";

	store_.contact("node2");
	EXPECT_FALSE(store_.registration_seq()) << "the old contact node's registration is no longer the last word";
	EXPECT_TRUE(status(t0_).registrations.empty());
	ASSERT_FALSE(store_.heard("node1", registration("fd00:a::100", 8, 420), t0_)) << "the old one is refused";
	ASSERT_TRUE(store_.heard("node2", registration("fd00:a::100", 9, 420), t0_));
	EXPECT_EQ(store_.registration_seq(), 9);
	EXPECT_EQ(status(t0_).registrations.at(0).member, "node2");
}

/* A mirror_still naming the connections from fd00:c::2 of @ports. */
wire::Message still(std::initializer_list<std::uint16_t> ports)
{
	std::vector<MirroredConn> conns;
	for (auto port : ports)
		conns.push_back({addr("fd00:c::2"), port, 80});
	auto msgs = conns_messages(wire::Type::mirror_still, conns);
	return msgs.at(0);
}

TEST_F(Store, RenewsAMirrorThatHoldsStill)
{
	ASSERT_TRUE(store_.heard("node2", mirror(snapshot(40000, 1), hex("0102")), t0_));
	ASSERT_TRUE(store_.heard("node2", mirror(snapshot(40001), Bytes{}), t0_));

	auto wanted = store_.heard("node2", still({40000}), t0_ + milliseconds(900));
	ASSERT_TRUE(wanted);
	EXPECT_TRUE(wanted->empty()) << "held: nothing to send again";
	EXPECT_EQ(held("node2"), dump(snapshot(40000, 1)) + "|0102") << "the mirror stays as it was";
	auto taken = store_.take("node2", t0_ + milliseconds(500));
	ASSERT_EQ(taken.fresh.size(), 1u) << "renewed by the still";
	EXPECT_EQ(taken.fresh[0].first.client_port, 40000);
	EXPECT_EQ(taken.stale, 1u) << "port 40001 was not renewed since";
}

TEST_F(Store, AsksForTheMirrorsItLacks)
{
	ASSERT_TRUE(store_.heard("node2", mirror(snapshot(40000), Bytes{}), t0_));

	auto wanted = store_.heard("node2", still({40000, 40001, 40002}), t0_);
	ASSERT_TRUE(wanted);
	ASSERT_EQ(wanted->size(), 2u);
	EXPECT_EQ((*wanted)[0].client_port, 40001);
	EXPECT_EQ((*wanted)[1].client_port, 40002);
	EXPECT_EQ(store_.heard("node3", still({40000}), t0_)->size(), 1u) << "another member's";
	EXPECT_EQ(status(t0_).held.size(), 1u) << "a still adds nothing";

	wanted = store_.heard("node2", mirror(snapshot(40003)), t0_);
	ASSERT_TRUE(wanted);
	ASSERT_EQ(wanted->size(), 1u) << "a renewal without the state of a connection not held";
	EXPECT_EQ((*wanted)[0].client_port, 40003);
	EXPECT_TRUE(store_.heard("node2", mirror(snapshot(40003), hex("01")), t0_)->empty()) << "sent whole";
	EXPECT_TRUE(store_.heard("node2", mirror(snapshot(40003)), t0_)->empty()) << "its state is here";
}

TEST(MirrorConns, GoInMessagesOfABoundedSize)
{
	std::vector<MirroredConn> conns;
	for (std::uint32_t i = 0; i < conns_per_message * 2 + 1; i++)
		conns.push_back({*parse_address("fd00:c::" + std::to_string(i / 60000 + 1)),
				 static_cast<std::uint16_t>(1 + i % 60000), 443});
	auto msgs = conns_messages(wire::Type::mirror_still, conns);
	ASSERT_EQ(msgs.size(), 3u);
	EXPECT_EQ(msgs[2].bytes(wire::Attr::conns)->size(), 20u);
	EXPECT_LE(msgs[0].encode().size(), wire::max_payload);

	MirrorStore store(*parse_address("fd00:a::100"), "node1");
	std::vector<MirroredConn> wanted;
	for (const auto &msg : msgs) {
		auto some = store.heard("node2", msg, Clock::now());
		ASSERT_TRUE(some);
		wanted.insert(wanted.end(), some->begin(), some->end());
	}
	ASSERT_EQ(wanted.size(), conns.size()) << "every one read back";
	for (std::size_t i = 0; i < conns.size(); i++)
		ASSERT_TRUE(!(wanted[i] < conns[i]) && !(conns[i] < wanted[i])) << i;
	EXPECT_TRUE(conns_messages(wire::Type::mirror_still, {}).empty());
}

struct Refused {
	const char *name;
	wire::Message msg;
	int code;
	const char *says;
};

class StoreRefuses : public Store, public ::testing::WithParamInterface<Refused> {};

TEST_P(StoreRefuses, AndKeepsNothing)
{
	const auto &c = GetParam();
	ASSERT_TRUE(store_.heard("node2", mirror(snapshot(40000, 7)), t0_));

	auto kept = store_.heard("node2", c.msg, t0_);

	ASSERT_FALSE(kept);
	EXPECT_EQ(kept.error().code, c.code);
	EXPECT_NE(kept.error().describe().find(c.says), std::string::npos) << kept.error().describe();
	EXPECT_EQ(held("node2"), dump(snapshot(40000, 7)) + "|");
	EXPECT_EQ(status(t0_).held.size(), 1u);
}

Bytes cut_short()
{
	Bytes b = snapshot(40000);
	b.pop_back();
	return b;
}

Bytes with_queues()
{
	Bytes b = snapshot(40000);
	b[7] = std::byte{0x07};	/* no longer a snapshot: its 5 octets of queue are missing */
	return b;
}

INSTANTIATE_TEST_SUITE_P(
	Cases, StoreRefuses,
	::testing::Values(Refused{"no_data", wire::Message(wire::Type::mirror), EBADMSG, "attribute 13 is missing"},
			  Refused{"cut_short", mirror(cut_short()),
				  EBADMSG, "a mirror"},
			  Refused{"with_queues", mirror(with_queues()), EBADMSG, "a mirror"},
			  Refused{"not_of_g", mirror(snapshot(40000, 1, "fd00000b")), EINVAL, "not of G"},
			  Refused{"state_too_big", mirror(snapshot(40000), Bytes(max_mirror_state + 1)), EBADMSG,
				  "16384 at most"},
			  Refused{"gone_without_ports",
				  wire::Message(wire::Type::mirror_gone).put(wire::Attr::client, addr("fd00:c::2")),
				  EBADMSG, "attribute 23 is missing"},
			  Refused{"still_without_conns", wire::Message(wire::Type::mirror_still), EBADMSG,
				  "attribute 25 is missing"},
			  Refused{"still_of_part_of_one",
				  wire::Message(wire::Type::mirror_still).put(wire::Attr::conns, Bytes(30)), EBADMSG,
				  "of 30 octets"},
			  Refused{"still_of_none",
				  wire::Message(wire::Type::mirror_still).put(wire::Attr::conns, Bytes{}), EBADMSG,
				  "of 0 octets"},
			  Refused{"still_of_too_many",
				  wire::Message(wire::Type::mirror_still)
					  .put(wire::Attr::conns, Bytes(20 * (conns_per_message + 1))),
				  EBADMSG, "1 to 2048"}),
	[](const auto &info) { return std::string(info.param.name); });

TEST_F(Store, HoldsNoMoreThanItsBoundPerMember)
{
	for (std::uint32_t i = 0; i < MirrorStore::max_per_member; i++) {
		auto snap = snapshot(static_cast<std::uint16_t>(1 + i % 60000));
		/* Beyond the ports, other clients: an octet of the remote address. */
		snap[117] = std::byte(i / 60000);
		ASSERT_TRUE(store_.heard("node2", mirror(snap), t0_)) << i;
	}
	auto one_more = snapshot(1);
	one_more[117] = std::byte{0x7f};
	auto kept = store_.heard("node2", mirror(one_more), t0_);
	ASSERT_FALSE(kept);
	EXPECT_EQ(kept.error().code, ENOSPC);
	EXPECT_TRUE(store_.heard("node2", mirror(snapshot(1)), t0_)) << "a renewal of a mirror held still counts";
	EXPECT_TRUE(store_.heard("node3", mirror(one_more), t0_)) << "another member has its own bound";
	auto b = status(t0_);
	EXPECT_EQ(b.members[0].connections, MirrorStore::max_per_member);
	EXPECT_EQ(b.held.size(), Backups::max_listed);
}

TEST_F(Store, ListsTheMirrorsOfTheClientAskedForPastTheCap)
{
	/* Clients fd00:c::2 and fd00:c::1:2 (an octet of the remote address): the second sorts after. */
	for (std::uint16_t port = 1; port <= Backups::max_listed + 10; port++)
		ASSERT_TRUE(store_.heard("node2", mirror(snapshot(port)), t0_));
	auto other = snapshot(40000);
	other[117] = std::byte{1};
	ASSERT_TRUE(store_.heard("node2", mirror(other), t0_));
	const auto wanted = addr("fd00:c::1:2");

	auto all = status(t0_);
	EXPECT_EQ(all.members[0].connections, Backups::max_listed + 11);
	EXPECT_TRUE(std::ranges::none_of(all.held, [&](const auto &h) { return same(h.client, wanted); }))
		<< "the cap hides it in the whole list";
	auto of = status(t0_, wanted);
	ASSERT_EQ(of.held.size(), 1u);
	EXPECT_EQ(of.held[0].client_port, 40000);
	EXPECT_EQ(of.members[0].connections, Backups::max_listed + 11) << "the counts stay the member's";
	EXPECT_TRUE(status(t0_, addr("fd00:c::9")).held.empty());
}

} // namespace
} // namespace gecko::agent
