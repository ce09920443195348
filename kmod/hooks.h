/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The netfilter hooks of route optimisation: type 2 routing header in,
 * Home Address option out, MSS clamping. Registered in a namespace only
 * while it has services.
 */

#ifndef _GECKO_HOOKS_H
#define _GECKO_HOOKS_H

struct gecko_net;

/* A service comes (get) or goes (put): the first registers the hooks, the last not. Caller holds gn->lock. */
int gecko_hooks_get(struct gecko_net *gn);
void gecko_hooks_put(struct gecko_net *gn);
/* The namespace's state goes: the hooks go first (netns.c). */
void gecko_hooks_uninit(struct gecko_net *gn);

#if IS_ENABLED(CONFIG_GECKO_KUNIT_TEST)
struct nf_hook_state;
struct sk_buff;

/* The hooks as netfilter calls them, for tests/hooks_test.c. */
unsigned int gecko_hooks_rh2_in(struct sk_buff *skb, const struct nf_hook_state *state);
unsigned int gecko_hooks_hao_out(struct sk_buff *skb, const struct nf_hook_state *state);
#endif

#endif /* _GECKO_HOOKS_H */
