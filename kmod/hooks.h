/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The netfilter hooks of route optimisation: type 2 routing header in,
 * Home Address option out, MSS clamping. Registered in a namespace only
 * while it has services.
 */

#ifndef _GECKO_HOOKS_H
#define _GECKO_HOOKS_H

struct gecko_net;

/* Caller holds gn->lock. */
int gecko_hooks_get(struct gecko_net *gn);
void gecko_hooks_put(struct gecko_net *gn);

#endif /* _GECKO_HOOKS_H */
