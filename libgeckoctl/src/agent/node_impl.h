/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_NODE_IMPL_H
#define GECKO_AGENT_NODE_IMPL_H

/* gecko::Node's insides, shared by node.cpp (the program's side) and host.cpp (the agent's). */

#include <gecko/node.h>

#include "agent/common.h"
#include "agent/handoff.h"
#include "agent/programs.h"

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

	Result<void> send(const agent::programs::Writer &message, int pass = -1)
	{
		std::lock_guard guard(send_lock);
		return agent::programs::send(host.get(), message, pass);
	}
	/* Node::add() once the ends are known. */
	void add(int fd, const agent::ConnEnds &ends)
	{
		link->add(fd, ends);
		if (host.get() >= 0)
			(void)send(agent::programs::Writer(agent::programs::Type::add).u32(static_cast<std::uint32_t>(fd)), fd);
	}
	/* The connections and then the handoff, in one sequence: the agent takes them as one. */
	Result<void> hand_off(const in6_addr &node, const in6_addr &client, const std::vector<Outgoing> &conns);
	/* The agent's messages, as events, until the Node goes or the agent does. */
	void relay();
	Result<void> relay_one(agent::programs::Received &message);
};

} // namespace gecko

#endif /* GECKO_AGENT_NODE_IMPL_H */
