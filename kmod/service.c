// SPDX-License-Identifier: GPL-2.0-only
/*
 * Services. There are a handful per namespace, so a list read under RCU
 * suffices; the packet path looks them up by G.
 */

#include "service.h"
#include "binding.h"
#include "flow.h"
#include "hooks.h"
#include "limits.h"
#include "netns.h"

#include <linux/slab.h>
#include <net/ipv6.h>
#include <net/netlink.h>

bool gecko_addr_usable(const struct in6_addr *addr)
{
	int type = ipv6_addr_type(addr);

	return (type & IPV6_ADDR_UNICAST) &&
	       !(type & (IPV6_ADDR_LOOPBACK | IPV6_ADDR_LINKLOCAL |
			 IPV6_ADDR_MAPPED | IPV6_ADDR_SITELOCAL));
}

struct gecko_service *gecko_service_find(struct gecko_net *gn,
					 const struct in6_addr *home)
{
	struct gecko_service *svc;

	list_for_each_entry_rcu(svc, &gn->services, list,
				lockdep_is_held(&gn->lock))
		if (ipv6_addr_equal(&svc->home, home))
			return svc;
	return NULL;
}

int gecko_service_set(struct gecko_net *gn, const struct gecko_service *cfg,
		      struct netlink_ext_ack *extack)
{
	struct gecko_service *old, *svc;
	int ret;

	lockdep_assert_held(&gn->lock);
	old = gecko_service_find(gn, &cfg->home);
	/* Replacing one adds none. */
	if (!old) {
		ret = gecko_limit_check(gn, GECKO_LIMITS_A_SERVICES, gn->nr_services, extack);
		if (ret)
			return ret;
	}
	svc = kmemdup(cfg, sizeof(*cfg), GFP_KERNEL_ACCOUNT);
	if (!svc) {
		NL_SET_ERR_MSG_MOD(extack, "out of memory for the service");
		return -ENOMEM;
	}
	/* Readers on the packet path see the old service or the new one whole. */
	if (old) {
		svc->bindings = old->bindings;
		list_replace_rcu(&old->list, &svc->list);
		kfree_rcu(old, rcu);
	} else {
		ret = gecko_hooks_get(gn);
		if (ret) {
			kfree(svc);
			NL_SET_ERR_MSG_MOD(extack, "cannot register the netfilter hooks");
			return ret;
		}
		svc->bindings = 0;
		list_add_tail_rcu(&svc->list, &gn->services);
		WRITE_ONCE(gn->nr_services, gn->nr_services + 1);
	}
	return 0;
}

int gecko_service_del(struct gecko_net *gn, const struct in6_addr *home,
		      struct netlink_ext_ack *extack)
{
	struct gecko_service *svc;

	lockdep_assert_held(&gn->lock);
	svc = gecko_service_find(gn, home);
	if (!svc) {
		NL_SET_ERR_MSG_MOD(extack, "no service for this address");
		return -ENOENT;
	}
	gecko_flows_expire_home(gn, home);
	gecko_bindings_flush_home(gn, home);
	list_del_rcu(&svc->list);
	WRITE_ONCE(gn->nr_services, gn->nr_services - 1);
	gecko_hooks_put(gn);
	kfree_rcu(svc, rcu);
	return 0;
}

void gecko_services_flush(struct gecko_net *gn)
{
	struct gecko_service *svc, *tmp;

	mutex_lock(&gn->lock);
	list_for_each_entry_safe(svc, tmp, &gn->services, list) {
		list_del_rcu(&svc->list);
		WRITE_ONCE(gn->nr_services, gn->nr_services - 1);
		gecko_hooks_put(gn);
		kfree_rcu(svc, rcu);
	}
	mutex_unlock(&gn->lock);
}
