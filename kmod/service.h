/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Services: the global addresses G this node serves, with its care-of
 * address, the contact node's and the home agent's.
 */

#ifndef _GECKO_SERVICE_H
#define _GECKO_SERVICE_H

#include <linux/in6.h>
#include <linux/list.h>
#include <linux/rcupdate.h>
#include <linux/rhashtable-types.h>
#include <linux/types.h>

struct gecko_net;
struct netlink_ext_ack;

struct gecko_service {
	struct list_head list;		/* in gecko_net.services */
	struct rhash_head node;		/* in gecko_net.services_by_home */
	struct in6_addr home;		/* G */
	struct in6_addr coa;		/* this node's care-of address */
	struct in6_addr contact_coa;
	struct in6_addr ha;		/* :: when unknown */
	u32 flags;			/* enum gecko_service_flag */
	unsigned int bindings;		/* under gecko_net.lock */
	struct rcu_head rcu;
};

/* Creates or replaces the service for @cfg->home. Caller holds gn->lock. */
int gecko_service_set(struct gecko_net *gn, const struct gecko_service *cfg,
		      struct netlink_ext_ack *extack);
/* Removes the service for @home and its bindings. Caller holds gn->lock. */
int gecko_service_del(struct gecko_net *gn, const struct in6_addr *home,
		      struct netlink_ext_ack *extack);
/* Under gn->lock or rcu_read_lock(). */
struct gecko_service *gecko_service_find(struct gecko_net *gn,
					 const struct in6_addr *home);
/* Whether @addr is a service's care-of address. Under rcu_read_lock(). */
bool gecko_service_coa(struct gecko_net *gn, const struct in6_addr *addr);

int gecko_services_init(struct gecko_net *gn);
/* Frees every service and the tables; the namespace is going away. */
void gecko_services_uninit(struct gecko_net *gn);

/* Whether @addr may name a node or a service (see the UAPI header). */
bool gecko_addr_usable(const struct in6_addr *addr);

#endif /* _GECKO_SERVICE_H */
