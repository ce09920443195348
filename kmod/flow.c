// SPDX-License-Identifier: GPL-2.0-only
/*
 * The flow table: an rhashtable per namespace, keyed by a connection's
 * addresses and ports, looked up lock-free by the hooks, changed under
 * gecko_net.lock. A collection acts on flows whose time is up (the socket
 * side of that is sockstate.c's) and on flows whose socket its owner
 * closed meanwhile. Every packet a flow holds counts in gecko_net.held,
 * which the namespace's limit bounds.
 */

#include "flow.h"
#include "exthdr.h"
#include "limits.h"
#include "netns.h"
#include "sockstate.h"

#include <linux/mm.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/percpu.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <net/inet_sock.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/netlink.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <uapi/linux/gecko.h>

/* How often flows with a socket are checked for one closed under them. */
#define CHECK_INTERVAL HZ

static const struct rhashtable_params flow_params = {
	.key_len = sizeof(struct gecko_flow_key),
	.key_offset = offsetof(struct gecko_flow, key),
	.head_offset = offsetof(struct gecko_flow, node),
	.automatic_shrinking = true,
};

/*
 * The states, what the hooks do with each and what becomes of each at its
 * deadline (the UAPI header says why). A MOVED flow's packets coming in
 * are passed on or dropped: gecko_flow_in().
 */
static const struct gecko_flow_rule rules[GECKO_FLOW_DRAINING + 1] = {
	[GECKO_FLOW_FROZEN] = { .hold = true, .block_out = true, .expiry = GECKO_FLOW_THAW },
	[GECKO_FLOW_COMMITTED] = { .hold = true, .block_out = true, .expiry = GECKO_FLOW_DROP },
	[GECKO_FLOW_RESTORING] = { .hold = true, .block_out = true, .decap = true,
				   .expiry = GECKO_FLOW_DROP },
	[GECKO_FLOW_RESTORED] = { .hold = true, .block_out = true, .decap = true,
				  .expiry = GECKO_FLOW_DROP },
	[GECKO_FLOW_MOVED] = { .block_out = true, .replaceable = true, .expiry = GECKO_FLOW_FORGET },
	[GECKO_FLOW_ARRIVED] = { .decap = true, .replaceable = true, .expiry = GECKO_FLOW_FORGET },
	[GECKO_FLOW_PROBING] = { .replaceable = true, .probe = true, .expiry = GECKO_FLOW_FORGET },
	/* Its socket runs: what it sends leaves, what arrives waits for the held ones. */
	[GECKO_FLOW_DRAINING] = { .hold = true, .decap = true },
};

/* The flow whose held packets this CPU is delivering: the hook lets them by. */
static DEFINE_PER_CPU(const struct gecko_flow *, delivering);

const struct gecko_flow_rule *gecko_flow_rule(u8 state)
{
	BUILD_BUG_ON(__GECKO_FLOW_STATE_MAX > GECKO_FLOW_DRAINING);
	return &rules[state < ARRAY_SIZE(rules) ? state : GECKO_FLOW_UNSPEC];
}

void gecko_flow_key_of(const struct sock *sk, struct gecko_flow_key *key)
{
	memset(key, 0, sizeof(*key));
	key->local = sk->sk_v6_rcv_saddr;
	key->remote = sk->sk_v6_daddr;
	key->local_port = htons(inet_sk(sk)->inet_num);
	key->remote_port = inet_sk(sk)->inet_dport;
}

struct gecko_flow *gecko_flow_find(struct gecko_net *gn, const struct gecko_flow_key *key)
{
	lockdep_assert_held(&gn->lock);
	return rhashtable_lookup_fast(&gn->flows, key, flow_params);
}

void gecko_flow_set_state(struct gecko_flow *flow, u8 state)
{
	spin_lock_bh(&flow->held.lock);
	WRITE_ONCE(flow->state, state);
	spin_unlock_bh(&flow->held.lock);
}

void gecko_flow_set_timeout(struct gecko_net *gn, struct gecko_flow *flow, u32 timeout_ms)
{
	lockdep_assert_held(&gn->lock);
	flow->expires = jiffies + msecs_to_jiffies(timeout_ms);
	gecko_flows_schedule(gn);
}

/* Moves @flow to @state and what it held to @list, in one step for the hooks. */
static void take_held(struct gecko_net *gn, struct gecko_flow *flow, u8 state,
		      struct sk_buff_head *list)
{
	__skb_queue_head_init(list);
	spin_lock_bh(&flow->held.lock);
	skb_queue_splice_init(&flow->held, list);
	WRITE_ONCE(flow->state, state);
	spin_unlock_bh(&flow->held.lock);
	atomic_sub(skb_queue_len(list), &gn->held);
}

static void purge_held(struct gecko_net *gn, struct gecko_flow *flow)
{
	struct sk_buff_head list;

	/* UNSPEC: a hook that still finds the flow lets the packet by. */
	take_held(gn, flow, GECKO_FLOW_UNSPEC, &list);
	gecko_counter_add(gn->net, GECKO_COUNTER_FLOW_HELD_DROPPED, skb_queue_len(&list));
	__skb_queue_purge(&list);
}

void gecko_flow_remove(struct gecko_net *gn, struct gecko_flow *flow)
{
	lockdep_assert_held(&gn->lock);
	rhashtable_remove_fast(&gn->flows, &flow->node, flow_params);
	list_del(&flow->list);
	purge_held(gn, flow);
	kvfree(flow->unsent);
	if (flow->sk)
		sock_put(flow->sk);
	kfree_rcu(flow, rcu);
}

static void forward_one(struct gecko_net *gn, const struct gecko_flow *flow, struct sk_buff *skb)
{
	struct flowi6 fl6 = {
		.saddr = flow->fwd_src,
		.daddr = flow->fwd_dst,
		.flowi6_proto = IPPROTO_IPV6,
	};
	struct dst_entry *dst = ip6_route_output(gn->net, NULL, &fl6);

	if (dst->error || gecko_ip6ip6_push(skb, &flow->fwd_src, &flow->fwd_dst)) {
		dst_release(dst);
		kfree_skb(skb);
		gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_HELD_DROPPED);
		return;
	}
	nf_reset_ct(skb);
	skb->tstamp = 0;
	memset(IP6CB(skb), 0, sizeof(*IP6CB(skb)));
	/* The checksums inside are whole (gecko_ip6ip6_push()); the outer header has none. */
	skb->ip_summed = CHECKSUM_NONE;
	/* Full-size packets grow by 40 octets: fragmented, not refused. */
	skb->ignore_df = 1;
	skb_dst_set(skb, dst);
	skb->dev = dst->dev;
	gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_FORWARDED);
	ip6_local_out(gn->net, NULL, skb);
}

/* Sends @skb, a packet to G of a connection that left, on to its acceptor. */
static void forward(struct gecko_net *gn, const struct gecko_flow *flow, struct sk_buff *skb)
{
	struct sk_buff *segs, *next;

	skb_dst_drop(skb);
	if (!skb_is_gso(skb))
		return forward_one(gn, flow, skb);
	/* Aggregated on receipt: one by one, as the client sent them. */
	segs = skb_gso_segment(skb, 0);
	if (IS_ERR_OR_NULL(segs)) {
		kfree_skb(skb);
		gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_HELD_DROPPED);
		return;
	}
	consume_skb(skb);
	skb_list_walk_safe(segs, skb, next) {
		skb_mark_not_on_list(skb);
		forward_one(gn, flow, skb);
	}
}

/* Sends @list, copies of what @flow holds, on to its acceptor. */
static void forward_list(struct gecko_net *gn, const struct gecko_flow *flow,
			 struct sk_buff_head *list)
{
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(list))) {
		local_bh_disable();
		forward(gn, flow, skb);
		local_bh_enable();
	}
}

/* A copy of @skb, which @flow holds, for its acceptor; NULL (counted) if there is no memory. */
static struct sk_buff *copy_held(struct gecko_net *gn, struct sk_buff *skb)
{
	/* Its data is shared: what forward() changes, it copies first (skb_cow_head() and the like). */
	struct sk_buff *copy = skb_clone(skb, GFP_ATOMIC);

	if (!copy)
		gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_HELD_DROPPED);
	return copy;
}

int gecko_flow_check_acceptor(const struct gecko_flow *flow, const struct in6_addr *dst,
			      struct netlink_ext_ack *extack)
{
	if (!flow->forward || ipv6_addr_equal(&flow->fwd_dst, dst))
		return 0;
	NL_SET_ERR_MSG_MOD(extack, "its packets go to another acceptor already");
	return -EBUSY;
}

int gecko_flow_pass_on(struct gecko_net *gn, struct gecko_flow *flow, const struct in6_addr *src,
		       const struct in6_addr *dst, struct netlink_ext_ack *extack)
{
	struct sk_buff_head copies;
	struct sk_buff *skb, *copy;
	int ret;

	lockdep_assert_held(&gn->lock);
	ret = gecko_flow_check_acceptor(flow, dst, extack);
	/* Passed on to @dst already: once is enough. */
	if (ret || flow->forward)
		return ret;
	__skb_queue_head_init(&copies);
	/* In one step with the hooks: each packet is copied once, here or there. */
	spin_lock_bh(&flow->held.lock);
	flow->fwd_src = *src;
	flow->fwd_dst = *dst;
	flow->forward = true;
	skb_queue_walk(&flow->held, skb) {
		copy = copy_held(gn, skb);
		if (copy)
			__skb_queue_tail(&copies, copy);
	}
	spin_unlock_bh(&flow->held.lock);
	forward_list(gn, flow, &copies);
	return 0;
}

void gecko_flow_moved(struct gecko_net *gn, struct gecko_flow *flow,
		      const struct in6_addr *src, const struct in6_addr *dst)
{
	struct sk_buff_head held;
	bool copied;

	lockdep_assert_held(&gn->lock);
	__skb_queue_head_init(&held);
	/* In one step: a packet in between would meet no socket, and a reset. */
	spin_lock_bh(&flow->held.lock);
	/* Passed on since the commit: their copies went already, to the same acceptor. */
	copied = flow->forward;
	if (!src || !dst) {
		flow->forward = false;
	} else if (!copied) {
		flow->fwd_src = *src;
		flow->fwd_dst = *dst;
		flow->forward = true;
	}
	skb_queue_splice_init(&flow->held, &held);
	WRITE_ONCE(flow->state, GECKO_FLOW_MOVED);
	spin_unlock_bh(&flow->held.lock);
	atomic_sub(skb_queue_len(&held), &gn->held);
	if (copied) {
		__skb_queue_purge(&held);
	} else if (flow->forward) {
		forward_list(gn, flow, &held);
	} else {
		gecko_counter_add(gn->net, GECKO_COUNTER_FLOW_HELD_DROPPED, skb_queue_len(&held));
		__skb_queue_purge(&held);
	}
	if (flow->sk) {
		sock_put(flow->sk);
		flow->sk = NULL;
	}
	kvfree(flow->unsent);
	flow->unsent = NULL;
	gecko_flow_set_timeout(gn, flow, GECKO_SOCK_MOVED_TIMEOUT);
}

struct gecko_flow *gecko_flow_add(struct gecko_net *gn, const struct gecko_flow_key *key,
				  struct sock *sk, u8 state, u32 timeout_ms,
				  const struct in6_addr *donor, struct netlink_ext_ack *extack)
{
	struct gecko_flow *flow, *old;
	int ret;

	lockdep_assert_held(&gn->lock);
	old = gecko_flow_find(gn, key);
	if (old && !gecko_flow_rule(old->state)->replaceable) {
		NL_SET_ERR_MSG_MOD(extack, "the connection is frozen or being restored here already");
		return ERR_PTR(-EEXIST);
	}
	/* Replacing one adds none. */
	if (!old) {
		ret = gecko_limit_check(gn, GECKO_LIMITS_A_FLOWS,
					atomic_read(&gn->flows.nelems), extack);
		if (ret)
			return ERR_PTR(ret);
	}

	flow = kzalloc(sizeof(*flow), GFP_KERNEL_ACCOUNT);
	if (!flow) {
		NL_SET_ERR_MSG_MOD(extack, "out of memory for the flow");
		return ERR_PTR(-ENOMEM);
	}
	flow->key = *key;
	flow->state = state;
	if (donor) {
		flow->has_donor = true;
		flow->donor = *donor;
	}
	skb_queue_head_init(&flow->held);
	if (old)
		gecko_flow_remove(gn, old);
	ret = rhashtable_insert_fast(&gn->flows, &flow->node, flow_params);
	if (ret) {
		kfree(flow);
		NL_SET_ERR_MSG_MOD(extack, "cannot insert the flow");
		return ERR_PTR(ret);
	}
	if (sk)
		sock_hold(sk);
	flow->sk = sk;
	list_add_tail(&flow->list, &gn->flows_list);
	gecko_flow_set_timeout(gn, flow, timeout_ms);
	return flow;
}

/*
 * Delivers @skb, which @flow held, through the whole receive path now, on
 * this CPU: with the bottom halves off nothing else runs the hooks here
 * meanwhile, so the hook knows it by the flow this CPU is delivering for.
 * The stack's RPS is bypassed so that it stays on this CPU.
 */
static void deliver(struct gecko_net *gn, const struct gecko_flow *flow, struct sk_buff *skb)
{
	struct net_device *dev;
	int ret = NET_RX_DROP;

	local_bh_disable();
	rcu_read_lock();
	/* Held without a reference: the device may have left meanwhile. */
	dev = dev_get_by_index_rcu(gn->net, skb->skb_iif);
	if (dev) {
		skb->dev = dev;
		__this_cpu_write(delivering, flow);
		ret = netif_receive_skb_core(skb);
		__this_cpu_write(delivering, NULL);
	} else {
		kfree_skb(skb);
	}
	rcu_read_unlock();
	local_bh_enable();
	gecko_counter_inc(gn->net, ret == NET_RX_SUCCESS ? GECKO_COUNTER_FLOW_REINJECTED :
							    GECKO_COUNTER_FLOW_HELD_DROPPED);
}

void gecko_flow_resume(struct gecko_net *gn, struct gecko_flow *flow)
{
	u8 then = flow->has_donor || flow->recovered ? GECKO_FLOW_ARRIVED : GECKO_FLOW_UNSPEC;
	struct sk_buff *skb;

	lockdep_assert_held(&gn->lock);
	/* One at a time, so that one arriving meanwhile queues behind the rest. */
	for (;;) {
		spin_lock_bh(&flow->held.lock);
		skb = __skb_dequeue(&flow->held);
		/* Empty: from now on packets go straight to the socket. */
		if (!skb)
			WRITE_ONCE(flow->state, then);
		spin_unlock_bh(&flow->held.lock);
		if (!skb)
			break;
		atomic_dec(&gn->held);
		deliver(gn, flow, skb);
		cond_resched();
	}
	if (then == GECKO_FLOW_UNSPEC)
		return gecko_flow_remove(gn, flow);
	if (!flow->recovered) {
		sock_put(flow->sk);
		flow->sk = NULL;
	}
	kvfree(flow->unsent);
	flow->unsent = NULL;
	gecko_flow_set_timeout(gn, flow, GECKO_SOCK_MOVED_TIMEOUT);
}

/*
 * A recovered connection starts where its client's acknowledgement said,
 * but the client may also hold later octets its dead member sent past a
 * loss. Once the loss is filled, the client acknowledges them, before the
 * socket here sent them again: TCP discards an acknowledgement of what it
 * never sent, and the connection would stall for good. It is lowered to
 * what the socket sent, all of which the client has. The caller holds
 * held.lock, under which an ARRIVED flow's socket stays referenced.
 */
static void lower_ack(struct gecko_net *gn, struct gecko_flow *flow, struct sk_buff *skb,
		      unsigned int thoff)
{
	u32 snd_nxt = READ_ONCE(tcp_sk(flow->sk)->snd_nxt), acked;
	struct tcphdr *th, _th;
	__be32 ack;

	th = skb_header_pointer(skb, thoff, sizeof(_th), &_th);
	if (!th || !th->ack || !after(ntohl(th->ack_seq), snd_nxt))
		return;
	acked = ntohl(th->ack_seq);
	if (!flow->lowered || after(acked, flow->acked))
		flow->acked = acked;
	flow->lowered = true;
	if (skb_ensure_writable(skb, thoff + sizeof(*th)))
		return;
	th = (struct tcphdr *)(skb_network_header(skb) + thoff);
	ack = htonl(snd_nxt);
	inet_proto_csum_replace4(&th->check, skb, th->ack_seq, ack, false);
	th->ack_seq = ack;
	gecko_counter_inc(gn->net, GECKO_COUNTER_ACKS_LOWERED);
}

/* Whether @flow's client holds octets its recovered socket has not sent again yet. */
static bool still_lowering(struct gecko_flow *flow)
{
	bool behind;

	if (flow->state != GECKO_FLOW_ARRIVED || !flow->sk)
		return false;
	spin_lock_bh(&flow->held.lock);
	behind = flow->lowered && after(flow->acked, READ_ONCE(tcp_sk(flow->sk)->snd_nxt));
	spin_unlock_bh(&flow->held.lock);
	return behind;
}

unsigned int gecko_flow_in(struct gecko_net *gn, struct sk_buff *skb, unsigned int thoff,
			   const struct gecko_flow_key *key)
{
	struct sk_buff *copy = NULL;
	struct gecko_flow *flow;
	unsigned int verdict;
	bool fwd = false;

	flow = rhashtable_lookup(&gn->flows, key, flow_params);
	if (!flow || flow == this_cpu_read(delivering))
		return NF_ACCEPT;
	spin_lock(&flow->held.lock);
	if (gecko_flow_rule(flow->state)->hold) {
		gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_HELD);
		verdict = NF_DROP;
		if (skb_queue_len(&flow->held) >= GECKO_SOCK_HELD_MAX) {
			gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_HELD_DROPPED);
		} else if (atomic_inc_return(&gn->held) > gecko_limit(gn, GECKO_LIMITS_A_HELD)) {
			atomic_dec(&gn->held);
			gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_HELD_DROPPED);
			gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_HELD_LIMITED);
		} else {
			/* Delivered again from the start, on the device it came in on. */
			skb_dst_drop(skb);
			nf_reset_ct(skb);
			skb->skb_iif = skb->dev->ifindex;
			skb->dev = NULL;
			__skb_queue_tail(&flow->held, skb);
			/* Committed and passed on (gecko_flow_pass_on()): its acceptor gets a copy. */
			if (flow->forward)
				copy = copy_held(gn, skb);
			verdict = NF_STOLEN;
		}
	} else if (gecko_flow_rule(flow->state)->probe) {
		struct gecko_probe_seg answer;

		/* The peer's stack answers with an empty ACK; its own retransmissions carry data. */
		if (gecko_probe_parse(skb, thoff, &answer) && gecko_probe_is_answer(skb, thoff, &answer)) {
			flow->answer = answer;
			flow->answered_at = jiffies;
			flow->answered = true;
			gecko_counter_inc(gn->net, GECKO_COUNTER_PROBE_ANSWERS);
		}
		verdict = NF_DROP;
	} else if (flow->state == GECKO_FLOW_MOVED && flow->forward) {
		fwd = true;
		verdict = NF_STOLEN;
	} else if (flow->state == GECKO_FLOW_MOVED) {
		gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_MOVED_DROPPED);
		verdict = NF_DROP;
	} else {
		/* ARRIVED, or thawed under our feet */
		if (flow->state == GECKO_FLOW_ARRIVED && flow->sk)
			lower_ack(gn, flow, skb, thoff);
		verdict = NF_ACCEPT;
	}
	spin_unlock(&flow->held.lock);
	/* Where it goes was set before it was passed on or MOVED, and stays. */
	if (fwd)
		forward(gn, flow, skb);
	if (copy)
		forward(gn, flow, copy);
	return verdict;
}

bool gecko_flow_out_blocked(struct gecko_net *gn, const struct gecko_flow_key *key)
{
	struct gecko_flow *flow = rhashtable_lookup(&gn->flows, key, flow_params);

	if (!flow || !gecko_flow_rule(READ_ONCE(flow->state))->block_out)
		return false;
	gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_OUT_DROPPED);
	return true;
}

bool gecko_flow_decap_ok(struct gecko_net *gn, const struct gecko_flow_key *key,
			 const struct in6_addr *outer_src)
{
	struct gecko_flow *flow = rhashtable_lookup(&gn->flows, key, flow_params);

	return flow && flow->has_donor && ipv6_addr_equal(&flow->donor, outer_src) &&
	       gecko_flow_rule(READ_ONCE(flow->state))->decap;
}

void gecko_flows_schedule(struct gecko_net *gn)
{
	unsigned long next = jiffies + CHECK_INTERVAL;
	struct gecko_flow *flow;

	lockdep_assert_held(&gn->lock);
	if (list_empty(&gn->flows_list))
		return;
	list_for_each_entry(flow, &gn->flows_list, list)
		if (time_before(flow->expires, next))
			next = flow->expires;
	mod_delayed_work(system_wq, &gn->flow_gc,
			 time_after(next, jiffies) ? next - jiffies : 0);
}

/*
 * Ends @flow as its state says (the socket's part is sockstate.c's): at
 * its deadline, or because its service, namespace or module goes. Returns
 * whether it had a socket to act on. The flow may stay, MOVED or ARRIVED.
 */
static bool end_flow(struct gecko_net *gn, struct gecko_flow *flow)
{
	switch (gecko_flow_rule(flow->state)->expiry) {
	case GECKO_FLOW_THAW:
	case GECKO_FLOW_DROP:
		gecko_sock_expire(gn, flow);
		return true;
	default:
		gecko_flow_remove(gn, flow);
		return false;
	}
}

static void collect_work(struct work_struct *work)
{
	struct gecko_net *gn = container_of(to_delayed_work(work), struct gecko_net, flow_gc);
	struct gecko_flow *flow, *tmp;

	mutex_lock(&gn->lock);
	list_for_each_entry_safe(flow, tmp, &gn->flows_list, list) {
		if (time_after_eq(jiffies, flow->expires)) {
			/* A client that stopped reading may resume any time. */
			if (still_lowering(flow))
				flow->expires = jiffies + msecs_to_jiffies(GECKO_SOCK_MOVED_TIMEOUT);
			else if (end_flow(gn, flow))
				gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_EXPIRED);
		} else if (flow->sk && READ_ONCE(flow->sk->sk_state) == TCP_CLOSE) {
			if (flow->state == GECKO_FLOW_ARRIVED)
				/* A recovered connection ended: nothing left to lower. */
				gecko_flow_remove(gn, flow);
			else
				/* Its owner closed it, silently since it was in repair mode. */
				gecko_flow_moved(gn, flow, NULL, NULL);
		}
	}
	gecko_flows_schedule(gn);
	mutex_unlock(&gn->lock);
}

int gecko_flows_init(struct gecko_net *gn)
{
	INIT_LIST_HEAD(&gn->flows_list);
	INIT_DELAYED_WORK(&gn->flow_gc, collect_work);
	return rhashtable_init(&gn->flows, &flow_params);
}

void gecko_flows_expire_home(struct gecko_net *gn, const struct in6_addr *home)
{
	struct gecko_flow *flow;

	lockdep_assert_held(&gn->lock);
restart:
	list_for_each_entry(flow, &gn->flows_list, list) {
		if (!ipv6_addr_equal(&flow->key.local, home))
			continue;
		/* Ended, it may stay MOVED or ARRIVED: the next pass forgets it. */
		end_flow(gn, flow);
		goto restart;
	}
}

void gecko_flows_uninit(struct gecko_net *gn)
{
	struct gecko_flow *flow;

	mutex_lock(&gn->lock);
	/* Ended, a flow may stay MOVED or ARRIVED: the next pass forgets it. */
	while ((flow = list_first_entry_or_null(&gn->flows_list, struct gecko_flow, list)))
		end_flow(gn, flow);
	mutex_unlock(&gn->lock);
	cancel_delayed_work_sync(&gn->flow_gc);
	rhashtable_destroy(&gn->flows);
}
