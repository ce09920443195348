// SPDX-License-Identifier: GPL-2.0-only
/*
 * The flow table: an rhashtable per namespace, keyed by a connection's
 * addresses and ports, looked up lock-free by the hooks, changed under
 * gecko_net.lock. A collection acts on flows whose time is up (the socket
 * side of that is sockstate.c's) and on flows whose socket its owner
 * closed meanwhile.
 */

#include "flow.h"
#include "exthdr.h"
#include "netns.h"
#include "sockstate.h"

#include <linux/mm.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <net/inet_sock.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/sock.h>
#include <uapi/linux/gecko.h>

/* How often flows with a socket are checked for one closed under them. */
#define CHECK_INTERVAL HZ

static const struct rhashtable_params flow_params = {
	.key_len = sizeof(struct gecko_flow_key),
	.key_offset = offsetof(struct gecko_flow, key),
	.head_offset = offsetof(struct gecko_flow, node),
	.automatic_shrinking = true,
};

static bool holding(u8 state)
{
	return state == GECKO_FLOW_FROZEN || state == GECKO_FLOW_RESTORING ||
	       state == GECKO_FLOW_RESTORED;
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

void gecko_flow_release(struct gecko_flow *flow, struct sk_buff_head *list)
{
	__skb_queue_head_init(list);
	spin_lock_bh(&flow->held.lock);
	WRITE_ONCE(flow->state, GECKO_FLOW_UNSPEC);
	skb_queue_splice_init(&flow->held, list);
	spin_unlock_bh(&flow->held.lock);
}

static void purge_held(struct gecko_net *gn, struct gecko_flow *flow)
{
	struct sk_buff_head list;

	gecko_flow_release(flow, &list);
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
	/* The client's checksums inside stand; the outer header has none. */
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

void gecko_flow_moved(struct gecko_net *gn, struct gecko_flow *flow,
		      const struct in6_addr *src, const struct in6_addr *dst)
{
	struct sk_buff_head held;
	struct sk_buff *skb;

	lockdep_assert_held(&gn->lock);
	if (src && dst) {
		flow->fwd_src = *src;
		flow->fwd_dst = *dst;
		flow->forward = true;
	}
	/* In one step: a packet in between would meet no socket, and a reset. */
	__skb_queue_head_init(&held);
	spin_lock_bh(&flow->held.lock);
	skb_queue_splice_init(&flow->held, &held);
	WRITE_ONCE(flow->state, GECKO_FLOW_MOVED);
	spin_unlock_bh(&flow->held.lock);
	while ((skb = __skb_dequeue(&held))) {
		if (flow->forward) {
			local_bh_disable();
			forward(gn, flow, skb);
			local_bh_enable();
		} else {
			kfree_skb(skb);
			gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_HELD_DROPPED);
		}
	}
	if (flow->sk) {
		sock_put(flow->sk);
		flow->sk = NULL;
	}
	kvfree(flow->unsent);
	flow->unsent = NULL;
	flow->expires = jiffies + msecs_to_jiffies(GECKO_SOCK_MOVED_TIMEOUT);
	gecko_flows_schedule(gn);
}

struct gecko_flow *gecko_flow_add(struct gecko_net *gn, const struct gecko_flow_key *key,
				  struct sock *sk, u8 state, u32 timeout_ms)
{
	struct gecko_flow *flow, *old;
	int ret;

	lockdep_assert_held(&gn->lock);
	old = gecko_flow_find(gn, key);
	if (old) {
		if (old->state != GECKO_FLOW_MOVED)
			return ERR_PTR(-EEXIST);
		gecko_flow_remove(gn, old);
	}

	flow = kzalloc(sizeof(*flow), GFP_KERNEL_ACCOUNT);
	if (!flow)
		return ERR_PTR(-ENOMEM);
	flow->key = *key;
	flow->state = state;
	skb_queue_head_init(&flow->held);
	flow->expires = jiffies + msecs_to_jiffies(timeout_ms);
	ret = rhashtable_insert_fast(&gn->flows, &flow->node, flow_params);
	if (ret) {
		kfree(flow);
		return ERR_PTR(ret);
	}
	sock_hold(sk);
	flow->sk = sk;
	list_add_tail(&flow->list, &gn->flows_list);
	gecko_flows_schedule(gn);
	return flow;
}

void gecko_flow_reinject(struct gecko_net *gn, struct sk_buff_head *list)
{
	struct net_device *dev;
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(list))) {
		rcu_read_lock();
		/* Held without a reference: the device may have left meanwhile. */
		dev = dev_get_by_index_rcu(gn->net, skb->skb_iif);
		if (dev) {
			skb->dev = dev;
			if (netif_rx(skb) == NET_RX_SUCCESS)
				gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_REINJECTED);
			else
				gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_HELD_DROPPED);
		} else {
			kfree_skb(skb);
			gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_HELD_DROPPED);
		}
		rcu_read_unlock();
	}
}

unsigned int gecko_flow_in(struct gecko_net *gn, struct sk_buff *skb,
			   const struct gecko_flow_key *key)
{
	struct gecko_flow *flow;
	unsigned int verdict;
	bool fwd = false;

	flow = rhashtable_lookup(&gn->flows, key, flow_params);
	if (!flow)
		return NF_ACCEPT;
	spin_lock(&flow->held.lock);
	if (holding(flow->state)) {
		if (skb_queue_len(&flow->held) < GECKO_SOCK_HELD_MAX) {
			/* Delivered again from the start, on the device it came in on. */
			skb_dst_drop(skb);
			nf_reset_ct(skb);
			skb->skb_iif = skb->dev->ifindex;
			skb->dev = NULL;
			__skb_queue_tail(&flow->held, skb);
			verdict = NF_STOLEN;
		} else {
			gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_HELD_DROPPED);
			verdict = NF_DROP;
		}
		gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_HELD);
	} else if (flow->state == GECKO_FLOW_MOVED && flow->forward) {
		fwd = true;
		verdict = NF_STOLEN;
	} else if (flow->state == GECKO_FLOW_MOVED) {
		gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_MOVED_DROPPED);
		verdict = NF_DROP;
	} else {
		verdict = NF_ACCEPT;	/* thawed under our feet */
	}
	spin_unlock(&flow->held.lock);
	/* Where it goes was set before the flow was MOVED, and stays. */
	if (fwd)
		forward(gn, flow, skb);
	return verdict;
}

bool gecko_flow_out_blocked(struct gecko_net *gn, const struct gecko_flow_key *key)
{
	struct gecko_flow *flow = rhashtable_lookup(&gn->flows, key, flow_params);

	if (!flow || READ_ONCE(flow->state) == GECKO_FLOW_UNSPEC)
		return false;
	gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_OUT_DROPPED);
	return true;
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

static void collect_work(struct work_struct *work)
{
	struct gecko_net *gn = container_of(to_delayed_work(work), struct gecko_net, flow_gc);
	struct gecko_flow *flow, *tmp;

	mutex_lock(&gn->lock);
	list_for_each_entry_safe(flow, tmp, &gn->flows_list, list) {
		if (time_after_eq(jiffies, flow->expires)) {
			if (flow->state == GECKO_FLOW_MOVED) {
				gecko_flow_remove(gn, flow);
			} else {
				gecko_sock_expire(gn, flow);
				gecko_counter_inc(gn->net, GECKO_COUNTER_FLOW_EXPIRED);
			}
		} else if (flow->sk && READ_ONCE(flow->sk->sk_state) == TCP_CLOSE) {
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
		if (flow->state == GECKO_FLOW_MOVED)
			gecko_flow_remove(gn, flow);
		else
			gecko_sock_expire(gn, flow);
		goto restart;	/* either may have removed it */
	}
}

void gecko_flows_uninit(struct gecko_net *gn)
{
	struct gecko_flow *flow;

	mutex_lock(&gn->lock);
	/* Expiring thaws a flow (it goes) or drops its socket (it stays, MOVED). */
	while ((flow = list_first_entry_or_null(&gn->flows_list, struct gecko_flow, list))) {
		if (flow->state == GECKO_FLOW_MOVED)
			gecko_flow_remove(gn, flow);
		else
			gecko_sock_expire(gn, flow);
	}
	mutex_unlock(&gn->lock);
	cancel_delayed_work_sync(&gn->flow_gc);
	rhashtable_destroy(&gn->flows);
}
