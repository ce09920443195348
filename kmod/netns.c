// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per network namespace state: everything gecko.ko keeps lives here, so a
 * namespace that goes away takes its state with it.
 */

#include "netns.h"
#include "binding.h"
#include "flow.h"
#include "guard.h"
#include "hooks.h"
#include "service.h"

#include <linux/percpu.h>
#include <linux/u64_stats_sync.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

struct pcpu_counters {
	struct u64_stats_sync syncp;
	u64_stats_t ctr[__GECKO_COUNTER_LAST];
};

static unsigned int gecko_net_id __read_mostly;

struct gecko_net *gecko_net(struct net *net)
{
	return net_generic(net, gecko_net_id);
}

void gecko_counter_add(struct net *net, enum gecko_counter ctr, u64 n)
{
	struct pcpu_counters *pc;

	if (WARN_ON_ONCE(ctr <= GECKO_COUNTER_PAD || ctr >= __GECKO_COUNTER_LAST))
		return;
	pc = get_cpu_ptr(gecko_net(net)->counters);
	u64_stats_update_begin(&pc->syncp);
	u64_stats_add(&pc->ctr[ctr], n);
	u64_stats_update_end(&pc->syncp);
	put_cpu_ptr(pc);
}

void gecko_counters_read(struct net *net, u64 out[__GECKO_COUNTER_LAST])
{
	struct gecko_net *gn = gecko_net(net);
	unsigned int start;
	int cpu, i;

	memset(out, 0, sizeof(u64) * __GECKO_COUNTER_LAST);
	for_each_possible_cpu(cpu) {
		const struct pcpu_counters *pc = per_cpu_ptr(gn->counters, cpu);
		u64 snap[__GECKO_COUNTER_LAST];

		do {
			start = u64_stats_fetch_begin(&pc->syncp);
			for (i = 0; i < __GECKO_COUNTER_LAST; i++)
				snap[i] = u64_stats_read(&pc->ctr[i]);
		} while (u64_stats_fetch_retry(&pc->syncp, start));
		for (i = 0; i < __GECKO_COUNTER_LAST; i++)
			out[i] += snap[i];
	}
}

static int __net_init gecko_net_init(struct net *net)
{
	struct gecko_net *gn = gecko_net(net);
	int cpu, ret;

	gn->net = net;
	mutex_init(&gn->lock);
	gecko_limits_init(&gn->limits);
	atomic_set(&gn->held, 0);
	gn->counters = alloc_percpu(struct pcpu_counters);
	if (!gn->counters)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(gn->counters, cpu)->syncp);
	ret = gecko_services_init(gn);
	if (ret)
		goto err_services;
	ret = gecko_bindings_init(gn);
	if (ret)
		goto err_bindings;
	ret = gecko_flows_init(gn);
	if (ret)
		goto err_flows;
	gecko_guards_init(gn);
	return 0;

err_flows:
	gecko_bindings_uninit(gn);
err_bindings:
	gecko_services_uninit(gn);
err_services:
	free_percpu(gn->counters);
	return ret;
}

/*
 * The lifetime of a namespace's state, in one place. It goes when the
 * namespace does, and at module unload, where unregister_pernet_subsys()
 * runs these for every namespace once the netlink family is gone (main.c):
 * no command runs any more then. The order:
 *
 *  1. pre_exit: the netfilter hooks are unregistered. One may still be
 *     running (nf_unregister_net_hooks() does not wait), so the core waits
 *     an RCU grace period before it calls exit: no packet is inside a
 *     hook, and none reads the tables, after that.
 *  2. exit: the guards released (guard.c), then the flows, with their held packets delivered (no hook holds
 *     them back now) or freed, frozen sockets thawed, committed and
 *     restored ones dropped; then their collection stops.
 *  3. The bindings and their collection, then the services.
 *  4. The counters, which every step above may still bump.
 *
 * Removing the last service also unregisters the hooks (service.c), but
 * frees no table: services, bindings and flows removed while the hooks
 * may run are freed after a grace period (kfree_rcu), and the tables live
 * as long as the namespace.
 */
static void __net_exit gecko_net_pre_exit(struct net *net)
{
	gecko_hooks_uninit(gecko_net(net));
}

static void __net_exit gecko_net_exit(struct net *net)
{
	struct gecko_net *gn = gecko_net(net);

	gecko_guards_uninit(gn);
	gecko_flows_uninit(gn);
	gecko_bindings_uninit(gn);
	gecko_services_uninit(gn);
	free_percpu(gn->counters);
}

static struct pernet_operations gecko_net_ops = {
	.init = gecko_net_init,
	.pre_exit = gecko_net_pre_exit,
	.exit = gecko_net_exit,
	.id = &gecko_net_id,
	.size = sizeof(struct gecko_net),
};

/* Not __init: the KUnit teardown test unregisters and registers it again. */
int gecko_netns_init(void)
{
	return register_pernet_subsys(&gecko_net_ops);
}

void gecko_netns_uninit(void)
{
	unregister_pernet_subsys(&gecko_net_ops);
}
