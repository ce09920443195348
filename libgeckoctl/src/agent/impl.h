/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_IMPL_H
#define GECKO_AGENT_IMPL_H

/*
 * The node agent: its three parts, each with a narrow interface — the
 * transport (connections, TLS, framing, peer identity), the signalling
 * (MIPv6 towards clients and the home agent) and the handoffs — and the
 * loop that feeds them. gecko::Node (node.cpp) attaches an application.
 */

#include <gecko/agent.h>
#include <gecko/client.h>

#include "agent/handoffs.h"
#include "agent/membership.h"
#include "agent/mirrors.h"
#include "agent/recoveries.h"
#include "agent/signalling.h"
#include "agent/transport.h"

#include <memory>

namespace gecko::agent {

struct Agent::Impl final : Transport::Handler, Signalling::Listener {
	Config config;
	Client kernel;
	Counters counters;
	/* In this order: each part uses the ones before it, and goes before them. */
	std::unique_ptr<Transport> transport;
	std::unique_ptr<Signalling> signalling;
	std::unique_ptr<Handoffs> handoffs;
	std::unique_ptr<Membership> membership;	/* with a cluster only */
	std::unique_ptr<Mirrors> mirrors;	/* with membership */
	std::unique_ptr<Recoveries> recoveries;	/* with membership */
	std::shared_ptr<AppLink> app;
	Clock::time_point members_published;	/* last copied to app->members */
	Clock::time_point next_measure;		/* of the application's connections' round trips */
	Clock::time_point next_mirror;		/* mirror()'s next look at the application's connections */
	Clock::time_point next_renewal;		/* and its next round of renewals */
	/* What mirror() saw last: when none of it changed, nothing is new to mirror before the next round. */
	struct Seen {
		std::size_t conns = 0;
		std::uint64_t added = 0;
		std::uint64_t versions = 0;
		const Member *backup = nullptr;

		bool operator==(const Seen &) const = default;
	};
	std::optional<Seen> mirrored;
	const Member *self = nullptr;		/* with a cluster: this node */
	/* With a cluster, the registrations the module remembers wait until the members were heard, or this. */
	std::optional<Clock::time_point> resume_at;

	Impl(Config c, Client k) : config(std::move(c)), kernel(std::move(k)) {}

	/* The application in this process, which takes and gives connections. */
	void attach(std::shared_ptr<AppLink> link);
	Result<void> run(int stop_fd);

	void control_message(std::uint64_t conn, const wire::Message &msg) override;
	void peer_message(std::uint64_t conn, const in6_addr &node, const wire::Message &msg) override;
	void closed(std::uint64_t conn, const std::optional<in6_addr> &node, const std::string &why) override;
	void job_done(const Key &key, Signalling::Kind kind, const Error *error) override;
	/* The programs the application is: itself, or those that joined the agent; none without one. */
	std::vector<ProgramStatus> programs();
	/* How many connections of G the application serves; none without one. */
	std::uint32_t connections();
	/* Each heartbeat period: the round trips of the application's connections, for the proximity policy. */
	void measure(Clock::time_point now);
	/* @death's connections mirrored here, taken over; its contact node's role too, if it is this node's turn. */
	void take_over(const Membership::Death &death, Clock::time_point now);
	/* With a cluster: whether the home agent accepted this node's registration of G. */
	bool registered() const;
	/* With a cluster: whether a contact node can relay the Home Tests (this node, or one alive). */
	bool contact_ready() const;
	/* Every turn, and at each heartbeat: this node follows the member that says it is G's contact node. */
	void follow_contact(Clock::time_point now);
	/* gecko-ctl backups. */
	void backups(std::uint64_t conn, const wire::Message &msg);
	/* Every turn: the application's connections mirrored to this node's backup. */
	void mirror(Clock::time_point now);
	/*
	 * At an orderly stop, with a cluster: a binding clear for each client
	 * bound here that has no connection here, so that its next connection
	 * goes to G's home path (the contact node) and not to this node,
	 * which no longer serves. The clients asked.
	 */
	std::vector<Key> part();
	/* What the application does: serve, drain, or nothing once it left. */
	wire::Mode mode();

	void log(const std::string &line)
	{
		if (config.log)
			config.log(line);
	}
};

} // namespace gecko::agent

#endif /* GECKO_AGENT_IMPL_H */
