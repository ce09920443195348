// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test-only module for the VM harness self-test: its init spins forever
 * with interrupts off, so a guest of one CPU hangs in the kernel where no
 * lockup detector fires. The host must still say where it hung. Never
 * shipped.
 */

#include <linux/irqflags.h>
#include <linux/module.h>
#include <asm/processor.h>

static int __init spin_init(void)
{
	local_irq_disable();
	for (;;)
		cpu_relax();
	return 0;
}

module_init(spin_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("gecko VM harness self-test: hang in the kernel on load");
