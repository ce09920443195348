/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The generic netlink family "gecko" (include/uapi/linux/gecko.h).
 */

#ifndef _GECKO_NETLINK_H
#define _GECKO_NETLINK_H

#include <net/netlink.h>
#include <uapi/linux/gecko.h>

struct net;
struct sk_buff;

extern const struct nla_policy gecko_genl_policy[GECKO_A_MAX + 1];

int gecko_genl_init(void);
void gecko_genl_uninit(void);

int gecko_info_fill(struct sk_buff *skb, struct net *net);

#endif /* _GECKO_NETLINK_H */
