/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_MEMBERSHIP_H
#define GECKO_AGENT_MEMBERSHIP_H

/*
 * Who of the distributed server is alive. Every heartbeat period this
 * node tells each other member of the configuration (gecko/cluster.h),
 * over the node channel, that it is alive and how many connections it
 * serves; a member not heard from for the failure bound (period times
 * misses) is dead until it speaks again. Only the configuration's members
 * count, and those gecko-ctl join added since the agent started: a
 * heartbeat from a node that holds the credentials but is neither is a
 * peer error, and changes nothing. Heartbeats also carry what each member
 * measured of its clients' networks (agent/proximity.h), and G when the
 * member is G's contact node (the home agent accepted its registration).
 */

#include <gecko/agent.h>
#include <gecko/cluster.h>

#include "agent/common.h"
#include "agent/proximity.h"
#include "agent/transport.h"
#include "agent/wire.h"

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <vector>

namespace gecko::agent {

class Membership {
public:
	/* @self is one of @cluster's members: this node. */
	Membership(std::shared_ptr<const Cluster> cluster, const Member &self, Transport &transport,
		   Counters &counters, Log log);

	/* A member this turn marked dead, how long it had been silent, and whether it was G's contact node. */
	struct Death {
		const Member *member;
		Clock::duration silent;
		bool contact = false;
	};
	/*
	 * Sends the heartbeats that are due, saying this node serves
	 * @connections, is in @mode (at once when the mode changed) and, if
	 * @contact, is G's contact node; marks the silent dead, except those
	 * that left, and returns them.
	 */
	std::vector<Death> tick(Clock::time_point now, std::uint32_t connections, wire::Mode mode, bool contact);
	/* A heartbeat from the agent at @node. */
	void heartbeat(const in6_addr &node, const wire::Message &msg, Clock::time_point now);
	/* gecko-ctl's members, join, leave and proximity requests. */
	void control(std::uint64_t conn, const wire::Message &msg);

	/*
	 * A member the configuration does not list, from now until leave()
	 * or the agent stops: EEXIST if its name or address is a member's
	 * already, EINVAL for a name the file could not hold.
	 */
	Result<void> join(const std::string &name, const in6_addr &address, unsigned weight);
	/* Forgets a member join() added: EPERM for one of the file's, ENOENT for none. */
	Result<void> leave(const std::string &name);

	std::vector<MemberStatus> status(Clock::time_point now) const;
	/*
	 * Where this node's connections are mirrored: the member its section
	 * names, or the next one in the file's order (then those joined,
	 * round again), or the first one alive after it; none while no other
	 * member is alive.
	 */
	const Member *backup() const;
	/* The member whose care-of address is @node; none for another node. */
	const Member *member_at(const in6_addr &node) const;
	/* Whether the member named @name is alive (or draining): never this node. */
	bool alive(const std::string &name) const;
	/* The first member alive that says it is G's contact node; none if none does. */
	const Member *contact() const;
	/* Whether every other member was heard from since the agent started (dead since or not). */
	bool heard_all() const;
	/* The members' distances to the clients' networks: this node measures, programs look up. */
	Proximity &proximity() const { return *proximity_; }

private:
	struct Peer {
		const Member *member;
		MemberStatus::State state = MemberStatus::State::unknown;
		std::optional<Clock::time_point> heard;
		std::uint32_t connections = 0;
		std::uint64_t heartbeats = 0;
		bool contact = false;	/* its last heartbeat said it is G's contact node */
		Clock::duration heard_listening{};	/* listening() when it was heard */

		bool live() const;	/* alive or draining */
	};

	void log(const std::string &line);
	std::vector<const Member *> members() const;
	Clock::duration listening(Clock::time_point now) const;

	std::shared_ptr<const Cluster> cluster_;
	const Member &self_;
	Transport &transport_;
	Counters &counters_;
	Log log_;
	std::vector<Peer> peers_;	/* every member but this node, the file's in its order, then those joined */
	std::list<Member> joined_;	/* a list: peers_ points into it */
	std::unique_ptr<Proximity> proximity_;
	std::optional<Clock::time_point> next_beat_;
	/*
	 * How long this node has listened: the time between its ticks, each
	 * gap counted up to a heartbeat period. A peer's silence is measured
	 * on it, so that a stall of this node's own (a loaded machine, a long
	 * turn of its loop) is not taken for its peers' death.
	 */
	Clock::duration listened_{};
	std::optional<Clock::time_point> last_tick_;
	std::uint32_t connections_ = 0;
	wire::Mode mode_ = wire::Mode::serving;
	bool contact_ = false;
};

} // namespace gecko::agent

#endif /* GECKO_AGENT_MEMBERSHIP_H */
