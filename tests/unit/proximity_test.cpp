// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the members measure of the clients' networks (agent/proximity.h):
 * the cut, the rounds, the reports heartbeats carry and what a report from
 * another member may make this node hold; and a real connection's round
 * trip read from the host's TCP stack.
 */

#include "agent/proximity.h"

#include <gecko/address.h>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace gecko::agent {
namespace {

using std::chrono::microseconds;

in6_addr addr(const std::string &text)
{
	return *parse_address(text);
}

std::string net(const in6_addr &a)
{
	return format_address(a);
}

/* What @p says of @client, as "member rtt_us ...". */
std::string distances(const Proximity &p, const std::string &client)
{
	std::string out;
	for (const auto &d : p.lookup(addr(client)))
		out += (out.empty() ? "" : " ") + d.member + " " + std::to_string(d.rtt.count());
	return out;
}

TEST(Proximity, ANetworkIsTheAddressCutToThePrefix)
{
	EXPECT_EQ(net(network(addr("fd00:c::1:5"), 64)), "fd00:c::");
	EXPECT_EQ(net(network(addr("2001:db8:1234:5678::1"), 48)), "2001:db8:1234::");
	EXPECT_EQ(net(network(addr("2001:db8:ffff::1"), 36)), "2001:db8:f000::");
	EXPECT_EQ(net(network(addr("fd00:c::1:5"), 128)), "fd00:c::1:5");
}

TEST(Proximity, ARoundKeepsTheLowestAndTheNextReplacesIt)
{
	Proximity p("node1", 64);
	auto now = Clock::now();

	p.begin_round();
	p.measured(addr("fd00:c::1:1"), microseconds(30000), now);
	p.measured(addr("fd00:c::1:2"), microseconds(22000), now);
	p.measured(addr("fd00:c::1:3"), microseconds(25000), now);
	EXPECT_EQ(distances(p, "fd00:c::9"), "node1 22000");
	/* The client at 22 ms is gone: the next round says what remains. */
	p.begin_round();
	p.measured(addr("fd00:c::1:3"), microseconds(25000), now);
	EXPECT_EQ(distances(p, "fd00:c::9"), "node1 25000");
	EXPECT_EQ(distances(p, "fd00:d::9"), "");
}

TEST(Proximity, ReportsTellEachNetworkOnceUntilMeasuredAgain)
{
	Proximity node1("node1", 64), node2("node2", 64);
	auto now = Clock::now();

	node1.begin_round();
	for (int i = 0; i < 100; i++)
		node1.measured(addr("fd00:" + std::to_string(1000 + i) + "::1"), microseconds(1000 + i), now);
	auto first = node1.report(), second = node1.report(), third = node1.report();
	EXPECT_EQ(first.size(), Proximity::max_per_beat * Proximity::entry_size);
	EXPECT_EQ(second.size(), (100 - Proximity::max_per_beat) * Proximity::entry_size);
	EXPECT_TRUE(third.empty());
	for (const auto &r : {first, second})
		ASSERT_TRUE(node2.heard("node1", r, now));
	for (int i = 0; i < 100; i++)
		EXPECT_EQ(distances(node2, "fd00:" + std::to_string(1000 + i) + "::7"), "node1 " + std::to_string(1000 + i));
	/* Measured again: told again, taking up after the last one told. */
	node1.begin_round();
	node1.measured(addr("fd00:1000::1"), microseconds(900), now);
	ASSERT_TRUE(node2.heard("node1", node1.report(), now));
	EXPECT_EQ(distances(node2, "fd00:1000::7"), "node1 900");
	node2.measured(addr("fd00:1000::2"), microseconds(400), now);
	EXPECT_EQ(distances(node2, "fd00:1000::7"), "node1 900 node2 400");
}

TEST(Proximity, AMalformedReportChangesNothing)
{
	Proximity node1("node1", 64), node2("node2", 64);
	auto now = Clock::now();

	node1.measured(addr("fd00:c::1"), microseconds(5000), now);
	node1.measured(addr("fd00:d::1"), microseconds(6000), now);
	auto good = node1.report();

	auto cut = good;
	cut.pop_back();
	EXPECT_EQ(node2.heard("node1", cut, now).error().code, EBADMSG);
	auto zero = good;
	std::memset(zero.data() + Proximity::entry_size + 16, 0, 4);
	EXPECT_EQ(node2.heard("node1", zero, now).error().code, EBADMSG) << "the first network must not be kept either";
	auto far = good;
	std::memset(far.data() + 16, 0xff, 4);
	EXPECT_EQ(node2.heard("node1", far, now).error().code, EBADMSG);
	std::vector<std::byte> many((Proximity::max_per_beat + 1) * Proximity::entry_size, std::byte{1});
	EXPECT_EQ(node2.heard("node1", many, now).error().code, EBADMSG);
	EXPECT_EQ(node2.heard("node2", good, now).error().code, EBADMSG) << "a report under this node's name";
	EXPECT_EQ(distances(node2, "fd00:c::1"), "");
	EXPECT_EQ(distances(node2, "fd00:d::1"), "");
}

TEST(Proximity, AReportCannotGrowAMembersTableWithoutBound)
{
	Proximity node2("node2", 64);
	auto now = Clock::now();
	std::vector<std::byte> report(Proximity::max_per_beat * Proximity::entry_size);

	/* Networks fd00:0:N:: for N from 0, max_per_beat at a time, then more. */
	for (std::size_t n = 0; n < Proximity::max_networks + 2 * Proximity::max_per_beat; n += Proximity::max_per_beat) {
		for (std::size_t i = 0; i < Proximity::max_per_beat; i++) {
			auto *e = report.data() + i * Proximity::entry_size;
			std::uint32_t id = htonl(static_cast<std::uint32_t>(n + i)), rtt = htonl(1000);
			std::memset(e, 0, Proximity::entry_size);
			std::memcpy(e, "\xfd\x00", 2);
			std::memcpy(e + 4, &id, 4);
			std::memcpy(e + 16, &rtt, 4);
		}
		ASSERT_TRUE(node2.heard("node1", report, now));
	}
	auto network = [](std::size_t n) {
		char text[64];
		std::snprintf(text, sizeof(text), "fd00:0:%zx:%zx::1", n >> 16, n & 0xffff);
		return std::string(text);
	};
	EXPECT_EQ(distances(node2, network(0)), "node1 1000");
	EXPECT_EQ(distances(node2, network(Proximity::max_networks - 1)), "node1 1000");
	EXPECT_EQ(distances(node2, network(Proximity::max_networks)), "") << "past the bound, new networks are not kept";
	/* Those it holds are still updated. */
	std::uint32_t rtt = htonl(500);
	std::memset(report.data() + 4, 0, 4);
	std::memcpy(report.data() + 16, &rtt, 4);
	ASSERT_TRUE(node2.heard("node1", std::span(report).first(Proximity::entry_size), now));
	EXPECT_EQ(distances(node2, network(0)), "node1 500");
}

TEST(Proximity, WhatNobodyRepeatsExpiresAndALeavingMemberIsForgotten)
{
	Proximity node1("node1", 64), node2("node2", 64);
	auto then = Clock::now();

	node1.measured(addr("fd00:c::1"), microseconds(5000), then);
	ASSERT_TRUE(node2.heard("node1", node1.report(), then));
	node2.measured(addr("fd00:c::2"), microseconds(7000), then);
	node2.expire(then + Proximity::max_age - std::chrono::seconds(1));
	EXPECT_EQ(distances(node2, "fd00:c::3"), "node1 5000 node2 7000");
	node2.expire(then + Proximity::max_age + std::chrono::seconds(1));
	EXPECT_EQ(distances(node2, "fd00:c::3"), "");

	node1.measured(addr("fd00:c::1"), microseconds(5000), then);
	ASSERT_TRUE(node2.heard("node1", node1.report(), then));
	node2.forget("node1");
	EXPECT_EQ(distances(node2, "fd00:c::3"), "");
}

TEST(Proximity, AConnectionsRoundTripComesFromTheStack)
{
	int listener = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in6 a{};
	socklen_t len = sizeof(a);
	a.sin6_family = AF_INET6;
	a.sin6_addr = in6addr_loopback;
	ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr *>(&a), sizeof(a)), 0) << std::strerror(errno);
	ASSERT_EQ(listen(listener, 1), 0);
	ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr *>(&a), &len), 0);
	int client = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(connect(client, reinterpret_cast<sockaddr *>(&a), sizeof(a)), 0);
	int served = accept(listener, nullptr, nullptr);
	ASSERT_GE(served, 0);
	/* The server's data, acknowledged: a sample on its side besides the handshake's. */
	char byte = 'x';
	ASSERT_EQ(write(served, &byte, 1), 1);
	ASSERT_EQ(read(client, &byte, 1), 1);

	auto rtt = min_rtt(served);
	ASSERT_TRUE(rtt);
	EXPECT_GT(rtt->count(), 0);
	EXPECT_LT(rtt->count(), 1'000'000);
	Proximity p("node1", 64);
	p.measured(in6addr_loopback, *rtt, Clock::now());
	auto d = p.lookup(in6addr_loopback);
	ASSERT_EQ(d.size(), 1u);
	EXPECT_EQ(d[0].rtt, *rtt);
	/* Not a TCP socket: nothing. */
	EXPECT_FALSE(min_rtt(listener + 1000));
	for (int fd : {client, served, listener})
		close(fd);
}

} // namespace
} // namespace gecko::agent
