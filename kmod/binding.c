// SPDX-License-Identifier: GPL-2.0-only
/*
 * The binding table: an rhashtable per namespace, keyed by (G, client).
 * Lookups are lock-free; changes hold gecko_net.lock. An expired binding
 * is invisible at once (lookups check the time) and freed by a periodic
 * collection, so the packet path never waits for a timer.
 */

#include "binding.h"
#include "limits.h"
#include "netns.h"
#include "service.h"

#include <linux/jiffies.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/time.h>
#include <net/ipv6.h>
#include <net/netlink.h>

/* The table's own bound, the highest GECKO_LIMITS_A_BINDINGS can be. */
#define MAX_BINDINGS GECKO_LIMIT_BINDINGS_MAX
#define GC_INTERVAL (2 * HZ)
/* Bindings a collection looks at between two takings of gn->lock. */
#define COLLECT_BATCH 1024

static const struct rhashtable_params binding_params = {
	.key_len = sizeof(struct gecko_binding_key),
	.key_offset = offsetof(struct gecko_binding, key),
	.head_offset = offsetof(struct gecko_binding, node),
	.automatic_shrinking = true,
	.max_size = MAX_BINDINGS,
};

static_assert(sizeof(struct gecko_binding) <= 64);

static bool expired(const struct gecko_binding *b)
{
	return !time_after32(READ_ONCE(b->expires), (u32)jiffies);
}

/*
 * gn->bindings_due, the earliest a binding may expire, spares the
 * collection its walk until then: each binding set lowers it to its own
 * expiry if earlier, each walk raises it to the earliest it saw. A
 * binding a walk missed (inserted meanwhile) lowered it itself. It stays
 * within a collection's interval in the past and never() in the future,
 * inside the range where 32-bit jiffies compare.
 */
static u32 never(void)
{
	return (u32)jiffies + (GECKO_BINDING_MAX_LIFETIME + 1) * HZ;
}

static void due_by(struct gecko_net *gn, u32 expires)
{
	if (time_before32(expires, gn->bindings_due))
		gn->bindings_due = expires;
}

u32 gecko_binding_lifetime_left(const struct gecko_binding *b)
{
	u32 expires = READ_ONCE(b->expires), now = (u32)jiffies;

	if (!time_after32(expires, now))
		return 0;
	return DIV_ROUND_UP(jiffies_to_msecs(expires - now), MSEC_PER_SEC);
}

struct gecko_binding *gecko_binding_lookup(struct gecko_net *gn,
					   const struct gecko_binding_key *key)
{
	struct gecko_binding *b;

	b = rhashtable_lookup(&gn->bindings, key, binding_params);
	return b && !expired(b) ? b : NULL;
}

static void unlink(struct gecko_net *gn, struct gecko_binding *b)
{
	struct gecko_service *svc = gecko_service_find(gn, &b->key.home);

	rhashtable_remove_fast(&gn->bindings, &b->node, binding_params);
	gn->generation++;
	if (svc)
		svc->bindings--;
	kfree_rcu(b, rcu);
}

int gecko_binding_set(struct gecko_net *gn, const struct gecko_binding_key *key,
		      u8 state, u16 seq, u32 lifetime,
		      struct netlink_ext_ack *extack)
{
	u32 expires = (u32)jiffies + lifetime * HZ;
	struct gecko_service *svc;
	struct gecko_binding *b;
	int ret;

	lockdep_assert_held(&gn->lock);
	svc = gecko_service_find(gn, &key->home);
	if (!svc) {
		NL_SET_ERR_MSG_MOD(extack, "no service for this address");
		return -ENOENT;
	}

	b = rhashtable_lookup_fast(&gn->bindings, key, binding_params);
	if (b) {
		WRITE_ONCE(b->state, state);
		WRITE_ONCE(b->seq, seq);
		WRITE_ONCE(b->expires, expires);
		due_by(gn, expires);
		return 0;
	}

	ret = gecko_limit_check(gn, GECKO_LIMITS_A_BINDINGS, atomic_read(&gn->bindings.nelems),
				extack);
	if (ret)
		return ret;
	b = kzalloc(sizeof(*b), GFP_KERNEL_ACCOUNT);
	if (!b) {
		NL_SET_ERR_MSG_MOD(extack, "out of memory for the binding");
		return -ENOMEM;
	}
	b->key = *key;
	b->state = state;
	b->seq = seq;
	b->expires = expires;
	ret = rhashtable_insert_fast(&gn->bindings, &b->node, binding_params);
	if (ret) {
		kfree(b);
		if (ret == -E2BIG)
			NL_SET_ERR_MSG_MOD(extack, "the binding table is full");
		else
			NL_SET_ERR_MSG_MOD(extack, "cannot insert the binding");
		return ret;
	}
	svc->bindings++;
	gn->generation++;
	due_by(gn, expires);
	return 0;
}

int gecko_binding_del(struct gecko_net *gn, const struct gecko_binding_key *key,
		      struct netlink_ext_ack *extack)
{
	struct gecko_binding *b;

	lockdep_assert_held(&gn->lock);
	b = rhashtable_lookup_fast(&gn->bindings, key, binding_params);
	if (!b) {
		NL_SET_ERR_MSG_MOD(extack, "no such binding");
		return -ENOENT;
	}
	unlink(gn, b);
	return 0;
}

/* Caller holds gn->lock. */
void gecko_bindings_flush_home(struct gecko_net *gn, const struct in6_addr *home)
{
	struct rhashtable_iter iter;
	struct gecko_binding *b;

	lockdep_assert_held(&gn->lock);
	rhashtable_walk_enter(&gn->bindings, &iter);
	rhashtable_walk_start(&iter);
	while ((b = rhashtable_walk_next(&iter))) {
		if (IS_ERR(b))	/* -EAGAIN: the table was resized; go on */
			continue;
		if (ipv6_addr_equal(&b->key.home, home))
			unlink(gn, b);
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
}

/*
 * Only once a binding may have expired (gn->bindings_due), and a batch at
 * a time, gn->lock let go between two: a walk over a million bindings
 * never holds the commands up for all of it. The walk resumes where it
 * stopped; one it misses as the table changes meanwhile goes at a later
 * walk, no lookup finding it meanwhile.
 */
void gecko_bindings_collect(struct gecko_net *gn)
{
	unsigned int removed = 0, seen = 0;
	struct rhashtable_iter iter;
	bool gone;
	struct gecko_binding *b;
	u32 due;

	mutex_lock(&gn->lock);
	if (time_before32((u32)jiffies, gn->bindings_due)) {
		mutex_unlock(&gn->lock);
		return;
	}
	/* What is set while the walk lets the lock go lowers it again. */
	gn->bindings_due = due = never();
	rhashtable_walk_enter(&gn->bindings, &iter);
	rhashtable_walk_start(&iter);
	while ((b = rhashtable_walk_next(&iter))) {
		if (IS_ERR(b))	/* -EAGAIN: the table was resized; go on */
			continue;
		gone = expired(b);
		if (gone) {
			unlink(gn, b);
			removed++;
		} else if (time_before32(b->expires, due)) {
			due = b->expires;	/* written under gn->lock, held here */
		}
		/*
		 * The walk resumes after the binding it returned last, found
		 * again in its bucket, or else after as many of the bucket's
		 * as it had returned: after one removed here, that would skip
		 * the next one. So it pauses after one it kept.
		 */
		if (++seen < COLLECT_BATCH || gone)
			continue;
		seen = 0;
		rhashtable_walk_stop(&iter);
		mutex_unlock(&gn->lock);
		cond_resched();
		mutex_lock(&gn->lock);
		rhashtable_walk_start(&iter);
	}
	rhashtable_walk_stop(&iter);
	due_by(gn, due);
	mutex_unlock(&gn->lock);
	rhashtable_walk_exit(&iter);
	gecko_counter_add(gn->net, GECKO_COUNTER_BINDINGS_EXPIRED, removed);
}

static void collect_work(struct work_struct *work)
{
	struct gecko_net *gn = container_of(to_delayed_work(work),
					    struct gecko_net, binding_gc);

	gecko_bindings_collect(gn);
	queue_delayed_work(system_power_efficient_wq, &gn->binding_gc, GC_INTERVAL);
}

int gecko_bindings_init(struct gecko_net *gn)
{
	int ret = rhashtable_init(&gn->bindings, &binding_params);

	if (ret)
		return ret;
	gn->bindings_due = never();
	INIT_DELAYED_WORK(&gn->binding_gc, collect_work);
	queue_delayed_work(system_power_efficient_wq, &gn->binding_gc, GC_INTERVAL);
	return 0;
}

static void free_binding(void *ptr, void *unused)
{
	kfree(ptr);
}

void gecko_bindings_uninit(struct gecko_net *gn)
{
	cancel_delayed_work_sync(&gn->binding_gc);
	/* The namespace is going away: no reader is left, RCU or not. */
	rhashtable_free_and_destroy(&gn->bindings, free_binding, NULL);
}
