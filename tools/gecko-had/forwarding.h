/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_HAD_FORWARDING_H
#define GECKO_HAD_FORWARDING_H

/*
 * The kernel side of the bindings: for each registered home address, a
 * proxy neighbour entry on the home link and a host route into an ip6ip6
 * tunnel to its care-of address. Home addresses registered from one
 * care-of address share its tunnel. Everything installed here is removed
 * by clear() and the destructor.
 */

#include <address.h>

#include <gecko/ha_route.h>

#include <map>
#include <string>

namespace gecko::had {

class Forwarding {
public:
	/* @ha: the tunnels' local end; @home_ifindex: the home link. */
	Forwarding(route::Rtnl rtnl, const in6_addr &ha, int home_ifindex)
		: rtnl_(std::move(rtnl)), ha_(ha), home_ifindex_(home_ifindex) {}

	/* Forwards @home to @coa, moving it from its previous care-of address if any. */
	Result<void> bind(const in6_addr &home, const in6_addr &coa);
	/* Stops forwarding @home; succeeds if it was not. */
	Result<void> unbind(const in6_addr &home);
	/* Unbinds everything; returns the first failure, after trying all. */
	Result<void> clear();

	Forwarding(const Forwarding &) = delete;
	Forwarding &operator=(const Forwarding &) = delete;
	~Forwarding();

	/* The tunnel's name for @coa: stable, so a restart finds what a crash left. */
	static std::string tunnel_name(const in6_addr &coa);

private:
	struct Tunnel {
		int ifindex;
		unsigned users;
	};

	Result<int> hold_tunnel(const in6_addr &coa);
	Result<void> release_tunnel(const in6_addr &coa);

	route::Rtnl rtnl_;
	in6_addr ha_;
	int home_ifindex_;
	std::map<in6_addr, in6_addr, daemon::AddressLess> routed_;	/* home -> coa */
	std::map<in6_addr, Tunnel, daemon::AddressLess> tunnels_;	/* by coa */
};

/* The sysctls a home agent needs: forwarding, and proxy ND on the home link. */
Result<void> enable_sysctls(const std::string &home_interface);

} // namespace gecko::had

#endif /* GECKO_HAD_FORWARDING_H */
