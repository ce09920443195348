// SPDX-License-Identifier: GPL-2.0-only
/*
 * Limits. A limit only refuses what would be new: lowering one below what
 * exists removes nothing, so an administrator can never cut connections
 * or bindings by mistake; new ones wait until fewer remain.
 */

#include "limits.h"
#include "netns.h"

#include <linux/atomic.h>
#include <linux/rhashtable.h>
#include <net/netlink.h>

static const u32 defaults[GECKO_LIMITS] = {
	[GECKO_LIMITS_A_SERVICES] = GECKO_LIMIT_SERVICES_DEFAULT,
	[GECKO_LIMITS_A_BINDINGS] = GECKO_LIMIT_BINDINGS_DEFAULT,
	[GECKO_LIMITS_A_FLOWS] = GECKO_LIMIT_FLOWS_DEFAULT,
	[GECKO_LIMITS_A_HELD] = GECKO_LIMIT_HELD_DEFAULT,
};

#define REFUSAL(what, word) \
	"the namespace has as many " what " as its limit allows (raise it: gecko-ctl limits set " word " N)"

void gecko_limits_init(struct gecko_limits *limits)
{
	memcpy(limits->max, defaults, sizeof(defaults));
}

u32 gecko_limit(const struct gecko_net *gn, int which)
{
	return READ_ONCE(gn->limits.max[which]);
}

u32 gecko_limit_used(struct gecko_net *gn, int which)
{
	switch (which) {
	case GECKO_LIMITS_A_SERVICES:
		return READ_ONCE(gn->nr_services);
	case GECKO_LIMITS_A_BINDINGS:
		return atomic_read(&gn->bindings.nelems);
	case GECKO_LIMITS_A_FLOWS:
		return atomic_read(&gn->flows.nelems);
	case GECKO_LIMITS_A_HELD:
		return atomic_read(&gn->held);
	}
	WARN_ON_ONCE(1);
	return 0;
}

int gecko_limit_check(const struct gecko_net *gn, int which, u32 used,
		      struct netlink_ext_ack *extack)
{
	if (used < gecko_limit(gn, which))
		return 0;
	/* Each names the limit and the command that raises it; gecko-ctl prints it. */
	switch (which) {
	case GECKO_LIMITS_A_SERVICES:
		NL_SET_ERR_MSG_MOD(extack, REFUSAL("services", "services"));
		break;
	case GECKO_LIMITS_A_BINDINGS:
		NL_SET_ERR_MSG_MOD(extack, REFUSAL("bindings", "bindings"));
		break;
	default:
		NL_SET_ERR_MSG_MOD(extack, REFUSAL("flows (connections frozen, restored or moved)",
						   "flows"));
		break;
	}
	return -ENOSPC;
}
