/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_RECOVERIES_H
#define GECKO_AGENT_RECOVERIES_H

/*
 * Takeover: when a member whose connections this node holds the mirrors
 * of (agent/mirrors.h) is declared dead, this node becomes the server of
 * each of its clients, one client at a time per client, all clients at
 * once:
 *
 * 1. each mirrored connection's flow is made probing in gecko.ko, with
 *    no probe yet, so that from now on what the client sends it here is
 *    taken by the module, never answered by a reset of the TCP stack;
 * 2. return routability and a Binding Update bring the client's
 *    traffic for G here (a stale sequence number recovered from the
 *    client's answer, agent/signalling.h);
 * 3. each connection is probed until the client answers (an
 *    out-of-window empty ACK: its stack must answer, once per
 *    tcp_invalid_ratelimit, 500 ms by default), at most max_probes times;
 * 4. each answered connection is restored from its mirror at the
 *    client's numbers, thawed, and handed to the program serving its
 *    port as a recovered Arrival with the mirrored application state.
 *
 * A connection that cannot be (no answer, no program for its port, a
 * refused restore) is lost: its probing flow expires, and the client
 * sees its connection time out. Nothing here ever runs a connection the
 * client has not told this node the numbers of.
 */

#include <gecko/agent.h>
#include <gecko/client.h>
#include <gecko/tcp_state.h>

#include "agent/handoff.h"
#include "agent/mirrors.h"
#include "agent/signalling.h"

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gecko::agent {

class Recoveries {
public:
	/* Probes per connection, one every probe_interval: past tcp_invalid_ratelimit's 500 ms. */
	static constexpr unsigned max_probes = 8;
	static constexpr milliseconds probe_interval{550};
	/* How long the probing flows last: the signalling's retries, then every probe. */
	static constexpr milliseconds probing_timeout{30000};

	/*
	 * @contact_ready: whether a contact node can relay the Home Tests of
	 * return routability (this node is one, or the one it knows of is
	 * alive); until then takeovers wait (their dead member was the contact
	 * node, and its place is being taken).
	 */
	Recoveries(Client &kernel, Signalling &signalling, Counters &counters, Log log,
		   std::function<bool()> contact_ready);

	/* The application the recovered connections go to; none: nothing is taken over. */
	void attach(std::shared_ptr<AppLink> app) { app_ = std::move(app); }
	/* @member was declared dead after @silent: takes over its mirrored connections @taken. */
	void take_over(const std::string &member, Clock::duration silent, MirrorStore::Taken taken,
		       Clock::time_point now);
	/* Whether @key's signalling job is a takeover's. */
	bool owns(const Key &key) const { return jobs_.contains(key); }
	void job_done(const Key &key, Signalling::Kind kind, const Error *error);
	/* Starts the jobs that waited for the signalling, probes, and hands over what was answered. */
	void tick(Clock::time_point now);
	/* The last max_records takeovers, oldest first. */
	const std::deque<RecoveryRecord> &records() const { return records_; }

private:
	struct Conn {
		MirroredConn id;
		MirrorStore::Held mirror;
		TcpState st;
		unsigned probes = 0;
		std::optional<ProbeSegment> answer;
	};
	enum class Phase {
		waiting,	/* another signalling job for the client runs */
		testing,	/* return routability */
		updating,	/* the Binding Update */
		probing,	/* the client sends here: its answers come */
	};
	struct Job {
		Key key;
		std::string member;
		Phase phase = Phase::waiting;
		std::vector<Conn> conns;
		Clock::duration silent{};
		Clock::time_point declared;	/* the member dead */
		Clock::time_point bound;	/* the client's Binding Update accepted */
		Clock::time_point next_probe;
		std::uint32_t lost = 0;		/* mirrored connections dropped before the probes */
		std::string error;
		std::string waits;		/* why it has not started yet */
	};

	/* Probes @c once (@send), or makes its flow probing only: false (why in @job.error) if the module refused. */
	bool probe(Job &job, Conn &c, bool send);
	void start(Job &job);
	/* Restores and hands over what the client answered; the rest is lost. */
	void finish(Job &job, Clock::time_point now);
	/* Ends @job, recorded, everything not handed over lost; @why if it failed as a whole. */
	void end(std::map<Key, Job>::iterator it, Clock::time_point now, std::uint32_t recovered,
		 const std::string &why);

	Client &kernel_;
	Signalling &signalling_;
	Counters &counters_;
	Log log_;
	std::shared_ptr<AppLink> app_;
	std::function<bool()> contact_ready_;
	std::map<Key, Job> jobs_;
	std::deque<RecoveryRecord> records_;
};

} // namespace gecko::agent

#endif /* GECKO_AGENT_RECOVERIES_H */
