/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_HA_ROUTE_H
#define GECKO_HA_ROUTE_H

/*
 * The rtnetlink objects a home agent forwards with: an ip6ip6 tunnel to a
 * care-of address, a host route for a home address through it, and a
 * proxy neighbour entry so that the home agent answers neighbour
 * discovery for the home address on the home link. Mechanism only: which
 * objects exist is the caller's business.
 *
 * Adding is idempotent (an existing object of the same identity is
 * replaced) and removing what is not there succeeds, so a caller can
 * always remove what it meant to install.
 */

#include <gecko/error.h>
#include <gecko/export.h>

#include <netinet/in.h>

#include <cstdint>
#include <memory>
#include <string>

namespace gecko::route {

/* An rtnetlink socket; needs CAP_NET_ADMIN. Acts on the namespace it was opened in. */
class GECKO_API Rtnl {
public:
	static Result<Rtnl> open();

	/*
	 * ip -6 tunnel add NAME mode ip6ip6 local LOCAL remote REMOTE
	 * (hop limit 64, encapsulation limit 4, as iproute2's defaults);
	 * ip link set NAME up. Returns its ifindex.
	 */
	Result<int> add_tunnel(const std::string &name, const in6_addr &local, const in6_addr &remote);
	Result<void> remove_tunnel(const std::string &name);

	/* ip -6 route replace DST/128 dev IFINDEX proto static */
	Result<void> add_host_route(const in6_addr &dst, int ifindex);
	Result<void> remove_host_route(const in6_addr &dst, int ifindex);

	/*
	 * What a mobile node at a care-of address sends from its home
	 * address goes up the reverse tunnel @ifindex:
	 *   ip -6 rule add from SRC/128 table TABLE priority PRIORITY
	 *   ip -6 route replace default dev IFINDEX table TABLE
	 * The route goes away with the tunnel; the rule with remove_source_rule().
	 */
	Result<void> add_source_route(const in6_addr &src, std::uint32_t table, std::uint32_t priority, int ifindex);
	Result<void> remove_source_rule(const in6_addr &src, std::uint32_t table, std::uint32_t priority);
	/* ip -6 neigh add proxy ADDR dev IFINDEX */
	Result<void> add_proxy(const in6_addr &addr, int ifindex);
	Result<void> remove_proxy(const in6_addr &addr, int ifindex);

	Rtnl(Rtnl &&) noexcept;
	Rtnl &operator=(Rtnl &&) noexcept;
	~Rtnl();

private:
	struct Impl;	/* keeps libnl out of this header */

	explicit Rtnl(std::unique_ptr<Impl> impl);

	std::unique_ptr<Impl> impl_;
};

} // namespace gecko::route

#endif /* GECKO_HA_ROUTE_H */
