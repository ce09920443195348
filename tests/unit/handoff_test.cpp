// SPDX-License-Identifier: GPL-2.0-only
/*
 * The handoff's two state machines (libgeckoctl/src/agent/handoff.h):
 * every phase against every event, then both machines together over a
 * channel that loses, reorders and cuts, explored exhaustively, against
 * the rule of ownership: at no instant do both nodes run the connection.
 */

#include "agent/handoff.h"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <deque>
#include <set>
#include <string>
#include <tuple>

namespace gecko::agent {
namespace {

constexpr donor::Phase donor_phases[] = {donor::Phase::preparing, donor::Phase::freezing, donor::Phase::committed,
					 donor::Phase::resolving, donor::Phase::stayed,	  donor::Phase::moved,
					 donor::Phase::lost};
constexpr donor::Event donor_events[] = {
	donor::Event::ready,   donor::Event::refused,	 donor::Event::restored, donor::Event::sent,
	donor::Event::done,    donor::Event::aborted,	 donor::Event::aborted_bu, donor::Event::pending,
	donor::Event::retry,   donor::Event::timeout,	 donor::Event::peer_closed, donor::Event::fault};
constexpr acceptor::Phase acceptor_phases[] = {acceptor::Phase::testing, acceptor::Phase::prepared,
					       acceptor::Phase::updating, acceptor::Phase::thawed,
					       acceptor::Phase::aborted};
constexpr acceptor::Event acceptor_events[] = {
	acceptor::Event::tested,   acceptor::Event::test_failed, acceptor::Event::state_in, acceptor::Event::state_bad,
	acceptor::Event::accepted, acceptor::Event::rejected,	 acceptor::Event::abort,    acceptor::Event::timeout,
	acceptor::Event::peer_closed, acceptor::Event::fault};

std::string what(donor::Phase p, donor::Event e)
{
	return std::string(donor::name(p)) + " + " + donor::name(e);
}

std::string what(acceptor::Phase p, acceptor::Event e)
{
	return std::string(acceptor::name(p)) + " + " + acceptor::name(e);
}

/* --- each machine alone, every phase against every event --- */

TEST(DonorMachine, ThawsAfterTheStateLeftOnlyWhenTheAcceptorReleasedIt)
{
	for (auto p : donor_phases)
		for (auto e : donor_events) {
			auto [next, actions] = donor::step(p, e);
			if (donor::committed(p) && (actions & donor::thaw || donor::runs(next))) {
				EXPECT_TRUE(e == donor::Event::aborted || e == donor::Event::aborted_bu) << what(p, e);
			}
		}
}

TEST(DonorMachine, TakesTheClientBackOnlyWhenAnUpdateMayHaveReachedIt)
{
	for (auto p : donor_phases)
		for (auto e : donor_events)
			if (donor::step(p, e).actions & donor::take_back) {
				EXPECT_TRUE(donor::committed(p) && e == donor::Event::aborted_bu) << what(p, e);
			}
}

TEST(DonorMachine, DropsOnlyOnceTheStateLeft)
{
	for (auto p : donor_phases)
		for (auto e : donor_events) {
			auto [next, actions] = donor::step(p, e);
			if (actions & donor::drop) {
				EXPECT_TRUE(donor::committed(p) && (next == donor::Phase::moved || next == donor::Phase::lost))
					<< what(p, e);
			}
			/* Forwarding sends the client's packets to a node that serves them: only once it said so. */
			if (actions & donor::forward) {
				EXPECT_EQ(e, donor::Event::done) << what(p, e);
			}
		}
}

/* Copies of the client's packets go to an acceptor that restored the connections, and change nothing else. */
TEST(DonorMachine, PassesOnOnlyWhatTheAcceptorRestoredAndKeepsItsPhase)
{
	for (auto p : donor_phases)
		for (auto e : donor_events) {
			auto [next, actions] = donor::step(p, e);
			if (actions & donor::pass_on) {
				EXPECT_TRUE(donor::committed(p) && e == donor::Event::restored) << what(p, e);
				EXPECT_EQ(next, p) << what(p, e);
				EXPECT_EQ(actions, unsigned{donor::pass_on}) << what(p, e);
			}
		}
	EXPECT_TRUE(donor::step(donor::Phase::committed, donor::Event::restored).actions & donor::pass_on);
	EXPECT_TRUE(donor::step(donor::Phase::resolving, donor::Event::restored).actions & donor::pass_on);
}

TEST(DonorMachine, EveryWaitEndsAndTheEndsStay)
{
	for (auto p : donor_phases) {
		EXPECT_EQ(donor::finished(p), donor::deadline(p).count() == 0) << donor::name(p);
		if (!donor::finished(p)) {
			/* A timeout always moves on, so a silent peer cannot hold a connection forever. */
			EXPECT_NE(donor::step(p, donor::Event::timeout).next, p) << donor::name(p);
			continue;
		}
		for (auto e : donor_events)
			EXPECT_EQ(donor::step(p, e).next, p) << what(p, e);
	}
}

TEST(DonorMachine, AFaultAfterTheStateLeftLosesRatherThanThaws)
{
	EXPECT_EQ(donor::step(donor::Phase::committed, donor::Event::fault).next, donor::Phase::lost);
	EXPECT_EQ(donor::step(donor::Phase::resolving, donor::Event::fault).next, donor::Phase::lost);
	EXPECT_EQ(donor::step(donor::Phase::freezing, donor::Event::fault).next, donor::Phase::stayed);
	EXPECT_TRUE(donor::step(donor::Phase::freezing, donor::Event::fault).actions & donor::thaw);
}

TEST(AcceptorMachine, ThawsOnlyWhenTheClientAcceptedAndNeverAfterAborting)
{
	for (auto p : acceptor_phases)
		for (auto e : acceptor_events) {
			auto [next, actions] = acceptor::step(p, e);
			if (actions & acceptor::thaw || (acceptor::runs(next) && !acceptor::runs(p))) {
				EXPECT_TRUE(p == acceptor::Phase::updating && e == acceptor::Event::accepted) << what(p, e);
			}
			if (p == acceptor::Phase::aborted) {
				EXPECT_EQ(next, acceptor::Phase::aborted) << what(p, e);
			}
		}
}

/* A donor passes the client's packets on when told the connections are restored: only then are they. */
TEST(AcceptorMachine, SaysRestoredOnlyWithTheWholeStateIn)
{
	for (auto p : acceptor_phases)
		for (auto e : acceptor_events) {
			auto [next, actions] = acceptor::step(p, e);
			if (actions & acceptor::send_restored) {
				EXPECT_TRUE(p == acceptor::Phase::prepared && e == acceptor::Event::state_in) << what(p, e);
				EXPECT_EQ(next, acceptor::Phase::updating) << what(p, e);
			}
		}
	EXPECT_TRUE(acceptor::step(acceptor::Phase::prepared, acceptor::Event::state_in).actions &
		    acceptor::send_restored);
}

TEST(AcceptorMachine, SaysAbortedOnlyWhenItWillNeverThaw)
{
	for (auto p : acceptor_phases)
		for (auto e : acceptor_events) {
			auto [next, actions] = acceptor::step(p, e);
			if (actions & (acceptor::send_aborted | acceptor::send_refused)) {
				EXPECT_EQ(next, acceptor::Phase::aborted) << what(p, e);
			}
			if (actions & acceptor::send_done) {
				EXPECT_EQ(next, acceptor::Phase::thawed) << what(p, e);
			}
			/* What it restored goes whenever it will not serve it. */
			if (next == acceptor::Phase::aborted && p != acceptor::Phase::aborted && p != acceptor::Phase::testing) {
				EXPECT_TRUE(actions & acceptor::drop) << what(p, e);
			}
		}
}

TEST(AcceptorMachine, OnceTheUpdateLeftOnlyTheClientOrTheClockDecides)
{
	/* The donor can no longer take the client back, nor does a lost connection say anything. */
	EXPECT_EQ(acceptor::step(acceptor::Phase::updating, acceptor::Event::abort).next, acceptor::Phase::updating);
	EXPECT_EQ(acceptor::step(acceptor::Phase::updating, acceptor::Event::peer_closed).next,
		  acceptor::Phase::updating);
	auto late = acceptor::step(acceptor::Phase::updating, acceptor::Event::timeout);
	EXPECT_EQ(late.next, acceptor::Phase::aborted);
	EXPECT_TRUE(late.actions & acceptor::cancel_update);
}

TEST(AcceptorMachine, EveryWaitEnds)
{
	for (auto p : acceptor_phases) {
		EXPECT_EQ(acceptor::finished(p), acceptor::deadline(p).count() == 0) << acceptor::name(p);
		if (!acceptor::finished(p)) {
			EXPECT_NE(acceptor::step(p, acceptor::Event::timeout).next, p) << acceptor::name(p);
		}
	}
}

TEST(Timeouts, TheModuleNeverOutlivesTheAgentsRule)
{
	/* The donor's committed sockets are dropped by the module only after the agent's last word could come. */
	EXPECT_GT(commit_timeout, donor::deadline(donor::Phase::committed) + donor::deadline(donor::Phase::resolving));
	/* The acceptor decides within its deadlines, before the donor stops asking. */
	EXPECT_LT(acceptor::deadline(acceptor::Phase::updating),
		  donor::deadline(donor::Phase::committed) + donor::deadline(donor::Phase::resolving));
	EXPECT_GT(restore_timeout, acceptor::deadline(acceptor::Phase::prepared) +
					   acceptor::deadline(acceptor::Phase::updating));
	EXPECT_GT(acceptor::record_lifetime, commit_timeout);
}

/* --- both machines over a hostile channel --- */

/* Messages, donor to acceptor and back. */
enum Msg : unsigned {
	prepare = 1u << 0,
	commit = 1u << 1,	/* the state, whole or not: the acceptor judges */
	abort_msg = 1u << 2,
	query = 1u << 3,
	ready = 1u << 4,
	refused = 1u << 5,
	done = 1u << 6,
	aborted = 1u << 7,
	aborted_bu = 1u << 8,
	pending = 1u << 9,
	restored = 1u << 10,
};
constexpr unsigned to_acceptor = prepare | commit | abort_msg | query;

/* The whole system; the acceptor's phase is absent until a prepare arrives, and its end is its record. */
struct World {
	donor::Phase d = donor::Phase::preparing;
	int a = -1;		/* acceptor::Phase, or -1 before it heard of the handoff */
	bool fenced = false;	/* it answered a query for a handoff it never heard of */
	unsigned channel = prepare;	/* in flight, any order, each may be lost */

	auto tie() const { return std::tie(d, a, fenced, channel); }
	bool operator<(const World &o) const { return tie() < o.tie(); }
};

acceptor::Phase phase(const World &w)
{
	return static_cast<acceptor::Phase>(w.a);
}

/* The donor machine and what its driver does with each action. */
void donor_step(World &w, donor::Event e)
{
	auto [next, actions] = donor::step(w.d, e);
	w.d = next;
	if (actions & donor::send_abort)
		w.channel |= abort_msg;
	if (actions & donor::send_query)
		w.channel |= query;
}

void acceptor_step(World &w, acceptor::Event e, bool bu_left)
{
	if (w.a < 0)
		return;
	auto [next, actions] = acceptor::step(phase(w), e);
	w.a = static_cast<int>(next);
	if (actions & acceptor::send_ready)
		w.channel |= ready;
	if (actions & acceptor::send_refused)
		w.channel |= refused;
	if (actions & acceptor::send_done)
		w.channel |= done;
	if (actions & acceptor::send_restored)
		w.channel |= restored;
	if (actions & acceptor::send_aborted)
		w.channel |= bu_left ? aborted_bu : aborted;
}

/* An answer from the acceptor's record or state, as handoffs.cpp's on_query() gives it. */
void answer_query(World &w)
{
	if (w.a < 0) {
		w.fenced = true;
		w.channel |= aborted;
	} else if (phase(w) == acceptor::Phase::thawed) {
		w.channel |= done;
	} else if (phase(w) == acceptor::Phase::aborted) {
		w.channel |= aborted_bu;
	} else {
		w.channel |= pending;
	}
}

void deliver(World &w, Msg m)
{
	switch (m) {
	case prepare:
		/* A handoff it knows, or fenced: refused. */
		if (w.a < 0 && !w.fenced)
			w.a = static_cast<int>(acceptor::Phase::testing);
		else
			w.channel |= refused;
		return;
	case commit:
		/* A state for a handoff that ended (or was fenced) is answered from the record. */
		if (w.a < 0) {
			if (w.fenced)
				w.channel |= aborted;
			return;
		}
		if (acceptor::finished(phase(w)))
			return answer_query(w);
		/* The state; the world's other branch has it refused. */
		acceptor_step(w, phase(w) == acceptor::Phase::prepared ? acceptor::Event::state_in
								       : acceptor::Event::state_bad,
			      false);
		return;
	case abort_msg:
		return acceptor_step(w, acceptor::Event::abort, false);
	case query:
		return answer_query(w);
	case ready:
		return donor_step(w, donor::Event::ready);
	case refused:
		return donor_step(w, donor::Event::refused);
	case done:
		return donor_step(w, donor::Event::done);
	case aborted:
		return donor_step(w, donor::Event::aborted);
	case aborted_bu:
		return donor_step(w, donor::Event::aborted_bu);
	case pending:
		return donor_step(w, donor::Event::pending);
	case restored:
		return donor_step(w, donor::Event::restored);
	}
}

/* Every world one event away from @w. */
std::vector<World> successors(const World &w)
{
	std::vector<World> out;
	auto add = [&](World n) { out.push_back(n); };

	for (unsigned bit = 1; bit <= restored; bit <<= 1) {
		if (!(w.channel & bit))
			continue;
		World lost = w;
		lost.channel &= ~bit;
		add(lost);
		World got = lost;
		deliver(got, static_cast<Msg>(bit));
		add(got);
		/* A state that arrives and is found wanting. */
		if (bit == commit && w.a >= 0 && phase(w) == acceptor::Phase::prepared) {
			World bad = lost;
			acceptor_step(bad, acceptor::Event::state_bad, false);
			add(bad);
		}
	}
	/* The donor's own events: the clock, the connection, a fault, its retries. */
	for (auto e : {donor::Event::timeout, donor::Event::peer_closed, donor::Event::fault, donor::Event::retry}) {
		World n = w;
		donor_step(n, e);
		add(n);
	}
	/* Freezing ends at once, one way or the other. */
	if (w.d == donor::Phase::freezing) {
		World sent = w;
		sent.channel |= commit;
		donor_step(sent, donor::Event::sent);
		add(sent);
	}
	/* The acceptor's: return routability, the client's answer (with an update out or not), its clock. */
	if (w.a >= 0)
		for (auto e : {acceptor::Event::tested, acceptor::Event::test_failed, acceptor::Event::accepted,
			       acceptor::Event::rejected, acceptor::Event::timeout, acceptor::Event::peer_closed,
			       acceptor::Event::fault})
			for (bool bu : {false, true}) {
				World n = w;
				acceptor_step(n, e, bu && phase(w) == acceptor::Phase::updating);
				add(n);
			}
	return out;
}

TEST(HandoffModel, NeverTwoOwnersWhateverTheChannelDoes)
{
	std::set<World> seen{World{}};
	std::deque<World> frontier{World{}};
	bool moved = false, stayed = false, lost = false;

	while (!frontier.empty()) {
		World w = frontier.front();
		frontier.pop_front();
		bool acceptor_runs = w.a >= 0 && acceptor::runs(phase(w));
		ASSERT_FALSE(donor::runs(w.d) && acceptor_runs)
			<< "donor " << donor::name(w.d) << ", acceptor " << acceptor::name(phase(w));
		/* Thawed here after the state left only when the acceptor will never thaw it. */
		if (w.d == donor::Phase::stayed && w.a >= 0) {
			ASSERT_NE(phase(w), acceptor::Phase::thawed);
		}
		moved |= w.d == donor::Phase::moved && acceptor_runs;
		stayed |= w.d == donor::Phase::stayed;
		lost |= w.d == donor::Phase::lost && !acceptor_runs;
		for (const auto &n : successors(w))
			if (seen.insert(n).second)
				frontier.push_back(n);
	}
	/* The model reaches every end, so the assertions above saw them. */
	EXPECT_TRUE(moved);
	EXPECT_TRUE(stayed);
	EXPECT_TRUE(lost);
	EXPECT_GT(seen.size(), 100u);
}

/* What the agent files a program's connection under: both addresses and both ports, from the socket itself. */
TEST(ConnectionEnds, NameBothAddressesAndPortsOfAConnectedIPv6Socket)
{
	UniqueFd listener(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
	sockaddr_in6 sa{};
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_loopback;
	socklen_t len = sizeof(sa);
	ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0);
	ASSERT_EQ(::listen(listener.get(), 1), 0);
	ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr *>(&sa), &len), 0);
	EXPECT_FALSE(connection_ends(listener.get())) << "a listening socket has no client";

	UniqueFd client(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
	ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0);
	UniqueFd served(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
	ASSERT_GE(served.get(), 0);
	sockaddr_in6 from{};
	len = sizeof(from);
	ASSERT_EQ(::getsockname(client.get(), reinterpret_cast<sockaddr *>(&from), &len), 0);

	auto ends = connection_ends(served.get());
	ASSERT_TRUE(ends);
	EXPECT_EQ(std::memcmp(&ends->home, &in6addr_loopback, sizeof(in6_addr)), 0);
	EXPECT_EQ(std::memcmp(&ends->client, &in6addr_loopback, sizeof(in6_addr)), 0);
	EXPECT_EQ(ends->port, ntohs(sa.sin6_port));
	EXPECT_EQ(ends->client_port, ntohs(from.sin6_port));

	UniqueFd v4(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	EXPECT_FALSE(connection_ends(v4.get())) << "an IPv4 socket";
	EXPECT_FALSE(connection_ends(-1)) << "no socket";
}

} // namespace
} // namespace gecko::agent
