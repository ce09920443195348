/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Freeze, capture, restore, thaw and drop: TCP sockets of G moved between
 * nodes with the kernel's own repair machinery (TCP_REPAIR), each step
 * documented with its command in the UAPI header.
 */

#ifndef _GECKO_SOCKSTATE_H
#define _GECKO_SOCKSTATE_H

#include <linux/types.h>

struct gecko_flow;
struct gecko_flow_key;
struct gecko_net;
struct in6_addr;
struct netlink_ext_ack;
struct socket;

/* The caller's IPv6 TCP socket @fd in @gn's namespace, for sockfd_put(); an ERR_PTR, saying why in @extack. */
struct socket *gecko_sock_lookup(struct gecko_net *gn, int fd, struct netlink_ext_ack *extack);

/* Commands on the caller's socket @fd; each takes gn->lock. */
int gecko_sock_freeze(struct gecko_net *gn, int fd, u32 timeout_ms,
		      struct netlink_ext_ack *extack);
/* The whole state of a frozen socket, for kvfree_sensitive(); @len set. */
u8 *gecko_sock_capture(struct gecko_net *gn, int fd, size_t *len,
		       struct netlink_ext_ack *extack);
/* @donor: the donor's care-of address, whose tunnelled packets are taken; or NULL. */
int gecko_sock_restore(struct gecko_net *gn, int fd, const u8 *hdr, size_t len,
		       u32 timeout_ms, const struct in6_addr *donor,
		       struct netlink_ext_ack *extack);
int gecko_sock_restore_data(struct gecko_net *gn, int fd, const u8 *data, size_t len,
			    struct netlink_ext_ack *extack);
int gecko_sock_thaw(struct gecko_net *gn, int fd, struct netlink_ext_ack *extack);
/*
 * The frozen socket's state left: the module will never thaw it by
 * itself. @forward: the care-of address of the acceptor that restored it,
 * which gets a copy of what the socket holds from now on; or NULL.
 */
int gecko_sock_commit(struct gecko_net *gn, int fd, u32 timeout_ms, const struct in6_addr *forward,
		      struct netlink_ext_ack *extack);
/* @forward: the acceptor's care-of address, where later packets go; or NULL. */
int gecko_sock_drop(struct gecko_net *gn, int fd, const struct in6_addr *forward,
		    struct netlink_ext_ack *extack);

/* The header of any established connection of G, flagged a snapshot. */
int gecko_sock_snapshot(struct gecko_net *gn, const struct gecko_flow_key *key, u8 *hdr,
			struct netlink_ext_ack *extack);

/*
 * A flow's time is up, or its service, namespace or module goes: a frozen
 * socket is thawed, a committed or restored one dropped (the flow is
 * MOVED), as flow.c's rules say. Caller holds gn->lock.
 */
void gecko_sock_expire(struct gecko_net *gn, struct gecko_flow *flow);

#if IS_ENABLED(CONFIG_GECKO_KUNIT_TEST)
struct gecko_tcp_state;
struct sock;

/*
 * What needs no connection, for tests/sockstate_test.c: reading a state,
 * copying its queues, a restored socket's congestion window.
 */
void gecko_sock_read_state(struct sock *sk, struct gecko_tcp_state *st);
int gecko_sock_copy_queues(struct sock *sk, const struct gecko_tcp_state *st, u8 *inq, u8 *outq);
void gecko_sock_open_window(struct sock *sk);
#endif

#endif /* _GECKO_SOCKSTATE_H */
