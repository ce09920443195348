/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_CLUSTER_H
#define GECKO_CLUSTER_H

/*
 * The distributed server's configuration: one file, the same on every
 * node, in Boost.Program_options' INI syntax (name = value lines, [section]
 * headers, # to the end of a line is a comment). Documentation/
 * configuration.md is its reference; in short:
 *
 *	service = fd00:a::100		# G, the address clients know
 *	home-agent = fd00:a::1
 *	key-file = cluster.key		# or cert, cert-key and ca
 *	contact = node1
 *	backup = node2			# repeat for more, in order of preference
 *	policy = round-robin
 *
 *	[member.node1]
 *	address = fd00:11::2		# its care-of address
 *	backup = node2			# where its connections are mirrored
 *
 * Every error names the file, the line and the key, as
 * "FILE:LINE: KEY: why", and is EINVAL (ENOENT or EACCES for a file that
 * cannot be read).
 */

#include <gecko/agent.h>
#include <gecko/error.h>
#include <gecko/export.h>

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace gecko {

/* A node of the distributed server. */
struct Member {
	std::string name;	/* letters, digits, '-' and '_': at most 32 */
	in6_addr address{};	/* its care-of address, where the node channel reaches it */
	unsigned weight = 1;	/* its share under the weighted policy */
	/* The member its connections are mirrored to; empty: the next one in the file's order. */
	std::string backup;
};

struct Cluster {
	std::string file;	/* where it was read from */
	in6_addr service{};	/* G */
	in6_addr home_agent{};
	std::uint16_t port = agent::default_port;	/* the node channel's */
	agent::Security security;	/* paths made absolute */
	std::string contact;		/* a member's name */
	std::vector<std::string> backups;	/* members that may take the contact's role, first first */
	std::vector<Member> members;	/* in the file's order */
	std::chrono::milliseconds heartbeat_period{1000};
	unsigned heartbeat_misses = 3;
	/* How often each connection's mirror is renewed at its node's backup. */
	std::chrono::milliseconds mirror_period{1000};
	std::chrono::seconds registration_lifetime{420};	/* asked of the home agent */
	std::string policy = "random";	/* one of policy_names (gecko/policy.h) */
	/* The proximity policy takes clients whose addresses share this many leading bits for one network. */
	unsigned proximity_prefix = 64;

	const Member *member(std::string_view name) const;
	const Member *member(const in6_addr &address) const;
	/* How long a member may stay silent before the others take it for dead. */
	std::chrono::milliseconds failure_bound() const { return heartbeat_period * heartbeat_misses; }
};

/*
 * @text, the contents of the file named @file: syntax and meaning, without
 * opening the credentials it names. Relative paths are taken from @file's
 * folder.
 */
GECKO_API Result<Cluster> parse_cluster(std::string_view text, const std::string &file);

/* Reads and parses @file, then opens its credentials as the node channel will. */
GECKO_API Result<Cluster> load_cluster(const std::string &file);
/* Whether @name can be a member's: 1 to 32 letters, digits, '-' or '_'. */
GECKO_API bool valid_member_name(std::string_view name);

} // namespace gecko

#endif /* GECKO_CLUSTER_H */
