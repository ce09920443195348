/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Bindings: per (G, client), whether the client sends to this node, the
 * sequence number of its latest Binding Update and when it expires. Read
 * lock-free under RCU by the packet path.
 */

#ifndef _GECKO_BINDING_H
#define _GECKO_BINDING_H

#include <linux/in6.h>
#include <linux/rhashtable-types.h>
#include <linux/types.h>

struct gecko_net;
struct netlink_ext_ack;

struct gecko_binding_key {
	struct in6_addr home;	/* G */
	struct in6_addr peer;	/* the client */
};

/*
 * 64 octets, one kmalloc-64 object each. The expiry keeps the low 32 bits
 * of jiffies: a lifetime is GECKO_BINDING_MAX_LIFETIME at most and an
 * expired binding goes at the next collection (GC_INTERVAL), both far
 * inside the 24 days (at HZ=1000) after which they would wrap.
 */
struct gecko_binding {
	struct rhash_head node;
	struct gecko_binding_key key;
	/* Changed in place under gecko_net.lock, read with READ_ONCE(). */
	u8 state;		/* enum gecko_binding_state */
	u16 seq;
	u32 expires;		/* jiffies, low 32 bits */
	struct rcu_head rcu;
};

int gecko_bindings_init(struct gecko_net *gn);
void gecko_bindings_uninit(struct gecko_net *gn);

/* Caller holds gn->lock; the service for @key->home must exist. */
int gecko_binding_set(struct gecko_net *gn, const struct gecko_binding_key *key,
		      u8 state, u16 seq, u32 lifetime,
		      struct netlink_ext_ack *extack);
int gecko_binding_del(struct gecko_net *gn, const struct gecko_binding_key *key,
		      struct netlink_ext_ack *extack);
void gecko_bindings_flush_home(struct gecko_net *gn, const struct in6_addr *home);

/* Under rcu_read_lock(); NULL when absent or expired. */
struct gecko_binding *gecko_binding_lookup(struct gecko_net *gn,
					   const struct gecko_binding_key *key);

/* Seconds left, 0 once expired. */
u32 gecko_binding_lifetime_left(const struct gecko_binding *b);

/* Removes expired bindings now; the periodic collection calls it too. */
void gecko_bindings_collect(struct gecko_net *gn);

#endif /* _GECKO_BINDING_H */
