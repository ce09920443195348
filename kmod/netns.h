/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per network namespace state of gecko.ko: everything the module keeps
 * lives here, so a namespace that goes away takes its state with it.
 */

#ifndef _GECKO_NETNS_H
#define _GECKO_NETNS_H

#include "limits.h"

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rhashtable-types.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <uapi/linux/gecko.h>

struct net;
struct pcpu_counters;

struct gecko_net {
	struct net *net;
	/* Per CPU so that the packet path never shares a line. */
	struct pcpu_counters __percpu *counters;
	/* Serialises changes to services and bindings; readers use RCU. */
	struct mutex lock;
	struct list_head services;	/* struct gecko_service, RCU */
	struct rhashtable services_by_home;	/* the same, by G */
	struct rhashtable coas;		/* their care-of addresses (service.c) */
	unsigned int nr_services;	/* under lock, read by gecko_limit_used() */
	/* Whether the netfilter hooks are registered (hooks.c), under lock. */
	bool hooks_on;
	struct gecko_limits limits;
	atomic_t held;			/* packets held for all flows */
	struct rhashtable bindings;	/* struct gecko_binding */
	/* Bumped at each insertion or removal, for dumps to notice. */
	unsigned int generation;
	struct delayed_work binding_gc;
	/* Under lock: no binding expires before (jiffies, low 32 bits; binding.c). */
	u32 bindings_due;
	struct rhashtable flows;	/* struct gecko_flow, by connection */
	struct list_head flows_list;	/* the same flows, under lock */
	struct delayed_work flow_gc;
	struct list_head guards;	/* struct gecko_guard, under lock */
	unsigned int nr_guards;		/* under lock */
	struct delayed_work guard_gc;
};

/* Register and unregister the per-namespace state (main.c's first and last steps). */
int gecko_netns_init(void);
void gecko_netns_uninit(void);

struct gecko_net *gecko_net(struct net *net);

void gecko_counter_add(struct net *net, enum gecko_counter ctr, u64 n);

static inline void gecko_counter_inc(struct net *net, enum gecko_counter ctr)
{
	gecko_counter_add(net, ctr, 1);
}

void gecko_counters_read(struct net *net, u64 out[__GECKO_COUNTER_LAST]);

#endif /* _GECKO_NETNS_H */
