// SPDX-License-Identifier: GPL-2.0-only
/*
 * Services. The packet path finds one by G, and whether an address is a
 * care-of address, in two rhashtables: a namespace may hold thousands of
 * services, and services may share a care-of address, so the second one
 * counts the services at each. The list keeps them in order for dumps.
 * Readers use RCU; changes hold gecko_net.lock.
 */

#include "service.h"
#include "binding.h"
#include "flow.h"
#include "hooks.h"
#include "limits.h"
#include "netns.h"

#include <linux/rhashtable.h>
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

/* A care-of address and how many services have it. */
struct gecko_coa {
	struct rhash_head node;
	struct in6_addr addr;
	unsigned int services;		/* under gecko_net.lock */
	struct rcu_head rcu;
};

static const struct rhashtable_params service_params = {
	.key_len = sizeof(struct in6_addr),
	.key_offset = offsetof(struct gecko_service, home),
	.head_offset = offsetof(struct gecko_service, node),
	.automatic_shrinking = true,
	.max_size = GECKO_LIMIT_SERVICES_MAX,
};

static const struct rhashtable_params coa_params = {
	.key_len = sizeof(struct in6_addr),
	.key_offset = offsetof(struct gecko_coa, addr),
	.head_offset = offsetof(struct gecko_coa, node),
	.automatic_shrinking = true,
	.max_size = GECKO_LIMIT_SERVICES_MAX,
};

struct gecko_service *gecko_service_find(struct gecko_net *gn,
					 const struct in6_addr *home)
{
	return rhashtable_lookup_fast(&gn->services_by_home, home, service_params);
}

bool gecko_service_coa(struct gecko_net *gn, const struct in6_addr *addr)
{
	return rhashtable_lookup_fast(&gn->coas, addr, coa_params);
}

/* One more service at @addr. */
static int coa_get(struct gecko_net *gn, const struct in6_addr *addr)
{
	struct gecko_coa *coa = rhashtable_lookup_fast(&gn->coas, addr, coa_params);
	int ret;

	if (coa) {
		coa->services++;
		return 0;
	}
	coa = kzalloc(sizeof(*coa), GFP_KERNEL_ACCOUNT);
	if (!coa)
		return -ENOMEM;
	coa->addr = *addr;
	coa->services = 1;
	ret = rhashtable_insert_fast(&gn->coas, &coa->node, coa_params);
	if (ret)
		kfree(coa);
	return ret;
}

/* One service fewer at @addr, which coa_get() counted. */
static void coa_put(struct gecko_net *gn, const struct in6_addr *addr)
{
	struct gecko_coa *coa = rhashtable_lookup_fast(&gn->coas, addr, coa_params);

	if (WARN_ON_ONCE(!coa) || --coa->services)
		return;
	rhashtable_remove_fast(&gn->coas, &coa->node, coa_params);
	kfree_rcu(coa, rcu);
}

static void service_unlink(struct gecko_net *gn, struct gecko_service *svc)
{
	rhashtable_remove_fast(&gn->services_by_home, &svc->node, service_params);
	coa_put(gn, &svc->coa);
	list_del_rcu(&svc->list);
	WRITE_ONCE(gn->nr_services, gn->nr_services - 1);
	gecko_hooks_put(gn);
	kfree_rcu(svc, rcu);
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
	ret = coa_get(gn, &svc->coa);
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "out of memory for the service's care-of address");
		goto err_coa;
	}
	/* Readers on the packet path see the old service or the new one whole. */
	if (old) {
		ret = rhashtable_replace_fast(&gn->services_by_home, &old->node, &svc->node,
					      service_params);
		if (WARN_ON_ONCE(ret))
			goto err_table;
		coa_put(gn, &old->coa);
		svc->bindings = old->bindings;
		list_replace_rcu(&old->list, &svc->list);
		kfree_rcu(old, rcu);
		return 0;
	}
	ret = rhashtable_insert_fast(&gn->services_by_home, &svc->node, service_params);
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "out of memory for the service");
		goto err_table;
	}
	ret = gecko_hooks_get(gn);
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "cannot register the netfilter hooks");
		goto err_hooks;
	}
	svc->bindings = 0;
	list_add_tail_rcu(&svc->list, &gn->services);
	WRITE_ONCE(gn->nr_services, gn->nr_services + 1);
	return 0;

err_hooks:
	rhashtable_remove_fast(&gn->services_by_home, &svc->node, service_params);
err_table:
	coa_put(gn, &svc->coa);
err_coa:
	/* A lookup may have found it in the table meanwhile. */
	kfree_rcu(svc, rcu);
	return ret;
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
	service_unlink(gn, svc);
	return 0;
}

int gecko_services_init(struct gecko_net *gn)
{
	int ret;

	INIT_LIST_HEAD(&gn->services);
	ret = rhashtable_init(&gn->services_by_home, &service_params);
	if (ret)
		return ret;
	ret = rhashtable_init(&gn->coas, &coa_params);
	if (ret)
		rhashtable_destroy(&gn->services_by_home);
	return ret;
}

void gecko_services_uninit(struct gecko_net *gn)
{
	struct gecko_service *svc, *tmp;

	mutex_lock(&gn->lock);
	list_for_each_entry_safe(svc, tmp, &gn->services, list)
		service_unlink(gn, svc);
	mutex_unlock(&gn->lock);
	/* Empty now; what they held is freed after a grace period. */
	rhashtable_destroy(&gn->services_by_home);
	rhashtable_destroy(&gn->coas);
}
