// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Raw NETLINK_XFRM messages rather than libnl-xfrm-3: its add/delete calls
 * hide the kernel's errno and extended ACK behind libnl's own codes, and
 * these few messages are plain structs from <linux/xfrm.h>.
 */

#include <gecko/xfrm.h>

#include "fail.h"
#include "netlink.h"

#include <linux/xfrm.h>

#include <cerrno>
#include <cstring>

namespace gecko::xfrm {

namespace {

static_assert(static_cast<int>(Dir::in) == XFRM_POLICY_IN && static_cast<int>(Dir::out) == XFRM_POLICY_OUT);

constexpr in6_addr any = IN6ADDR_ANY_INIT;
constexpr std::uint8_t ipproto_mh = 135;

xfrm_address_t to_xfrm(const in6_addr &addr)
{
	xfrm_address_t x{};

	std::memcpy(&x.in6, &addr, sizeof(addr));
	return x;
}

/* No byte or packet limit: the kernel would expire a state or policy at 0. */
xfrm_lifetime_cfg no_limits()
{
	xfrm_lifetime_cfg lft{};

	lft.soft_byte_limit = lft.hard_byte_limit = XFRM_INF;
	lft.soft_packet_limit = lft.hard_packet_limit = XFRM_INF;
	return lft;
}

xfrm_selector selector(const Policy &p)
{
	xfrm_selector sel{};

	sel.family = AF_INET6;
	sel.saddr = to_xfrm(p.src.addr);
	sel.prefixlen_s = p.src.len;
	sel.daddr = to_xfrm(p.dst.addr);
	sel.prefixlen_d = p.dst.len;
	sel.proto = p.proto.value_or(0);
	return sel;
}

Prefix host(const in6_addr &addr)
{
	return {addr, 128};
}

using netlink::MessagePtr;

Result<MessagePtr> message(int type, const void *body, std::size_t len)
{
	MessagePtr msg(nlmsg_alloc_simple(type, 0));

	if (!msg || nlmsg_append(msg.get(), const_cast<void *>(body), len, NLMSG_ALIGNTO) < 0)
		return fail(ENOMEM, "cannot allocate an xfrm message");
	return msg;
}

Result<void> put(nl_msg *msg, int attr, const void *data, std::size_t len)
{
	if (nla_put(msg, attr, static_cast<int>(len), data) < 0)
		return fail(EMSGSIZE, "xfrm message too long");
	return {};
}

Result<void> put_sub_type(nl_msg *msg)
{
	xfrm_userpolicy_type type{};

	type.type = XFRM_POLICY_TYPE_SUB;
	return put(msg, XFRMA_POLICY_TYPE, &type, sizeof(type));
}

Result<MessagePtr> state_message(int type, const State &s)
{
	xfrm_usersa_info info{};

	info.id.daddr = to_xfrm(s.dst);
	info.id.proto = static_cast<std::uint8_t>(s.kind);
	info.saddr = to_xfrm(s.src);
	info.family = AF_INET6;
	info.mode = XFRM_MODE_ROUTEOPTIMIZATION;
	info.lft = no_limits();
	if (s.wildrecv)
		info.flags |= XFRM_STATE_WILDRECV;

	auto msg = message(type, &info, sizeof(info));
	auto coa = to_xfrm(s.coa);
	if (!msg)
		return msg;
	if (auto ok = put(msg->get(), XFRMA_COADDR, &coa, sizeof(coa)); !ok)
		return std::unexpected(ok.error());
	return msg;
}

const char *kind_name(Kind kind)
{
	return kind == Kind::hao ? "hao" : "route2";
}

/* Prefixes the kernel's reason with what was being done. */
std::unexpected<Error> context(const Error &error, const char *what, Kind kind)
{
	return fail(error.code, std::string(what) + " " + kind_name(kind) + ": " + error.describe());
}

} // namespace

State hao_receive_state()
{
	return {Kind::hao, any, any, any, true};
}

State rh2_receive_state()
{
	return {Kind::rh2, any, any, any, true};
}

Policy mh_receive_policy(Kind kind)
{
	return Policy{{any, 0}, {any, 0}, ipproto_mh, Dir::in, priority_bypass, kind};
}

State rh2_out_state(const Binding &b)
{
	return {Kind::rh2, b.cn, b.home, b.coa};
}

Policy rh2_out_policy(const Binding &b)
{
	return Policy{host(b.cn), host(b.home), std::nullopt, Dir::out, priority_binding, Kind::rh2};
}

State hao_in_state(const Binding &b)
{
	return {Kind::hao, b.home, b.cn, b.coa};
}

Policy hao_in_policy(const Binding &b)
{
	return Policy{host(b.home), host(b.cn), std::nullopt, Dir::in, priority_binding, Kind::hao,
		      b.home, b.cn};
}

Policy mh_bypass_policy(const Binding &b)
{
	return Policy{host(b.cn), host(b.home), ipproto_mh, Dir::out, priority_bypass, std::nullopt};
}

State hao_out_state(const Binding &b)
{
	return {Kind::hao, b.home, b.cn, b.coa};
}

Policy mh_hao_out_policy(const Binding &b)
{
	return Policy{host(b.home), host(b.cn), ipproto_mh, Dir::out, priority_binding, Kind::hao};
}

struct Xfrm::Impl {
	netlink::Socket sk;
};

Xfrm::Xfrm(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Xfrm::Xfrm(Xfrm &&) noexcept = default;
Xfrm &Xfrm::operator=(Xfrm &&) noexcept = default;
Xfrm::~Xfrm() = default;

Result<Xfrm> Xfrm::open()
{
	auto sk = netlink::Socket::open(NETLINK_XFRM);

	if (!sk)
		return fail(sk.error().code, "xfrm: " + sk.error().describe() + " (is xfrm_user loaded?)");
	return Xfrm(std::make_unique<Impl>(std::move(*sk)));
}

Result<void> Xfrm::install(const State &state)
{
	auto msg = state_message(XFRM_MSG_NEWSA, state);
	if (!msg)
		return std::unexpected(msg.error());

	auto ok = impl_->sk.request(msg->get());
	/* UPDSA only changes a state that exists: its care-of address, in place. */
	if (!ok && ok.error().code == EEXIST) {
		msg = state_message(XFRM_MSG_UPDSA, state);
		if (!msg)
			return std::unexpected(msg.error());
		ok = impl_->sk.request(msg->get());
	}
	if (!ok)
		return context(ok.error(), "cannot install xfrm state", state.kind);
	return {};
}

Result<void> Xfrm::remove(const State &state)
{
	xfrm_usersa_id id{};

	id.daddr = to_xfrm(state.dst);
	id.family = AF_INET6;
	id.proto = static_cast<std::uint8_t>(state.kind);

	/* With SPI 0, the kernel finds the state by its addresses. */
	auto msg = message(XFRM_MSG_DELSA, &id, sizeof(id));
	auto src = to_xfrm(state.src);
	if (!msg)
		return std::unexpected(msg.error());
	if (auto ok = put(msg->get(), XFRMA_SRCADDR, &src, sizeof(src)); !ok)
		return ok;

	auto ok = impl_->sk.request(msg->get());
	if (!ok && ok.error().code != ESRCH && ok.error().code != ENOENT)
		return context(ok.error(), "cannot remove xfrm state", state.kind);
	return {};
}

Result<void> Xfrm::install(const Policy &policy)
{
	xfrm_userpolicy_info info{};

	info.sel = selector(policy);
	info.lft = no_limits();
	info.priority = policy.priority;
	info.dir = static_cast<std::uint8_t>(policy.dir);
	info.action = XFRM_POLICY_ALLOW;
	info.share = XFRM_SHARE_ANY;

	auto msg = message(XFRM_MSG_UPDPOLICY, &info, sizeof(info));
	if (!msg)
		return std::unexpected(msg.error());
	if (policy.tmpl) {
		xfrm_user_tmpl tmpl{};

		tmpl.id.proto = static_cast<std::uint8_t>(*policy.tmpl);
		tmpl.id.daddr.in6 = policy.tmpl_dst;
		tmpl.saddr.in6 = policy.tmpl_src;
		tmpl.family = AF_INET6;
		tmpl.mode = XFRM_MODE_ROUTEOPTIMIZATION;
		tmpl.optional = 1;	/* level use */
		tmpl.aalgos = tmpl.ealgos = tmpl.calgos = ~0u;
		if (auto ok = put(msg->get(), XFRMA_TMPL, &tmpl, sizeof(tmpl)); !ok)
			return ok;
	}
	if (auto ok = put_sub_type(msg->get()); !ok)
		return ok;
	if (auto ok = impl_->sk.request(msg->get()); !ok)
		return fail(ok.error().code, "cannot install xfrm policy: " + ok.error().describe());
	return {};
}

Result<void> Xfrm::remove(const Policy &policy)
{
	xfrm_userpolicy_id id{};

	id.sel = selector(policy);
	id.dir = static_cast<std::uint8_t>(policy.dir);

	auto msg = message(XFRM_MSG_DELPOLICY, &id, sizeof(id));
	if (!msg)
		return std::unexpected(msg.error());
	if (auto ok = put_sub_type(msg->get()); !ok)
		return ok;

	auto ok = impl_->sk.request(msg->get());
	if (!ok && ok.error().code != ENOENT)
		return fail(ok.error().code, "cannot remove xfrm policy: " + ok.error().describe());
	return {};
}

} // namespace gecko::xfrm
