// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit, after every other suite (kmod/Kbuild links it last): a kmemleak
 * scan, failing on any object it finds unreferenced. kmemleak's own first
 * scan comes 60 s after boot, when the run is over, and its scan function
 * is not exported: this suite asks for one as a user would, by writing
 * "scan" to its debugfs file and reading the report back. The write
 * copies from user memory, so the test borrows an address space of its
 * own for the buffer.
 *
 * What the scan cannot see yet must be over first: namespaces the other
 * suites put are torn down in a workqueue, objects freed after a grace
 * period are still queued, and kmemleak reports nothing younger than 5 s.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/namei.h>
#include <linux/rcupdate.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>

/* mm/kmemleak.c's MSECS_MIN_AGE: younger objects are never reported. */
#define MIN_AGE_MS 5000
/* How long the other suites' namespaces may take to go. */
#define NETNS_WAIT_MS 10000
/* Objects whose report is copied into the test's log; the rest are counted. */
#define SHOWN 5

/* Namespaces other than init_net that still exist. */
static unsigned int other_namespaces(void)
{
	unsigned int n = 0;
	struct net *net;

	rcu_read_lock();
	for_each_net_rcu(net)
		n += !net_eq(net, &init_net);
	rcu_read_unlock();
	return n;
}

/*
 * The namespaces put by earlier suites are gone, their exit methods have
 * run (net_ns_barrier() waits for a cleanup under way) and so have the
 * RCU callbacks they queued. Objects waiting in kfree_rcu()'s batches are
 * no false positives: kvfree_call_rcu() tells kmemleak to ignore them.
 */
static void settle(struct kunit *test)
{
	unsigned int waited = 0;

	while (other_namespaces() && waited < NETNS_WAIT_MS) {
		msleep(20);
		waited += 20;
	}
	KUNIT_EXPECT_EQ_MSG(test, other_namespaces(), 0U,
			    "a namespace an earlier suite created never went away");
	net_ns_barrier();
	rcu_barrier();
	/* Everything the earlier suites allocated becomes old enough to report. */
	msleep(MIN_AGE_MS + 500);
}

/* The caller, a kthread, gets an address space of its own; NULL if it cannot. */
static struct mm_struct *borrow_mm(void)
{
	struct mm_struct *mm = mm_alloc();

	if (!mm)
		return NULL;
	mm->task_size = TASK_SIZE;
	arch_pick_mmap_layout(mm, &current->signal->rlim[RLIMIT_STACK]);
	kthread_use_mm(mm);
	return mm;
}

static void return_mm(struct mm_struct *mm)
{
	kthread_unuse_mm(mm);
	mmput(mm);
}

/* kmemleak's debugfs file, whether or not debugfs is mounted anywhere. */
static struct file *open_kmemleak(struct vfsmount **mnt)
{
	struct file_system_type *type = get_fs_type("debugfs");
	struct dentry *dentry;
	struct file *file;

	if (!type)
		return ERR_PTR(-ENODEV);
	*mnt = kern_mount(type);
	put_filesystem(type);
	if (IS_ERR(*mnt))
		return ERR_CAST(*mnt);
	dentry = lookup_positive_unlocked("kmemleak", (*mnt)->mnt_root, strlen("kmemleak"));
	if (IS_ERR(dentry)) {
		kern_unmount(*mnt);
		return ERR_CAST(dentry);
	}
	file = dentry_open(&(struct path){ .mnt = *mnt, .dentry = dentry }, O_RDWR,
			   current_cred());
	dput(dentry);
	if (IS_ERR(file))
		kern_unmount(*mnt);
	return file;
}

static int command(struct file *file, char __user *ubuf, const char *cmd)
{
	loff_t pos = 0;
	ssize_t n;

	if (copy_to_user(ubuf, cmd, strlen(cmd)))
		return -EFAULT;
	n = vfs_write(file, ubuf, strlen(cmd), &pos);
	return n < 0 ? n : 0;
}

struct report {
	struct kunit *test;
	unsigned int objects;	/* "unreferenced object" entries */
	bool in_hex_dump;
	char line[160];
	size_t len;
};

/* The frames of kmemleak's own bookkeeping, at the top of each backtrace on UML. */
static const char *const noise[] = {
	"save_stack_trace", "stack_trace_save", "set_track_prepare", "create_object", "kmemleak_",
};

static void report_line(struct report *r)
{
	int i;

	r->line[r->len] = '\0';
	r->len = 0;
	if (str_has_prefix(r->line, "unreferenced object"))
		r->objects++;
	/* The hex dump says little; the size, task and backtrace name the leak. */
	if (strstr(r->line, "hex dump"))
		r->in_hex_dump = true;
	else if (strstr(r->line, "backtrace:"))
		r->in_hex_dump = false;
	for (i = 0; i < ARRAY_SIZE(noise); i++)
		if (strstr(r->line, noise[i]))
			return;
	if (r->objects && r->objects <= SHOWN && !r->in_hex_dump)
		kunit_err(r->test, "%s", r->line);
}

/* Reads kmemleak's report, every object it lists counted, the first few logged. */
static int read_report(struct file *file, char __user *ubuf, char *kbuf, struct report *r)
{
	loff_t pos = 0;
	ssize_t n, i;

	for (;;) {
		n = vfs_read(file, ubuf, PAGE_SIZE, &pos);
		if (n <= 0)
			break;
		if (copy_from_user(kbuf, ubuf, n))
			return -EFAULT;
		for (i = 0; i < n; i++) {
			if (kbuf[i] == '\n') {
				report_line(r);
			} else if (r->len < sizeof(r->line) - 1) {
				r->line[r->len++] = kbuf[i];
			}
		}
	}
	if (r->len)
		report_line(r);
	return n;
}

static void nothing_left_unreferenced(struct kunit *test)
{
	struct report r = { .test = test };
	struct vfsmount *mnt;
	struct mm_struct *mm;
	struct file *file;
	char __user *ubuf;
	char *kbuf;
	int i, ret;

	/* Arrange: kmemleak within reach, then nothing in flight. */
	kbuf = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, kbuf);
	mm = borrow_mm();
	KUNIT_ASSERT_NOT_NULL_MSG(test, mm, "no address space for the debugfs buffer");
	ubuf = (char __user *)vm_mmap(NULL, 0, PAGE_SIZE, PROT_READ | PROT_WRITE,
				      MAP_ANONYMOUS | MAP_PRIVATE, 0);
	file = open_kmemleak(&mnt);
	if (IS_ERR_VALUE((unsigned long)ubuf) || IS_ERR(file)) {
		if (!IS_ERR(file)) {
			fput(file);
			kern_unmount(mnt);
		}
		return_mm(mm);
		KUNIT_FAIL(test, "cannot reach kmemleak (buffer %ld, file %ld): is it enabled?",
			   IS_ERR_VALUE((unsigned long)ubuf) ? (long)ubuf : 0L,
			   PTR_ERR_OR_ZERO(file));
		return;
	}
	settle(test);

	/*
	 * Act: two scans. kmemleak holds back an object whose checksum changed
	 * since the scan before (at the first scan: any with a non-zero
	 * octet), taking it for one being written: the second scan reports it.
	 */
	ret = 0;
	for (i = 0; i < 2 && !ret; i++)
		ret = command(file, ubuf, "scan");
	if (!ret)
		ret = read_report(file, ubuf, kbuf, &r);
	fput(file);
	kern_unmount(mnt);
	return_mm(mm);

	/* Assert */
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "kmemleak refused the scan or its report: is it off?");
	KUNIT_EXPECT_EQ_MSG(test, r.objects, 0U,
			    "kmemleak: %u unreferenced objects (the first %u above)", r.objects,
			    min_t(unsigned int, r.objects, SHOWN));
}

static struct kunit_case leak_cases[] = {
	KUNIT_CASE(nothing_left_unreferenced),
	{}
};

static struct kunit_suite leak_suite = {
	.name = "gecko_leaks",
	.test_cases = leak_cases,
};

kunit_test_suite(leak_suite);
