// SPDX-License-Identifier: GPL-2.0-only

#include "forwarding.h"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <fstream>

namespace gecko::had {

using daemon::operator==;

std::string Forwarding::tunnel_name(const in6_addr &coa)
{
	/* FNV-1a: 48 bits of it fit IFNAMSIZ after the prefix and make a clash unlikely. */
	std::uint64_t h = 0xcbf29ce484222325;
	char name[16];

	for (auto byte : coa.s6_addr)
		h = (h ^ byte) * 0x100000001b3;
	std::snprintf(name, sizeof(name), "gha%012llx", static_cast<unsigned long long>(h & 0xffffffffffff));
	return name;
}

Result<int> Forwarding::hold_tunnel(const in6_addr &coa)
{
	if (auto it = tunnels_.find(coa); it != tunnels_.end()) {
		it->second.users++;
		return it->second.ifindex;
	}
	auto ifindex = rtnl_.add_tunnel(tunnel_name(coa), ha_, coa);
	if (!ifindex)
		return ifindex;
	tunnels_[coa] = {*ifindex, 1};
	return ifindex;
}

Result<void> Forwarding::release_tunnel(const in6_addr &coa)
{
	auto it = tunnels_.find(coa);

	if (it == tunnels_.end() || --it->second.users)
		return {};
	tunnels_.erase(it);
	return rtnl_.remove_tunnel(tunnel_name(coa));
}

Result<void> Forwarding::bind(const in6_addr &home, const in6_addr &coa)
{
	auto old = routed_.find(home);

	if (old != routed_.end() && old->second == coa)
		return {};

	auto ifindex = hold_tunnel(coa);
	if (!ifindex)
		return std::unexpected(ifindex.error());
	/* Replacing the route moves the traffic in one step. */
	if (auto ok = rtnl_.add_host_route(home, *ifindex); !ok) {
		(void)release_tunnel(coa);
		return ok;
	}
	if (old != routed_.end()) {
		auto previous = old->second;
		old->second = coa;
		return release_tunnel(previous);
	}
	routed_[home] = coa;
	/* Last, so that the home link only sends us what we can forward. */
	return rtnl_.add_proxy(home, home_ifindex_);
}

Result<void> Forwarding::unbind(const in6_addr &home)
{
	auto it = routed_.find(home);

	if (it == routed_.end())
		return {};
	auto coa = it->second;
	routed_.erase(it);

	/* In the reverse order of bind(); try every step even if one fails. */
	auto proxy = rtnl_.remove_proxy(home, home_ifindex_);
	auto route = rtnl_.remove_host_route(home, tunnels_.at(coa).ifindex);
	auto tunnel = release_tunnel(coa);
	return !proxy ? proxy : !route ? route : tunnel;
}

Result<void> Forwarding::clear()
{
	Result<void> first;

	while (!routed_.empty())
		if (auto ok = unbind(routed_.begin()->first); !ok && first)
			first = ok;
	return first;
}

Forwarding::~Forwarding()
{
	(void)clear();
}

static Result<void> write_sysctl(const std::string &path)
{
	std::ofstream out(path);

	if (!(out << "1\n") || !out.flush())
		return std::unexpected(Error{EACCES, "cannot set " + path + " to 1"});
	return {};
}

Result<void> enable_sysctls(const std::string &home_interface)
{
	/* Decapsulated reverse-tunnelled packets are forwarded; proxy ND answers only on a router. */
	if (auto ok = write_sysctl("/proc/sys/net/ipv6/conf/all/forwarding"); !ok)
		return ok;
	return write_sysctl("/proc/sys/net/ipv6/conf/" + home_interface + "/proxy_ndp");
}

} // namespace gecko::had
