/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_HANDOFFS_H
#define GECKO_AGENT_HANDOFFS_H

/*
 * The handoffs of this node's agent, both sides, driven through the state
 * machines of agent/handoff.h: what each action does to the sockets
 * (through gecko.ko), to the client (through the signalling) and on the
 * node channel, and the application's side (gecko/node.h).
 */

#include <gecko/client.h>

#include "agent/handoff.h"
#include "agent/signalling.h"
#include "agent/transport.h"

#include <memory>
#include <optional>
#include <vector>

namespace gecko::agent {

class Handoffs {
public:
	/*
	 * @app: the application in this process, if any (without one, no
	 * handoff is taken), with G's ports it serves, the only ones a
	 * connection handed to this node may have.
	 */
	Handoffs(Client &kernel, Transport &transport, Signalling &signalling, Counters &counters, Log log,
		 std::shared_ptr<AppLink> app);
	/* Every handoff under way ends as its machine says a node that stops must: see handoff.h. */
	~Handoffs();

	/* The application's hand_off() and decline() calls, once AppLink::commands_fd is readable. */
	void app_commands();
	void peer(std::uint64_t conn, const in6_addr &node, const wire::Message &msg);
	/* gecko-ctl's handoff, handoffs and fault. */
	void control(std::uint64_t waiter, const wire::Message &msg);
	void job_done(const Key &key, Signalling::Kind kind, const Error *error);
	void closed(std::uint64_t conn);
	void tick(Clock::time_point now);
	/*
	 * When the first Binding Update held back by RFC 6275's rate limit
	 * may leave: the agent wakes for it then, not at its next tick, since
	 * the client's connections stay frozen meanwhile.
	 */
	std::optional<Clock::time_point> next_update() const;

	struct Impl;

private:
	std::unique_ptr<Impl> impl_;
};

} // namespace gecko::agent

#endif /* GECKO_AGENT_HANDOFFS_H */
