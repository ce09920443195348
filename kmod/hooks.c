// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where packets meet services and bindings (Documentation/datapath.md).
 *
 * In, at PRE_ROUTING after defragmentation and before conntrack: a packet
 * to a service's care-of address with a type 2 routing header for G, from
 * a client bound here (or from the service's home agent), loses the header
 * and goes on to G, so conntrack and sockets only ever see G. A packet to
 * a care-of address or to G with a Home Address option is dropped. An
 * ICMPv6 error about a packet that left from the care-of address with the
 * option is turned into one about G's packet, for G's socket.
 *
 * Out, at POST_ROUTING after conntrack: a packet from G to a bound client
 * leaves from the care-of address with a Home Address option, and is
 * routed again for its new source. Mobility Header messages get the option
 * only when they are Binding Updates (RFC 6275 §6.1.7, §11.3.1).
 *
 * TCP segments then carry 24 octets TCP did not count: a SYN to G has its
 * MSS option lowered to what the path from the care-of address holds.
 *
 * A connection of G being handed off has its packets held while it is
 * frozen, and passed on to its acceptor (or dropped) once it left
 * (flow.c); what a frozen socket would send is dropped. The acceptor takes
 * what its donor passed on from inside an IPv6 header to its care-of
 * address, for that connection only; nobody else's.
 *
 * The hooks read the services, bindings and flows under RCU, and are
 * registered only while the namespace has services. netns.c says in what
 * order they and the tables go.
 */

#include "hooks.h"
#include "binding.h"
#include "exthdr.h"
#include "flow.h"
#include "netns.h"
#include "service.h"

#include <linux/netfilter.h>
#include <linux/netfilter_ipv6.h>
#include <linux/tcp.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>

#define MH_TYPE_BU 5

static const enum gecko_counter rh2_drop_reason[] = {
	[GECKO_RH2_TRUNCATED] = GECKO_COUNTER_RH2_TRUNCATED,
	[GECKO_RH2_BAD_LENGTH] = GECKO_COUNTER_RH2_BAD_LENGTH,
	[GECKO_RH2_BAD_SEGMENTS] = GECKO_COUNTER_RH2_BAD_SEGMENTS,
	[GECKO_RH2_BAD_ADDRESS] = GECKO_COUNTER_RH2_BAD_ADDRESS,
};

/* Packets on the wire: a GSO or GRO skb stands for several. */
static unsigned int wire_packets(const struct sk_buff *skb)
{
	return skb_is_gso(skb) ? skb_shinfo(skb)->gso_segs : 1;
}

/* The upper-layer protocol and its offset, or -1 (fragments included). */
static int upper_layer(struct sk_buff *skb, unsigned int *off)
{
	unsigned short frag_off = 0;
	int proto;

	*off = 0;
	proto = ipv6_find_hdr(skb, off, -1, &frag_off, NULL);
	return proto < 0 || frag_off ? -1 : proto;
}

/*
 * Lowers the MSS option of a TCP SYN to G so that a full segment plus the
 * Home Address option fits the path from the care-of address to the
 * client. Never raises it.
 */
static void clamp_mss(struct net *net, struct sk_buff *skb, const struct gecko_service *svc,
		      unsigned int thoff)
{
	struct flowi6 fl6 = { .daddr = ipv6_hdr(skb)->saddr, .saddr = svc->coa };
	unsigned int optlen, i, mtu, max;
	struct dst_entry *dst;
	struct tcphdr *th;
	u8 *opt;

	dst = ip6_route_output(net, NULL, &fl6);
	mtu = dst->error ? IPV6_MIN_MTU : dst_mtu(dst);
	dst_release(dst);
	max = mtu - sizeof(struct ipv6hdr) - sizeof(struct tcphdr) - GECKO_HAO_LEN;

	if (skb_ensure_writable(skb, thoff + sizeof(*th)))
		return;
	th = (struct tcphdr *)(skb_network_header(skb) + thoff);
	optlen = th->doff * 4;
	if (optlen < sizeof(*th) || skb_ensure_writable(skb, thoff + optlen))
		return;
	th = (struct tcphdr *)(skb_network_header(skb) + thoff);
	opt = (u8 *)(th + 1);
	optlen -= sizeof(*th);

	for (i = 0; i < optlen; ) {
		u16 mss;

		if (opt[i] == TCPOPT_EOL)
			return;
		if (opt[i] == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= optlen || opt[i + 1] < 2 || i + opt[i + 1] > optlen)
			return;
		if (opt[i] == TCPOPT_MSS && opt[i + 1] == TCPOLEN_MSS) {
			mss = get_unaligned_be16(opt + i + 2);
			if (mss <= max)
				return;
			put_unaligned_be16(max, opt + i + 2);
			inet_proto_csum_replace2(&th->check, skb, htons(mss), htons(max), false);
			gecko_counter_inc(net, GECKO_COUNTER_MSS_CLAMPED);
			return;
		}
		i += opt[i + 1];
	}
}

/*
 * An ICMPv6 error about a packet hao_out sent from @coa, a service's
 * care-of address, is made to look like one about G's packet, so that G's
 * socket hears it: a Packet Too Big for the care-of address must lower
 * G's path MTU.
 */
static void icmp_err_in(struct gecko_net *gn, struct sk_buff *skb, const struct in6_addr *coa)
{
	const struct gecko_service *home;
	struct gecko_icmp_err err;
	unsigned int off;

	if (upper_layer(skb, &off) != IPPROTO_ICMPV6 || !gecko_icmp_err_parse(skb, off, coa, &err))
		return;
	/* Services may share a care-of address: the one of the quoted G. */
	home = gecko_service_find(gn, &err.hao.home);
	if (home && ipv6_addr_equal(&home->coa, coa) && !gecko_icmp_err_to_home(skb, &err))
		gecko_counter_inc(gn->net, GECKO_COUNTER_ICMP_ERR_IN);
}

/*
 * The service of the G inside a packet tunnelled to @coa, its inner header
 * at @off, if that service is at @coa.
 */
static const struct gecko_service *inner_service(struct gecko_net *gn, struct sk_buff *skb,
						 unsigned int off, const struct in6_addr *coa)
{
	const struct gecko_service *svc;
	struct ipv6hdr _inner;
	const struct ipv6hdr *inner = skb_header_pointer(skb, off, sizeof(_inner), &_inner);

	if (!inner)
		return NULL;
	svc = gecko_service_find(gn, &inner->daddr);
	return svc && ipv6_addr_equal(&svc->coa, coa) ? svc : NULL;
}

/*
 * The connection a packet inside an IPv6 header belongs to: a TCP
 * segment, or false. The caller checked the G inside (inner_service()).
 */
static bool inner_flow(struct sk_buff *skb, struct gecko_flow_key *key)
{
	const unsigned int in_off = sizeof(struct ipv6hdr);
	const struct ipv6hdr *inner;
	struct tcphdr _th;
	const struct tcphdr *th;
	__be16 frag_off;
	u8 next;
	int off;

	/* Directly inside: how donors send it, and what gecko_ip6ip6_strip() takes. */
	if (ipv6_hdr(skb)->nexthdr != IPPROTO_IPV6 || !pskb_may_pull(skb, 2 * sizeof(*inner)))
		return false;
	inner = (const struct ipv6hdr *)(skb_network_header(skb) + in_off);
	if (inner->version != 6)
		return false;
	next = inner->nexthdr;
	off = ipv6_skip_exthdr(skb, in_off + sizeof(*inner), &next, &frag_off);
	if (off < 0 || next != IPPROTO_TCP || frag_off)
		return false;
	th = skb_header_pointer(skb, off, sizeof(_th), &_th);
	if (!th)
		return false;
	memset(key, 0, sizeof(*key));
	key->local = inner->daddr;
	key->remote = inner->saddr;
	key->local_port = th->dest;
	key->remote_port = th->source;
	return true;
}

/*
 * A packet inside an IPv6 header to @coa, a service's care-of address, the
 * inner header at @off. The home agent's tunnel to the contact node is the
 * kernel's, left alone. Anything else is taken out only when it is a
 * segment of a connection restored here, sent by the donor named at the
 * restore: the rest could be anyone's, with any source inside. Taken out,
 * it sets @to_g to the service of its G.
 */
static unsigned int tunnelled_in(struct gecko_net *gn, struct sk_buff *skb, unsigned int off,
				 const struct in6_addr *coa, const struct gecko_service **to_g)
{
	const struct gecko_service *svc = inner_service(gn, skb, off, coa);
	const struct in6_addr *outer_src = &ipv6_hdr(skb)->saddr;
	struct gecko_flow_key key;

	if (svc && ipv6_addr_equal(&svc->ha, outer_src))
		return NF_ACCEPT;
	if (!svc || !inner_flow(skb, &key) || !gecko_flow_decap_ok(gn, &key, outer_src) ||
	    gecko_ip6ip6_strip(skb)) {
		gecko_counter_inc(gn->net, GECKO_COUNTER_FWD_IN_DROPPED);
		return NF_DROP;
	}
	gecko_counter_inc(gn->net, GECKO_COUNTER_FWD_IN);
	*to_g = svc;
	return NF_ACCEPT;
}

/*
 * A packet to @coa, a service's care-of address: the type 2 routing
 * header, if any, or the IPv6 header a donor put around it. One removed
 * sets @to_g to the service of the packet's destination now, a G.
 */
static unsigned int coa_in(struct gecko_net *gn, struct sk_buff *skb,
			   const struct in6_addr *coa, const struct gecko_service **to_g)
{
	const struct gecko_service *svc;
	struct gecko_binding_key key;
	struct gecko_binding *b;
	enum gecko_rh2_result res;
	struct gecko_rh2 rh2;
	unsigned int off;
	u8 st;

	res = gecko_rh2_parse(skb, &rh2);
	if (res == GECKO_RH2_ABSENT)
		return upper_layer(skb, &off) == IPPROTO_IPV6 ? tunnelled_in(gn, skb, off, coa, to_g) :
								NF_ACCEPT;
	if (res != GECKO_RH2_OK) {
		gecko_counter_inc(gn->net, rh2_drop_reason[res]);
		return NF_DROP;
	}
	/* Services may share a care-of address: the one of the G it names. */
	svc = gecko_service_find(gn, &rh2.home);
	if (!svc || !ipv6_addr_equal(&svc->coa, coa)) {
		gecko_counter_inc(gn->net, GECKO_COUNTER_RH2_NO_BINDING);
		return NF_DROP;
	}
	key.home = rh2.home;
	key.peer = ipv6_hdr(skb)->saddr;
	b = gecko_binding_lookup(gn, &key);
	st = b ? READ_ONCE(b->state) : GECKO_BINDING_UNSPEC;
	/* PENDING too: the client may use its new binding before we see its BA. */
	if (st != GECKO_BINDING_BOUND && st != GECKO_BINDING_PENDING &&
	    !ipv6_addr_equal(&key.peer, &svc->ha)) {
		gecko_counter_inc(gn->net, GECKO_COUNTER_RH2_NO_BINDING);
		return NF_DROP;
	}
	if (gecko_rh2_strip(skb, &rh2))
		return NF_DROP;
	gecko_counter_add(gn->net, GECKO_COUNTER_RH2_IN, wire_packets(skb));
	*to_g = svc;
	return NF_ACCEPT;
}

static unsigned int rh2_in(void *priv, struct sk_buff *skb, const struct nf_hook_state *state)
{
	struct gecko_net *gn = gecko_net(state->net);
	const struct gecko_service *svc = NULL;
	unsigned int verdict, thoff;
	struct gecko_hao hao;
	/* Kept: removing a routing header rewrites the packet's. */
	struct in6_addr daddr = ipv6_hdr(skb)->daddr;
	bool to_coa;

	/* Only a service's addresses are ours: another MIPv6 stack may own the rest. */
	to_coa = gecko_service_coa(gn, &daddr);
	if (!to_coa)
		svc = gecko_service_find(gn, &daddr);
	if (!to_coa && !svc)
		return NF_ACCEPT;
	/* Nodes are never a mobile node's correspondent: a Home Address
	 * option coming in is forged, or a mobile node's packet gone astray.
	 */
	if (gecko_hao_parse(skb, 0, &hao) == GECKO_HAO_OK) {
		gecko_counter_add(state->net, GECKO_COUNTER_HAO_IN_DROPPED, wire_packets(skb));
		return NF_DROP;
	}
	if (to_coa) {
		verdict = coa_in(gn, skb, &daddr, &svc);
		if (verdict != NF_ACCEPT)
			return verdict;
		icmp_err_in(gn, skb, &daddr);
		/* Left to the care-of address: G's only where that address is a G too. */
		if (!svc)
			svc = gecko_service_find(gn, &ipv6_hdr(skb)->daddr);
	}

	if (svc && upper_layer(skb, &thoff) == IPPROTO_TCP) {
		struct tcphdr _th;
		const struct tcphdr *th = skb_header_pointer(skb, thoff, sizeof(_th), &_th);
		/* Read now: gecko_flow_in() may rewrite the header elsewhere. */
		bool syn;

		if (!th)
			return NF_ACCEPT;
		syn = th->syn;
		if (atomic_read(&gn->flows.nelems)) {
			struct gecko_flow_key key = {
				.local = ipv6_hdr(skb)->daddr,
				.remote = ipv6_hdr(skb)->saddr,
				.local_port = th->dest,
				.remote_port = th->source,
			};

			verdict = gecko_flow_in(gn, skb, thoff, &key);
			if (verdict != NF_ACCEPT)
				return verdict;
		}
		if (syn)
			clamp_mss(state->net, skb, svc, thoff);
	}
	return NF_ACCEPT;
}

/* Whether a packet from G belongs to a frozen or handed-off connection. */
static bool flow_blocked(struct gecko_net *gn, struct sk_buff *skb)
{
	struct gecko_flow_key key = { .local = ipv6_hdr(skb)->saddr, .remote = ipv6_hdr(skb)->daddr };
	const struct tcphdr *th;
	struct tcphdr _th;
	unsigned int off;

	if (!atomic_read(&gn->flows.nelems) || upper_layer(skb, &off) != IPPROTO_TCP)
		return false;
	th = skb_header_pointer(skb, off, sizeof(_th), &_th);
	if (!th)
		return false;
	key.local_port = th->source;
	key.remote_port = th->dest;
	return gecko_flow_out_blocked(gn, &key);
}

/* Whether a packet from G gets the Home Address option. */
static bool wants_hao(struct gecko_net *gn, struct sk_buff *skb)
{
	struct gecko_binding_key key = { ipv6_hdr(skb)->saddr, ipv6_hdr(skb)->daddr };
	struct gecko_binding *b;
	unsigned int off;

	if (upper_layer(skb, &off) == IPPROTO_MH) {
		u8 _type;
		const u8 *type = skb_header_pointer(skb, off + 2, 1, &_type);

		return type && *type == MH_TYPE_BU;
	}
	b = gecko_binding_lookup(gn, &key);
	return b && READ_ONCE(b->state) == GECKO_BINDING_BOUND;
}

static unsigned int hao_out(void *priv, struct sk_buff *skb, const struct nf_hook_state *state)
{
	struct gecko_net *gn = gecko_net(state->net);
	const struct gecko_service *svc;

	svc = gecko_service_find(gn, &ipv6_hdr(skb)->saddr);
	if (!svc)
		return NF_ACCEPT;
	if (flow_blocked(gn, skb))
		return NF_DROP;
	if (!wants_hao(gn, skb))
		return NF_ACCEPT;
	if (gecko_hao_insert(skb, &svc->coa) ||
	    ip6_route_me_harder(state->net, state->sk, skb)) {
		gecko_counter_inc(state->net, GECKO_COUNTER_HAO_FAILED);
		return NF_DROP;
	}
	/*
	 * ip6_output() set skb->dev from the old route, and the neighbour
	 * output queues on skb->dev: a packet of G routed into the reverse
	 * tunnel would otherwise go down the tunnel with an Ethernet header.
	 */
	skb->dev = skb_dst(skb)->dev;
	gecko_counter_add(state->net, GECKO_COUNTER_HAO_OUT, wire_packets(skb));
	return NF_ACCEPT;
}

static const struct nf_hook_ops hook_ops[] = {
	{
		.hook = rh2_in,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_PRE_ROUTING,
		/* After defragmentation (-400), before raw (-300) and conntrack (-200). */
		.priority = NF_IP6_PRI_RAW - 1,
	}, {
		.hook = hao_out,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_POST_ROUTING,
		/* After every table and NAT; only conntrack's confirmation follows. */
		.priority = NF_IP6_PRI_LAST - 1,
	},
};

int gecko_hooks_get(struct gecko_net *gn)
{
	int ret;

	lockdep_assert_held(&gn->lock);
	if (gn->hooks_on)
		return 0;
	ret = nf_register_net_hooks(gn->net, hook_ops, ARRAY_SIZE(hook_ops));
	gn->hooks_on = !ret;
	return ret;
}

/*
 * Unregistered, the hooks are not called again, but one may still be
 * running: nf_unregister_net_hooks() does not wait for it. What it reads
 * must outlive an RCU grace period (netns.c).
 */
static void unregister(struct gecko_net *gn)
{
	if (!gn->hooks_on)
		return;
	nf_unregister_net_hooks(gn->net, hook_ops, ARRAY_SIZE(hook_ops));
	gn->hooks_on = false;
}

void gecko_hooks_put(struct gecko_net *gn)
{
	lockdep_assert_held(&gn->lock);
	if (list_empty(&gn->services))
		unregister(gn);
}

void gecko_hooks_uninit(struct gecko_net *gn)
{
	mutex_lock(&gn->lock);
	unregister(gn);
	mutex_unlock(&gn->lock);
}

#if IS_ENABLED(CONFIG_GECKO_KUNIT_TEST)
unsigned int gecko_hooks_rh2_in(struct sk_buff *skb, const struct nf_hook_state *state)
{
	return rh2_in(NULL, skb, state);
}

unsigned int gecko_hooks_hao_out(struct sk_buff *skb, const struct nf_hook_state *state)
{
	return hao_out(NULL, skb, state);
}
#endif
