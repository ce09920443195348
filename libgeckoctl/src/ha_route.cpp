// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnl-route builds the messages; they go through our own request socket
 * so that failures carry the kernel's errno and extended-ACK text.
 */

#include <gecko/ha_route.h>

#include "fail.h"
#include "netlink.h"

#include <netlink/route/link.h>
#include <netlink/route/link/ip6tnl.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>

#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <cerrno>
#include <initializer_list>

namespace gecko::route {

namespace {

using netlink::Deleter;
using netlink::MessagePtr;
using AddrPtr = std::unique_ptr<nl_addr, Deleter<nl_addr_put>>;
using LinkPtr = std::unique_ptr<rtnl_link, Deleter<rtnl_link_put>>;
using RoutePtr = std::unique_ptr<rtnl_route, Deleter<rtnl_route_put>>;
using NeighPtr = std::unique_ptr<rtnl_neigh, Deleter<rtnl_neigh_put>>;
using RulePtr = std::unique_ptr<rtnl_rule, Deleter<rtnl_rule_put>>;

constexpr std::uint8_t hop_limit = 64;
constexpr std::uint8_t encap_limit = 4;

std::string text(const in6_addr &addr)
{
	char buf[INET6_ADDRSTRLEN];

	return inet_ntop(AF_INET6, &addr, buf, sizeof(buf));
}

Result<AddrPtr> host(const in6_addr &addr)
{
	AddrPtr a(nl_addr_build(AF_INET6, &addr, sizeof(addr)));

	if (!a)
		return fail(ENOMEM, "cannot allocate an address");
	nl_addr_set_prefixlen(a.get(), 128);
	return a;
}

/* The result of @ok, with @what in front of the reason, and the errnos in @absent meaning success. */
Result<void> outcome(Result<void> ok, const std::string &what, std::initializer_list<int> absent = {})
{
	if (ok)
		return ok;
	for (int code : absent)
		if (ok.error().code == code)
			return {};
	return fail(ok.error().code, what + ": " + ok.error().describe());
}

/* A route to @dst (::/0 with a prefix length of 0 for a default route) through @ifindex in @table. */
Result<RoutePtr> device_route(const in6_addr &dst, int ifindex, std::uint32_t table = RT_TABLE_MAIN,
			      unsigned prefixlen = 128)
{
	RoutePtr route(rtnl_route_alloc());
	rtnl_nexthop *nh = rtnl_route_nh_alloc();
	auto addr = host(dst);

	if (!route || !nh || !addr) {
		rtnl_route_nh_free(nh);
		return fail(ENOMEM, "cannot allocate a route");
	}
	nl_addr_set_prefixlen(addr->get(), static_cast<int>(prefixlen));
	rtnl_route_set_family(route.get(), AF_INET6);
	rtnl_route_set_table(route.get(), table);
	rtnl_route_set_protocol(route.get(), RTPROT_STATIC);
	rtnl_route_set_type(route.get(), RTN_UNICAST);
	if (int ret = rtnl_route_set_dst(route.get(), addr->get()); ret < 0) {
		rtnl_route_nh_free(nh);
		return netlink::libnl_fail(ret, "cannot build a route");
	}
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_add_nexthop(route.get(), nh);	/* the route owns it now */
	return route;
}

Result<RulePtr> source_rule(const in6_addr &src, std::uint32_t table, std::uint32_t priority)
{
	RulePtr rule(rtnl_rule_alloc());
	auto addr = host(src);

	if (!rule || !addr)
		return fail(ENOMEM, "cannot allocate a rule");
	rtnl_rule_set_family(rule.get(), AF_INET6);
	rtnl_rule_set_prio(rule.get(), priority);
	rtnl_rule_set_table(rule.get(), table);
	rtnl_rule_set_action(rule.get(), FR_ACT_TO_TBL);
	if (int ret = rtnl_rule_set_src(rule.get(), addr->get()); ret < 0)
		return netlink::libnl_fail(ret, "cannot build a rule");
	return rule;
}

Result<NeighPtr> proxy(const in6_addr &addr, int ifindex)
{
	NeighPtr neigh(rtnl_neigh_alloc());
	auto dst = host(addr);

	if (!neigh || !dst)
		return fail(ENOMEM, "cannot allocate a neighbour entry");
	rtnl_neigh_set_family(neigh.get(), AF_INET6);
	rtnl_neigh_set_ifindex(neigh.get(), ifindex);
	rtnl_neigh_set_flags(neigh.get(), NTF_PROXY);
	if (int ret = rtnl_neigh_set_dst(neigh.get(), dst->get()); ret < 0)
		return netlink::libnl_fail(ret, "cannot build a neighbour entry");
	return neigh;
}

} // namespace

struct Rtnl::Impl {
	netlink::Socket sk;

	/* Builds a message with @build and sends it. */
	template <class Build>
	Result<void> send(Build build, const char *what)
	{
		nl_msg *raw = nullptr;

		if (int ret = build(&raw); ret < 0)
			return netlink::libnl_fail(ret, what);
		MessagePtr msg(raw);
		return sk.request(msg.get());
	}
};

Rtnl::Rtnl(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Rtnl::Rtnl(Rtnl &&) noexcept = default;
Rtnl &Rtnl::operator=(Rtnl &&) noexcept = default;
Rtnl::~Rtnl() = default;

Result<Rtnl> Rtnl::open()
{
	auto sk = netlink::Socket::open(NETLINK_ROUTE);

	if (!sk)
		return std::unexpected(sk.error());
	return Rtnl(std::make_unique<Impl>(std::move(*sk)));
}

Result<int> Rtnl::add_tunnel(const std::string &name, const in6_addr &local, const in6_addr &remote)
{
	LinkPtr link(rtnl_link_ip6_tnl_alloc());
	in6_addr l = local, r = remote;	/* libnl's setters take non-const pointers */
	std::string what = "cannot add tunnel " + name + " to " + text(remote);

	if (!link)
		return fail(ENOMEM, "cannot allocate a tunnel");
	rtnl_link_set_name(link.get(), name.c_str());
	rtnl_link_set_flags(link.get(), IFF_UP);
	rtnl_link_ip6_tnl_set_local(link.get(), &l);
	rtnl_link_ip6_tnl_set_remote(link.get(), &r);
	rtnl_link_ip6_tnl_set_proto(link.get(), IPPROTO_IPV6);
	rtnl_link_ip6_tnl_set_ttl(link.get(), hop_limit);
	rtnl_link_ip6_tnl_set_encaplimit(link.get(), encap_limit);

	/* Without NLM_F_EXCL, a tunnel left by an earlier run is reconfigured. */
	auto ok = impl_->send([&](nl_msg **msg) { return rtnl_link_build_add_request(link.get(), NLM_F_CREATE, msg); },
			      what.c_str());
	if (auto done = outcome(ok, what); !done)
		return std::unexpected(done.error());

	int ifindex = static_cast<int>(if_nametoindex(name.c_str()));
	if (!ifindex)
		return fail(ENODEV, what + ": it vanished right after it was made");
	return ifindex;
}

Result<void> Rtnl::remove_tunnel(const std::string &name)
{
	LinkPtr link(rtnl_link_alloc());

	if (!link)
		return fail(ENOMEM, "cannot allocate a link");
	rtnl_link_set_name(link.get(), name.c_str());
	auto ok = impl_->send([&](nl_msg **msg) { return rtnl_link_build_delete_request(link.get(), msg); },
			      "cannot build a link deletion");
	return outcome(ok, "cannot remove tunnel " + name, {ENODEV});
}

Result<void> Rtnl::add_host_route(const in6_addr &dst, int ifindex)
{
	auto route = device_route(dst, ifindex);

	if (!route)
		return std::unexpected(route.error());
	auto ok = impl_->send(
		[&](nl_msg **msg) {
			return rtnl_route_build_add_request(route->get(), NLM_F_CREATE | NLM_F_REPLACE, msg);
		},
		"cannot build a route");
	return outcome(ok, "cannot add a route to " + text(dst));
}

Result<void> Rtnl::remove_host_route(const in6_addr &dst, int ifindex)
{
	auto route = device_route(dst, ifindex);

	if (!route)
		return std::unexpected(route.error());
	auto ok = impl_->send([&](nl_msg **msg) { return rtnl_route_build_del_request(route->get(), 0, msg); },
			      "cannot build a route deletion");
	return outcome(ok, "cannot remove the route to " + text(dst), {ESRCH, ENOENT, ENODEV});
}

Result<void> Rtnl::add_source_route(const in6_addr &src, std::uint32_t table, std::uint32_t priority, int ifindex)
{
	auto route = device_route(in6addr_any, ifindex, table, 0);
	auto rule = source_rule(src, table, priority);

	if (!route)
		return std::unexpected(route.error());
	if (!rule)
		return std::unexpected(rule.error());
	auto ok = impl_->send(
		[&](nl_msg **msg) {
			return rtnl_route_build_add_request(route->get(), NLM_F_CREATE | NLM_F_REPLACE, msg);
		},
		"cannot build a route");
	if (auto done = outcome(ok, "cannot add the default route of table " + std::to_string(table)); !done)
		return done;
	/* Replaced, not doubled, when an earlier run left it. */
	if (auto gone = remove_source_rule(src, table, priority); !gone)
		return gone;
	ok = impl_->send([&](nl_msg **msg) { return rtnl_rule_build_add_request(rule->get(), NLM_F_CREATE, msg); },
			 "cannot build a rule");
	return outcome(ok, "cannot add a rule for traffic from " + text(src));
}

Result<void> Rtnl::remove_source_rule(const in6_addr &src, std::uint32_t table, std::uint32_t priority)
{
	auto rule = source_rule(src, table, priority);

	if (!rule)
		return std::unexpected(rule.error());
	auto ok = impl_->send([&](nl_msg **msg) { return rtnl_rule_build_delete_request(rule->get(), 0, msg); },
			      "cannot build a rule deletion");
	return outcome(ok, "cannot remove the rule for traffic from " + text(src), {ENOENT});
}

Result<void> Rtnl::add_proxy(const in6_addr &addr, int ifindex)
{
	auto neigh = proxy(addr, ifindex);

	if (!neigh)
		return std::unexpected(neigh.error());
	auto ok = impl_->send(
		[&](nl_msg **msg) {
			return rtnl_neigh_build_add_request(neigh->get(), NLM_F_CREATE | NLM_F_REPLACE, msg);
		},
		"cannot build a proxy neighbour entry");
	return outcome(ok, "cannot add a proxy neighbour entry for " + text(addr));
}

Result<void> Rtnl::remove_proxy(const in6_addr &addr, int ifindex)
{
	auto neigh = proxy(addr, ifindex);

	if (!neigh)
		return std::unexpected(neigh.error());
	auto ok = impl_->send([&](nl_msg **msg) { return rtnl_neigh_build_delete_request(neigh->get(), 0, msg); },
			      "cannot build a proxy neighbour deletion");
	return outcome(ok, "cannot remove the proxy neighbour entry for " + text(addr), {ENOENT, ENODEV});
}

} // namespace gecko::route
