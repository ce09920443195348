// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the limits' defaults and the check every creation makes.
 */

#include "../limits.h"
#include "../netns.h"

#include <kunit/test.h>
#include <linux/netlink.h>
#include <linux/string.h>

struct check_case {
	const char *name;
	int which;
	u32 limit;
	u32 used;
	int err;
	const char *names;	/* what the refusal must say */
};

static const struct check_case check_cases[] = {
	{ "below the limit", GECKO_LIMITS_A_SERVICES, 3, 2, 0, NULL },
	{ "at the limit", GECKO_LIMITS_A_SERVICES, 3, 3, -ENOSPC, "limits set services N" },
	{ "above a lowered limit", GECKO_LIMITS_A_BINDINGS, 1, 5, -ENOSPC, "limits set bindings N" },
	{ "a limit of 0 refuses all", GECKO_LIMITS_A_FLOWS, 0, 0, -ENOSPC, "limits set flows N" },
	{ "the highest limit", GECKO_LIMITS_A_BINDINGS, GECKO_LIMIT_BINDINGS_MAX,
	  GECKO_LIMIT_BINDINGS_MAX - 1, 0, NULL },
};

static void check_case_desc(const struct check_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(check, check_cases, check_case_desc);

static void limit_check(struct kunit *test)
{
	const struct check_case *c = test->param_value;
	struct netlink_ext_ack extack = {};
	struct gecko_net *gn = kunit_kzalloc(test, sizeof(*gn), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, gn);
	gecko_limits_init(&gn->limits);
	gn->limits.max[c->which] = c->limit;

	KUNIT_EXPECT_EQ(test, gecko_limit_check(gn, c->which, c->used, &extack), c->err);
	if (c->names) {
		KUNIT_ASSERT_NOT_NULL(test, extack._msg);
		KUNIT_EXPECT_NOT_NULL_MSG(test, strstr(extack._msg, c->names), "%s", extack._msg);
	} else {
		KUNIT_EXPECT_NULL(test, extack._msg);
	}
}

static void defaults_are_the_documented_ones(struct kunit *test)
{
	struct gecko_limits limits;

	gecko_limits_init(&limits);
	KUNIT_EXPECT_EQ(test, limits.max[GECKO_LIMITS_A_SERVICES], GECKO_LIMIT_SERVICES_DEFAULT);
	KUNIT_EXPECT_EQ(test, limits.max[GECKO_LIMITS_A_BINDINGS], GECKO_LIMIT_BINDINGS_DEFAULT);
	KUNIT_EXPECT_EQ(test, limits.max[GECKO_LIMITS_A_FLOWS], GECKO_LIMIT_FLOWS_DEFAULT);
	KUNIT_EXPECT_EQ(test, limits.max[GECKO_LIMITS_A_HELD], GECKO_LIMIT_HELD_DEFAULT);
}

static struct kunit_case limits_cases[] = {
	KUNIT_CASE_PARAM(limit_check, check_gen_params),
	KUNIT_CASE(defaults_are_the_documented_ones),
	{}
};

static struct kunit_suite limits_suite = {
	.name = "gecko_limits",
	.test_cases = limits_cases,
};

kunit_test_suite(limits_suite);
