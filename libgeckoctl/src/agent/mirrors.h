/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_MIRRORS_H
#define GECKO_AGENT_MIRRORS_H

/*
 * Mirroring, for crash recovery: every connection of G a node serves is
 * mirrored to its backup (the member its configuration section names, or
 * the next one in the file's order; the next one alive after that while
 * it is not) as a snapshot: gecko.ko's read-only capture of the header,
 * sequence numbers, windows, options and offsets, without payload. A
 * connection is mirrored within a turn of the agent's loop (a tenth of a
 * second) of the application adding it, then every mirror-period, and
 * its end is told. A new backup gets every connection at once. The backup
 * keeps the last mirror of each connection of each member, dead ones
 * included: what a takeover restores once the client, probed, says where
 * it stands (Documentation/handoff.md, "Restoring from a snapshot").
 */

#include <gecko/agent.h>
#include <gecko/client.h>
#include <gecko/cluster.h>
#include <gecko/error.h>

#include "agent/common.h"
#include "agent/transport.h"
#include "agent/wire.h"

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gecko::agent {

/* A connection of G: the client's address and port, and G's port. */
struct MirroredConn {
	in6_addr client;
	std::uint16_t client_port;
	std::uint16_t port;

	bool operator<(const MirroredConn &o) const;
};

/* The backup's side: the last mirror of each connection of each member. */
class MirrorStore {
public:
	/* Connections one member can make this node hold the mirrors of. */
	static constexpr std::size_t max_per_member = 1 << 18;

	/* @service: G, the only address whose connections are mirrored. */
	explicit MirrorStore(const in6_addr &service) : service_(service) {}

	/*
	 * A mirror or mirror_gone from @member, kept or forgotten: EBADMSG for
	 * a malformed one, EINVAL for a connection not of G, ENOSPC past
	 * max_per_member; nothing changes then.
	 */
	Result<void> heard(const std::string &member, const wire::Message &msg, Clock::time_point now);
	/* Backups::members and Backups::held. */
	void status(Backups &out, Clock::time_point now) const;
	/* The last mirror of @member's connection @conn, a snapshot's octets; empty if none. */
	std::vector<std::byte> mirror(const std::string &member, const MirroredConn &conn) const;

private:
	struct Held {
		std::vector<std::byte> snapshot;
		Clock::time_point at;
	};

	in6_addr service_;
	std::map<std::string, std::map<MirroredConn, Held>, std::less<>> held_;	/* by member */
};

/* This node's side (its connections to its backup), and what it holds of the others'. */
class Mirrors {
public:
	/* @self is one of @cluster's members: this node. */
	Mirrors(Client &kernel, Transport &transport, std::shared_ptr<const Cluster> cluster, const Member &self,
		Log log);

	/*
	 * Every turn: mirrors to @backup (none while no other member is
	 * alive) the connections among @conns, the application's sockets,
	 * that are new or due, and tells it of those gone since.
	 */
	void tick(Clock::time_point now, const std::vector<int> &conns, const Member *backup);
	/* What the other members mirror here. */
	MirrorStore &store() { return store_; }

	Backups status(Clock::time_point now) const;

private:
	std::optional<MirroredConn> conn_of(int fd) const;
	void send_gone(std::uint64_t peer, const MirroredConn &conn);

	Client &kernel_;
	Transport &transport_;
	std::shared_ptr<const Cluster> cluster_;
	const Member &self_;
	Log log_;
	std::string backup_;					/* the member mirrored_ went to */
	in6_addr backup_address_{};
	std::map<MirroredConn, Clock::time_point> mirrored_;	/* this node's connections, when last mirrored */
	MirrorStore store_;
};

} // namespace gecko::agent

#endif /* GECKO_AGENT_MIRRORS_H */
