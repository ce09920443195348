// SPDX-License-Identifier: GPL-2.0-only

#include "correspondent.h"

#include <sequence.h>

#include <algorithm>

namespace gecko::cnd {

namespace {

Verdict discard(Discard why)
{
	return {Action::discard, why};
}

Verdict reject(std::uint8_t status, std::uint16_t seq, std::optional<rr::Kbm> kbm = std::nullopt,
	       const rr::AuthAddresses &auth = {})
{
	return {Action::reject, std::nullopt, status, seq, 0, std::move(kbm), auth};
}

} // namespace

Correspondent::Correspondent(const Limits &limits) : limits_(limits), nonces_(limits.nonces) {}

Result<mh::Hot> Correspondent::answer(const mh::Hoti &hoti, const in6_addr &home, Clock::time_point now)
{
	auto issued = nonces_.issue(home, rr::Path::home, now);
	if (!issued)
		return std::unexpected(issued.error());
	return mh::Hot{issued->nonce_index, hoti.cookie, issued->token};
}

Result<mh::Cot> Correspondent::answer(const mh::Coti &coti, const in6_addr &coa, Clock::time_point now)
{
	auto issued = nonces_.issue(coa, rr::Path::care_of, now);
	if (!issued)
		return std::unexpected(issued.error());
	return mh::Cot{issued->nonce_index, coti.cookie, issued->token};
}

Verdict Correspondent::decide(const Request &req, Clock::time_point now) const
{
	const auto &bu = req.bu;
	const auto &opts = bu.options;

	if (!daemon::unicast_routable(req.home))
		return discard(Discard::not_routable);
	/* §10.3.1: only a home agent accepts home registrations. */
	if (bu.h)
		return reject(mh::ba_home_registration_not_supported, bu.seq);
	if (!opts.nonce_indices || !opts.auth)
		return discard(Discard::missing_options);

	/* §5.2.6: a deregistration is authorised by the home keygen token alone. */
	bool deregister = bu.lifetime_units == 0 || req.coa == req.home;
	auto home_token = nonces_.token(opts.nonce_indices->home, req.home, rr::Path::home, now);
	std::optional<mh::KeygenToken> care_of_token;
	if (!deregister)
		care_of_token = nonces_.token(opts.nonce_indices->care_of, req.coa, rr::Path::care_of, now);
	/* §9.5.1: the mobile node learns which test to run again. */
	if (!home_token && !deregister && !care_of_token)
		return reject(mh::ba_expired_nonces, bu.seq);
	if (!home_token)
		return reject(mh::ba_expired_home_nonce_index, bu.seq);
	if (!deregister && !care_of_token)
		return reject(mh::ba_expired_care_of_nonce_index, bu.seq);

	auto kbm = deregister ? rr::kbm(*home_token) : rr::kbm(*home_token, *care_of_token);
	rr::AuthAddresses auth{deregister ? req.home : req.coa, req.cn};
	if (!rr::verify(req.bytes, kbm, auth))
		return discard(Discard::bad_authenticator);

	/* The last accepted number lets the mobile node resynchronise (§9.5.1). */
	const Binding *current = cache_.find(req.cn, req.home);
	if (current && !daemon::seq_newer(bu.seq, current->seq))
		return reject(mh::ba_sequence_number_out_of_window, current->seq, kbm, auth);

	if (deregister)
		return {Action::unbind, std::nullopt, mh::ba_accepted, bu.seq, 0, kbm, auth};
	auto max_units = std::max<std::int64_t>(limits_.max_lifetime / mh::time_unit, 1);
	auto units = static_cast<std::uint16_t>(std::min<std::int64_t>(bu.lifetime_units, max_units));
	return {Action::bind, std::nullopt, mh::ba_accepted, bu.seq, units, kbm, auth};
}

void Correspondent::commit(const Request &req, const Verdict &verdict, Clock::time_point now)
{
	switch (verdict.action) {
	case Action::bind:
		cache_.put({req.cn, req.home, req.coa, verdict.seq, now + verdict.lifetime_units * mh::time_unit});
		break;
	case Action::unbind:
		cache_.erase(req.cn, req.home);
		break;
	case Action::discard:
	case Action::reject:
		break;
	}
}

std::optional<std::vector<std::byte>> Correspondent::acknowledgement(const Request &req, const Verdict &verdict) const
{
	if (verdict.action == Action::discard || (verdict.status < 128 && !req.bu.a))
		return std::nullopt;

	mh::Ba ba{verdict.status, false, verdict.seq, verdict.lifetime_units, {}};
	if (verdict.kbm)
		ba.options.auth = mh::Authenticator{};
	auto bytes = mh::encode(ba);
	/* Cannot fail: the message was just encoded with the option. */
	if (verdict.kbm)
		(void)rr::sign(bytes, *verdict.kbm, verdict.auth);
	return bytes;
}

} // namespace gecko::cnd
