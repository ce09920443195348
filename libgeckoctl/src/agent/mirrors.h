/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_MIRRORS_H
#define GECKO_AGENT_MIRRORS_H

/*
 * Mirroring, for crash recovery: every connection of G a node serves is
 * mirrored to its backup (the member its configuration section names, or
 * the next one in the file's order; the next one alive after that while
 * it is not) as a snapshot: gecko.ko's read-only capture of the header,
 * sequence numbers, windows, options and offsets, without payload, with
 * the application's state for it. A connection is mirrored within a turn
 * of the agent's loop (a tenth of a second) of the application adding it
 * or changing its state, then renewed every mirror-period, and its end is
 * told. A renewal is a new snapshot if the connection moved (octets
 * acknowledged or received, or its TCP state) since the last; otherwise
 * the mirror still holds, and one message names all such connections. A
 * new backup gets every connection at once, and a backup that lacks a
 * mirror it is told of asks for it whole. The backup keeps the last
 * mirror of each connection of each member, dead ones included: what a
 * takeover restores once the client, probed, says where it stands
 * (Documentation/handoff.md, "Restoring from a snapshot"). The contact
 * node also mirrors its home registration to the configuration's backups.
 */

#include <gecko/agent.h>
#include <gecko/client.h>
#include <gecko/cluster.h>
#include <gecko/error.h>

#include "agent/common.h"
#include "agent/signalling.h"
#include "agent/transport.h"
#include "agent/wire.h"

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
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

/* What a connection did so far (its socket's TCP_INFO): a mirror holds while it stays the same. */
struct Progress {
	std::uint64_t acked;
	std::uint64_t received;
	std::uint8_t state;

	bool operator==(const Progress &) const = default;
};
/* The progress of the TCP socket @fd; none if it cannot be read. */
std::optional<Progress> progress(int fd);

/* How many connections one mirror_still or mirror_wanted names at most. */
inline constexpr std::size_t conns_per_message = 2048;

/* @conns in mirror_still or mirror_wanted messages of @type, conns_per_message each. */
std::vector<wire::Message> conns_messages(wire::Type type, const std::vector<MirroredConn> &conns);

/* The backup's side: the last mirror of each connection of each member. */
class MirrorStore {
public:
	/* Connections one member can make this node hold the mirrors of, and octets of their states. */
	static constexpr std::size_t max_per_member = 1 << 18;
	static constexpr std::size_t max_state_per_member = 64 << 20;

	/* @service: G, the only address whose connections are mirrored; @contact: the only member whose registration is. */
	MirrorStore(const in6_addr &service, std::string contact) : service_(service), contact_(std::move(contact)) {}
	/* Another member took the contact node's place: only its registrations count from now on. */
	void contact(std::string member);
	/* The member G's contact node is, as far as this node knows. */
	const std::string &contact() const { return contact_; }
	/* The sequence number of the contact node's last registration of G mirrored here; none if none was. */
	std::optional<std::uint16_t> registration_seq() const;

	/*
	 * A mirror, mirror_still, mirror_gone or registration from @member,
	 * kept or forgotten: EBADMSG for a malformed one (an application
	 * state over max_mirror_state included), EINVAL for a connection or
	 * registration not of G, EPERM for a registration from another member
	 * than the contact node, ENOSPC past max_per_member or
	 * max_state_per_member; nothing changes then. Gives the connections
	 * @member should mirror whole again (mirror_wanted): those a
	 * mirror_still names that have no mirror here, and one whose mirror
	 * came without an application state when this node had none of it
	 * (this node restarted, or refused the first).
	 */
	Result<std::vector<MirroredConn>> heard(const std::string &member, const wire::Message &msg,
						Clock::time_point now);
	/* Backups::registrations, members and held (of @client's connections only, if given). */
	void status(Backups &out, Clock::time_point now, const std::optional<in6_addr> &client) const;
	struct Held {
		std::vector<std::byte> snapshot;
		std::vector<std::byte> state;	/* the application's */
		Clock::time_point at;
	};
	/* The last mirror of @member's connection @conn; none if there is none. */
	const Held *mirror(const std::string &member, const MirroredConn &conn) const;
	struct Taken {
		std::vector<std::pair<MirroredConn, Held>> fresh;
		std::size_t stale = 0;
	};
	/*
	 * Forgets every mirror of @member, now dead, and gives those renewed
	 * since @since: what this node takes over. The older ones are stale:
	 * their end was never told, or @member mirrored them elsewhere since.
	 */
	Taken take(const std::string &member, Clock::time_point since);

private:
	struct Table {
		std::map<MirroredConn, Held> conns;
		std::size_t state_octets = 0;
	};

	struct Registration {
		std::uint16_t seq;
		Clock::time_point expires;
		Clock::time_point at;
	};

	in6_addr service_;
	std::string contact_;
	std::map<std::string, Table, std::less<>> held_;	/* by member */
	std::optional<Registration> registration_;	/* the contact node's, of G */
};

/* This node's side (its connections to its backup), and what it holds of the others'. */
class Mirrors {
public:
	/* @self is one of @cluster's members: this node. */
	Mirrors(Client &kernel, Transport &transport, std::shared_ptr<const Cluster> cluster, const Member &self,
		Log log);

	/*
	 * One of the application's connections of G (AppLink::conns): its
	 * socket, what it is, and the version of its application state (0:
	 * none yet).
	 */
	struct Serving {
		int fd;
		MirroredConn conn;
		std::uint64_t version;
	};
	/* The application state of the socket @fd now. */
	using StateOf = std::function<std::vector<std::byte>(int fd)>;

	/*
	 * When @conns or @backup changed, and twice a mirror-period (@renew):
	 * while there is a @backup (none while no other member is alive),
	 * guards the connections among @conns that are new (gecko.ko ends
	 * them without a word if their program dies: the backup takes them
	 * over; with nobody to do so, they end as any program's do), mirrors
	 * to @backup those guarded that are new or whose application state
	 * changed (with the state then, and with the first mirror a backup gets),
	 * and with @renew renews those mirrored half a period ago or more; and
	 * tells it of those gone since. A connection gecko.ko does not guard
	 * is not mirrored: its program's death ends it with a FIN or a reset,
	 * and no backup may answer its client after that. False if the backup
	 * could not be reached: nothing went.
	 */
	bool tick(Clock::time_point now, const std::vector<Serving> &conns, const StateOf &state_of,
		  const Member *backup, bool renew);
	/* A mirror_wanted from @member: if it is the backup, those connections are mirrored whole at the next turn. */
	Result<void> wanted(const std::string &member, const wire::Message &msg);
	/*
	 * On the contact node, every turn: its home registration of G, if the
	 * home agent accepted one, to each of the configuration's backups
	 * when it changed and every mirror-period.
	 */
	void registrations(Clock::time_point now, const std::vector<Signalling::HomeRegistration> &regs);
	/* What the other members mirror here. */
	MirrorStore &store() { return store_; }

	/* gecko-ctl backups: MirrorStore::status, and where this node mirrors to. */
	Backups status(Clock::time_point now, const std::optional<in6_addr> &client) const;

private:
	void guard(const std::map<MirroredConn, Serving> &serving);
	void send_gone(std::uint64_t peer, const MirroredConn &conn);

	Client &kernel_;
	Transport &transport_;
	std::shared_ptr<const Cluster> cluster_;
	const Member &self_;
	Log log_;
	std::string backup_;					/* the member mirrored_ went to */
	in6_addr backup_address_{};
	struct Mirrored {
		Clock::time_point at;
		std::uint64_t version;			/* of the application state it carried */
		std::optional<Progress> progress;	/* at its snapshot; none if it had none */
	};
	std::map<MirroredConn, Mirrored> mirrored_;	/* this node's connections, mirrored to backup_ */
	std::map<MirroredConn, bool> guarded_;		/* this node's connections: does gecko.ko guard them? */
	std::optional<Signalling::HomeRegistration> registration_;	/* as last mirrored */
	Clock::time_point registration_at_;
	MirrorStore store_;
};

} // namespace gecko::agent

#endif /* GECKO_AGENT_MIRRORS_H */
