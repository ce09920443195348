// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only module for the VM harness self-test: it WARNs on load, which
 * must turn the scenario that loads it into a FAIL. Never shipped.
 */

#include <linux/bug.h>
#include <linux/module.h>

static int __init warn_init(void)
{
	WARN(1, "gecko harness self-test: warning on purpose\n");
	return 0;
}

static void __exit warn_exit(void)
{
}

module_init(warn_init);
module_exit(warn_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gecko VM harness self-test: WARN on load");
