// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Raw NETLINK_XFRM messages rather than libnl-xfrm-3: its add/delete calls
 * hide the kernel's errno and extended ACK behind libnl's own codes, and
 * these few messages are plain structs from <linux/xfrm.h>. They are
 * built in one buffer and sent together (netlink::Socket::batch()).
 */

#include <gecko/xfrm.h>

#include "fail.h"
#include "netlink.h"

#include <linux/xfrm.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <vector>

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

xfrm_usersa_info state_info(const State &s)
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
	return info;
}

void put_state(netlink::Requests &requests, std::uint16_t type, const State &s)
{
	requests.begin(type, state_info(s));
	requests.put(XFRMA_COADDR, to_xfrm(s.coa));
	requests.end();
}

void put_sub_type(netlink::Requests &requests)
{
	xfrm_userpolicy_type type{};

	type.type = XFRM_POLICY_TYPE_SUB;
	requests.put(XFRMA_POLICY_TYPE, type);
}

/*
 * Adds @s, then changes it: NEWSA refuses a state that exists (EEXIST)
 * and UPDSA one that does not (ESRCH), so one of the two does it, and an
 * UPDSA right behind a NEWSA that did it changes nothing.
 */
void put_install(netlink::Requests &requests, const State &s)
{
	put_state(requests, XFRM_MSG_NEWSA, s);
	put_state(requests, XFRM_MSG_UPDSA, s);
}

void put_remove(netlink::Requests &requests, const State &s)
{
	xfrm_usersa_id id{};

	id.daddr = to_xfrm(s.dst);
	id.family = AF_INET6;
	id.proto = static_cast<std::uint8_t>(s.kind);
	/* With SPI 0, the kernel finds the state by its addresses. */
	requests.begin(XFRM_MSG_DELSA, id);
	requests.put(XFRMA_SRCADDR, to_xfrm(s.src));
	requests.end();
}

void put_install(netlink::Requests &requests, const Policy &p)
{
	xfrm_userpolicy_info info{};

	info.sel = selector(p);
	info.lft = no_limits();
	info.priority = p.priority;
	info.dir = static_cast<std::uint8_t>(p.dir);
	info.action = XFRM_POLICY_ALLOW;
	info.share = XFRM_SHARE_ANY;
	requests.begin(XFRM_MSG_UPDPOLICY, info);
	if (p.tmpl) {
		xfrm_user_tmpl tmpl{};

		tmpl.id.proto = static_cast<std::uint8_t>(*p.tmpl);
		tmpl.id.daddr.in6 = p.tmpl_dst;
		tmpl.saddr.in6 = p.tmpl_src;
		tmpl.family = AF_INET6;
		tmpl.mode = XFRM_MODE_ROUTEOPTIMIZATION;
		tmpl.optional = 1;	/* level use */
		tmpl.aalgos = tmpl.ealgos = tmpl.calgos = ~0u;
		requests.put(XFRMA_TMPL, tmpl);
	}
	put_sub_type(requests);
	requests.end();
}

void put_remove(netlink::Requests &requests, const Policy &p)
{
	xfrm_userpolicy_id id{};

	id.sel = selector(p);
	id.dir = static_cast<std::uint8_t>(p.dir);
	requests.begin(XFRM_MSG_DELPOLICY, id);
	put_sub_type(requests);
	requests.end();
}

/* How many requests put() makes of @change. */
std::size_t requests_of(const Change &change)
{
	return change.op == Change::Op::install && std::holds_alternative<State>(change.object) ? 2 : 1;
}

void put(netlink::Requests &requests, const Change &change)
{
	std::visit([&](const auto &object) {
		if (change.op == Change::Op::install)
			put_install(requests, object);
		else
			put_remove(requests, object);
	}, change.object);
}

const char *kind_name(Kind kind)
{
	return kind == Kind::hao ? "hao" : "route2";
}

/* The kernel's reason, prefixed with what was being done. */
Error failure(const Change &change, const Error &error)
{
	std::string what = change.op == Change::Op::install ? "cannot install xfrm " : "cannot remove xfrm ";

	if (const auto *state = std::get_if<State>(&change.object))
		what += std::string("state ") + kind_name(state->kind);
	else
		what += "policy";
	return fail(error.code, what + ": " + error.describe()).error();
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

Result<void> Xfrm::apply(std::span<const Change> changes)
{
	netlink::Requests requests;
	std::vector<std::optional<Error>> outcomes;

	/* In batches the socket takes, each change's requests in one. */
	for (std::size_t i = 0; i < changes.size(); i++) {
		put(requests, changes[i]);
		bool last = i + 1 == changes.size();
		if (last || requests.size() + requests_of(changes[i + 1]) > netlink::Socket::batch_max) {
			auto done = impl_->sk.batch(requests);
			if (!done)
				return fail(done.error().code, "xfrm: " + done.error().describe());
			outcomes.insert(outcomes.end(), std::make_move_iterator(done->begin()),
					std::make_move_iterator(done->end()));
			requests.clear();
		}
	}

	auto outcome = outcomes.begin();
	std::optional<Error> first;
	for (const auto &change : changes) {
		auto error = std::move(*outcome++);

		/* A state installed: NEWSA's refusal, unless the state was there; then UPDSA's. */
		if (requests_of(change) == 2) {
			auto update = std::move(*outcome++);
			if (!error || error->code == EEXIST)
				error = std::move(update);
		}
		/* Removing what is not there succeeds. */
		if (change.op == Change::Op::remove && error && (error->code == ESRCH || error->code == ENOENT))
			error.reset();
		if (error && !first)
			first = failure(change, *error);
	}
	if (first)
		return std::unexpected(std::move(*first));
	return {};
}

} // namespace gecko::xfrm
