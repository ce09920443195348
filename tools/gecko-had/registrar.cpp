// SPDX-License-Identifier: GPL-2.0-only

#include "registrar.h"

#include <algorithm>

namespace gecko::had {

namespace {

Verdict reject(std::uint8_t status, std::uint16_t seq)
{
	return {status, seq, 0, Action::none};
}

} // namespace

bool Registrar::coa_allowed(const in6_addr &coa) const
{
	return std::ranges::any_of(policy_.allowed_coas, [&](const Prefix &p) { return p.contains(coa); });
}

Verdict Registrar::decide(const Request &req) const
{
	const auto &bu = req.bu;
	const Binding *current = cache_.find(req.home);
	/* §10.3.2: a zero lifetime, or the mobile node back home, deregisters. */
	bool deregister = bu.lifetime_units == 0 || req.coa == req.home;

	/* This home agent offers home registrations only: it is not a correspondent. */
	if (!bu.h)
		return reject(mh::ba_reason_unspecified, bu.seq);
	if (!policy_.home_prefix.contains(req.home))
		return reject(mh::ba_not_home_subnet, bu.seq);
	/* The allow-list authorises care-of addresses; a mobile node at home needs none. */
	if (!(req.coa == req.home) && !coa_allowed(req.coa))
		return reject(mh::ba_administratively_prohibited, bu.seq);
	/* The last accepted number lets the mobile node resynchronise (§11.7.1). */
	if (current && !seq_newer(bu.seq, current->seq))
		return reject(mh::ba_sequence_number_out_of_window, current->seq);
	if (deregister) {
		if (!current)
			return reject(mh::ba_not_home_agent, bu.seq);
		return {mh::ba_accepted, bu.seq, 0, Action::unbind};
	}

	auto max_units = std::max<std::int64_t>(policy_.max_lifetime / mh::time_unit, 1);
	auto units = std::min<std::int64_t>(bu.lifetime_units, max_units);
	return {mh::ba_accepted, bu.seq, static_cast<std::uint16_t>(units), Action::bind};
}

void Registrar::commit(const Request &req, const Verdict &verdict, Clock::time_point now)
{
	switch (verdict.action) {
	case Action::bind: {
		std::chrono::seconds lifetime = verdict.lifetime_units * mh::time_unit;
		cache_.put({req.home, req.coa, verdict.seq, lifetime, now + lifetime});
		break;
	}
	case Action::unbind:
		cache_.erase(req.home);
		break;
	case Action::none:
		break;
	}
}

} // namespace gecko::had
