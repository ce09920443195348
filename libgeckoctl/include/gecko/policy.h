/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_POLICY_H
#define GECKO_POLICY_H

/*
 * Redirection policies: which member serves a client. The framework asks
 * its policy when a new client reaches the contact node (the connection is
 * handed there at accept time) and when a program calls Handoff() without
 * naming a target; it tells the policy of every handoff that failed.
 *
 * A policy is called from one thread at a time and may keep state (a
 * round-robin position, its own picks since the members last reported
 * their loads). Custom policies derive from GeckoPolicy, or wrap a
 * callable with CallablePolicy.
 */

#include <gecko/cluster.h>
#include <gecko/error.h>
#include <gecko/export.h>

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gecko {

/* What the framework knows of a member that is alive when a policy chooses. */
struct Candidate {
	const Member *member = nullptr;
	bool self = false;			/* the node that asks */
	std::uint32_t connections = 0;		/* it serves, as it last reported */
	std::uint64_t report = 0;		/* which report that was: a new one counts what came since */
	/* From it to the client's network, if it measured one (this node: on this very connection). */
	std::optional<std::chrono::microseconds> rtt;
};

/* The seed's "identity of the client socket", and who may serve it. */
struct Choice {
	in6_addr client{};
	std::uint16_t client_port = 0;
	/* The members alive now, in a stable order (the configuration's, then those that joined). */
	std::span<const Candidate> candidates;
	/* The client's network, whose distances the candidates carry (gecko.conf(5) proximity-prefix). */
	in6_addr network{};
};

namespace detail {
/* Whose turn it is: the member after the last one picked, in the candidates' order. */
class Turn {
public:
	/* The first of @pool (pointers into @all) from the turn on; null if @pool is empty. */
	const Candidate *pick(std::span<const Candidate> all, std::span<const Candidate *const> pool);

private:
	std::string last_;		/* the member picked last */
	std::size_t last_index_ = 0;	/* its place among the candidates then */
};
} // namespace detail

class GECKO_API GeckoPolicy {
public:
	/* A member whose handoff failed is left out of the choices for @quarantine. */
	explicit GeckoPolicy(std::chrono::milliseconds quarantine = std::chrono::seconds(30));
	virtual ~GeckoPolicy();
	GeckoPolicy(const GeckoPolicy &) = delete;
	GeckoPolicy &operator=(const GeckoPolicy &) = delete;

	/*
	 * The care-of address of the member that should serve @choice's
	 * client; EHOSTUNREACH when no candidate will do.
	 */
	virtual Result<in6_addr> SelectTarget(const Choice &choice) = 0;

	/* A handoff of @client to @target failed: by default, @target sits out its quarantine. */
	virtual void NotifyFailedHandoff(const in6_addr &target, const in6_addr &client);

protected:
	/* @choice's candidates that are not in quarantine. */
	std::vector<const Candidate *> eligible(const Choice &choice);

private:
	std::chrono::milliseconds quarantine_;
	std::vector<std::pair<in6_addr, std::chrono::steady_clock::time_point>> failed_;
};

/* Any eligible member, uniformly. */
class GECKO_API RandomPolicy : public GeckoPolicy {
public:
	/* The same @seed gives the same choices, for tests; none draws one. */
	explicit RandomPolicy(std::optional<std::uint64_t> seed = {});
	Result<in6_addr> SelectTarget(const Choice &choice) override;

private:
	std::mt19937_64 random_;
};

/* Each eligible member in turn, in the configuration's order, whoever joins or leaves. */
class GECKO_API RoundRobinPolicy : public GeckoPolicy {
public:
	Result<in6_addr> SelectTarget(const Choice &choice) override;

private:
	detail::Turn turn_;
};

/*
 * The member serving the fewest connections: its last report plus what
 * this policy sent it since, so a burst of clients spreads before the
 * next reports. Ties go round-robin.
 */
class GECKO_API LeastConnectionsPolicy : public GeckoPolicy {
public:
	Result<in6_addr> SelectTarget(const Choice &choice) override;

private:
	struct Sent {
		std::uint64_t report = 0;
		std::uint32_t since = 0;
	};
	std::map<std::string, Sent, std::less<>> sent_;	/* by member */
	detail::Turn ties_;
};

/*
 * The member closest to the client: the lowest round-trip time its TCP
 * stack measured to the client's network. A member that has not measured
 * that network is tried first, once (its first client from there is how
 * it measures), then comes after those that did; members within 10 % or
 * 1 ms of the lowest count as equally near, and among them (or when
 * nobody measured) go the fewest connections.
 */
class GECKO_API ProximityPolicy : public GeckoPolicy {
public:
	/* A member is tried again on a network it did not measure once @explore_again has passed. */
	explicit ProximityPolicy(std::chrono::seconds explore_again = std::chrono::minutes(10));
	Result<in6_addr> SelectTarget(const Choice &choice) override;

private:
	std::chrono::seconds explore_again_;
	/* When a member was last tried on a network: the network's 16 octets, then the member's name. */
	std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> tried_;
	LeastConnectionsPolicy load_;
};

/*
 * Members in proportion to their weights, spread evenly (smooth weighted
 * round-robin): weights 2 and 1 give A B A, A B A, ...
 */
class GECKO_API WeightedPolicy : public GeckoPolicy {
public:
	Result<in6_addr> SelectTarget(const Choice &choice) override;

private:
	std::map<std::string, long long, std::less<>> current_;	/* by member */
};

/*
 * A policy made of a function, which sees the candidates out of
 * quarantine only, and optionally what to do on a failed handoff instead
 * of the quarantine.
 */
class GECKO_API CallablePolicy : public GeckoPolicy {
public:
	using Select = std::function<Result<in6_addr>(const Choice &)>;
	using Failed = std::function<void(const in6_addr &target, const in6_addr &client)>;

	explicit CallablePolicy(Select select, Failed failed = {});
	Result<in6_addr> SelectTarget(const Choice &choice) override;
	void NotifyFailedHandoff(const in6_addr &target, const in6_addr &client) override;

private:
	Select select_;
	Failed failed_;
};

/* The built-in policies' names, as the configuration's "policy" key takes them. */
inline constexpr std::string_view policy_names[] = {
	"random", "round-robin", "least-connections", "proximity", "weighted",
};

/* The built-in policy called @name; EINVAL if there is none. */
GECKO_API Result<std::unique_ptr<GeckoPolicy>> make_policy(std::string_view name);

} // namespace gecko

#endif /* GECKO_POLICY_H */
