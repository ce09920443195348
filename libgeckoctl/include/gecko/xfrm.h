/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_XFRM_H
#define GECKO_XFRM_H

/*
 * The stock kernel's MIPv6 route-optimisation data path (CONFIG_IPV6_MIP6),
 * programmed over NETLINK_XFRM, as UMIP did. Two kinds of "transforms",
 * both in mode ro with SPI 0 and a care-of address:
 * - hao: on output, moves the source address into a Home Address option
 *   and sends from the care-of address; on input, accepts such a packet
 *   and swaps the home address back in.
 * - rh2: on output, sends to the care-of address with a type 2 routing
 *   header holding the home address; on input, accepts one.
 * A packet that used a state on input must also match an inbound policy
 * whose template names it, or the kernel drops it.
 *
 * Policies are XFRM_POLICY_TYPE_SUB, as UMIP's were. The kernel looks up
 * sub policies first and then also applies the main ones (where IPsec
 * lives), so a user's IPsec policies keep working for the same traffic
 * and never collide with ours. `ip xfrm policy` shows them as "ptype sub";
 * deleting one by hand needs "ptype sub" too.
 *
 * Installing is idempotent (an existing state is updated, an existing
 * policy with the same selector and direction replaced) and removing what
 * is not there succeeds, so an owner removes exactly what it installed,
 * also after a crash left the same objects behind. Objects are identified
 * by their addresses, protocol and direction: two programs in one network
 * namespace must not install the same ones.
 */

#include <gecko/error.h>
#include <gecko/export.h>

#include <netinet/in.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <variant>

namespace gecko::xfrm {

enum class Kind : std::uint8_t {
	hao = IPPROTO_DSTOPTS,	/* "proto hao" */
	rh2 = IPPROTO_ROUTING,	/* "proto route2" */
};

enum class Dir : std::uint8_t {
	in = 0,		/* XFRM_POLICY_IN */
	out = 1,	/* XFRM_POLICY_OUT */
};

/* ip xfrm state ... src SRC dst DST proto KIND mode ro coa COA [flag wildrecv] */
struct State {
	Kind kind;
	in6_addr src;	/* :: with wildrecv: any */
	in6_addr dst;
	in6_addr coa;	/* :: on input: any care-of address */
	bool wildrecv = false;	/* matches any src/dst on input */
};

struct Prefix {
	in6_addr addr;
	std::uint8_t len;
};

/*
 * ip xfrm policy ... src SRC dst DST [proto PROTO] dir DIR priority PRIO
 *                    [tmpl proto KIND mode ro level use]
 * The template is optional ("level use"): traffic for which no state
 * exists passes unchanged. Without a template the policy only exempts the
 * traffic it selects from policies of lower precedence.
 */
struct Policy {
	Prefix src;
	Prefix dst;
	std::optional<std::uint8_t> proto;	/* upper-layer protocol, e.g. IPPROTO_MH */
	Dir dir;
	std::uint32_t priority;			/* a lower number wins */
	std::optional<Kind> tmpl;
	/*
	 * The template's addresses, :: for any. On input the kernel then
	 * only accepts a packet whose state came from tmpl_src.
	 */
	in6_addr tmpl_src{};
	in6_addr tmpl_dst{};
};

/*
 * Priorities of our policies: the Mobility Header ones (bypass out, any
 * BU in) win over a binding's, whatever the order they were installed in.
 */
inline constexpr std::uint32_t priority_bypass = 1;
inline constexpr std::uint32_t priority_binding = 10;

/* What must exist before a Binding Update with a Home Address option can be received (HA and CN). */
GECKO_API State hao_receive_state();		/* src :: dst :: proto hao mode ro coa :: flag wildrecv */
GECKO_API Policy mh_receive_policy(Kind kind);	/* src ::/0 dst ::/0 proto 135 dir in tmpl proto KIND */
/* A mobile node receiving a type 2 routing header from anyone (e.g. a BA from its HA). */
GECKO_API State rh2_receive_state();		/* src :: dst :: proto route2 mode ro coa :: flag wildrecv */

/* A correspondent @cn's binding of @home to @coa. */
struct Binding {
	in6_addr cn;
	in6_addr home;
	in6_addr coa;
};

GECKO_API State rh2_out_state(const Binding &b);	/* src CN dst HOME proto route2 coa COA */
GECKO_API Policy rh2_out_policy(const Binding &b);	/* CN/128 -> HOME/128 out, priority_binding */
GECKO_API State hao_in_state(const Binding &b);		/* src HOME dst CN proto hao coa COA */
/*
 * HOME/128 -> CN/128 in, priority_binding, template src HOME dst CN: only
 * this binding's HAO state admits traffic from HOME, so no other host can
 * send as HOME through the wildcard receive state.
 */
GECKO_API Policy hao_in_policy(const Binding &b);
GECKO_API Policy mh_bypass_policy(const Binding &b);	/* CN -> HOME proto 135 out, priority_bypass, no template */

/* A mobile node at @b.coa sending Mobility Headers from its home address to @b.cn with a HAO. */
GECKO_API State hao_out_state(const Binding &b);	/* src HOME dst CN proto hao coa COA */
GECKO_API Policy mh_hao_out_policy(const Binding &b);	/* HOME/128 -> CN/128 proto 135 out, priority_binding */

/*
 * One change for Xfrm::apply(). Installing a state adds it, or changes the
 * care-of address of the one already there; installing a policy adds it,
 * or replaces the one with the same selector and direction.
 */
struct Change {
	enum class Op : std::uint8_t { install, remove } op;
	std::variant<State, Policy> object;
};

inline Change install(const State &state) { return {Change::Op::install, state}; }
inline Change install(const Policy &policy) { return {Change::Op::install, policy}; }
inline Change remove(const State &state) { return {Change::Op::remove, state}; }
inline Change remove(const Policy &policy) { return {Change::Op::remove, policy}; }

/* A NETLINK_XFRM socket; needs CAP_NET_ADMIN. Acts on the namespace it was opened in. */
class GECKO_API Xfrm {
public:
	static Result<Xfrm> open();

	/*
	 * Makes @changes in order, in one system call (a few for a long list):
	 * a binding's care-of address moves without a request and an answer
	 * per object. Each change is tried whatever the others' outcome;
	 * returns the first failure.
	 */
	Result<void> apply(std::span<const Change> changes);
	Result<void> apply(std::initializer_list<Change> changes)
	{
		return apply(std::span<const Change>(changes.begin(), changes.size()));
	}

	Result<void> install(const State &state) { return apply({xfrm::install(state)}); }
	Result<void> remove(const State &state) { return apply({xfrm::remove(state)}); }
	Result<void> install(const Policy &policy) { return apply({xfrm::install(policy)}); }
	Result<void> remove(const Policy &policy) { return apply({xfrm::remove(policy)}); }

	Xfrm(Xfrm &&) noexcept;
	Xfrm &operator=(Xfrm &&) noexcept;
	~Xfrm();

private:
	struct Impl;	/* keeps libnl out of this header */

	explicit Xfrm(std::unique_ptr<Impl> impl);

	std::unique_ptr<Impl> impl_;
};

} // namespace gecko::xfrm

#endif /* GECKO_XFRM_H */
