// SPDX-License-Identifier: GPL-2.0-only
/*
 * The redirection policies (gecko/policy.h): each built-in one over a few
 * hundred choices, against what it promises, and the quarantine of a
 * member whose handoff failed.
 */

#include <gecko/address.h>
#include <gecko/policy.h>

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace gecko {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

in6_addr addr(const std::string &text)
{
	return *parse_address(text);
}

/* Three members, node1..node3 at fd00:1k::2, weights 1, 2 and 3. */
class Policies : public ::testing::Test {
protected:
	Policies()
	{
		for (int k = 1; k <= 3; k++)
			members_.push_back({"node" + std::to_string(k), addr("fd00:1" + std::to_string(k) + "::2"),
					    static_cast<unsigned>(k), {}});
		for (const auto &m : members_)
			candidates_.push_back({&m, m.name == "node1", 0, 0, {}});
	}

	Choice choice() const { return {addr("fd00:c::2"), 40000, candidates_, network_}; }

	std::string pick(GeckoPolicy &policy) const
	{
		auto target = policy.SelectTarget(choice());

		EXPECT_TRUE(target) << target.error().message;
		if (!target)
			return {};
		for (const auto &m : members_)
			if (format_address(m.address) == format_address(*target))
				return m.name;
		ADD_FAILURE() << "not a member: " << format_address(*target);
		return {};
	}

	std::map<std::string, int> picks(GeckoPolicy &policy, int n) const
	{
		std::map<std::string, int> count;
		for (int i = 0; i < n; i++)
			count[pick(policy)]++;
		return count;
	}

	std::vector<Member> members_;
	std::vector<Candidate> candidates_;
	in6_addr network_ = addr("fd00:c::");
};

TEST_F(Policies, RandomIsUniformWithinItsExpectation)
{
	RandomPolicy policy(42);
	auto count = picks(policy, 300);

	/* Binomial(300, 1/3): mean 100, sd 8.2; 4 sd either way. */
	ASSERT_EQ(count.size(), 3u);
	for (const auto &[name, n] : count)
		EXPECT_NEAR(n, 100, 33) << name;
}

TEST_F(Policies, RandomWithTheSameSeedChoosesTheSame)
{
	RandomPolicy a(7), b(7);

	for (int i = 0; i < 50; i++)
		EXPECT_EQ(pick(a), pick(b));
}

TEST_F(Policies, RoundRobinTakesEachInTurn)
{
	RoundRobinPolicy policy;

	for (int round = 0; round < 100; round++)
		for (auto expected : {"node1", "node2", "node3"})
			EXPECT_EQ(pick(policy), expected);
}

TEST_F(Policies, RoundRobinCarriesOnWhenTheNextMemberLeaves)
{
	RoundRobinPolicy policy;

	EXPECT_EQ(pick(policy), "node1");
	candidates_.erase(candidates_.begin() + 1);
	EXPECT_EQ(pick(policy), "node3");
	EXPECT_EQ(pick(policy), "node1");
	/* node1, picked last, leaves: node3 slid into its place and comes next. */
	candidates_.erase(candidates_.begin());
	EXPECT_EQ(pick(policy), "node3");
}

TEST_F(Policies, LeastConnectionsFillsTheEmptiestFirst)
{
	LeastConnectionsPolicy policy;

	candidates_[0].connections = 10;
	candidates_[1].connections = 4;
	candidates_[2].connections = 0;
	/*
	 * Its own picks count until the members report again: node3 alone up
	 * to 4, then node2 and node3 in turn up to 10, then all three in turn.
	 */
	auto count = picks(policy, 300);
	EXPECT_EQ(count["node3"], 4 + 6 + 94);
	EXPECT_EQ(count["node2"], 6 + 95);
	EXPECT_EQ(count["node1"], 95);
}

TEST_F(Policies, LeastConnectionsTrustsANewReport)
{
	LeastConnectionsPolicy policy;

	for (int i = 0; i < 30; i++)
		pick(policy);
	/* node1 reports it closed all its connections; the others still hold theirs. */
	candidates_[0].report = 1;
	candidates_[1].report = 1;
	candidates_[1].connections = 10;
	candidates_[2].report = 1;
	candidates_[2].connections = 10;
	for (int i = 0; i < 10; i++)
		EXPECT_EQ(pick(policy), "node1");
}

TEST_F(Policies, ProximityTriesEachMemberOnceThenChoosesTheLowestRoundTrip)
{
	ProximityPolicy policy;

	candidates_[0].rtt = microseconds(20000);
	candidates_[1].rtt = microseconds(1500);
	/* node3 has not measured the network: its first client from there is how it will. */
	EXPECT_EQ(pick(policy), "node3");
	for (int i = 0; i < 10; i++)
		EXPECT_EQ(pick(policy), "node2");
	/* Measured, and nearer still. */
	candidates_[2].rtt = microseconds(700);
	EXPECT_EQ(pick(policy), "node3");
	/* Another network: node3 is tried there too. */
	candidates_[2].rtt.reset();
	network_ = addr("fd00:d::");
	EXPECT_EQ(pick(policy), "node3");
	EXPECT_EQ(pick(policy), "node2");
}

TEST_F(Policies, ProximityTriesAMemberAgainOnceTheWaitPassed)
{
	ProximityPolicy policy(std::chrono::seconds(0));

	candidates_[0].rtt = microseconds(20000);
	candidates_[1].rtt = microseconds(1500);
	std::this_thread::sleep_for(milliseconds(2));
	EXPECT_EQ(pick(policy), "node3");
	std::this_thread::sleep_for(milliseconds(2));
	EXPECT_EQ(pick(policy), "node3");
}

TEST_F(Policies, ProximitySpreadsAmongEquals)
{
	ProximityPolicy policy;

	/* Nobody measured: each is tried once, then the load decides. */
	auto count = picks(policy, 30);
	EXPECT_EQ(count["node1"], 10);
	EXPECT_EQ(count["node2"], 10);
	EXPECT_EQ(count["node3"], 10);
	candidates_[0].rtt = microseconds(900);
	candidates_[2].rtt = microseconds(900);
	count = picks(policy, 20);
	EXPECT_EQ(count["node1"], 10);
	EXPECT_EQ(count["node3"], 10);
	/* Within 10 % (or 1 ms) of the nearest is as near. */
	candidates_[0].rtt = microseconds(20000);
	candidates_[2].rtt = microseconds(21900);
	count = picks(policy, 20);
	EXPECT_EQ(count["node1"], 10);
	EXPECT_EQ(count["node3"], 10);
	candidates_[2].rtt = microseconds(22100);
	count = picks(policy, 10);
	EXPECT_EQ(count["node1"], 10);
}

TEST_F(Policies, WeightedGivesEachItsShareEvenly)
{
	WeightedPolicy policy;
	std::string sequence;

	for (int i = 0; i < 6; i++)
		sequence += pick(policy).back();
	/* Smooth: node3's three turns spread over the six, not in a row. */
	EXPECT_EQ(sequence, "321323");
	auto count = picks(policy, 600);
	EXPECT_EQ(count["node1"], 100);
	EXPECT_EQ(count["node2"], 200);
	EXPECT_EQ(count["node3"], 300);
}

TEST_F(Policies, AFailedMemberSitsOutItsQuarantine)
{
	RoundRobinPolicy policy;

	policy.NotifyFailedHandoff(members_[1].address, addr("fd00:c::2"));
	for (int i = 0; i < 20; i++)
		EXPECT_NE(pick(policy), "node2");
}

TEST_F(Policies, AFailedMemberComesBackAfterIt)
{
	CallablePolicy policy([](const Choice &c) -> Result<in6_addr> { return c.candidates.front().member->address; });
	/* CallablePolicy keeps the default quarantine of 30 s: node1 is out. */
	policy.NotifyFailedHandoff(members_[0].address, addr("fd00:c::2"));
	EXPECT_EQ(pick(policy), "node2");

	class Brief : public GeckoPolicy {
	public:
		Brief() : GeckoPolicy(milliseconds(20)) {}
		Result<in6_addr> SelectTarget(const Choice &c) override
		{
			return eligible(c).front()->member->address;
		}
	} brief;
	brief.NotifyFailedHandoff(members_[0].address, addr("fd00:c::2"));
	EXPECT_EQ(pick(brief), "node2");
	std::this_thread::sleep_for(milliseconds(40));
	EXPECT_EQ(pick(brief), "node1");
}

TEST_F(Policies, NoCandidateIsAnError)
{
	for (auto name : policy_names) {
		auto policy = make_policy(name);

		ASSERT_TRUE(policy) << name;
		for (const auto &m : members_)
			(*policy)->NotifyFailedHandoff(m.address, addr("fd00:c::2"));
		auto target = (*policy)->SelectTarget(choice());
		ASSERT_FALSE(target) << name;
		EXPECT_EQ(target.error().code, EHOSTUNREACH) << name;
		EXPECT_FALSE((*policy)->SelectTarget({addr("fd00:c::2"), 1, {}})) << name;
	}
}

TEST_F(Policies, CallableWithItsOwnFailureHandling)
{
	std::vector<std::string> failed;
	CallablePolicy policy([](const Choice &c) -> Result<in6_addr> { return c.candidates.back().member->address; },
			      [&](const in6_addr &target, const in6_addr &) { failed.push_back(format_address(target)); });

	EXPECT_EQ(pick(policy), "node3");
	policy.NotifyFailedHandoff(members_[2].address, addr("fd00:c::2"));
	/* No quarantine: the callable decides what a failure means. */
	EXPECT_EQ(pick(policy), "node3");
	EXPECT_EQ(failed, std::vector<std::string>{"fd00:13::2"});
}

TEST(PolicyNames, MakeEveryBuiltInAndNothingElse)
{
	for (auto name : policy_names)
		EXPECT_TRUE(make_policy(name)) << name;
	auto none = make_policy("fastest");
	ASSERT_FALSE(none);
	EXPECT_EQ(none.error().code, EINVAL);
	EXPECT_EQ(none.error().message, "no policy called 'fastest'");
}

} // namespace
} // namespace gecko
