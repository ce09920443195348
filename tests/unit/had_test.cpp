// SPDX-License-Identifier: GPL-2.0-only
/* gecko-had's decisions (RFC 6275 §9.5.1, §10.3.1, §10.3.2), binding cache and configuration. */

#include "config.h"
#include "registrar.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

using namespace gecko::had;
using namespace std::chrono_literals;
namespace mh = gecko::mh;

namespace {

in6_addr addr(const char *text)
{
	return *parse_address(text);
}

const in6_addr home = addr("fd00:a::100");
const in6_addr coa1 = addr("fd00:11::2");
const in6_addr coa2 = addr("fd00:12::2");

Registrar registrar()
{
	return Registrar({*Prefix::parse("fd00:a::/64"), {*Prefix::parse("fd00:11::/64")}, 600s});
}

Request bu(std::uint16_t seq, std::uint16_t lifetime_units = 15, const in6_addr &coa = coa1,
	   const in6_addr &hoa = home)
{
	return {hoa, coa, {seq, true, true, false, false, lifetime_units, {}}};
}

/* decide() then commit(), as the agent does when the kernel agreed. */
Verdict handle(Registrar &r, const Request &req, Clock::time_point now = Clock::time_point{})
{
	auto v = r.decide(req);
	r.commit(req, v, now);
	return v;
}

} // namespace

TEST(HadRegistrar, FirstRegistrationIsAccepted)
{
	auto r = registrar();
	auto v = handle(r, bu(7), Clock::time_point{} + 1s);

	EXPECT_EQ(v.status, mh::ba_accepted);
	EXPECT_EQ(v.seq, 7);
	EXPECT_EQ(v.lifetime_units, 15);
	EXPECT_EQ(v.action, Action::bind);
	const auto *b = r.cache().find(home);
	ASSERT_NE(b, nullptr);
	EXPECT_TRUE(b->coa == coa1);
	EXPECT_EQ(b->seq, 7);
	EXPECT_EQ(b->lifetime, 60s);
	EXPECT_EQ(b->expiry, Clock::time_point{} + 61s);
}

TEST(HadRegistrar, LifetimeIsCappedByMaxLifetime)
{
	auto r = registrar();

	EXPECT_EQ(handle(r, bu(1, 0xffff)).lifetime_units, 600 / 4);
}

TEST(HadRegistrar, StaleSequenceNumberGets135WithTheLastAcceptedOne)
{
	auto r = registrar();
	handle(r, bu(10));

	for (int seq : {10, 9, 0, 10 + 0x8000}) {
		auto v = handle(r, bu(static_cast<std::uint16_t>(seq), 15, coa1));
		EXPECT_EQ(v.status, mh::ba_sequence_number_out_of_window) << seq;
		EXPECT_EQ(v.seq, 10) << seq;
		EXPECT_EQ(v.action, Action::none) << seq;
	}
	EXPECT_EQ(r.cache().find(home)->seq, 10);
}

TEST(HadRegistrar, SequenceNumbersWrapAround)
{
	EXPECT_TRUE(seq_newer(0, 0xffff));
	EXPECT_TRUE(seq_newer(0x7fff, 0));
	EXPECT_FALSE(seq_newer(0x8000, 0));
	EXPECT_FALSE(seq_newer(5, 5));

	auto r = registrar();
	handle(r, bu(0xfffe));
	EXPECT_EQ(handle(r, bu(1)).status, mh::ba_accepted);
}

TEST(HadRegistrar, CareOfAddressNotAllowedGets129AndTheBindingStays)
{
	auto r = registrar();
	handle(r, bu(1));

	auto v = handle(r, bu(2, 15, coa2));
	EXPECT_EQ(v.status, mh::ba_administratively_prohibited);
	EXPECT_EQ(v.seq, 2);
	EXPECT_TRUE(r.cache().find(home)->coa == coa1);
	EXPECT_EQ(r.cache().find(home)->seq, 1);
}

TEST(HadRegistrar, HomeAddressOffTheHomePrefixGets132)
{
	auto r = registrar();
	auto v = handle(r, bu(1, 15, coa1, addr("fd00:b::1")));

	EXPECT_EQ(v.status, mh::ba_not_home_subnet);
	EXPECT_TRUE(r.cache().all().empty());
}

TEST(HadRegistrar, WithoutTheHomeFlagGets128)
{
	auto r = registrar();
	auto req = bu(1);

	req.bu.h = false;
	EXPECT_EQ(handle(r, req).status, mh::ba_reason_unspecified);
	EXPECT_TRUE(r.cache().all().empty());
}

TEST(HadRegistrar, MoveToAnotherAllowedCareOfAddress)
{
	Registrar r({*Prefix::parse("fd00:a::/64"), {*Prefix::parse("fd00::/16")}, 600s});
	handle(r, bu(1));

	EXPECT_EQ(handle(r, bu(2, 15, coa2)).action, Action::bind);
	EXPECT_TRUE(r.cache().find(home)->coa == coa2);
}

TEST(HadRegistrar, DeregistrationWithLifetimeZero)
{
	auto r = registrar();
	handle(r, bu(1));

	auto v = handle(r, bu(2, 0));
	EXPECT_EQ(v.status, mh::ba_accepted);
	EXPECT_EQ(v.lifetime_units, 0);
	EXPECT_EQ(v.action, Action::unbind);
	EXPECT_EQ(r.cache().find(home), nullptr);
}

TEST(HadRegistrar, DeregistrationFromHomeNeedsNoAllowedCareOfAddress)
{
	auto r = registrar();
	handle(r, bu(1));

	EXPECT_EQ(handle(r, bu(2, 15, home)).action, Action::unbind);
}

TEST(HadRegistrar, DeregistrationWithoutBindingGets133)
{
	auto r = registrar();

	EXPECT_EQ(handle(r, bu(1, 0)).status, mh::ba_not_home_agent);
}

TEST(HadRegistrar, StaleDeregistrationGets135)
{
	auto r = registrar();
	handle(r, bu(5));

	EXPECT_EQ(handle(r, bu(5, 0)).status, mh::ba_sequence_number_out_of_window);
	EXPECT_NE(r.cache().find(home), nullptr);
}

TEST(HadBindingCache, ExpiresAtItsTime)
{
	auto r = registrar();
	auto t0 = Clock::time_point{} + 100s;
	handle(r, bu(1, 1), t0);	/* 4 s */
	handle(r, bu(1, 2, coa1, addr("fd00:a::200")), t0);	/* 8 s */

	EXPECT_EQ(r.cache().next_expiry(), t0 + 4s);
	EXPECT_TRUE(r.cache().expire(t0 + 3s).empty());
	auto gone = r.cache().expire(t0 + 4s);
	ASSERT_EQ(gone.size(), 1u);
	EXPECT_TRUE(gone[0].home == home);
	EXPECT_EQ(r.cache().next_expiry(), t0 + 8s);
	EXPECT_EQ(r.cache().expire(t0 + 60s).size(), 1u);
	EXPECT_FALSE(r.cache().next_expiry());
}

TEST(HadPrefix, ParseAndContains)
{
	auto p = Prefix::parse("fd00:a::/64");

	ASSERT_TRUE(p);
	EXPECT_TRUE(p->contains(home));
	EXPECT_FALSE(p->contains(coa1));
	EXPECT_EQ(p->str(), "fd00:a::/64");
	EXPECT_EQ(Prefix::parse("fd00:a::1")->len, 128);
	EXPECT_TRUE(Prefix::parse("fd00::/16")->contains(coa2));
	EXPECT_FALSE(Prefix::parse("fd00:a::1/64"));	/* host bits */
	EXPECT_FALSE(Prefix::parse("fd00:a::/129"));
	EXPECT_FALSE(Prefix::parse("fd00:a::/x"));
	EXPECT_FALSE(Prefix::parse("nonsense/64"));
}

namespace {

std::variant<Config, int> parse(std::vector<std::string> args, std::string *err_text = nullptr)
{
	std::ostringstream out, err;
	auto result = parse_config(args, out, err);

	if (err_text)
		*err_text = err.str();
	return result;
}

} // namespace

TEST(HadConfig, CommandLine)
{
	auto c = parse({"--interface", "eth0", "--home-prefix", "fd00:a::/64", "--address", "fd00:a::1",
			"--allow-coa", "fd00:11::/64", "--allow-coa", "fd00:12::/64", "--max-lifetime", "40"});

	ASSERT_TRUE(std::holds_alternative<Config>(c));
	const auto &config = std::get<Config>(c);
	EXPECT_EQ(config.interface, "eth0");
	EXPECT_EQ(config.policy.allowed_coas.size(), 2u);
	EXPECT_EQ(config.policy.max_lifetime, 40s);
}

TEST(HadConfig, FileWithCommandLineFirst)
{
	std::string path = testing::TempDir() + "had_test.conf";
	std::ofstream(path) << "interface = eth1\nhome-prefix = fd00:a::/64\naddress = fd00:a::1\n"
			       "allow-coa = fd00:11::/64\n";

	auto c = parse({"--config", path, "--interface", "eth0"});
	std::remove(path.c_str());
	ASSERT_TRUE(std::holds_alternative<Config>(c));
	EXPECT_EQ(std::get<Config>(c).interface, "eth0");
	EXPECT_EQ(std::get<Config>(c).policy.max_lifetime, 3600s);
}

TEST(HadConfig, UsageErrors)
{
	std::string err;
	std::vector<std::string> ok{"--interface", "eth0", "--home-prefix", "fd00:a::/64", "--address", "fd00:a::1",
				    "--allow-coa", "fd00:11::/64"};

	EXPECT_EQ(std::get<int>(parse({"--interface", "eth0"}, &err)), exit_usage);
	EXPECT_NE(err.find("is required"), std::string::npos);

	auto bad_prefix = ok;
	bad_prefix[3] = "fd00:a::1/64";
	EXPECT_EQ(std::get<int>(parse(bad_prefix, &err)), exit_usage);
	EXPECT_NE(err.find("--home-prefix"), std::string::npos);

	auto no_allow = ok;
	no_allow.resize(6);
	EXPECT_EQ(std::get<int>(parse(no_allow)), exit_usage);

	auto short_lifetime = ok;
	short_lifetime.insert(short_lifetime.end(), {"--max-lifetime", "3"});
	EXPECT_EQ(std::get<int>(parse(short_lifetime)), exit_usage);
	EXPECT_EQ(std::get<int>(parse({"--bogus"})), exit_usage);
	EXPECT_EQ(std::get<int>(parse({"--help"})), exit_ok);
	EXPECT_EQ(std::get<int>(parse({"--version"})), exit_ok);
}
