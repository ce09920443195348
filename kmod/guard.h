/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guarded connections: a program's connections of G that end without a
 * word when the program dies, so that its backup can take them over. See
 * GECKO_CMD_SOCK_GUARD in the UAPI header.
 */

#ifndef _GECKO_GUARD_H
#define _GECKO_GUARD_H

struct gecko_net;
struct netlink_ext_ack;

/* How often the guarded sockets are checked for a dead owner. */
#define GECKO_GUARD_INTERVAL_MS 200

void gecko_guards_init(struct gecko_net *gn);
/* GECKO_CMD_SOCK_GUARD on the caller's socket @fd. */
int gecko_sock_guard(struct gecko_net *gn, int fd, struct netlink_ext_ack *extack);
/* Releases every guard, the sockets left as their owners have them; the checks stop. */
void gecko_guards_uninit(struct gecko_net *gn);

#endif /* _GECKO_GUARD_H */
