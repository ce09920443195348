// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the generic netlink request policy and the GET_INFO reply.
 */

#include "../netlink.h"
#include "../netns.h"

#include <kunit/test.h>
#include <linux/skbuff.h>
#include <linux/string.h>
#include <linux/user_namespace.h>
#include <net/net_namespace.h>

struct policy_case {
	const char *name;
	int type;		/* attribute put in the request, 0 = none */
	int len;		/* its payload length */
	int err;
	const char *msg;	/* expected extended-ACK text, or NULL */
};

static const struct policy_case policy_cases[] = {
	{ "empty request is accepted", 0, 0, 0, NULL },
	{ "module version is reply-only", GECKO_A_MODULE_VERSION, 6,
	  -EINVAL, "attribute is reply-only" },
	{ "protocol version is reply-only", GECKO_A_PROTOCOL_VERSION, 4,
	  -EINVAL, "attribute is reply-only" },
	{ "counters are reply-only", GECKO_A_COUNTERS, 0,
	  -EINVAL, "attribute is reply-only" },
	{ "padding is reply-only", GECKO_A_PAD, 0,
	  -EINVAL, "attribute is reply-only" },
	{ "attribute past the last is unknown", GECKO_A_MAX + 1, 4,
	  -EINVAL, "Unknown attribute type" },
};

static void policy_case_desc(const struct policy_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(policy, policy_cases, policy_case_desc);

static void request_policy(struct kunit *test)
{
	const struct policy_case *c = test->param_value;
	struct nlattr *tb[GECKO_A_MAX + 1];
	struct netlink_ext_ack extack = {};
	static const u8 zero[8];
	struct sk_buff *skb;
	int err;

	/* Arrange */
	skb = alloc_skb(256, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	if (c->type)
		KUNIT_ASSERT_EQ(test, nla_put(skb, c->type, c->len, zero), 0);

	/* Act: the same strict parse generic netlink runs before a doit. */
	err = nla_parse(tb, GECKO_A_MAX, (struct nlattr *)skb->data, skb->len,
			gecko_genl_policy, &extack);

	/* Assert */
	KUNIT_EXPECT_EQ(test, err, c->err);
	if (c->msg) {
		KUNIT_ASSERT_NOT_NULL(test, extack._msg);
		KUNIT_EXPECT_STREQ(test, extack._msg, c->msg);
	}
	kfree_skb(skb);
}

struct nested_case {
	const char *name;
	int outer;		/* GECKO_A_SERVICE, _BINDING, _SOCK or _LIMITS */
	int type;		/* the attribute inside it */
	int len;		/* its payload length, */
	u32 value;		/* holding this value in its first octets */
	int err;		/* out of a range: -ERANGE, as the kernel's policies say */
};

static const struct nested_case nested_cases[] = {
	{ "service address of 16 octets", GECKO_A_SERVICE, GECKO_SERVICE_A_HOME, 16, 0, 0 },
	{ "service address of 15 octets", GECKO_A_SERVICE, GECKO_SERVICE_A_HOME, 15, 0, -ERANGE },
	{ "service address of 17 octets", GECKO_A_SERVICE, GECKO_SERVICE_A_COA, 17, 0, -ERANGE },
	{ "service flag contact", GECKO_A_SERVICE, GECKO_SERVICE_A_FLAGS, 4,
	  GECKO_SERVICE_F_CONTACT, 0 },
	{ "service flag unknown", GECKO_A_SERVICE, GECKO_SERVICE_A_FLAGS, 4, 1U << 7, -EINVAL },
	{ "service binding count is reply-only", GECKO_A_SERVICE, GECKO_SERVICE_A_BINDINGS, 4,
	  0, -EINVAL },
	{ "binding state pending", GECKO_A_BINDING, GECKO_BINDING_A_STATE, 1,
	  GECKO_BINDING_PENDING, 0 },
	{ "binding state 0", GECKO_A_BINDING, GECKO_BINDING_A_STATE, 1, 0, -ERANGE },
	{ "binding state past the last", GECKO_A_BINDING, GECKO_BINDING_A_STATE, 1,
	  GECKO_BINDING_STATE_MAX + 1, -ERANGE },
	{ "binding lifetime 0", GECKO_A_BINDING, GECKO_BINDING_A_LIFETIME, 4, 0, -ERANGE },
	{ "binding lifetime 420", GECKO_A_BINDING, GECKO_BINDING_A_LIFETIME, 4, 420, 0 },
	{ "binding lifetime 421", GECKO_A_BINDING, GECKO_BINDING_A_LIFETIME, 4, 421, -ERANGE },
	{ "binding sequence of 2 octets", GECKO_A_BINDING, GECKO_BINDING_A_SEQ, 2, 7, 0 },
	{ "binding sequence of 4 octets", GECKO_A_BINDING, GECKO_BINDING_A_SEQ, 4, 7, -EINVAL },
	{ "binding attribute past the last", GECKO_A_BINDING, GECKO_BINDING_A_MAX + 1, 4, 0,
	  -EINVAL },
	{ "donor address of 16 octets", GECKO_A_SOCK, GECKO_SOCK_A_DONOR, 16, 0, 0 },
	{ "donor address of 4 octets", GECKO_A_SOCK, GECKO_SOCK_A_DONOR, 4, 0, -ERANGE },
	{ "service limit 0", GECKO_A_LIMITS, GECKO_LIMITS_A_SERVICES, 4, 0, 0 },
	{ "service limit at its highest", GECKO_A_LIMITS, GECKO_LIMITS_A_SERVICES, 4,
	  GECKO_LIMIT_SERVICES_MAX, 0 },
	{ "service limit past its highest", GECKO_A_LIMITS, GECKO_LIMITS_A_SERVICES, 4,
	  GECKO_LIMIT_SERVICES_MAX + 1, -ERANGE },
	{ "binding limit past its highest", GECKO_A_LIMITS, GECKO_LIMITS_A_BINDINGS, 4,
	  GECKO_LIMIT_BINDINGS_MAX + 1, -ERANGE },
	{ "flow limit past its highest", GECKO_A_LIMITS, GECKO_LIMITS_A_FLOWS, 4,
	  GECKO_LIMIT_FLOWS_MAX + 1, -ERANGE },
	{ "held limit at its highest", GECKO_A_LIMITS, GECKO_LIMITS_A_HELD, 4,
	  GECKO_LIMIT_HELD_MAX, 0 },
	{ "held limit past its highest", GECKO_A_LIMITS, GECKO_LIMITS_A_HELD, 4,
	  GECKO_LIMIT_HELD_MAX + 1, -ERANGE },
	{ "a limit of 2 octets", GECKO_A_LIMITS, GECKO_LIMITS_A_FLOWS, 2, 1, -EINVAL },
	{ "flows in use are reply-only", GECKO_A_LIMITS, GECKO_LIMITS_A_FLOWS_USED, 4, 0,
	  -EINVAL },
};

static void nested_case_desc(const struct nested_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(nested, nested_cases, nested_case_desc);

static void nested_request_policy(struct kunit *test)
{
	const struct nested_case *c = test->param_value;
	struct nlattr *tb[GECKO_A_MAX + 1], *nest;
	struct netlink_ext_ack extack = {};
	u8 payload[32] = {};
	struct sk_buff *skb;

	/* Arrange: the value in host order, as nla_get_u8/u16/u32 read it. */
	if (c->len == 1)
		payload[0] = c->value;
	else if (c->len == 2)
		*(u16 *)payload = c->value;
	else if (c->len >= 4)
		*(u32 *)payload = c->value;
	skb = alloc_skb(256, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	nest = nla_nest_start(skb, c->outer);
	KUNIT_ASSERT_NOT_NULL(test, nest);
	KUNIT_ASSERT_EQ(test, nla_put(skb, c->type, c->len, payload), 0);
	nla_nest_end(skb, nest);

	/* Act: generic netlink validates nests with their policy too. */
	KUNIT_EXPECT_EQ(test, nla_parse(tb, GECKO_A_MAX, (struct nlattr *)skb->data, skb->len,
					gecko_genl_policy, &extack), c->err);

	/* Assert: no refusal without a message. */
	if (c->err)
		KUNIT_EXPECT_NOT_NULL(test, extack._msg);
	kfree_skb(skb);
}

/* What a client may rely on in a GET_INFO reply. */
static const struct nla_policy reply_policy[GECKO_A_MAX + 1] = {
	[GECKO_A_PAD] = { .type = NLA_UNSPEC },
	[GECKO_A_MODULE_VERSION] = { .type = NLA_NUL_STRING },
	[GECKO_A_PROTOCOL_VERSION] = { .type = NLA_U32 },
	[GECKO_A_FEATURES] = { .type = NLA_U64 },
	[GECKO_A_COUNTERS] = { .type = NLA_NESTED },
};

static const struct nla_policy counters_policy[GECKO_COUNTER_MAX + 1] = {
	[GECKO_COUNTER_PAD] = { .type = NLA_UNSPEC },
	[GECKO_COUNTER_NL_REQUESTS] = { .type = NLA_U64 },
	[GECKO_COUNTER_NL_ERRORS] = { .type = NLA_U64 },
};

static void info_reply_round_trip(struct kunit *test)
{
	struct nlattr *tb[GECKO_A_MAX + 1], *ctr[GECKO_COUNTER_MAX + 1];
	struct net *net;
	struct sk_buff *skb;
	int i;

	/* Arrange: a fresh namespace with known counters. */
	net = copy_net_ns(CLONE_NEWNET, &init_user_ns, &init_net);
	KUNIT_ASSERT_FALSE(test, IS_ERR(net));
	for (i = 0; i < 5; i++)
		gecko_counter_inc(net, GECKO_COUNTER_NL_REQUESTS);
	gecko_counter_inc(net, GECKO_COUNTER_NL_ERRORS);
	skb = alloc_skb(NLMSG_GOODSIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);

	/* Act */
	KUNIT_ASSERT_EQ(test, gecko_info_fill(skb, net), 0);

	/* Assert */
	/* Parsed liberally, as a client does: padding is NLA_UNSPEC. */
	KUNIT_ASSERT_EQ(test, nla_parse_deprecated(tb, GECKO_A_MAX,
						   (struct nlattr *)skb->data,
						   skb->len, reply_policy, NULL), 0);
	KUNIT_ASSERT_NOT_NULL(test, tb[GECKO_A_MODULE_VERSION]);
	KUNIT_EXPECT_STREQ(test, (char *)nla_data(tb[GECKO_A_MODULE_VERSION]),
			   GECKO_VERSION);
	KUNIT_ASSERT_NOT_NULL(test, tb[GECKO_A_PROTOCOL_VERSION]);
	KUNIT_EXPECT_EQ(test, nla_get_u32(tb[GECKO_A_PROTOCOL_VERSION]),
			GECKO_GENL_VERSION);
	KUNIT_ASSERT_NOT_NULL(test, tb[GECKO_A_FEATURES]);
	KUNIT_EXPECT_EQ(test, nla_get_u64(tb[GECKO_A_FEATURES]),
			(u64)__GECKO_FEATURE_ALL);
	KUNIT_ASSERT_NOT_NULL(test, tb[GECKO_A_COUNTERS]);
	KUNIT_ASSERT_EQ(test, nla_parse_nested_deprecated(ctr, GECKO_COUNTER_MAX,
							  tb[GECKO_A_COUNTERS],
							  counters_policy, NULL), 0);
	KUNIT_ASSERT_NOT_NULL(test, ctr[GECKO_COUNTER_NL_REQUESTS]);
	KUNIT_ASSERT_NOT_NULL(test, ctr[GECKO_COUNTER_NL_ERRORS]);
	KUNIT_EXPECT_EQ(test, nla_get_u64(ctr[GECKO_COUNTER_NL_REQUESTS]), 5ULL);
	KUNIT_EXPECT_EQ(test, nla_get_u64(ctr[GECKO_COUNTER_NL_ERRORS]), 1ULL);

	kfree_skb(skb);
	put_net(net);
}

/* Size of the whole reply, measured in a buffer big enough for it. */
static unsigned int info_reply_size(struct kunit *test)
{
	struct sk_buff *skb = alloc_skb(NLMSG_GOODSIZE, GFP_KERNEL);
	unsigned int len;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	KUNIT_ASSERT_EQ(test, gecko_info_fill(skb, &init_net), 0);
	len = skb->len;
	kfree_skb(skb);
	return len;
}

/* An skb with exactly @room bytes of tailroom. */
static struct sk_buff *skb_with_room(struct kunit *test, unsigned int room)
{
	struct sk_buff *skb = alloc_skb(room, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_reserve(skb, skb_tailroom(skb) - room);
	return skb;
}

/*
 * Every amount of room either takes the whole reply or leaves the skb as
 * it was. (The exact size depends on where the u64 attributes fall, so
 * each room is tried rather than one computed "one byte short".)
 */
static void info_reply_all_or_nothing(struct kunit *test)
{
	/* Each u64 (features, every counter) may need 4 octets of padding. */
	const unsigned int slack = 4 * (1 + GECKO_COUNTER_MAX - GECKO_COUNTER_PAD);
	unsigned int need = info_reply_size(test), room, fitted = 0;

	for (room = 0; room < need + 2 * slack; room++) {
		struct sk_buff *skb = skb_with_room(test, room);
		int ret = gecko_info_fill(skb, &init_net);

		if (ret == 0) {
			KUNIT_EXPECT_LE(test, skb->len, room);
			KUNIT_EXPECT_GE(test, skb->len, need - slack);
			fitted++;
		} else {
			KUNIT_EXPECT_EQ_MSG(test, ret, -EMSGSIZE, "room %u", room);
			KUNIT_EXPECT_EQ_MSG(test, skb->len, 0U, "room %u", room);
			KUNIT_EXPECT_LT_MSG(test, room, need + slack, "room %u", room);
		}
		kfree_skb(skb);
	}
	KUNIT_EXPECT_GE(test, fitted, slack);
}

static struct kunit_case netlink_cases[] = {
	KUNIT_CASE_PARAM(request_policy, policy_gen_params),
	KUNIT_CASE_PARAM(nested_request_policy, nested_gen_params),
	KUNIT_CASE(info_reply_round_trip),
	KUNIT_CASE(info_reply_all_or_nothing),
	{}
};

static struct kunit_suite netlink_suite = {
	.name = "gecko_netlink",
	.test_cases = netlink_cases,
};

kunit_test_suite(netlink_suite);
