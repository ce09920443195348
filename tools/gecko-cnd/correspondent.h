/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_CND_CORRESPONDENT_H
#define GECKO_CND_CORRESPONDENT_H

/*
 * What a correspondent node answers (RFC 6275 §5.2, §9.4, §9.5), without
 * touching the kernel or reading a clock: Home and Care-of Tests, and the
 * verdict on a Binding Update. The caller changes the data path, then
 * commit()s the verdict to the binding cache and sends acknowledgement().
 */

#include "binding_cache.h"

#include <gecko/mh.h>
#include <gecko/rr.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace gecko::cnd {

struct Limits {
	/* Granted at most; MAX_RR_BINDING_LIFETIME (§12) or less. */
	std::chrono::seconds max_lifetime = rr::max_rr_binding_lifetime;
	rr::NonceTable::Config nonces{};
};

/* A Binding Update as the correspondent received it. */
struct Request {
	in6_addr home;	/* the source as delivered: the kernel swapped the HAO's address in */
	in6_addr cn;	/* the destination: our address */
	in6_addr coa;	/* the Alternate Care-of Address, else where the packet came from */
	mh::Bu bu;
	std::span<const std::byte> bytes;	/* the message as received: the authenticator covers it */
};

enum class Action {
	discard,	/* silently (§9.5.1): nothing is answered */
	reject,		/* a Binding Acknowledgement with an error status; the cache stays */
	bind,		/* add the binding, or move it to a new care-of address */
	unbind,		/* deregistration */
};

/* Why a Binding Update was discarded, for the counters. */
enum class Discard {
	not_routable,		/* the home address is not a unicast routable one */
	missing_options,	/* no Nonce Indices or no Binding Authorization Data */
	bad_authenticator,
};

struct Verdict {
	Action action;
	std::optional<Discard> why{};		/* with Action::discard */
	std::uint8_t status = mh::ba_accepted;	/* mh::BaStatus */
	std::uint16_t seq = 0;			/* for the BA: the BU's, or the cache's with status 135 */
	std::uint16_t lifetime_units = 0;	/* granted */
	/* Signs the BA; absent when the BU could not be authenticated. */
	std::optional<rr::Kbm> kbm{};
	rr::AuthAddresses auth{};
};

class Correspondent {
public:
	explicit Correspondent(const Limits &limits);

	/* §9.4.1, §9.4.2: the Home Test for a HoTI from @home, the Care-of Test for a CoTI from @coa. */
	Result<mh::Hot> answer(const mh::Hoti &hoti, const in6_addr &home, Clock::time_point now);
	Result<mh::Cot> answer(const mh::Coti &coti, const in6_addr &coa, Clock::time_point now);

	/* §9.5.1: what to do with @req. */
	Verdict decide(const Request &req, Clock::time_point now) const;

	/* Records @verdict (bind or unbind) in the cache. */
	void commit(const Request &req, const Verdict &verdict, Clock::time_point now);

	/*
	 * §9.5.4: the Binding Acknowledgement to send, encoded and signed when
	 * a Kbm is known: always for a rejection, for an acceptance when the
	 * BU asked for one (A flag), never after a discard.
	 */
	std::optional<std::vector<std::byte>> acknowledgement(const Request &req, const Verdict &verdict) const;

	const BindingCache &cache() const { return cache_; }
	BindingCache &cache() { return cache_; }

private:
	Limits limits_;
	rr::NonceTable nonces_;
	BindingCache cache_;
};

} // namespace gecko::cnd

#endif /* GECKO_CND_CORRESPONDENT_H */
