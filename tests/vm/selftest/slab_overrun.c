// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only module for the VM harness self-test: on load it writes one
 * octet past a kmalloc'ed object and frees it. Nothing crashes; only
 * slub_debug's red zone notices, and its report must fail the scenario.
 * Charged like every allocation of gecko.ko, so in a cache the harness
 * checks as it checks gecko.ko's.
 * Never shipped.
 */

#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/slab.h>

static int __init overrun_init(void)
{
	size_t size = 64;
	u8 *p = kmalloc(size, GFP_KERNEL_ACCOUNT);

	if (!p)
		return -ENOMEM;
	/* Hidden from the compiler, which would refuse the overrun. */
	OPTIMIZER_HIDE_VAR(size);
	p[size] = 0x42;
	kfree(p);
	return 0;
}

static void __exit overrun_exit(void)
{
}

module_init(overrun_init);
module_exit(overrun_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gecko VM harness self-test: a one-octet heap overrun");
