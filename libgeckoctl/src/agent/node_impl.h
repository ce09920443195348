/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_NODE_IMPL_H
#define GECKO_AGENT_NODE_IMPL_H

/* gecko::Node's insides, shared by node.cpp (the program's side) and host.cpp (the agent's). */

#include <gecko/node.h>

#include "agent/common.h"
#include "agent/handoff.h"
#include "agent/programs.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace gecko {

struct Node::Impl {
	std::unique_ptr<agent::Agent> agent;	/* in this process; or */
	agent::UniqueFd host;			/* the namespace's node agent */
	std::mutex send_lock;			/* one message sequence at a time */
	std::shared_ptr<agent::AppLink> link;
	agent::UniqueFd stop;
	std::thread thread;
	agent::Log log;
	/* With a host: handoffs asked for and not ended yet, told EPIPE if the agent goes. */
	std::map<in6_addr, std::vector<int>, agent::AddrLess> outstanding;
	bool host_gone = false;
	/* With a host: distances asked for, by tag, until the answer (under link->lock). */
	std::map<std::uint32_t, std::optional<std::vector<agent::Distance>>> asked;
	std::uint32_t next_tag = 0;
	std::condition_variable answered;

	/*
	 * With a host, the program's connections reach the agent in batches
	 * (a connections message): those added and removed since the last
	 * batch, which goes within queue_delay, before any other message,
	 * or once it is full. A connection that ends within that time never
	 * reaches the agent at all: it costs the agent nothing, and it could
	 * not have been handed off or mirrored so soon anyway. When the agent
	 * gathers a client's connections for a handoff, it asks the other
	 * programs for their batches at once (sync), so that none of the
	 * client's is left behind. Lock order: send_lock, then queue_lock.
	 * A batch is sent without queue_lock: the program's threads go on
	 * adding and removing meanwhile, into the next one; only the removal
	 * of a descriptor the batch carries waits until it is sent (it must
	 * stay open until then).
	 */
	std::mutex queue_lock;
	std::vector<int> added;
	std::vector<agent::programs::Removal> removed;
	std::atomic<std::uint32_t> sync_due{0};	/* the agent's last sync not answered yet */
	agent::UniqueFd queue_timer;	/* timerfd: armed when the batch begins */
	/* The batch being sent (under send_lock; sending_added read under queue_lock too). */
	std::vector<int> sending_added;
	std::vector<agent::programs::Removal> sending_removed;
	std::condition_variable sent;	/* sending_added emptied */

	Result<void> send(const agent::programs::Writer &message)
	{
		std::lock_guard guard(send_lock);
		flush();
		return agent::programs::send(host.get(), message);
	}
	/* Node::add() once the ends are known. */
	void add(int fd, const agent::ConnEnds &ends)
	{
		link->add(fd, ends);
		if (host.get() >= 0)
			queue([&] { added.push_back(fd); });
	}
	/*
	 * Puts a change in the batch, once @fd (if any) is no longer being
	 * sent; sends the batch if that filled it.
	 */
	template <class Change>
	void queue(Change change, int fd = -1)
	{
		bool full;
		{
			std::unique_lock guard(queue_lock);
			if (fd >= 0)
				sent.wait(guard, [&] { return std::ranges::find(sending_added, fd) == sending_added.end(); });
			bool first = added.empty() && removed.empty();
			change();
			if (first)
				arm_queue_timer();
			full = added.size() >= agent::programs::max_passed || removed.size() >= max_removals;
		}
		if (full) {
			std::lock_guard guard(send_lock);
			flush();
		}
	}
	/* The removals one connections message carries at most: 22 octets each. */
	static constexpr std::size_t max_removals = 1024;
	void arm_queue_timer();
	/* Sends the batch now, and the answer to a sync; the caller holds send_lock. */
	void flush();
	void flush_soon();
	/* The connections and then the handoff, in one sequence: the agent takes them as one. */
	Result<void> hand_off(const in6_addr &node, const in6_addr &client, const std::vector<Outgoing> &conns);
	/* The agent's messages, as events, until the Node goes or the agent does. */
	void relay();
	Result<void> relay_one(agent::programs::Received &message);
};

} // namespace gecko

#endif /* GECKO_AGENT_NODE_IMPL_H */
