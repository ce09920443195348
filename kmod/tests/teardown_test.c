// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit, under KASAN: the per-namespace state torn down as module unload
 * does it (gecko_netns_uninit(), after the netlink family is gone) while
 * packets keep going through the hooks of a namespace with a service,
 * thousands of bindings and flows. A table freed while a hook may still
 * read it is a use-after-free KASAN reports, failing the test.
 */

#include "../binding.h"
#include "../flow.h"
#include "../netns.h"
#include "../service.h"

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/netfilter.h>
#include <linux/tcp.h>
#include <linux/user_namespace.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#define BINDINGS 20000
#define FLOWS 64
#define RH2_LEN 24

static const struct in6_addr home = { .s6_addr = { 0xfd, 0, 0, 0x0a, [14] = 1 } };
static const struct in6_addr coa = { .s6_addr = { 0xfd, 0, 0, 0x12, [15] = 2 } };

static struct in6_addr client(u32 n)
{
	struct in6_addr a = { .s6_addr = { 0xfd, 0, 0, 0x0c } };

	a.s6_addr32[3] = htonl(n);
	return a;
}

/*
 * A TCP segment from client @n to G port 80 from @port, as it reaches
 * PRE_ROUTING: with a type 2 routing header to the care-of address, or
 * straight to G.
 */
static struct sk_buff *segment(struct kunit *test, struct net *net, u32 n, u16 port, bool rh2)
{
	struct sk_buff *skb = alloc_skb(256, GFP_KERNEL);
	struct ipv6hdr *ip6;
	struct tcphdr *th;
	u8 *rh;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_reserve(skb, 64);
	skb_reset_network_header(skb);
	ip6 = skb_put_zero(skb, sizeof(*ip6));
	ip6->version = 6;
	ip6->hop_limit = 64;
	ip6->nexthdr = rh2 ? NEXTHDR_ROUTING : IPPROTO_TCP;
	ip6->saddr = client(n);
	ip6->daddr = rh2 ? coa : home;
	if (rh2) {
		rh = skb_put_zero(skb, RH2_LEN);
		rh[0] = IPPROTO_TCP;
		rh[1] = 2;
		rh[2] = IPV6_SRCRT_TYPE_2;
		rh[3] = 1;
		memcpy(rh + 8, &home, sizeof(home));
	}
	skb_set_transport_header(skb, skb->len);
	th = skb_put_zero(skb, sizeof(*th));
	th->source = htons(port);
	th->dest = htons(80);
	th->doff = sizeof(*th) / 4;
	th->ack = 1;
	ip6->payload_len = htons(skb->len - sizeof(*ip6));
	skb->protocol = htons(ETH_P_IPV6);
	skb->dev = net->loopback_dev;
	return skb;
}

static int dropped(struct net *net, struct sock *sk, struct sk_buff *skb)
{
	kfree_skb(skb);
	return 0;
}

/* Through whatever PRE_ROUTING hooks @net has now, as the receive path would. */
static void inject(struct net *net, struct sk_buff *skb)
{
	int ret;

	local_bh_disable();
	ret = nf_hook(NFPROTO_IPV6, NF_INET_PRE_ROUTING, net, NULL, skb, skb->dev, NULL, dropped);
	local_bh_enable();
	if (ret == 1)
		kfree_skb(skb);
}

struct unload {
	struct completion done;
};

/* What module unload does once the family is gone, in a thread of its own. */
static int unload_thread(void *arg)
{
	struct unload *u = arg;

	gecko_netns_uninit();
	complete(&u->done);
	return 0;
}

static void unload_while_packets_flow(struct kunit *test)
{
	struct gecko_service svc = { .home = home, .coa = coa, .contact_coa = coa };
	struct task_struct *thread;
	struct gecko_flow *flow;
	struct gecko_net *gn;
	struct socket *sock;
	struct unload u;
	unsigned long sent = 0;
	struct net *net;
	u32 n;

	/* Arrange: a service (the hooks), bound clients, flows moved from here. */
	net = copy_net_ns(CLONE_NEWNET, &init_user_ns, &init_net);
	KUNIT_ASSERT_FALSE(test, IS_ERR(net));
	KUNIT_ASSERT_EQ(test, sock_create_kern(net, AF_INET6, SOCK_STREAM, IPPROTO_TCP, &sock), 0);
	gn = gecko_net(net);
	mutex_lock(&gn->lock);
	KUNIT_ASSERT_EQ(test, gecko_service_set(gn, &svc, NULL), 0);
	for (n = 1; n <= BINDINGS; n++) {
		struct gecko_binding_key key = { home, client(n) };

		KUNIT_ASSERT_EQ(test, gecko_binding_set(gn, &key, GECKO_BINDING_BOUND, 1, 60, NULL), 0);
	}
	for (n = 1; n <= FLOWS; n++) {
		struct gecko_flow_key key = { .local = home, .remote = client(n),
					      .local_port = htons(80), .remote_port = htons(n) };

		flow = gecko_flow_add(gn, &key, sock->sk, GECKO_FLOW_FROZEN, 60000, NULL, NULL);
		KUNIT_ASSERT_FALSE(test, IS_ERR(flow));
		gecko_flow_moved(gn, flow, NULL, NULL);
	}
	mutex_unlock(&gn->lock);
	init_completion(&u.done);

	/* Act: unload while this thread keeps sending segments the hooks look up. */
	thread = kthread_run(unload_thread, &u, "gecko-unload");
	KUNIT_ASSERT_FALSE(test, IS_ERR(thread));
	while (!completion_done(&u.done)) {
		n = sent % BINDINGS + 1;
		inject(net, segment(test, net, n, n % FLOWS + 1, sent & 1));
		sent++;
		cond_resched();
	}
	/* Back as at the next load: the namespace gets fresh state. */
	KUNIT_ASSERT_EQ(test, gecko_netns_init(), 0);

	/* Assert: KASAN said nothing (it fails the test if it did); the new state is empty. */
	KUNIT_EXPECT_GT(test, sent, 0UL);
	gn = gecko_net(net);
	KUNIT_EXPECT_TRUE(test, list_empty(&gn->services));
	KUNIT_EXPECT_EQ(test, atomic_read(&gn->bindings.nelems), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&gn->flows.nelems), 0);
	sock_release(sock);
	put_net(net);
}

static struct kunit_case teardown_cases[] = {
	KUNIT_CASE(unload_while_packets_flow),
	{}
};

static struct kunit_suite teardown_suite = {
	.name = "gecko_teardown",
	.test_cases = teardown_cases,
};

kunit_test_suite(teardown_suite);
