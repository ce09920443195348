// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: services and bindings of a namespace, on a real namespace.
 */

#include "../binding.h"
#include "../limits.h"
#include "../netns.h"
#include "../service.h"

#include <kunit/test.h>
#include <linux/jiffies.h>
#include <linux/netlink.h>
#include <linux/string.h>
#include <linux/user_namespace.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>

static struct in6_addr addr(u16 net, u16 host)
{
	struct in6_addr a = { .s6_addr16 = { htons(0xfd00), htons(net) } };

	a.s6_addr16[7] = htons(host);
	return a;
}

struct fixture {
	struct net *net;
	struct gecko_net *gn;
};

static int table_init(struct kunit *test)
{
	struct fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->net = copy_net_ns(CLONE_NEWNET, &init_user_ns, &init_net);
	KUNIT_ASSERT_FALSE(test, IS_ERR(f->net));
	f->gn = gecko_net(f->net);
	test->priv = f;
	return 0;
}

static void table_exit(struct kunit *test)
{
	struct fixture *f = test->priv;

	put_net(f->net);
}

static struct gecko_service service(u16 g)
{
	return (struct gecko_service){
		.home = addr(0xa, g), .coa = addr(0x11, 2), .contact_coa = addr(0x11, 2),
	};
}

static int set_service(struct fixture *f, const struct gecko_service *cfg)
{
	int ret;

	mutex_lock(&f->gn->lock);
	ret = gecko_service_set(f->gn, cfg, NULL);
	mutex_unlock(&f->gn->lock);
	return ret;
}

static int del_service(struct fixture *f, u16 g)
{
	struct in6_addr home = addr(0xa, g);
	int ret;

	mutex_lock(&f->gn->lock);
	ret = gecko_service_del(f->gn, &home, NULL);
	mutex_unlock(&f->gn->lock);
	return ret;
}

static int set_binding(struct fixture *f, u16 g, u16 client, u8 state, u16 seq, u32 lifetime)
{
	struct gecko_binding_key key = { addr(0xa, g), addr(0xc, client) };
	int ret;

	mutex_lock(&f->gn->lock);
	ret = gecko_binding_set(f->gn, &key, state, seq, lifetime, NULL);
	mutex_unlock(&f->gn->lock);
	return ret;
}

static struct gecko_binding *lookup(struct fixture *f, u16 g, u16 client)
{
	struct gecko_binding_key key = { addr(0xa, g), addr(0xc, client) };
	struct gecko_binding *b;

	rcu_read_lock();
	b = gecko_binding_lookup(f->gn, &key);
	rcu_read_unlock();
	return b;	/* the tests change nothing concurrently */
}

/* @b's time is up now, which the collection is told as a binding set would tell it. */
static void expire_now(struct fixture *f, struct gecko_binding *b)
{
	mutex_lock(&f->gn->lock);
	WRITE_ONCE(b->expires, (u32)jiffies - 1);
	f->gn->bindings_due = b->expires;
	mutex_unlock(&f->gn->lock);
}

static unsigned int bindings_of(struct fixture *f, u16 g)
{
	struct in6_addr home = addr(0xa, g);

	return gecko_service_find(f->gn, &home)->bindings;
}

static void binding_needs_its_service(struct kunit *test)
{
	struct fixture *f = test->priv;

	KUNIT_EXPECT_EQ(test, set_binding(f, 0x100, 2, GECKO_BINDING_BOUND, 1, 60), -ENOENT);
	KUNIT_EXPECT_NULL(test, lookup(f, 0x100, 2));
}

static void binding_is_set_then_updated_in_place(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct gecko_service svc = service(0x100);
	struct gecko_binding *b;

	/* Arrange */
	KUNIT_ASSERT_EQ(test, set_service(f, &svc), 0);

	/* Act */
	KUNIT_ASSERT_EQ(test, set_binding(f, 0x100, 2, GECKO_BINDING_PENDING, 7, 60), 0);
	b = lookup(f, 0x100, 2);
	KUNIT_ASSERT_EQ(test, set_binding(f, 0x100, 2, GECKO_BINDING_BOUND, 8, 120), 0);

	/* Assert */
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_PTR_EQ(test, lookup(f, 0x100, 2), b);
	KUNIT_EXPECT_EQ(test, b->state, (u8)GECKO_BINDING_BOUND);
	KUNIT_EXPECT_EQ(test, b->seq, (u16)8);
	KUNIT_EXPECT_GT(test, gecko_binding_lifetime_left(b), 60U);
	KUNIT_EXPECT_LE(test, gecko_binding_lifetime_left(b), 120U);
	KUNIT_EXPECT_EQ(test, bindings_of(f, 0x100), 1U);
	KUNIT_EXPECT_NULL(test, lookup(f, 0x100, 3));
}

static void replacing_a_service_keeps_its_bindings(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct gecko_service svc = service(0x100);
	struct in6_addr home = addr(0xa, 0x100);

	KUNIT_ASSERT_EQ(test, set_service(f, &svc), 0);
	KUNIT_ASSERT_EQ(test, set_binding(f, 0x100, 2, GECKO_BINDING_BOUND, 1, 60), 0);

	svc.flags = GECKO_SERVICE_F_CONTACT;
	svc.ha = addr(0xa, 1);
	KUNIT_ASSERT_EQ(test, set_service(f, &svc), 0);

	KUNIT_EXPECT_EQ(test, gecko_service_find(f->gn, &home)->flags,
			(u32)GECKO_SERVICE_F_CONTACT);
	KUNIT_EXPECT_EQ(test, bindings_of(f, 0x100), 1U);
	KUNIT_EXPECT_NOT_NULL(test, lookup(f, 0x100, 2));
}

static void deleting_a_service_drops_only_its_bindings(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct gecko_service a = service(0x100), b = service(0x200);
	int i;

	KUNIT_ASSERT_EQ(test, set_service(f, &a), 0);
	KUNIT_ASSERT_EQ(test, set_service(f, &b), 0);
	for (i = 1; i <= 100; i++) {
		KUNIT_ASSERT_EQ(test, set_binding(f, 0x100, i, GECKO_BINDING_BOUND, i, 60), 0);
		KUNIT_ASSERT_EQ(test, set_binding(f, 0x200, i, GECKO_BINDING_BOUND, i, 60), 0);
	}

	KUNIT_EXPECT_EQ(test, del_service(f, 0x100), 0);
	KUNIT_EXPECT_EQ(test, del_service(f, 0x100), -ENOENT);

	for (i = 1; i <= 100; i++) {
		KUNIT_EXPECT_NULL(test, lookup(f, 0x100, i));
		KUNIT_EXPECT_NOT_NULL(test, lookup(f, 0x200, i));
	}
	KUNIT_EXPECT_EQ(test, bindings_of(f, 0x200), 100U);
}

static void expired_binding_vanishes_then_is_collected(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct gecko_service svc = service(0x100);
	u64 before[__GECKO_COUNTER_LAST], after[__GECKO_COUNTER_LAST];
	struct gecko_binding *b;

	/* Arrange: one binding whose time is up, one still valid. */
	KUNIT_ASSERT_EQ(test, set_service(f, &svc), 0);
	KUNIT_ASSERT_EQ(test, set_binding(f, 0x100, 2, GECKO_BINDING_BOUND, 1, 60), 0);
	KUNIT_ASSERT_EQ(test, set_binding(f, 0x100, 3, GECKO_BINDING_BOUND, 1, 60), 0);
	b = lookup(f, 0x100, 2);
	KUNIT_ASSERT_NOT_NULL(test, b);
	expire_now(f, b);
	gecko_counters_read(f->net, before);

	/* Act, Assert: invisible at once, freed and counted by the collection. */
	KUNIT_EXPECT_NULL(test, lookup(f, 0x100, 2));
	KUNIT_EXPECT_EQ(test, gecko_binding_lifetime_left(b), 0U);
	gecko_bindings_collect(f->gn);
	gecko_counters_read(f->net, after);
	KUNIT_EXPECT_EQ(test, after[GECKO_COUNTER_BINDINGS_EXPIRED],
			before[GECKO_COUNTER_BINDINGS_EXPIRED] + 1);
	KUNIT_EXPECT_EQ(test, bindings_of(f, 0x100), 1U);
	KUNIT_EXPECT_NOT_NULL(test, lookup(f, 0x100, 3));
}

/*
 * A collection lets the lock go between batches of 1024 and resumes after
 * the binding it saw last, which it may just have removed: that must not
 * make it miss the next one in its bucket. 49000 bindings (as many as the
 * table of 65536 buckets takes before it grows), every other one expired:
 * about 47 pauses, half of them after a binding removed, and no shrinking
 * of the table (a resize restarts the walk, which hides a miss).
 */
static void a_collection_goes_through_batches(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct gecko_service svc = service(0x100);
	u64 before[__GECKO_COUNTER_LAST], after[__GECKO_COUNTER_LAST];
	const int n = 49000;
	int i;

	/* Arrange */
	KUNIT_ASSERT_EQ(test, set_service(f, &svc), 0);
	for (i = 1; i <= n; i++)
		KUNIT_ASSERT_EQ(test, set_binding(f, 0x100, i, GECKO_BINDING_BOUND, 1, 60), 0);
	for (i = 1; i <= n; i += 2)
		expire_now(f, lookup(f, 0x100, i));
	gecko_counters_read(f->net, before);

	/* Act */
	gecko_bindings_collect(f->gn);

	/* Assert: each expired one went, counted, and no other. */
	gecko_counters_read(f->net, after);
	KUNIT_EXPECT_EQ(test, after[GECKO_COUNTER_BINDINGS_EXPIRED],
			before[GECKO_COUNTER_BINDINGS_EXPIRED] + n / 2);
	KUNIT_EXPECT_EQ(test, bindings_of(f, 0x100), (unsigned int)(n / 2));
	for (i = 1; i <= n; i++)
		if (!!lookup(f, 0x100, i) != (i % 2 == 0))
			KUNIT_FAIL(test, "binding %d %s", i, i % 2 ? "expired but not collected" : "lost");
}

static void a_collection_waits_for_the_earliest_expiry(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct gecko_service svc = service(0x100);
	struct gecko_binding *a, *b;

	/* Arrange: two bindings; the earliest expiry is the second's. */
	KUNIT_ASSERT_EQ(test, set_service(f, &svc), 0);
	KUNIT_ASSERT_EQ(test, set_binding(f, 0x100, 2, GECKO_BINDING_BOUND, 1, 60), 0);
	a = lookup(f, 0x100, 2);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_EXPECT_EQ(test, f->gn->bindings_due, a->expires);
	KUNIT_ASSERT_EQ(test, set_binding(f, 0x100, 3, GECKO_BINDING_BOUND, 1, 30), 0);
	b = lookup(f, 0x100, 3);
	KUNIT_ASSERT_NOT_NULL(test, b);
	KUNIT_EXPECT_EQ(test, f->gn->bindings_due, b->expires);

	/* Act, Assert: nothing is due yet, so the collection looks at nothing, even at what it was not told of. */
	WRITE_ONCE(a->expires, (u32)jiffies - 1);
	gecko_bindings_collect(f->gn);
	KUNIT_EXPECT_EQ(test, bindings_of(f, 0x100), 2U);

	/* Act, Assert: once one is due, the walk takes all that expired and learns the next. */
	expire_now(f, b);
	gecko_bindings_collect(f->gn);
	KUNIT_EXPECT_EQ(test, bindings_of(f, 0x100), 0U);
	KUNIT_ASSERT_EQ(test, set_binding(f, 0x100, 4, GECKO_BINDING_BOUND, 1, 60), 0);
	KUNIT_ASSERT_EQ(test, set_binding(f, 0x100, 5, GECKO_BINDING_BOUND, 1, 90), 0);
	expire_now(f, lookup(f, 0x100, 4));
	gecko_bindings_collect(f->gn);
	KUNIT_EXPECT_EQ(test, bindings_of(f, 0x100), 1U);
	KUNIT_EXPECT_EQ(test, f->gn->bindings_due, lookup(f, 0x100, 5)->expires);
}

static void many_bindings_grow_the_table(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct gecko_service svc = service(0x100);
	int i;

	/* Enough to make the rhashtable resize a few times under us. */
	KUNIT_ASSERT_EQ(test, set_service(f, &svc), 0);
	for (i = 1; i <= 5000; i++)
		KUNIT_ASSERT_EQ(test, set_binding(f, 0x100, i, GECKO_BINDING_BOUND, 1, 60), 0);
	for (i = 1; i <= 5000; i++)
		KUNIT_EXPECT_NOT_NULL(test, lookup(f, 0x100, i));
	KUNIT_EXPECT_EQ(test, bindings_of(f, 0x100), 5000U);
}

static bool is_coa(struct fixture *f, const struct in6_addr *a)
{
	bool ret;

	rcu_read_lock();
	ret = gecko_service_coa(f->gn, a);
	rcu_read_unlock();
	return ret;
}

/* Services share care-of addresses: one is the node's while a service has it. */
static void a_care_of_address_lasts_as_long_as_its_services(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct gecko_service a = service(0x100), b = service(0x200);
	struct in6_addr x = a.coa, y = addr(0x12, 2);

	/* Arrange: two services at x. */
	KUNIT_ASSERT_EQ(test, set_service(f, &a), 0);
	KUNIT_ASSERT_EQ(test, set_service(f, &b), 0);
	KUNIT_EXPECT_TRUE(test, is_coa(f, &x));
	KUNIT_EXPECT_FALSE(test, is_coa(f, &a.home));

	/* Act, Assert: one gone, x stays; the other moved to y, x goes. */
	KUNIT_ASSERT_EQ(test, del_service(f, 0x100), 0);
	KUNIT_EXPECT_TRUE(test, is_coa(f, &x));
	b.coa = y;
	KUNIT_ASSERT_EQ(test, set_service(f, &b), 0);
	KUNIT_EXPECT_FALSE(test, is_coa(f, &x));
	KUNIT_EXPECT_TRUE(test, is_coa(f, &y));
	/* Replaced in place: still found by G, with its new address. */
	mutex_lock(&f->gn->lock);
	KUNIT_EXPECT_TRUE(test, ipv6_addr_equal(&gecko_service_find(f->gn, &b.home)->coa, &y));
	mutex_unlock(&f->gn->lock);
	KUNIT_ASSERT_EQ(test, del_service(f, 0x200), 0);
	KUNIT_EXPECT_FALSE(test, is_coa(f, &y));
	KUNIT_EXPECT_EQ(test, del_service(f, 0x200), -ENOENT);
}

/* The most services a namespace may hold, each found by its G. */
static void every_service_is_found_by_its_g(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct gecko_service svc;
	u16 g;

	WRITE_ONCE(f->gn->limits.max[GECKO_LIMITS_A_SERVICES], GECKO_LIMIT_SERVICES_MAX);
	for (g = 1; g <= GECKO_LIMIT_SERVICES_MAX; g++) {
		svc = service(g);
		KUNIT_ASSERT_EQ(test, set_service(f, &svc), 0);
	}
	mutex_lock(&f->gn->lock);
	for (g = 1; g <= GECKO_LIMIT_SERVICES_MAX; g++) {
		svc = service(g);
		KUNIT_EXPECT_NOT_NULL(test, gecko_service_find(f->gn, &svc.home));
	}
	svc = service(GECKO_LIMIT_SERVICES_MAX + 1);
	KUNIT_EXPECT_NULL(test, gecko_service_find(f->gn, &svc.home));
	mutex_unlock(&f->gn->lock);
}

static void services_stop_at_the_limit(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct gecko_service a = service(0x100), b = service(0x200), c = service(0x300);
	struct netlink_ext_ack extack = {};
	int ret;

	/* Arrange */
	WRITE_ONCE(f->gn->limits.max[GECKO_LIMITS_A_SERVICES], 2);
	KUNIT_ASSERT_EQ(test, set_service(f, &a), 0);
	KUNIT_ASSERT_EQ(test, set_service(f, &b), 0);

	/* Act, Assert: a third is refused with the limit's name; replacing one is not new. */
	mutex_lock(&f->gn->lock);
	ret = gecko_service_set(f->gn, &c, &extack);
	mutex_unlock(&f->gn->lock);
	KUNIT_EXPECT_EQ(test, ret, -ENOSPC);
	KUNIT_ASSERT_NOT_NULL(test, extack._msg);
	KUNIT_EXPECT_NOT_NULL(test, strstr(extack._msg, "gecko-ctl limits set services"));
	a.flags = GECKO_SERVICE_F_CONTACT;
	KUNIT_EXPECT_EQ(test, set_service(f, &a), 0);
	KUNIT_EXPECT_EQ(test, gecko_limit_used(f->gn, GECKO_LIMITS_A_SERVICES), 2U);

	/* One gone, there is room again. */
	KUNIT_EXPECT_EQ(test, del_service(f, 0x100), 0);
	KUNIT_EXPECT_EQ(test, set_service(f, &c), 0);
}

static void bindings_stop_at_the_limit(struct kunit *test)
{
	struct fixture *f = test->priv;
	struct gecko_service svc = service(0x100);
	struct gecko_binding_key key = { addr(0xa, 0x100), addr(0xc, 4) };
	struct netlink_ext_ack extack = {};
	int ret;

	/* Arrange: three bindings, then the limit lowered under them. */
	KUNIT_ASSERT_EQ(test, set_service(f, &svc), 0);
	KUNIT_ASSERT_EQ(test, set_binding(f, 0x100, 1, GECKO_BINDING_BOUND, 1, 60), 0);
	KUNIT_ASSERT_EQ(test, set_binding(f, 0x100, 2, GECKO_BINDING_BOUND, 1, 60), 0);
	KUNIT_ASSERT_EQ(test, set_binding(f, 0x100, 3, GECKO_BINDING_BOUND, 1, 60), 0);
	WRITE_ONCE(f->gn->limits.max[GECKO_LIMITS_A_BINDINGS], 2);

	/* Act, Assert: the three stay and may change; a fourth is refused. */
	KUNIT_EXPECT_EQ(test, set_binding(f, 0x100, 3, GECKO_BINDING_PENDING, 2, 60), 0);
	KUNIT_EXPECT_NOT_NULL(test, lookup(f, 0x100, 1));
	mutex_lock(&f->gn->lock);
	ret = gecko_binding_set(f->gn, &key, GECKO_BINDING_BOUND, 1, 60, &extack);
	mutex_unlock(&f->gn->lock);
	KUNIT_EXPECT_EQ(test, ret, -ENOSPC);
	KUNIT_ASSERT_NOT_NULL(test, extack._msg);
	KUNIT_EXPECT_NOT_NULL(test, strstr(extack._msg, "gecko-ctl limits set bindings"));
	KUNIT_EXPECT_NULL(test, lookup(f, 0x100, 4));
	KUNIT_EXPECT_EQ(test, bindings_of(f, 0x100), 3U);
}

struct addr_case {
	const char *name;
	struct in6_addr addr;
	bool usable;
};

static const struct addr_case addr_cases[] = {
	{ "unique-local is usable", { .s6_addr = { 0xfd, [15] = 1 } }, true },
	{ "global is usable", { .s6_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } }, true },
	{ "unspecified is not", {}, false },
	{ "loopback is not", { .s6_addr = { [15] = 1 } }, false },
	{ "link-local is not", { .s6_addr = { 0xfe, 0x80, [15] = 1 } }, false },
	{ "multicast is not", { .s6_addr = { 0xff, 0x02, [15] = 1 } }, false },
	{ "v4-mapped is not", { .s6_addr = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 } }, false },
};

static void addr_case_desc(const struct addr_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(addr, addr_cases, addr_case_desc);

static void address_usability(struct kunit *test)
{
	const struct addr_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, gecko_addr_usable(&c->addr), c->usable);
}

static struct kunit_case table_cases[] = {
	KUNIT_CASE(binding_needs_its_service),
	KUNIT_CASE(binding_is_set_then_updated_in_place),
	KUNIT_CASE(replacing_a_service_keeps_its_bindings),
	KUNIT_CASE(deleting_a_service_drops_only_its_bindings),
	KUNIT_CASE(expired_binding_vanishes_then_is_collected),
	KUNIT_CASE(a_collection_goes_through_batches),
	KUNIT_CASE(a_collection_waits_for_the_earliest_expiry),
	KUNIT_CASE(many_bindings_grow_the_table),
	KUNIT_CASE(a_care_of_address_lasts_as_long_as_its_services),
	KUNIT_CASE(every_service_is_found_by_its_g),
	KUNIT_CASE(services_stop_at_the_limit),
	KUNIT_CASE(bindings_stop_at_the_limit),
	KUNIT_CASE_PARAM(address_usability, addr_gen_params),
	{}
};

static struct kunit_suite table_suite = {
	.name = "gecko_table",
	.init = table_init,
	.exit = table_exit,
	.test_cases = table_cases,
};

kunit_test_suite(table_suite);
