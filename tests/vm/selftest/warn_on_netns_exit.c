// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only module for the VM harness self-test: it WARNs in its per-netns
 * exit, as a bug in gecko.ko's teardown would, for every namespace but the
 * initial one. The exit runs when a scenario's namespace is dismantled, in
 * the kernel's own time after the scenario deleted it; the WARN comes a
 * second later still, so that the scenario has ended. It must fail the
 * scenario all the same. Never shipped.
 */

#include <linux/bug.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <net/net_namespace.h>

static void __net_exit warn_net_exit(struct net *net)
{
	if (net_eq(net, &init_net))
		return;
	msleep(1000);
	WARN(1, "gecko harness self-test: warning in a namespace's exit\n");
}

static struct pernet_operations warn_net_ops = {
	.exit = warn_net_exit,
};

static int __init warn_init(void)
{
	return register_pernet_subsys(&warn_net_ops);
}

static void __exit warn_exit(void)
{
	unregister_pernet_subsys(&warn_net_ops);
}

module_init(warn_init);
module_exit(warn_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gecko VM harness self-test: WARN in a per-netns exit");
