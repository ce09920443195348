/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Flows: the TCP connections of G that are frozen, committed, being
 * restored, or were handed off from here or to here lately. The hooks
 * hold back the packets that arrive for the first kinds, drop what their
 * sockets would send, drop (or pass on) the packets of a connection that
 * left instead of letting the stack reset them, and take a connection's
 * packets out of the tunnel from its donor. What each state does is
 * written once, in flow.c's table.
 */

#ifndef _GECKO_FLOW_H
#define _GECKO_FLOW_H

#include "probe.h"
#include "tcpstate.h"

#include <linux/in6.h>
#include <linux/list.h>
#include <linux/rhashtable-types.h>
#include <linux/skbuff.h>
#include <linux/types.h>

struct gecko_net;
struct netlink_ext_ack;
struct sock;

/*
 * Thawed, its held packets being delivered; what arrives meanwhile queues
 * behind them. Set and left under gecko_net.lock, which dumps take, so it
 * is never reported and has no UAPI value.
 */
#define GECKO_FLOW_DRAINING 31

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
	 * enum gecko_flow_state or GECKO_FLOW_DRAINING. Changed under
	 * gecko_net.lock and held.lock: the hooks read it under held.lock
	 * before they hold a packet.
	 */
	u8 state;
	/* Set before the flow is in the table, then fixed: the hooks read them. */
	bool has_donor;
	struct in6_addr donor;		/* its donor's care-of address */
	/* A reference, until the flow is MOVED, or ARRIVED unless recovered. */
	struct sock *sk;
	/*
	 * Restored from a snapshot at its client's numbers (set while
	 * RESTORING): once ARRIVED, what the client acknowledges past what
	 * the socket sent is lowered to it (gecko_flow_in()), and the flow
	 * stays until the socket sent all of it.
	 */
	bool recovered;
	/* Once ARRIVED: whether one was lowered, and the highest (under held.lock). */
	bool lowered;
	u32 acked;
	u8 reuse;			/* its SO_REUSEADDR, which leaving repair mode clears */
	struct sk_buff_head held;
	unsigned long expires;		/* jiffies */
	/*
	 * Once MOVED, or COMMITTED and passed on: where its packets go (copies
	 * of those it holds), inside a header from fwd_src. Set under
	 * held.lock, the addresses first, then fixed: the hooks read them.
	 */
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
	/* While PROBING: probes sent (under gecko_net.lock), and the last answer (under held.lock). */
	u32 probes;
	bool answered;
	struct gecko_probe_seg answer;
	unsigned long answered_at;	/* jiffies */
	struct rcu_head rcu;
};

/* What the module does with a flow whose time is up. */
enum gecko_flow_expiry {
	GECKO_FLOW_KEEP,	/* nothing: it has no deadline of its own */
	GECKO_FLOW_THAW,	/* its socket resumes: nobody else has its state */
	GECKO_FLOW_DROP,	/* its socket is dropped silently: it may run elsewhere */
	GECKO_FLOW_FORGET,	/* it is forgotten: it has no socket */
};

/* What a state means; flow.c's table has one per state. */
struct gecko_flow_rule {
	bool hold;		/* packets coming in are held back */
	bool block_out;		/* what its socket would send is dropped */
	bool decap;		/* its donor's packets are taken out of their tunnel */
	bool replaceable;	/* a freeze or restore of the connection replaces it */
	bool probe;		/* packets coming in answer a probe: noted, then dropped */
	enum gecko_flow_expiry expiry;
};

const struct gecko_flow_rule *gecko_flow_rule(u8 state);

int gecko_flows_init(struct gecko_net *gn);
/* Thaws, drops and forgets every flow: the namespace or module goes. */
void gecko_flows_uninit(struct gecko_net *gn);

/* The service for @home goes: its flows are thawed, dropped or forgotten. */
void gecko_flows_expire_home(struct gecko_net *gn, const struct in6_addr *home);

void gecko_flow_key_of(const struct sock *sk, struct gecko_flow_key *key);

/* Caller holds gn->lock. */
struct gecko_flow *gecko_flow_find(struct gecko_net *gn, const struct gecko_flow_key *key);

/*
 * Adds a flow for @sk (a reference is taken; none for a PROBING flow) in @state, acted on by the
 * module @timeout_ms from now, with the donor @donor if not NULL,
 * replacing a MOVED or ARRIVED one for the same connection. -EEXIST if
 * another is there, -ENOSPC past the namespace's limit of flows, each
 * with its message. Caller holds gn->lock.
 */
struct gecko_flow *gecko_flow_add(struct gecko_net *gn, const struct gecko_flow_key *key,
				  struct sock *sk, u8 state, u32 timeout_ms,
				  const struct in6_addr *donor, struct netlink_ext_ack *extack);

/* Changes @flow's state, in step with the hooks. */
void gecko_flow_set_state(struct gecko_flow *flow, u8 state);

/* Sets when the module acts on @flow by itself. Caller holds gn->lock. */
void gecko_flow_set_timeout(struct gecko_net *gn, struct gecko_flow *flow, u32 timeout_ms);

/*
 * -EBUSY, with its message, if @flow's packets go to another acceptor
 * than @dst already. Caller holds gn->lock.
 */
int gecko_flow_check_acceptor(const struct gecko_flow *flow, const struct in6_addr *dst,
			      struct netlink_ext_ack *extack);

/*
 * From now on a copy of each packet @flow, COMMITTED, holds goes to the
 * acceptor's care-of address @dst from @src, those it holds now first;
 * the packets stay held, for a thaw. -EBUSY, with its message, if they go
 * to another acceptor already. Caller holds gn->lock.
 */
int gecko_flow_pass_on(struct gecko_net *gn, struct gecko_flow *flow, const struct in6_addr *src,
		       const struct in6_addr *dst, struct netlink_ext_ack *extack);

/* Forgets the flow, its held packets and its socket. Caller holds gn->lock. */
void gecko_flow_remove(struct gecko_net *gn, struct gecko_flow *flow);

/*
 * The socket is gone from here: for a while its packets, those held
 * included (unless passed on already: their copies went), go from @src to
 * the acceptor's care-of address @dst, or are dropped when @dst is NULL.
 * A flow passed on keeps its acceptor. Caller holds gn->lock.
 */
void gecko_flow_moved(struct gecko_net *gn, struct gecko_flow *flow,
		      const struct in6_addr *src, const struct in6_addr *dst);

/*
 * The socket of @flow, DRAINING, runs again: the packets held for it are
 * delivered, oldest first, each through the receive path before the next,
 * and those arriving meanwhile after them. Then the flow is forgotten, or
 * ARRIVED if it has a donor (keeping its socket if recovered). Caller
 * holds gn->lock.
 */
void gecko_flow_resume(struct gecko_net *gn, struct gecko_flow *flow);

/* Re-arms the collection for a flow's new deadline. */
void gecko_flows_schedule(struct gecko_net *gn);

/*
 * The hooks' part, under RCU: a packet of G's TCP connection @key coming
 * in, its TCP header at @thoff (NF_ACCEPT, NF_DROP, or NF_STOLEN when
 * held) or going out (whether to drop it), and whether a packet of @key
 * that @outer_src passed on inside an IPv6 header is to be taken out of it.
 */
unsigned int gecko_flow_in(struct gecko_net *gn, struct sk_buff *skb, unsigned int thoff,
			   const struct gecko_flow_key *key);
bool gecko_flow_out_blocked(struct gecko_net *gn, const struct gecko_flow_key *key);
bool gecko_flow_decap_ok(struct gecko_net *gn, const struct gecko_flow_key *key,
			 const struct in6_addr *outer_src);

#endif /* _GECKO_FLOW_H */
