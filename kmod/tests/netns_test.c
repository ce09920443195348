// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: per network namespace state, on namespaces created and destroyed
 * by the kernel's own netns machinery.
 */

#include "../netns.h"

#include <kunit/test.h>
#include <linux/sched.h>
#include <linux/user_namespace.h>
#include <net/net_namespace.h>

static struct net *new_net(struct kunit *test)
{
	struct net *net = copy_net_ns(CLONE_NEWNET, &init_user_ns, &init_net);

	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(net), "copy_net_ns: %ld", PTR_ERR(net));
	return net;
}

static void counters_start_at_zero(struct kunit *test)
{
	u64 ctr[__GECKO_COUNTER_LAST];
	struct net *net = new_net(test);
	int i;

	gecko_counters_read(net, ctr);
	for (i = 0; i < __GECKO_COUNTER_LAST; i++)
		KUNIT_EXPECT_EQ_MSG(test, ctr[i], 0ULL, "counter %d", i);
	put_net(net);
}

static void counters_are_per_namespace(struct kunit *test)
{
	u64 a[__GECKO_COUNTER_LAST], b[__GECKO_COUNTER_LAST];
	u64 init_before[__GECKO_COUNTER_LAST], init_after[__GECKO_COUNTER_LAST];
	struct net *net_a = new_net(test), *net_b = new_net(test);
	int i;

	/* Arrange */
	gecko_counters_read(&init_net, init_before);

	/* Act */
	for (i = 0; i < 3; i++)
		gecko_counter_inc(net_a, GECKO_COUNTER_NL_REQUESTS);
	gecko_counter_inc(net_a, GECKO_COUNTER_NL_ERRORS);

	/* Assert */
	gecko_counters_read(net_a, a);
	gecko_counters_read(net_b, b);
	gecko_counters_read(&init_net, init_after);
	KUNIT_EXPECT_EQ(test, a[GECKO_COUNTER_NL_REQUESTS], 3ULL);
	KUNIT_EXPECT_EQ(test, a[GECKO_COUNTER_NL_ERRORS], 1ULL);
	KUNIT_EXPECT_EQ(test, b[GECKO_COUNTER_NL_REQUESTS], 0ULL);
	KUNIT_EXPECT_EQ(test, b[GECKO_COUNTER_NL_ERRORS], 0ULL);
	KUNIT_EXPECT_EQ(test, init_after[GECKO_COUNTER_NL_REQUESTS],
			init_before[GECKO_COUNTER_NL_REQUESTS]);
	put_net(net_b);
	put_net(net_a);
}

static void many_namespaces_come_and_go(struct kunit *test)
{
	u64 ctr[__GECKO_COUNTER_LAST];
	int i;

	/* Every namespace gets fresh state; KASAN and kmemleak watch the exits. */
	for (i = 0; i < 16; i++) {
		struct net *net = new_net(test);

		gecko_counters_read(net, ctr);
		KUNIT_EXPECT_EQ(test, ctr[GECKO_COUNTER_NL_REQUESTS], 0ULL);
		gecko_counter_inc(net, GECKO_COUNTER_NL_REQUESTS);
		put_net(net);
	}
}

static struct kunit_case netns_cases[] = {
	KUNIT_CASE(counters_start_at_zero),
	KUNIT_CASE(counters_are_per_namespace),
	KUNIT_CASE(many_namespaces_come_and_go),
	{}
};

static struct kunit_suite netns_suite = {
	.name = "gecko_netns",
	.test_cases = netns_cases,
};

kunit_test_suite(netns_suite);
