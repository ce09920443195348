// SPDX-License-Identifier: GPL-2.0-only
/*
 * gecko.ko: one IPv6 address served by a group of nodes. This file only
 * brings the parts up and down, in reverse order.
 */

#include "netlink.h"
#include "netns.h"
#include "version.h"

#include <linux/module.h>
#include <net/genetlink.h>

static int __init mod_init(void)
{
	int ret;

	/* Per-netns state first: every command expects to find it. */
	ret = gecko_netns_init();
	if (ret)
		return ret;
	ret = gecko_genl_init();
	if (ret)
		goto err_genl;

	pr_info("version %s loaded\n", GECKO_VERSION);
	return 0;

err_genl:
	gecko_netns_uninit();
	return ret;
}

/*
 * The family goes first: genl_unregister_family() waits for the commands
 * running (they hold its cb_lock for reading), and a dump in progress holds
 * a reference on the module, which cannot be unloaded meanwhile. Then no
 * command can reach the per-namespace state, which netns.c tears down in
 * the order it documents. What is freed after a grace period is freed with
 * kfree_rcu(), which runs none of our code: no callback outlives the
 * module, so there is no rcu_barrier() to wait for.
 */
static void __exit mod_exit(void)
{
	gecko_genl_uninit();
	gecko_netns_uninit();
}

module_init(mod_init);
module_exit(mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Gecko: one IPv6 address served by a group of nodes");
MODULE_AUTHOR("The Gecko developers");
MODULE_VERSION(GECKO_VERSION);
MODULE_ALIAS_GENL_FAMILY(GECKO_GENL_NAME);
