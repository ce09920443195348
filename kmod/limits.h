/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per namespace limits on what requests make the module keep: services,
 * bindings, flows and held packets (the UAPI header's "Limits").
 */

#ifndef _GECKO_LIMITS_H
#define _GECKO_LIMITS_H

#include <linux/types.h>
#include <uapi/linux/gecko.h>

struct gecko_net;
struct netlink_ext_ack;

/* Indexed by GECKO_LIMITS_A_SERVICES to GECKO_LIMITS_A_HELD. */
#define GECKO_LIMITS 5

struct gecko_limits {
	/* Set under gecko_net.lock; the packet path reads with READ_ONCE(). */
	u32 max[GECKO_LIMITS];
};

void gecko_limits_init(struct gecko_limits *limits);

/* The limit @which (a GECKO_LIMITS_A_* of the four) of @gn. */
u32 gecko_limit(const struct gecko_net *gn, int which);

/* What @which counts in @gn now. */
u32 gecko_limit_used(struct gecko_net *gn, int which);

/*
 * 0 if one more of @which (services, bindings or flows) may be created
 * while @used exist; -ENOSPC with a message naming the limit and how to
 * raise it otherwise. A packet past the held limit is dropped, not refused.
 */
int gecko_limit_check(const struct gecko_net *gn, int which, u32 used,
		      struct netlink_ext_ack *extack);

#endif /* _GECKO_LIMITS_H */
