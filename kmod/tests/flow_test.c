// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: what the hooks do with a connection's packets in each flow state,
 * what a donor's tunnelled packets need to be taken, and the namespace's
 * limits on flows and held packets; on a real namespace, with a kernel
 * socket standing for the application's.
 */

#include "../flow.h"
#include "../limits.h"
#include "../netns.h"
#include "../service.h"

#include <kunit/test.h>
#include <linux/netfilter.h>
#include <linux/tcp.h>
#include <linux/user_namespace.h>
#include <net/ip6_checksum.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/tcp.h>

static const struct in6_addr home = { .s6_addr = { 0xfd, 0, 0, 0x0a, [14] = 1 } };
static const struct in6_addr coa = { .s6_addr = { 0xfd, 0, 0, 0x12, [15] = 2 } };
static const struct in6_addr donor = { .s6_addr = { 0xfd, 0, 0, 0x11, [15] = 2 } };
static const struct in6_addr stranger = { .s6_addr = { 0xfd, 0, 0, 0x13, [15] = 2 } };

struct fixture {
	struct net *net;
	struct gecko_net *gn;
	struct socket *sock;	/* stands for the socket a flow holds */
};

static struct gecko_flow_key key_of(u16 client_port)
{
	struct gecko_flow_key key = {
		.local = home,
		.remote = { .s6_addr = { 0xfd, 0, 0, 0x0c, [15] = 2 } },
		.local_port = htons(80),
		.remote_port = htons(client_port),
	};

	return key;
}

static int flow_init(struct kunit *test)
{
	struct fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	struct gecko_service svc = { .home = home, .coa = coa, .contact_coa = coa };

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->net = copy_net_ns(CLONE_NEWNET, &init_user_ns, &init_net);
	KUNIT_ASSERT_FALSE(test, IS_ERR(f->net));
	f->gn = gecko_net(f->net);
	KUNIT_ASSERT_EQ(test, sock_create_kern(f->net, AF_INET6, SOCK_STREAM, IPPROTO_TCP,
					       &f->sock), 0);
	mutex_lock(&f->gn->lock);
	KUNIT_ASSERT_EQ(test, gecko_service_set(f->gn, &svc, NULL), 0);
	mutex_unlock(&f->gn->lock);
	test->priv = f;
	return 0;
}

static void flow_exit(struct kunit *test)
{
	struct fixture *f = test->priv;

	/* The namespace's exit ends every flow, as at module unload. */
	sock_release(f->sock);
	put_net(f->net);
}

static struct gecko_flow *add(struct fixture *f, u16 port, u8 state,
			      const struct in6_addr *from, struct netlink_ext_ack *extack)
{
	struct gecko_flow_key key = key_of(port);
	struct gecko_flow *flow;

	mutex_lock(&f->gn->lock);
	flow = gecko_flow_add(f->gn, &key, f->sock->sk, state, 10000, from, extack);
	mutex_unlock(&f->gn->lock);
	return flow;
}

/* @flow in @state, as the commands would leave it. */
static void set_state(struct fixture *f, struct gecko_flow *flow, u8 state)
{
	mutex_lock(&f->gn->lock);
	if (state == GECKO_FLOW_MOVED)
		gecko_flow_moved(f->gn, flow, NULL, NULL);
	else
		gecko_flow_set_state(flow, state);
	mutex_unlock(&f->gn->lock);
}

static void remove(struct fixture *f, struct gecko_flow *flow)
{
	mutex_lock(&f->gn->lock);
	gecko_flow_remove(f->gn, flow);
	mutex_unlock(&f->gn->lock);
}

/* A TCP segment of @key from the client, as PRE_ROUTING sees it. */
static struct sk_buff *segment(struct kunit *test, struct fixture *f,
			       const struct gecko_flow_key *key)
{
	struct sk_buff *skb = alloc_skb(256, GFP_KERNEL);
	struct ipv6hdr *ip6;
	struct tcphdr *th;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_reserve(skb, 64);
	skb_reset_network_header(skb);
	ip6 = skb_put_zero(skb, sizeof(*ip6));
	ip6->version = 6;
	ip6->nexthdr = IPPROTO_TCP;
	ip6->hop_limit = 64;
	ip6->saddr = key->remote;
	ip6->daddr = key->local;
	skb_set_transport_header(skb, skb->len);
	th = skb_put_zero(skb, sizeof(*th));
	th->source = key->remote_port;
	th->dest = key->local_port;
	th->doff = sizeof(*th) / 4;
	th->ack = 1;
	ip6->payload_len = htons(sizeof(*th));
	skb->protocol = htons(ETH_P_IPV6);
	skb->dev = f->net->loopback_dev;
	return skb;
}

/* The hook's verdict on @skb, in the softirq-like context it runs in; @skb is the caller's still. */
static unsigned int hook_in(struct fixture *f, struct sk_buff *skb, const struct gecko_flow_key *key)
{
	unsigned int verdict;

	local_bh_disable();
	rcu_read_lock();
	verdict = gecko_flow_in(f->gn, skb, sizeof(struct ipv6hdr), key);
	rcu_read_unlock();
	local_bh_enable();
	return verdict;
}

/* The hook's verdict on @skb, which is gone after it. */
static unsigned int flow_in(struct fixture *f, struct sk_buff *skb,
			    const struct gecko_flow_key *key)
{
	unsigned int verdict = hook_in(f, skb, key);

	if (verdict != NF_STOLEN)
		kfree_skb(skb);
	return verdict;
}

/* The client's side of @key's connection, to build what it sends. */
static struct gecko_flow_key client_side(const struct gecko_flow_key *key)
{
	struct gecko_flow_key back = {
		.local = key->remote, .remote = key->local,
		.local_port = key->remote_port, .remote_port = key->local_port,
	};

	return back;
}

static bool out_blocked(struct fixture *f, const struct gecko_flow_key *key)
{
	bool blocked;

	rcu_read_lock();
	blocked = gecko_flow_out_blocked(f->gn, key);
	rcu_read_unlock();
	return blocked;
}

static u64 counter(struct fixture *f, enum gecko_counter which)
{
	u64 ctr[__GECKO_COUNTER_LAST];

	gecko_counters_read(f->net, ctr);
	return ctr[which];
}

struct state_case {
	const char *name;
	u8 state;
	unsigned int verdict;	/* on a segment coming in */
	bool out_blocked;	/* what its socket sends */
	enum gecko_flow_expiry expiry;
};

static const struct state_case state_cases[] = {
	{ "frozen: held, silent, thawed at its deadline", GECKO_FLOW_FROZEN, NF_STOLEN, true,
	  GECKO_FLOW_THAW },
	{ "committed: held, silent, dropped at its deadline", GECKO_FLOW_COMMITTED, NF_STOLEN,
	  true, GECKO_FLOW_DROP },
	{ "restoring: held, silent, dropped", GECKO_FLOW_RESTORING, NF_STOLEN, true,
	  GECKO_FLOW_DROP },
	{ "restored: held, silent, dropped", GECKO_FLOW_RESTORED, NF_STOLEN, true,
	  GECKO_FLOW_DROP },
	{ "moved: its packets dropped, not reset", GECKO_FLOW_MOVED, NF_DROP, true,
	  GECKO_FLOW_FORGET },
	{ "arrived: holds and blocks nothing", GECKO_FLOW_ARRIVED, NF_ACCEPT, false,
	  GECKO_FLOW_FORGET },
	{ "draining: new ones queue, the socket sends", GECKO_FLOW_DRAINING, NF_STOLEN, false,
	  GECKO_FLOW_KEEP },
	{ "probing: an answer, noted and dropped", GECKO_FLOW_PROBING, NF_DROP, false,
	  GECKO_FLOW_FORGET },
};

static void state_case_desc(const struct state_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(state, state_cases, state_case_desc);

static void packets_by_state(struct kunit *test)
{
	const struct state_case *c = test->param_value;
	struct fixture *f = test->priv;
	struct gecko_flow_key key = key_of(40000);
	u64 dropped = counter(f, GECKO_COUNTER_FLOW_HELD_DROPPED);
	struct gecko_flow *flow;

	/* Arrange */
	flow = add(f, 40000, GECKO_FLOW_FROZEN, NULL, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(flow));
	set_state(f, flow, c->state);

	/* Act, Assert */
	KUNIT_EXPECT_EQ(test, flow_in(f, segment(test, f, &key), &key), c->verdict);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&flow->held), c->verdict == NF_STOLEN ? 1U : 0U);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->gn->held), c->verdict == NF_STOLEN ? 1 : 0);
	KUNIT_EXPECT_EQ(test, out_blocked(f, &key), c->out_blocked);
	KUNIT_EXPECT_EQ(test, gecko_flow_rule(c->state)->expiry, c->expiry);

	/* Forgotten, what it held is dropped and counted, and no longer held. */
	remove(f, flow);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->gn->held), 0);
	KUNIT_EXPECT_EQ(test, counter(f, GECKO_COUNTER_FLOW_HELD_DROPPED),
			dropped + (c->verdict == NF_STOLEN));
}

/* The packets this CPU delivers for a draining flow are not held again. */
static void delivered_packets_pass_their_flow(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct gecko_flow_key key = key_of(40000), other = key_of(40001);
	struct gecko_flow *flow, *next;

	/* Arrange: two flows being thawed, one segment held for the first. */
	flow = add(f, 40000, GECKO_FLOW_FROZEN, NULL, NULL);
	next = add(f, 40001, GECKO_FLOW_FROZEN, NULL, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(flow));
	KUNIT_ASSERT_FALSE(test, IS_ERR(next));
	set_state(f, next, GECKO_FLOW_DRAINING);
	KUNIT_ASSERT_EQ(test, flow_in(f, segment(test, f, &key), &key), NF_STOLEN);
	set_state(f, flow, GECKO_FLOW_DRAINING);

	/* Act: the thaw delivers it; the stack has no socket for it here. */
	mutex_lock(&f->gn->lock);
	gecko_flow_resume(f->gn, flow);
	mutex_unlock(&f->gn->lock);

	/* Assert: it went through (not back in a queue), and the flow is gone. */
	KUNIT_EXPECT_EQ(test, atomic_read(&f->gn->held), 0);
	mutex_lock(&f->gn->lock);
	KUNIT_EXPECT_NULL(test, gecko_flow_find(f->gn, &key));
	mutex_unlock(&f->gn->lock);
	/* The other draining flow still holds what arrives. */
	KUNIT_EXPECT_EQ(test, flow_in(f, segment(test, f, &other), &other), NF_STOLEN);
	remove(f, next);
}

struct decap_case {
	const char *name;
	u8 state;
	bool with_donor;		/* restored naming the donor */
	const struct in6_addr *from;	/* the tunnel's source */
	bool taken;
};

static const struct decap_case decap_cases[] = {
	{ "restoring, from its donor", GECKO_FLOW_RESTORING, true, &donor, true },
	{ "restored, from its donor", GECKO_FLOW_RESTORED, true, &donor, true },
	{ "being thawed, from its donor", GECKO_FLOW_DRAINING, true, &donor, true },
	{ "arrived, from its donor", GECKO_FLOW_ARRIVED, true, &donor, true },
	{ "restored, from another node", GECKO_FLOW_RESTORED, true, &stranger, false },
	{ "restored without a donor", GECKO_FLOW_RESTORED, false, &donor, false },
	{ "frozen here", GECKO_FLOW_FROZEN, true, &donor, false },
	{ "committed here", GECKO_FLOW_COMMITTED, true, &donor, false },
	{ "moved from here", GECKO_FLOW_MOVED, true, &donor, false },
	{ "no flow at all", GECKO_FLOW_UNSPEC, false, &donor, false },
};

static void decap_case_desc(const struct decap_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(decap, decap_cases, decap_case_desc);

static void donor_packets_taken(struct kunit *test)
{
	const struct decap_case *c = test->param_value;
	struct fixture *f = test->priv;
	struct gecko_flow_key key = key_of(40000), other = key_of(40001);
	struct gecko_flow *flow = NULL;
	bool taken, other_taken;

	if (c->state != GECKO_FLOW_UNSPEC) {
		flow = add(f, 40000, GECKO_FLOW_RESTORING, c->with_donor ? &donor : NULL, NULL);
		KUNIT_ASSERT_FALSE(test, IS_ERR(flow));
		set_state(f, flow, c->state);
	}

	rcu_read_lock();
	taken = gecko_flow_decap_ok(f->gn, &key, c->from);
	/* Never another connection of the same client, from the same donor. */
	other_taken = gecko_flow_decap_ok(f->gn, &other, c->from);
	rcu_read_unlock();

	KUNIT_EXPECT_EQ(test, taken, c->taken);
	KUNIT_EXPECT_FALSE(test, other_taken);
	if (flow)
		remove(f, flow);
}

static void held_packets_stop_at_the_namespace_limit(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct gecko_flow_key a = key_of(40000), b = key_of(40001);
	u64 limited = counter(f, GECKO_COUNTER_FLOW_HELD_LIMITED);
	struct gecko_flow *fa, *fb;

	/* Arrange: two frozen flows, room for 2 held packets in all. */
	WRITE_ONCE(f->gn->limits.max[GECKO_LIMITS_A_HELD], 2);
	fa = add(f, 40000, GECKO_FLOW_FROZEN, NULL, NULL);
	fb = add(f, 40001, GECKO_FLOW_FROZEN, NULL, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fa));
	KUNIT_ASSERT_FALSE(test, IS_ERR(fb));

	/* Act, Assert: the third is a counted drop, whichever flow it is for. */
	KUNIT_EXPECT_EQ(test, flow_in(f, segment(test, f, &a), &a), NF_STOLEN);
	KUNIT_EXPECT_EQ(test, flow_in(f, segment(test, f, &b), &b), NF_STOLEN);
	KUNIT_EXPECT_EQ(test, flow_in(f, segment(test, f, &a), &a), NF_DROP);
	KUNIT_EXPECT_EQ(test, counter(f, GECKO_COUNTER_FLOW_HELD_LIMITED), limited + 1);
	KUNIT_EXPECT_EQ(test, gecko_limit_used(f->gn, GECKO_LIMITS_A_HELD), 2U);

	/* Lowered below what is held: those stay, new ones are dropped. */
	WRITE_ONCE(f->gn->limits.max[GECKO_LIMITS_A_HELD], 1);
	KUNIT_EXPECT_EQ(test, flow_in(f, segment(test, f, &b), &b), NF_DROP);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&fa->held) + skb_queue_len(&fb->held), 2U);

	/* One flow goes: its packet no longer counts. */
	remove(f, fa);
	KUNIT_EXPECT_EQ(test, gecko_limit_used(f->gn, GECKO_LIMITS_A_HELD), 1U);
	remove(f, fb);
	KUNIT_EXPECT_EQ(test, gecko_limit_used(f->gn, GECKO_LIMITS_A_HELD), 0U);
}

/* One flow holds GECKO_SOCK_HELD_MAX packets at most, whatever room the namespace has. */
static void held_packets_stop_at_the_flow_limit(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct gecko_flow_key key = key_of(40000);
	u64 dropped = counter(f, GECKO_COUNTER_FLOW_HELD_DROPPED);
	u64 limited = counter(f, GECKO_COUNTER_FLOW_HELD_LIMITED);
	struct gecko_flow *flow;
	unsigned int i, held = 0;

	/* Arrange */
	flow = add(f, 40000, GECKO_FLOW_FROZEN, NULL, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(flow));

	/* Act: one more than that */
	for (i = 0; i <= GECKO_SOCK_HELD_MAX; i++)
		held += flow_in(f, segment(test, f, &key), &key) == NF_STOLEN;

	/* Assert: the last is a counted drop, not one of the namespace's limit. */
	KUNIT_EXPECT_EQ(test, held, GECKO_SOCK_HELD_MAX);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&flow->held), GECKO_SOCK_HELD_MAX);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->gn->held), GECKO_SOCK_HELD_MAX);
	KUNIT_EXPECT_EQ(test, counter(f, GECKO_COUNTER_FLOW_HELD_DROPPED), dropped + 1);
	KUNIT_EXPECT_EQ(test, counter(f, GECKO_COUNTER_FLOW_HELD_LIMITED), limited);
	remove(f, flow);
}

/* Moved with packets held and nowhere to send them: each is a counted drop, held no more. */
static void moving_drops_what_was_held(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct gecko_flow_key key = key_of(40000);
	u64 dropped = counter(f, GECKO_COUNTER_FLOW_HELD_DROPPED);
	struct gecko_flow *flow;
	int i;

	/* Arrange: three segments held by a frozen flow */
	flow = add(f, 40000, GECKO_FLOW_FROZEN, NULL, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(flow));
	for (i = 0; i < 3; i++)
		KUNIT_ASSERT_EQ(test, flow_in(f, segment(test, f, &key), &key), NF_STOLEN);

	/* Act */
	set_state(f, flow, GECKO_FLOW_MOVED);

	/* Assert: and the socket is let go */
	KUNIT_EXPECT_EQ(test, flow->state, (u8)GECKO_FLOW_MOVED);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&flow->held), 0U);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->gn->held), 0);
	KUNIT_EXPECT_EQ(test, counter(f, GECKO_COUNTER_FLOW_HELD_DROPPED), dropped + 3);
	KUNIT_EXPECT_NULL(test, flow->sk);
	remove(f, flow);
}

static void flows_stop_at_the_namespace_limit(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct netlink_ext_ack extack = {};
	struct gecko_flow *a, *b, *again;

	/* Arrange */
	WRITE_ONCE(f->gn->limits.max[GECKO_LIMITS_A_FLOWS], 1);
	a = add(f, 40000, GECKO_FLOW_FROZEN, NULL, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));

	/* Act, Assert: a second is refused, saying which limit and how to raise it. */
	b = add(f, 40001, GECKO_FLOW_FROZEN, NULL, &extack);
	KUNIT_EXPECT_EQ(test, PTR_ERR(b), -ENOSPC);
	KUNIT_ASSERT_NOT_NULL(test, extack._msg);
	KUNIT_EXPECT_NOT_NULL(test, strstr(extack._msg, "gecko-ctl limits set flows"));

	/* Replacing the first once it moved adds none: allowed at the limit. */
	set_state(f, a, GECKO_FLOW_MOVED);
	again = add(f, 40000, GECKO_FLOW_RESTORING, &donor, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(again));
	KUNIT_EXPECT_EQ(test, again->state, (u8)GECKO_FLOW_RESTORING);
	KUNIT_EXPECT_EQ(test, gecko_limit_used(f->gn, GECKO_LIMITS_A_FLOWS), 1U);
	remove(f, again);
}

struct replace_case {
	const char *name;
	u8 state;
	int err;	/* of a new freeze or restore of the same connection */
};

static const struct replace_case replace_cases[] = {
	{ "frozen is not replaced", GECKO_FLOW_FROZEN, -EEXIST },
	{ "committed is not replaced", GECKO_FLOW_COMMITTED, -EEXIST },
	{ "restored is not replaced", GECKO_FLOW_RESTORED, -EEXIST },
	{ "moved is replaced", GECKO_FLOW_MOVED, 0 },
	{ "arrived is replaced", GECKO_FLOW_ARRIVED, 0 },
	{ "probing is replaced", GECKO_FLOW_PROBING, 0 },
};

static void replace_case_desc(const struct replace_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(replace, replace_cases, replace_case_desc);

static void freeze_replaces_what_is_over(struct kunit *test)
{
	const struct replace_case *c = test->param_value;
	struct fixture *f = test->priv;
	struct gecko_flow *old, *flow;

	old = add(f, 40000, GECKO_FLOW_RESTORING, &donor, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(old));
	set_state(f, old, c->state);

	flow = add(f, 40000, GECKO_FLOW_FROZEN, NULL, NULL);

	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(flow), c->err);
	remove(f, IS_ERR(flow) ? old : flow);
	KUNIT_EXPECT_EQ(test, gecko_limit_used(f->gn, GECKO_LIMITS_A_FLOWS), 0U);
}

/* A probed connection: what its peer sends is noted, the last answer counting, and dropped. */
static void probe_answers_are_noted(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct gecko_flow_key key = key_of(40000), back = client_side(&key);
	struct gecko_probe_seg first = { .seq = 1000, .ack = 2000, .window = 501, .has_ts = true,
					 .tsval = 77, .tsecr = 66 };
	struct gecko_probe_seg second = { .seq = 1500, .ack = 2100, .window = 0 };
	u64 answers = counter(f, GECKO_COUNTER_PROBE_ANSWERS);
	struct sk_buff *skb, *data;
	struct gecko_flow *flow;

	/* Arrange: no socket here, as for a connection whose node died. */
	mutex_lock(&f->gn->lock);
	flow = gecko_flow_add(f->gn, &key, NULL, GECKO_FLOW_PROBING, 10000, NULL, NULL);
	mutex_unlock(&f->gn->lock);
	KUNIT_ASSERT_FALSE(test, IS_ERR(flow));
	KUNIT_EXPECT_NULL(test, flow->sk);
	KUNIT_EXPECT_FALSE(test, flow->answered);

	/* Act, Assert */
	skb = gecko_probe_build(&back, &first);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb->dev = f->net->loopback_dev;
	KUNIT_EXPECT_EQ(test, flow_in(f, skb, &key), NF_DROP);
	KUNIT_EXPECT_TRUE(test, flow->answered);
	KUNIT_EXPECT_EQ(test, flow->answer.seq, 1000U);
	KUNIT_EXPECT_EQ(test, flow->answer.ack, 2000U);
	KUNIT_EXPECT_EQ(test, flow->answer.window, 501);
	KUNIT_EXPECT_TRUE(test, flow->answer.has_ts);
	KUNIT_EXPECT_EQ(test, flow->answer.tsval, 77U);
	KUNIT_EXPECT_EQ(test, flow->answer.tsecr, 66U);
	KUNIT_EXPECT_EQ(test, flow->answer.flags, (u8)TCPHDR_ACK);

	skb = gecko_probe_build(&back, &second);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb->dev = f->net->loopback_dev;
	KUNIT_EXPECT_EQ(test, flow_in(f, skb, &key), NF_DROP);
	KUNIT_EXPECT_EQ(test, flow->answer.seq, 1500U);
	KUNIT_EXPECT_EQ(test, flow->answer.ack, 2100U);
	KUNIT_EXPECT_FALSE(test, flow->answer.has_ts);
	KUNIT_EXPECT_EQ(test, counter(f, GECKO_COUNTER_PROBE_ANSWERS), answers + 2);
	KUNIT_EXPECT_EQ(test, skb_queue_len(&flow->held), 0U);

	/* The peer's retransmission of its data is dropped, but answers nothing. */
	skb = gecko_probe_build(&back, &first);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	data = skb_copy_expand(skb, 0, 100, GFP_KERNEL);
	kfree_skb(skb);
	KUNIT_ASSERT_NOT_NULL(test, data);
	skb = data;
	skb_put_zero(skb, 100);
	ipv6_hdr(skb)->payload_len = htons(ntohs(ipv6_hdr(skb)->payload_len) + 100);
	skb->dev = f->net->loopback_dev;
	KUNIT_EXPECT_EQ(test, flow_in(f, skb, &key), NF_DROP);
	KUNIT_EXPECT_EQ(test, flow->answer.seq, 1500U);
	KUNIT_EXPECT_EQ(test, counter(f, GECKO_COUNTER_PROBE_ANSWERS), answers + 2);

	/* A restore of the connection takes its place. */
	flow = add(f, 40000, GECKO_FLOW_RESTORING, &donor, NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(flow));
	KUNIT_EXPECT_EQ(test, gecko_limit_used(f->gn, GECKO_LIMITS_A_FLOWS), 1U);
	remove(f, flow);
}

/* @seg from the client of @key through the hook, which must let it by; the caller frees it. */
static struct sk_buff *ack_in(struct kunit *test, struct fixture *f, const struct gecko_flow_key *key,
			      const struct gecko_probe_seg *seg)
{
	struct gecko_flow_key back = client_side(key);
	struct sk_buff *skb = gecko_probe_build(&back, seg);

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb->dev = f->net->loopback_dev;
	KUNIT_EXPECT_EQ(test, hook_in(f, skb, key), NF_ACCEPT);
	return skb;
}

static u32 ack_of(const struct sk_buff *skb)
{
	return ntohl(((struct tcphdr *)(skb_network_header(skb) + sizeof(struct ipv6hdr)))->ack_seq);
}

static bool checksum_ok(struct sk_buff *skb)
{
	const struct ipv6hdr *ip6 = ipv6_hdr(skb);
	unsigned int len = ntohs(ip6->payload_len);

	return !csum_ipv6_magic(&ip6->saddr, &ip6->daddr, len, IPPROTO_TCP,
				skb_checksum(skb, sizeof(*ip6), len, 0));
}

/* Restored at @port (@recovered or from @from) and thawed, its socket having sent up to 5000. */
static struct gecko_flow *arrived(struct kunit *test, struct fixture *f, u16 port, bool recovered,
				  const struct in6_addr *from)
{
	struct gecko_flow *flow = add(f, port, GECKO_FLOW_RESTORING, from, NULL);

	KUNIT_ASSERT_FALSE(test, IS_ERR(flow));
	flow->recovered = recovered;
	tcp_sk(f->sock->sk)->snd_nxt = 5000;
	mutex_lock(&f->gn->lock);
	gecko_flow_set_state(flow, GECKO_FLOW_DRAINING);
	gecko_flow_resume(f->gn, flow);
	mutex_unlock(&f->gn->lock);
	KUNIT_ASSERT_EQ(test, flow->state, GECKO_FLOW_ARRIVED);
	return flow;
}

/* @key's flow once the collection ran with its deadline passed: NULL if it went. */
static struct gecko_flow *collect_now(struct fixture *f, const struct gecko_flow_key *key)
{
	struct gecko_flow *flow;

	mutex_lock(&f->gn->lock);
	flow = gecko_flow_find(f->gn, key);
	if (flow)
		flow->expires = jiffies;
	mutex_unlock(&f->gn->lock);
	mod_delayed_work(system_wq, &f->gn->flow_gc, 0);
	flush_delayed_work(&f->gn->flow_gc);
	mutex_lock(&f->gn->lock);
	flow = gecko_flow_find(f->gn, key);
	mutex_unlock(&f->gn->lock);
	return flow;
}

/*
 * A recovered connection: its client acknowledges octets the dead node
 * sent past a loss before this socket sent them again; lowered to what it
 * sent, with the checksum still right, and its flow outlives its deadline
 * until the socket sent them again. A connection handed off keeps what its
 * client says: its socket sent all its donor had.
 */
static void recovered_acks_are_lowered(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct gecko_flow_key key = key_of(40000), handed = key_of(40001);
	struct gecko_probe_seg past = { .seq = 1000, .ack = 9000, .window = 501 };
	struct gecko_probe_seg within = { .seq = 1000, .ack = 4000, .window = 501 };
	u64 lowered = counter(f, GECKO_COUNTER_ACKS_LOWERED);
	struct gecko_flow *flow, *other;
	struct sk_buff *skb;

	/* Arrange */
	flow = arrived(test, f, 40000, true, NULL);
	KUNIT_EXPECT_PTR_EQ(test, flow->sk, f->sock->sk);
	other = arrived(test, f, 40001, false, &donor);
	KUNIT_EXPECT_NULL(test, other->sk);

	/* Act, Assert */
	skb = ack_in(test, f, &key, &past);
	KUNIT_EXPECT_EQ(test, ack_of(skb), 5000U);
	KUNIT_EXPECT_TRUE(test, checksum_ok(skb));
	kfree_skb(skb);
	KUNIT_EXPECT_EQ(test, counter(f, GECKO_COUNTER_ACKS_LOWERED), lowered + 1);

	skb = ack_in(test, f, &key, &within);
	KUNIT_EXPECT_EQ(test, ack_of(skb), 4000U);
	kfree_skb(skb);
	skb = ack_in(test, f, &handed, &past);
	KUNIT_EXPECT_EQ(test, ack_of(skb), 9000U);
	kfree_skb(skb);
	KUNIT_EXPECT_EQ(test, counter(f, GECKO_COUNTER_ACKS_LOWERED), lowered + 1);

	/* At its deadline, it stays while the socket has not sent all the client acknowledged. */
	KUNIT_EXPECT_PTR_EQ(test, collect_now(f, &key), flow);
	tcp_sk(f->sock->sk)->snd_nxt = 9000;
	KUNIT_EXPECT_NULL(test, collect_now(f, &key));
	remove(f, other);
}

static struct kunit_case flow_cases[] = {
	KUNIT_CASE_PARAM(packets_by_state, state_gen_params),
	KUNIT_CASE(delivered_packets_pass_their_flow),
	KUNIT_CASE_PARAM(donor_packets_taken, decap_gen_params),
	KUNIT_CASE(held_packets_stop_at_the_namespace_limit),
	KUNIT_CASE(held_packets_stop_at_the_flow_limit),
	KUNIT_CASE(moving_drops_what_was_held),
	KUNIT_CASE(flows_stop_at_the_namespace_limit),
	KUNIT_CASE_PARAM(freeze_replaces_what_is_over, replace_gen_params),
	KUNIT_CASE(probe_answers_are_noted),
	KUNIT_CASE(recovered_acks_are_lowered),
	{}
};

static struct kunit_suite flow_suite = {
	.name = "gecko_flow",
	.init = flow_init,
	.exit = flow_exit,
	.test_cases = flow_cases,
};

kunit_test_suite(flow_suite);
