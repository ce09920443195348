// SPDX-License-Identifier: GPL-2.0-only
/*
 * gecko-cnd's decisions (RFC 6275 §9.5.1): a mobile node played here with
 * the library's RR maths runs return routability against a Correspondent
 * and sends Binding Updates; every rejection path has its case. Time is
 * passed in, so nonce and binding lifetimes are tested without waiting.
 */

#include <binding_cache.h>
#include <config.h>
#include <correspondent.h>
#include <shared_lock.h>

#include <gecko/mh.h>
#include <gecko/rr.h>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace mh = gecko::mh;
namespace rr = gecko::rr;
using namespace gecko::cnd;
using namespace std::chrono_literals;

in6_addr addr(const char *text)
{
	in6_addr a;

	EXPECT_EQ(inet_pton(AF_INET6, text, &a), 1) << text;
	return a;
}

const in6_addr cn_addr = addr("fd00:c::2");
const in6_addr home = addr("fd00:a::100");
const in6_addr coa1 = addr("fd00:11::2");
const in6_addr coa2 = addr("fd00:12::2");
const Clock::time_point t0{};

/* A mobile node's side of return routability and the BU, against @cn. */
struct MobileNode {
	Correspondent &cn;
	mh::Hot hot{};
	mh::Cot cot{};
	std::vector<std::byte> bytes{};

	/* HoTI and CoTI from @coa at @now; the answers are kept. */
	void run_rr(const in6_addr &coa, Clock::time_point now)
	{
		auto h = cn.answer(mh::Hoti{{1, 2, 3, 4, 5, 6, 7, 8}}, home, now);
		auto c = cn.answer(mh::Coti{{8, 7, 6, 5, 4, 3, 2, 1}}, coa, now);
		ASSERT_TRUE(h && c);
		hot = *h;
		cot = *c;
	}

	/* A signed BU from @coa; lifetime 0 or @coa == home makes it a deregistration. */
	Request bu(const in6_addr &coa, std::uint16_t seq, std::chrono::seconds lifetime, bool a = true)
	{
		mh::Bu b{seq, a, false, false, false, static_cast<std::uint16_t>(lifetime / mh::time_unit), {}};
		b.options.nonce_indices = mh::NonceIndices{hot.nonce_index, cot.nonce_index};
		b.options.auth = mh::Authenticator{};
		bytes = mh::encode(b);
		bool dereg = lifetime == 0s || coa == home;
		auto kbm = dereg ? rr::kbm(hot.token) : rr::kbm(hot.token, cot.token);
		EXPECT_TRUE(rr::sign(bytes, kbm, {dereg ? home : coa, cn_addr}));
		return request(coa, b);
	}

	/* As received: the parsed form of bytes, or of @b when a case changes it. */
	Request request(const in6_addr &coa, const mh::Bu &b)
	{
		auto parsed = mh::parse(bytes);
		EXPECT_TRUE(parsed);
		return {home, cn_addr, coa, parsed ? std::get<mh::Bu>(*parsed) : b, bytes};
	}
};

Correspondent correspondent(std::chrono::seconds max_lifetime = 420s)
{
	Limits limits;

	limits.max_lifetime = max_lifetime;
	limits.nonces = {30s, 10s};
	return Correspondent(limits);
}

/* Binds home at coa1 with seq 10; returns the mobile node for more. */
void bind_first(Correspondent &cn, MobileNode &mn)
{
	mn.run_rr(coa1, t0);
	auto req = mn.bu(coa1, 10, 60s);
	auto v = cn.decide(req, t0);
	ASSERT_EQ(v.action, Action::bind);
	cn.commit(req, v, t0);
}

TEST(CndTests, AnswersCarryCookieAndTokensForTheTestedAddress)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	mn.run_rr(coa1, t0);
	EXPECT_EQ(mn.hot.cookie, (mh::Cookie{1, 2, 3, 4, 5, 6, 7, 8}));
	EXPECT_EQ(mn.cot.cookie, (mh::Cookie{8, 7, 6, 5, 4, 3, 2, 1}));
	/* One nonce serves both tests while it is handed out. */
	EXPECT_EQ(mn.hot.nonce_index, mn.cot.nonce_index);
	EXPECT_NE(mn.hot.token, mn.cot.token);
}

TEST(CndTests, ValidUpdateBindsAndIsAcknowledgedWithAuthenticator)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	mn.run_rr(coa1, t0);
	auto req = mn.bu(coa1, 7, 60s);
	auto v = cn.decide(req, t0 + 1s);
	EXPECT_EQ(v.action, Action::bind);
	EXPECT_EQ(v.status, mh::ba_accepted);
	EXPECT_EQ(v.seq, 7);
	EXPECT_EQ(v.lifetime_units, 15);
	cn.commit(req, v, t0 + 1s);
	const Binding *b = cn.cache().find(cn_addr, home);
	ASSERT_NE(b, nullptr);
	EXPECT_TRUE(b->coa == coa1);
	EXPECT_EQ(b->seq, 7);
	EXPECT_EQ(b->expiry, t0 + 61s);

	auto ba = cn.acknowledgement(req, v);
	ASSERT_TRUE(ba);
	auto parsed = mh::parse(*ba);
	ASSERT_TRUE(parsed);
	const auto &msg = std::get<mh::Ba>(*parsed);
	EXPECT_EQ(msg.status, mh::ba_accepted);
	EXPECT_EQ(msg.seq, 7);
	EXPECT_EQ(msg.lifetime_units, 15);
	EXPECT_TRUE(rr::verify(*ba, rr::kbm(mn.hot.token, mn.cot.token), {coa1, cn_addr}));
}

TEST(CndTests, AcceptanceIsAcknowledgedOnlyWhenAsked)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	mn.run_rr(coa1, t0);
	auto req = mn.bu(coa1, 1, 60s, false);
	auto v = cn.decide(req, t0);
	EXPECT_EQ(v.action, Action::bind);
	EXPECT_FALSE(cn.acknowledgement(req, v));
}

TEST(CndTests, LifetimeIsCappedAtTheConfiguredMaximum)
{
	auto cn = correspondent(20s);
	MobileNode mn{cn};

	mn.run_rr(coa1, t0);
	auto v = cn.decide(mn.bu(coa1, 1, 1000s), t0);
	EXPECT_EQ(v.action, Action::bind);
	EXPECT_EQ(v.lifetime_units, 5);

	auto dflt = correspondent();
	MobileNode mn2{dflt};
	mn2.run_rr(coa1, t0);
	EXPECT_EQ(dflt.decide(mn2.bu(coa1, 1, 4000s), t0).lifetime_units, 105);	/* 420 s */
}

TEST(CndTests, HomeRegistrationIsNotSupported)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	mn.run_rr(coa1, t0);
	auto req = mn.bu(coa1, 1, 60s);
	req.bu.h = true;
	auto v = cn.decide(req, t0);
	EXPECT_EQ(v.action, Action::reject);
	EXPECT_EQ(v.status, mh::ba_home_registration_not_supported);
	EXPECT_FALSE(v.kbm);
	auto ba = cn.acknowledgement(req, v);
	ASSERT_TRUE(ba);
	auto parsed = mh::parse(*ba);
	ASSERT_TRUE(parsed);
	EXPECT_EQ(std::get<mh::Ba>(*parsed).status, mh::ba_home_registration_not_supported);
	EXPECT_FALSE(std::get<mh::Ba>(*parsed).options.auth);
}

TEST(CndTests, MissingOptionsAreDiscardedSilently)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	mn.run_rr(coa1, t0);
	auto no_indices = mn.bu(coa1, 1, 60s);
	no_indices.bu.options.nonce_indices.reset();
	auto no_auth = mn.bu(coa1, 1, 60s);
	no_auth.bu.options.auth.reset();
	for (const auto &req : {no_indices, no_auth}) {
		auto v = cn.decide(req, t0);
		EXPECT_EQ(v.action, Action::discard);
		EXPECT_EQ(v.why, Discard::missing_options);
		EXPECT_FALSE(cn.acknowledgement(req, v));
	}
}

TEST(CndTests, HomeAddressMustBeUnicastRoutable)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	mn.run_rr(coa1, t0);
	for (const char *bad : {"fe80::1", "ff02::1", "::", "::1"}) {
		auto req = mn.bu(coa1, 1, 60s);
		req.home = addr(bad);
		auto v = cn.decide(req, t0);
		EXPECT_EQ(v.action, Action::discard) << bad;
		EXPECT_EQ(v.why, Discard::not_routable) << bad;
	}
}

struct NonceCase {
	const char *name;
	int home_delta;		/* added to the issued home nonce index */
	int care_of_delta;
	std::uint8_t status;
};

class CndNonceTests : public testing::TestWithParam<NonceCase> {};

TEST_P(CndNonceTests, UnknownNonceIndicesGetTheirStatus)
{
	auto cn = correspondent();
	MobileNode mn{cn};
	const auto &c = GetParam();

	mn.run_rr(coa1, t0);
	mn.hot.nonce_index += c.home_delta;
	mn.cot.nonce_index += c.care_of_delta;
	auto req = mn.bu(coa1, 1, 60s);
	auto v = cn.decide(req, t0);
	EXPECT_EQ(v.action, Action::reject);
	EXPECT_EQ(v.status, c.status);
	EXPECT_EQ(v.seq, 1);
	EXPECT_FALSE(v.kbm);
	EXPECT_TRUE(cn.acknowledgement(req, v));
}

INSTANTIATE_TEST_SUITE_P(, CndNonceTests,
			 testing::Values(NonceCase{"home", 1000, 0, mh::ba_expired_home_nonce_index},
					 NonceCase{"care_of", 0, 1000, mh::ba_expired_care_of_nonce_index},
					 NonceCase{"both", 1000, 1000, mh::ba_expired_nonces}),
			 [](const auto &info) { return std::string(info.param.name); });

TEST(CndTests, ExpiredNoncesAreRejected)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	mn.run_rr(coa1, t0);
	auto req = mn.bu(coa1, 1, 60s);
	EXPECT_EQ(cn.decide(req, t0 + 29s).action, Action::bind);
	auto v = cn.decide(req, t0 + 30s);
	EXPECT_EQ(v.action, Action::reject);
	EXPECT_EQ(v.status, mh::ba_expired_nonces);
}

TEST(CndTests, ExpiredCareOfNonceAloneIsNamed)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	/* A fresh home test later, with the old care-of test. */
	mn.run_rr(coa1, t0);
	auto old_cot = mn.cot;
	mn.run_rr(coa1, t0 + 25s);
	mn.cot = old_cot;
	auto v = cn.decide(mn.bu(coa1, 1, 60s), t0 + 31s);
	EXPECT_EQ(v.status, mh::ba_expired_care_of_nonce_index);
}

TEST(CndTests, WrongAuthenticatorIsDiscardedSilently)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	mn.run_rr(coa1, t0);
	auto req = mn.bu(coa1, 1, 60s);
	mn.bytes.back() ^= std::byte{1};
	auto v = cn.decide(req, t0);
	EXPECT_EQ(v.action, Action::discard);
	EXPECT_EQ(v.why, Discard::bad_authenticator);
	EXPECT_FALSE(cn.acknowledgement(req, v));
}

TEST(CndTests, TokensOfAnotherCareOfAddressDoNotAuthenticate)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	/* CoT for coa1, BU claiming coa2: Kbm differs. */
	mn.run_rr(coa1, t0);
	auto v = cn.decide(mn.bu(coa2, 1, 60s), t0);
	EXPECT_EQ(v.action, Action::discard);
	EXPECT_EQ(v.why, Discard::bad_authenticator);
}

TEST(CndTests, StaleSequenceNumberGetsTheCachedOne)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	bind_first(cn, mn);
	mn.run_rr(coa2, t0);
	for (int seq : {10, 9, 10 + 0x8000}) {
		auto req = mn.bu(coa2, static_cast<std::uint16_t>(seq), 60s);
		auto v = cn.decide(req, t0);
		EXPECT_EQ(v.action, Action::reject) << seq;
		EXPECT_EQ(v.status, mh::ba_sequence_number_out_of_window) << seq;
		EXPECT_EQ(v.seq, 10) << seq;
		/* Authenticated, so the BA is too. */
		auto ba = cn.acknowledgement(req, v);
		ASSERT_TRUE(ba);
		EXPECT_TRUE(rr::verify(*ba, rr::kbm(mn.hot.token, mn.cot.token), {coa2, cn_addr}));
		cn.commit(req, v, t0);
		EXPECT_TRUE(cn.cache().find(cn_addr, home)->coa == coa1);
	}
}

TEST(CndTests, SequenceNumbersWrapAround)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	mn.run_rr(coa1, t0);
	auto first = mn.bu(coa1, 65535, 60s);
	cn.commit(first, cn.decide(first, t0), t0);
	EXPECT_EQ(cn.decide(mn.bu(coa1, 0, 60s), t0).action, Action::bind);
}

TEST(CndTests, AnySequenceNumberStartsABinding)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	mn.run_rr(coa1, t0);
	EXPECT_EQ(cn.decide(mn.bu(coa1, 0, 60s), t0).action, Action::bind);
}

TEST(CndTests, NewCareOfAddressMovesTheBinding)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	bind_first(cn, mn);
	mn.run_rr(coa2, t0 + 5s);
	auto req = mn.bu(coa2, 11, 60s);
	auto v = cn.decide(req, t0 + 5s);
	ASSERT_EQ(v.action, Action::bind);
	cn.commit(req, v, t0 + 5s);
	EXPECT_TRUE(cn.cache().find(cn_addr, home)->coa == coa2);
	EXPECT_EQ(cn.cache().size(), 1u);
}

TEST(CndTests, ZeroLifetimeDeregistersWithTheHomeTokenAlone)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	bind_first(cn, mn);
	/* §5.2.6: the care-of nonce index is ignored. */
	mn.cot.nonce_index += 1000;
	auto req = mn.bu(coa1, 11, 0s);
	auto v = cn.decide(req, t0);
	EXPECT_EQ(v.action, Action::unbind);
	EXPECT_EQ(v.status, mh::ba_accepted);
	auto ba = cn.acknowledgement(req, v);
	ASSERT_TRUE(ba);
	EXPECT_TRUE(rr::verify(*ba, rr::kbm(mn.hot.token), {home, cn_addr}));
	cn.commit(req, v, t0);
	EXPECT_EQ(cn.cache().find(cn_addr, home), nullptr);
}

TEST(CndTests, CareOfAddressEqualToHomeDeregisters)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	bind_first(cn, mn);
	auto v = cn.decide(mn.bu(home, 11, 60s), t0);
	EXPECT_EQ(v.action, Action::unbind);
}

TEST(CndTests, DeregistrationSignedWithBothTokensIsDiscarded)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	bind_first(cn, mn);
	mh::Bu b{11, true, false, false, false, 0, {}};
	b.options.nonce_indices = mh::NonceIndices{mn.hot.nonce_index, mn.cot.nonce_index};
	b.options.auth = mh::Authenticator{};
	mn.bytes = mh::encode(b);
	ASSERT_TRUE(rr::sign(mn.bytes, rr::kbm(mn.hot.token, mn.cot.token), {coa1, cn_addr}));
	auto v = cn.decide(mn.request(coa1, b), t0);
	EXPECT_EQ(v.why, Discard::bad_authenticator);
}

TEST(CndTests, DeregistrationWithoutBindingIsAccepted)
{
	auto cn = correspondent();
	MobileNode mn{cn};

	mn.run_rr(coa1, t0);
	EXPECT_EQ(cn.decide(mn.bu(coa1, 3, 0s), t0).action, Action::unbind);
}

TEST(CndTests, BindingsExpireAndAskForRefreshFirst)
{
	BindingCache cache;

	cache.put({cn_addr, home, coa1, 1, t0 + 60s});
	cache.put({cn_addr, coa2, coa1, 1, t0 + 100s});
	EXPECT_EQ(cache.next_event(0s), t0 + 60s);
	EXPECT_EQ(cache.next_event(5s), t0 + 55s);
	EXPECT_TRUE(cache.refresh_due(t0 + 54s, 5s).empty());
	EXPECT_TRUE(cache.refresh_due(t0 + 55s, 0s).empty());
	ASSERT_EQ(cache.refresh_due(t0 + 55s, 5s).size(), 1u);
	EXPECT_TRUE(cache.refresh_due(t0 + 56s, 5s).empty());	/* asked once */
	EXPECT_EQ(cache.next_event(5s), t0 + 60s);
	EXPECT_TRUE(cache.expire(t0 + 59s).empty());
	auto gone = cache.expire(t0 + 60s);
	ASSERT_EQ(gone.size(), 1u);
	EXPECT_TRUE(gone[0].home == home);
	EXPECT_EQ(cache.size(), 1u);
	/* A refresh (a new BU) makes the binding eligible for a request again. */
	cache.erase(cn_addr, coa2);
	cache.put({cn_addr, home, coa1, 2, t0 + 200s});
	EXPECT_EQ(cache.refresh_due(t0 + 196s, 5s).size(), 1u);
}

std::variant<Config, int> parse(std::vector<std::string> args, std::string *out = nullptr)
{
	std::ostringstream o, e;
	auto r = parse_config(args, o, e);
	if (out)
		*out = o.str() + e.str();
	return r;
}

TEST(CndConfigTests, DefaultsAreTheRfcOnes)
{
	auto r = parse({});
	ASSERT_TRUE(std::holds_alternative<Config>(r));
	const auto &c = std::get<Config>(r);
	EXPECT_EQ(c.limits.max_lifetime, 420s);
	EXPECT_EQ(c.limits.nonces.lifetime, 240s);
	EXPECT_EQ(c.limits.nonces.renewal, 30s);
	EXPECT_EQ(c.lock_dir, "/run/gecko");
}

TEST(CndConfigTests, RejectsLimitsOutsideTheRfc)
{
	for (auto args : std::vector<std::vector<std::string>>{{"--max-lifetime", "421"},
							       {"--max-lifetime", "3"},
							       {"--nonce-lifetime", "241"},
							       {"--nonce-lifetime", "10", "--nonce-renewal", "10"},
							       {"--nonce-renewal", "0"},
							       {"--bogus"}}) {
		std::string text;
		auto r = parse(args, &text);
		ASSERT_TRUE(std::holds_alternative<int>(r)) << args[0];
		EXPECT_EQ(std::get<int>(r), exit_usage);
		EXPECT_NE(text.find("gecko-cnd: "), std::string::npos);
	}
}

TEST(CndConfigTests, HelpVersionAndFile)
{
	std::string text;
	EXPECT_EQ(std::get<int>(parse({"--help"}, &text)), exit_ok);
	EXPECT_NE(text.find("--max-lifetime"), std::string::npos);
	EXPECT_EQ(std::get<int>(parse({"--version"}, &text)), exit_ok);
	EXPECT_EQ(text, "gecko-cnd " GECKO_VERSION "\n");

	auto path = std::filesystem::temp_directory_path() / "gecko-cnd-test.conf";
	std::ofstream(path) << "max-lifetime = 40\nnonce-lifetime = 20\nnonce-renewal = 5\n";
	auto r = parse({"--config", path.string(), "--max-lifetime", "60"});
	std::filesystem::remove(path);
	ASSERT_TRUE(std::holds_alternative<Config>(r));
	EXPECT_EQ(std::get<Config>(r).limits.max_lifetime, 60s);	/* the command line wins */
	EXPECT_EQ(std::get<Config>(r).limits.nonces.lifetime, 20s);
	EXPECT_EQ(std::get<int>(parse({"--config", "/nonexistent/gecko-cnd.conf"})), exit_usage);
}

TEST(SharedLockTests, OnlyTheLastHolderRemoves)
{
	char tmpl[] = "/tmp/gecko-lock-XXXXXX";
	ASSERT_NE(mkdtemp(tmpl), nullptr);
	std::string dir = std::string(tmpl) + "/run";
	{
		auto had = gecko::daemon::SharedLock::acquire("objects", dir);
		auto cnd = gecko::daemon::SharedLock::acquire("objects", dir);
		ASSERT_TRUE(had && cnd);
		EXPECT_FALSE(cnd->last_holder());
		EXPECT_TRUE(had->last_holder());
	}
	auto again = gecko::daemon::SharedLock::acquire("objects", dir);
	ASSERT_TRUE(again);
	EXPECT_TRUE(again->last_holder());
	std::filesystem::remove_all(tmpl);
}

} // namespace
