/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Flows: the TCP connections of G that are frozen, being restored, or
 * were handed off from here. The hooks hold back the packets that arrive
 * for the first kind, drop what their sockets would send, and drop the
 * packets of the last kind instead of letting the stack reset them.
 */

#ifndef _GECKO_FLOW_H
#define _GECKO_FLOW_H

#include "tcpstate.h"

#include <linux/in6.h>
#include <linux/list.h>
#include <linux/rhashtable-types.h>
#include <linux/skbuff.h>
#include <linux/types.h>

struct gecko_net;
struct sock;

struct gecko_flow_key {
	struct in6_addr local;	/* G */
	struct in6_addr remote;	/* the client */
	__be16 local_port;
	__be16 remote_port;
};

struct gecko_flow {
	struct rhash_head node;
	struct list_head list;		/* in gecko_net.flows, under its lock */
	struct gecko_flow_key key;
	/*
	 * enum gecko_flow_state. Changed under gecko_net.lock and held.lock:
	 * the hooks read it under held.lock before they hold a packet.
	 */
	u8 state;
	struct sock *sk;		/* a reference, until the flow is MOVED */
	struct sk_buff_head held;
	unsigned long expires;		/* jiffies */
	/* Once MOVED: where its packets go, inside a header from fwd_src. */
	bool forward;
	struct in6_addr fwd_src;	/* this node's care-of address */
	struct in6_addr fwd_dst;	/* the acceptor's */
	/* While RESTORING: the state, and the queue octets still to come. */
	struct gecko_tcp_state st;
	u32 inq_left;
	u32 sent_left;
	u32 unsent_left;
	/* While RESTORING and RESTORED: the octets never sent (st.unsq_len), queued at the thaw. */
	u8 *unsent;
	struct rcu_head rcu;
};

int gecko_flows_init(struct gecko_net *gn);
/* Thaws, drops and forgets every flow: the namespace or module goes. */
void gecko_flows_uninit(struct gecko_net *gn);

/* The service for @home goes: its flows are thawed, dropped or forgotten. */
void gecko_flows_expire_home(struct gecko_net *gn, const struct in6_addr *home);

void gecko_flow_key_of(const struct sock *sk, struct gecko_flow_key *key);

/* Caller holds gn->lock. */
struct gecko_flow *gecko_flow_find(struct gecko_net *gn, const struct gecko_flow_key *key);

/*
 * Adds a flow for @sk (a reference is taken) in @state, acted on by the
 * module @timeout_ms from now, replacing a MOVED one for the same
 * connection. Caller holds gn->lock.
 */
struct gecko_flow *gecko_flow_add(struct gecko_net *gn, const struct gecko_flow_key *key,
				  struct sock *sk, u8 state, u32 timeout_ms);

/* Changes @flow's state, in step with the hooks. */
void gecko_flow_set_state(struct gecko_flow *flow, u8 state);

/* Stops holding packets; those held are now @list's. Caller holds gn->lock. */
void gecko_flow_release(struct gecko_flow *flow, struct sk_buff_head *list);

/* Forgets the flow, its held packets and its socket. Caller holds gn->lock. */
void gecko_flow_remove(struct gecko_net *gn, struct gecko_flow *flow);

/*
 * The socket is gone from here: for a while its packets, those held
 * included, go from @src to the acceptor's care-of address @dst, or are
 * dropped when @dst is NULL. Caller holds gn->lock.
 */
void gecko_flow_moved(struct gecko_net *gn, struct gecko_flow *flow,
		      const struct in6_addr *src, const struct in6_addr *dst);

/* Delivers packets gecko_flow_release() gave, as if they arrived now. */
void gecko_flow_reinject(struct gecko_net *gn, struct sk_buff_head *list);

/* Re-arms the collection for a flow's new deadline. */
void gecko_flows_schedule(struct gecko_net *gn);

/*
 * The hooks' part, under RCU: a packet of G's TCP connection @key coming
 * in (NF_ACCEPT, NF_DROP, or NF_STOLEN when held) or going out (whether
 * to drop it).
 */
unsigned int gecko_flow_in(struct gecko_net *gn, struct sk_buff *skb,
			   const struct gecko_flow_key *key);
bool gecko_flow_out_blocked(struct gecko_net *gn, const struct gecko_flow_key *key);

#endif /* _GECKO_FLOW_H */
