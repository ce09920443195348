/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per network namespace state of gecko.ko.
 */

#ifndef _GECKO_NETNS_H
#define _GECKO_NETNS_H

#include <linux/types.h>
#include <uapi/linux/gecko.h>

struct net;

int gecko_netns_init(void);
void gecko_netns_uninit(void);

void gecko_counter_inc(struct net *net, enum gecko_counter ctr);
void gecko_counters_read(struct net *net, u64 out[__GECKO_COUNTER_LAST]);

#endif /* _GECKO_NETNS_H */
