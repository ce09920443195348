/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_HAD_REGISTRAR_H
#define GECKO_HAD_REGISTRAR_H

/*
 * What a home agent answers to a Binding Update (RFC 6275 §9.5.1, §10.3.1,
 * §10.3.2), without touching the kernel: decide() gives the status, the
 * caller installs or removes forwarding, then commit() updates the cache.
 */

#include "binding_cache.h"

#include <gecko/mh.h>

#include <sequence.h>

#include <chrono>
#include <cstdint>
#include <vector>

namespace gecko::had {

struct Policy {
	Prefix home_prefix;
	std::vector<Prefix> allowed_coas;	/* stands in for IPsec until it comes */
	std::chrono::seconds max_lifetime;
};

/* A Binding Update as the home agent received it. */
struct Request {
	in6_addr home;	/* the source as delivered: the HAO's address was swapped in */
	in6_addr coa;	/* Alternate Care-of Address option, else the packet's source */
	mh::Bu bu;
};

enum class Action {
	none,	/* rejected: the binding cache stays as it is */
	bind,	/* (re)register home -> coa */
	unbind,	/* deregister home */
};

struct Verdict {
	std::uint8_t status;		/* mh::BaStatus */
	std::uint16_t seq;		/* for the BA: the BU's, or the last accepted one with status 135 */
	std::uint16_t lifetime_units;	/* granted, in 4 s units */
	Action action;
};

using daemon::seq_newer;

class Registrar {
public:
	explicit Registrar(Policy policy) : policy_(std::move(policy)) {}

	Verdict decide(const Request &req) const;

	/* Records an accepted @verdict for @req (Action::bind or unbind) at @now. */
	void commit(const Request &req, const Verdict &verdict, Clock::time_point now);

	const BindingCache &cache() const { return cache_; }
	BindingCache &cache() { return cache_; }
	const Policy &policy() const { return policy_; }

private:
	bool coa_allowed(const in6_addr &coa) const;

	Policy policy_;
	BindingCache cache_;
};

} // namespace gecko::had

#endif /* GECKO_HAD_REGISTRAR_H */
