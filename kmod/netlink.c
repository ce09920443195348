// SPDX-License-Identifier: GPL-2.0-only
/*
 * The generic netlink family: policies, commands and their replies. Each
 * command is documented in include/uapi/linux/gecko.h.
 */

#include "netlink.h"
#include "binding.h"
#include "flow.h"
#include "guard.h"
#include "limits.h"
#include "netns.h"
#include "probe.h"
#include "service.h"
#include "sockstate.h"
#include "version.h"

#include <linux/rhashtable.h>
#include <net/genetlink.h>
#include <net/ipv6.h>

/* Reply-only attributes are refused in requests, with a message saying so. */
#define REPLY_ONLY { .type = NLA_REJECT, .reject_message = "attribute is reply-only" }

#define ADDRESS NLA_POLICY_EXACT_LEN(sizeof(struct in6_addr))

static const struct nla_policy service_policy[GECKO_SERVICE_A_MAX + 1] = {
	[GECKO_SERVICE_A_HOME] = ADDRESS,
	[GECKO_SERVICE_A_COA] = ADDRESS,
	[GECKO_SERVICE_A_CONTACT_COA] = ADDRESS,
	[GECKO_SERVICE_A_HA] = ADDRESS,
	[GECKO_SERVICE_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, __GECKO_SERVICE_F_ALL),
	[GECKO_SERVICE_A_BINDINGS] = REPLY_ONLY,
};

static const struct nla_policy binding_policy[GECKO_BINDING_A_MAX + 1] = {
	[GECKO_BINDING_A_HOME] = ADDRESS,
	[GECKO_BINDING_A_PEER] = ADDRESS,
	[GECKO_BINDING_A_STATE] = NLA_POLICY_RANGE(NLA_U8, GECKO_BINDING_PENDING,
						   GECKO_BINDING_STATE_MAX),
	[GECKO_BINDING_A_SEQ] = { .type = NLA_U16 },
	[GECKO_BINDING_A_LIFETIME] = NLA_POLICY_RANGE(NLA_U32, 1,
						      GECKO_BINDING_MAX_LIFETIME),
};

static struct netlink_range_validation timeout_range = {
	.min = 100,
	.max = 600000,
};

static const struct nla_policy probe_policy[GECKO_PROBE_A_MAX + 1] = {
	[GECKO_PROBE_A_SEQ] = { .type = NLA_U32 },
	[GECKO_PROBE_A_ACK] = { .type = NLA_U32 },
	[GECKO_PROBE_A_WINDOW] = { .type = NLA_U16 },
	[GECKO_PROBE_A_TSVAL] = { .type = NLA_U32 },
	[GECKO_PROBE_A_TSECR] = { .type = NLA_U32 },
	[GECKO_PROBE_A_FLAGS] = REPLY_ONLY,
	[GECKO_PROBE_A_AGE] = REPLY_ONLY,
	[GECKO_PROBE_A_SENT] = REPLY_ONLY,
};

static const struct nla_policy sock_policy[GECKO_SOCK_A_MAX + 1] = {
	[GECKO_SOCK_A_FD] = { .type = NLA_U32 },
	[GECKO_SOCK_A_TIMEOUT] = NLA_POLICY_FULL_RANGE(NLA_U32, &timeout_range),
	[GECKO_SOCK_A_DATA] = { .type = NLA_BINARY, .len = GECKO_SOCK_DATA_MAX },
	[GECKO_SOCK_A_LENGTH] = REPLY_ONLY,
	[GECKO_SOCK_A_LOCAL] = ADDRESS,
	[GECKO_SOCK_A_LOCAL_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[GECKO_SOCK_A_REMOTE] = ADDRESS,
	[GECKO_SOCK_A_REMOTE_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[GECKO_SOCK_A_FLOW] = REPLY_ONLY,
	[GECKO_SOCK_A_HELD] = REPLY_ONLY,
	[GECKO_SOCK_A_FORWARD] = ADDRESS,
	[GECKO_SOCK_A_DONOR] = ADDRESS,
	[GECKO_SOCK_A_PROBE] = NLA_POLICY_NESTED(probe_policy),
};

static struct netlink_range_validation services_range = { .max = GECKO_LIMIT_SERVICES_MAX };
static struct netlink_range_validation bindings_range = { .max = GECKO_LIMIT_BINDINGS_MAX };
static struct netlink_range_validation flows_range = { .max = GECKO_LIMIT_FLOWS_MAX };
static struct netlink_range_validation held_range = { .max = GECKO_LIMIT_HELD_MAX };

static const struct nla_policy limits_policy[GECKO_LIMITS_A_MAX + 1] = {
	[GECKO_LIMITS_A_SERVICES] = NLA_POLICY_FULL_RANGE(NLA_U32, &services_range),
	[GECKO_LIMITS_A_BINDINGS] = NLA_POLICY_FULL_RANGE(NLA_U32, &bindings_range),
	[GECKO_LIMITS_A_FLOWS] = NLA_POLICY_FULL_RANGE(NLA_U32, &flows_range),
	[GECKO_LIMITS_A_HELD] = NLA_POLICY_FULL_RANGE(NLA_U32, &held_range),
	[GECKO_LIMITS_A_SERVICES_USED] = REPLY_ONLY,
	[GECKO_LIMITS_A_BINDINGS_USED] = REPLY_ONLY,
	[GECKO_LIMITS_A_FLOWS_USED] = REPLY_ONLY,
	[GECKO_LIMITS_A_HELD_USED] = REPLY_ONLY,
};

const struct nla_policy gecko_genl_policy[GECKO_A_MAX + 1] = {
	[GECKO_A_PAD] = REPLY_ONLY,
	[GECKO_A_MODULE_VERSION] = REPLY_ONLY,
	[GECKO_A_PROTOCOL_VERSION] = REPLY_ONLY,
	[GECKO_A_FEATURES] = REPLY_ONLY,
	[GECKO_A_COUNTERS] = REPLY_ONLY,
	[GECKO_A_SERVICE] = NLA_POLICY_NESTED(service_policy),
	[GECKO_A_BINDING] = NLA_POLICY_NESTED(binding_policy),
	[GECKO_A_SOCK] = NLA_POLICY_NESTED(sock_policy),
	[GECKO_A_LIMITS] = NLA_POLICY_NESTED(limits_policy),
};

static struct genl_family gecko_genl_family;

/**
 * gecko_info_fill - put the GECKO_CMD_GET_INFO reply attributes in @skb
 * @skb: the message being built
 * @net: the namespace whose counters are reported
 *
 * Return: 0, or -EMSGSIZE with @skb left as it was.
 */
int gecko_info_fill(struct sk_buff *skb, struct net *net)
{
	void *start = skb_tail_pointer(skb);
	u64 ctr[__GECKO_COUNTER_LAST];
	struct nlattr *nest;
	int i;

	if (nla_put_string(skb, GECKO_A_MODULE_VERSION, GECKO_VERSION) ||
	    nla_put_u32(skb, GECKO_A_PROTOCOL_VERSION, GECKO_GENL_VERSION) ||
	    nla_put_u64_64bit(skb, GECKO_A_FEATURES, __GECKO_FEATURE_ALL,
			      GECKO_A_PAD))
		goto err;

	nest = nla_nest_start(skb, GECKO_A_COUNTERS);
	if (!nest)
		goto err;
	gecko_counters_read(net, ctr);
	for (i = GECKO_COUNTER_PAD + 1; i < __GECKO_COUNTER_LAST; i++)
		if (nla_put_u64_64bit(skb, i, ctr[i], GECKO_COUNTER_PAD))
			goto err;
	nla_nest_end(skb, nest);
	return 0;

err:
	nlmsg_trim(skb, start);
	return -EMSGSIZE;
}

/* Sends the reply @fill makes of @obj, in a message of @cmd. */
static int reply(struct genl_info *info, u8 cmd,
		 int (*fill)(struct sk_buff *, const void *), const void *obj)
{
	struct sk_buff *msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	void *hdr;
	int ret;

	if (!msg) {
		NL_SET_ERR_MSG_MOD(info->extack, "out of memory for the reply");
		return -ENOMEM;
	}
	hdr = genlmsg_put_reply(msg, info, &gecko_genl_family, 0, cmd);
	if (!hdr || fill(msg, obj)) {
		nlmsg_free(msg);
		NL_SET_ERR_MSG_MOD(info->extack, "reply does not fit in a message");
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	ret = genlmsg_reply(msg, info);
	if (ret)
		NL_SET_ERR_MSG_MOD(info->extack, "cannot send the reply");
	return ret;
}

static int info_fill_any(struct sk_buff *skb, const void *net)
{
	return gecko_info_fill(skb, (struct net *)net);
}

static int get_info(struct sk_buff *skb, struct genl_info *info)
{
	return reply(info, GECKO_CMD_GET_INFO, info_fill_any, genl_info_net(info));
}

/*
 * Required attributes: a refusal names the one missing, in the extended
 * ACK's message and its missing-attribute fields.
 */
#define ATTR(type) type, "missing attribute " #type

static int require(struct genl_info *info, struct nlattr *nest, struct nlattr **tb,
		   int type, const char *msg)
{
	if (tb[type])
		return 0;
	NL_SET_ERR_ATTR_MISS(info->extack, nest, type);
	if (info->extack)
		info->extack->_msg = msg;	/* a literal, from ATTR() */
	return -EINVAL;
}

/* Parses the nest @attr of @info, which must be there, with @policy. */
static int parse_nest(struct genl_info *info, int attr, const char *msg, struct nlattr **tb,
		      int maxtype, const struct nla_policy *policy)
{
	int ret = require(info, NULL, info->attrs, attr, msg);

	return ret ?: nla_parse_nested(tb, maxtype, info->attrs[attr], policy, info->extack);
}

/* Reads the address in @tb[@type] into @addr; it must be there and usable. */
static int get_addr(struct genl_info *info, struct nlattr *nest, struct nlattr **tb,
		    int type, const char *msg, struct in6_addr *addr)
{
	int ret = require(info, nest, tb, type, msg);

	if (ret)
		return ret;
	*addr = nla_get_in6_addr(tb[type]);
	if (!gecko_addr_usable(addr)) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[type],
				    "not a global or unique-local unicast address");
		return -EINVAL;
	}
	return 0;
}

/*
 * The address in @tb[@type] of the GECKO_A_SOCK nest, if there, into @buf:
 * *@addr is @buf then, NULL without it.
 */
static int get_sock_addr(struct genl_info *info, struct nlattr **tb, int type,
			 struct in6_addr *buf, const struct in6_addr **addr)
{
	*addr = tb[type] ? buf : NULL;
	return tb[type] ? get_addr(info, info->attrs[GECKO_A_SOCK], tb, type, NULL, buf) : 0;
}

static int service_set(struct sk_buff *skb, struct genl_info *info)
{
	struct gecko_net *gn = gecko_net(genl_info_net(info));
	struct nlattr *tb[GECKO_SERVICE_A_MAX + 1], *nest;
	struct gecko_service cfg = {};
	int ret;

	ret = parse_nest(info, ATTR(GECKO_A_SERVICE), tb, GECKO_SERVICE_A_MAX, service_policy);
	if (ret)
		return ret;
	nest = info->attrs[GECKO_A_SERVICE];
	if (tb[GECKO_SERVICE_A_FLAGS])
		cfg.flags = nla_get_u32(tb[GECKO_SERVICE_A_FLAGS]);
	ret = get_addr(info, nest, tb, ATTR(GECKO_SERVICE_A_HOME), &cfg.home) ?:
	      get_addr(info, nest, tb, ATTR(GECKO_SERVICE_A_COA), &cfg.coa) ?:
	      get_addr(info, nest, tb, ATTR(GECKO_SERVICE_A_CONTACT_COA), &cfg.contact_coa);
	if (ret)
		return ret;
	if (tb[GECKO_SERVICE_A_HA] || (cfg.flags & GECKO_SERVICE_F_CONTACT)) {
		ret = get_addr(info, nest, tb, ATTR(GECKO_SERVICE_A_HA), &cfg.ha);
		if (ret)
			return ret;
	}
	if (ipv6_addr_equal(&cfg.home, &cfg.coa)) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[GECKO_SERVICE_A_COA],
				    "the care-of address must differ from the service's address");
		return -EINVAL;
	}

	mutex_lock(&gn->lock);
	ret = gecko_service_set(gn, &cfg, info->extack);
	mutex_unlock(&gn->lock);
	return ret;
}

static int service_del(struct sk_buff *skb, struct genl_info *info)
{
	struct gecko_net *gn = gecko_net(genl_info_net(info));
	struct nlattr *tb[GECKO_SERVICE_A_MAX + 1];
	struct in6_addr home;
	int ret;

	ret = parse_nest(info, ATTR(GECKO_A_SERVICE), tb, GECKO_SERVICE_A_MAX, service_policy) ?:
	      get_addr(info, info->attrs[GECKO_A_SERVICE], tb, ATTR(GECKO_SERVICE_A_HOME), &home);
	if (ret)
		return ret;
	mutex_lock(&gn->lock);
	ret = gecko_service_del(gn, &home, info->extack);
	mutex_unlock(&gn->lock);
	return ret;
}

static int service_fill(struct sk_buff *skb, const struct gecko_service *svc)
{
	struct nlattr *nest = nla_nest_start(skb, GECKO_A_SERVICE);

	if (!nest ||
	    nla_put_in6_addr(skb, GECKO_SERVICE_A_HOME, &svc->home) ||
	    nla_put_in6_addr(skb, GECKO_SERVICE_A_COA, &svc->coa) ||
	    nla_put_in6_addr(skb, GECKO_SERVICE_A_CONTACT_COA, &svc->contact_coa) ||
	    (!ipv6_addr_any(&svc->ha) &&
	     nla_put_in6_addr(skb, GECKO_SERVICE_A_HA, &svc->ha)) ||
	    nla_put_u32(skb, GECKO_SERVICE_A_FLAGS, svc->flags) ||
	    nla_put_u32(skb, GECKO_SERVICE_A_BINDINGS, svc->bindings))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int service_fill_any(struct sk_buff *skb, const void *svc)
{
	return service_fill(skb, svc);
}

static int service_get(struct sk_buff *skb, struct genl_info *info)
{
	struct gecko_net *gn = gecko_net(genl_info_net(info));
	struct nlattr *tb[GECKO_SERVICE_A_MAX + 1];
	struct gecko_service *svc;
	struct in6_addr home;
	int ret;

	ret = parse_nest(info, ATTR(GECKO_A_SERVICE), tb, GECKO_SERVICE_A_MAX, service_policy) ?:
	      get_addr(info, info->attrs[GECKO_A_SERVICE], tb, ATTR(GECKO_SERVICE_A_HOME), &home);
	if (ret)
		return ret;
	mutex_lock(&gn->lock);
	svc = gecko_service_find(gn, &home);
	if (svc)
		ret = reply(info, GECKO_CMD_SERVICE_GET, service_fill_any, svc);
	mutex_unlock(&gn->lock);
	if (!svc) {
		NL_SET_ERR_MSG_MOD(info->extack, "no service for this address");
		return -ENOENT;
	}
	return ret;
}

/*
 * Dumps the entries of @list, a list of gn->lock whose nodes are at
 * @offset in them, from index cb->args[0] on, each filled by @fill in a
 * message of @cmd.
 */
static int dump_list(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd,
		     struct list_head *list, size_t offset,
		     int (*fill)(struct sk_buff *, const void *))
{
	struct gecko_net *gn = gecko_net(sock_net(cb->skb->sk));
	struct list_head *pos;
	long idx = 0;
	void *hdr;

	mutex_lock(&gn->lock);
	list_for_each(pos, list) {
		if (idx++ < cb->args[0])
			continue;
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &gecko_genl_family, NLM_F_MULTI, cmd);
		if (!hdr)
			break;
		if (fill(skb, (const u8 *)pos - offset)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = idx;
	}
	mutex_unlock(&gn->lock);
	return skb->len;
}

static int service_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	return dump_list(skb, cb, GECKO_CMD_SERVICE_GET, &gecko_net(sock_net(cb->skb->sk))->services,
			 offsetof(struct gecko_service, list), service_fill_any);
}

static int parse_binding_key(struct genl_info *info, struct nlattr **tb,
			     struct gecko_binding_key *key)
{
	struct nlattr *nest;

	return parse_nest(info, ATTR(GECKO_A_BINDING), tb, GECKO_BINDING_A_MAX, binding_policy) ?:
	       (nest = info->attrs[GECKO_A_BINDING],
		get_addr(info, nest, tb, ATTR(GECKO_BINDING_A_HOME), &key->home) ?:
		get_addr(info, nest, tb, ATTR(GECKO_BINDING_A_PEER), &key->peer));
}

static int binding_set(struct sk_buff *skb, struct genl_info *info)
{
	struct gecko_net *gn = gecko_net(genl_info_net(info));
	struct nlattr *tb[GECKO_BINDING_A_MAX + 1], *nest;
	struct gecko_binding_key key;
	int ret;

	ret = parse_binding_key(info, tb, &key);
	if (ret)
		return ret;
	nest = info->attrs[GECKO_A_BINDING];
	ret = require(info, nest, tb, ATTR(GECKO_BINDING_A_STATE)) ?:
	      require(info, nest, tb, ATTR(GECKO_BINDING_A_SEQ)) ?:
	      require(info, nest, tb, ATTR(GECKO_BINDING_A_LIFETIME));
	if (ret)
		return ret;

	mutex_lock(&gn->lock);
	ret = gecko_binding_set(gn, &key, nla_get_u8(tb[GECKO_BINDING_A_STATE]),
				nla_get_u16(tb[GECKO_BINDING_A_SEQ]),
				nla_get_u32(tb[GECKO_BINDING_A_LIFETIME]), info->extack);
	mutex_unlock(&gn->lock);
	return ret;
}

static int binding_del(struct sk_buff *skb, struct genl_info *info)
{
	struct gecko_net *gn = gecko_net(genl_info_net(info));
	struct nlattr *tb[GECKO_BINDING_A_MAX + 1];
	struct gecko_binding_key key;
	int ret;

	ret = parse_binding_key(info, tb, &key);
	if (ret)
		return ret;
	mutex_lock(&gn->lock);
	ret = gecko_binding_del(gn, &key, info->extack);
	mutex_unlock(&gn->lock);
	return ret;
}

static int binding_fill(struct sk_buff *skb, const struct gecko_binding *b)
{
	struct nlattr *nest = nla_nest_start(skb, GECKO_A_BINDING);

	if (!nest ||
	    nla_put_in6_addr(skb, GECKO_BINDING_A_HOME, &b->key.home) ||
	    nla_put_in6_addr(skb, GECKO_BINDING_A_PEER, &b->key.peer) ||
	    nla_put_u8(skb, GECKO_BINDING_A_STATE, READ_ONCE(b->state)) ||
	    nla_put_u16(skb, GECKO_BINDING_A_SEQ, READ_ONCE(b->seq)) ||
	    nla_put_u32(skb, GECKO_BINDING_A_LIFETIME, gecko_binding_lifetime_left(b)))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int binding_fill_any(struct sk_buff *skb, const void *b)
{
	return binding_fill(skb, b);
}

static int binding_get(struct sk_buff *skb, struct genl_info *info)
{
	struct gecko_net *gn = gecko_net(genl_info_net(info));
	struct nlattr *tb[GECKO_BINDING_A_MAX + 1];
	struct gecko_binding_key key;
	struct gecko_binding *b;
	int ret;

	ret = parse_binding_key(info, tb, &key);
	if (ret)
		return ret;
	mutex_lock(&gn->lock);
	rcu_read_lock();
	b = gecko_binding_lookup(gn, &key);
	rcu_read_unlock();
	/* Still there: only changes, which hold the lock we hold, remove it. */
	if (b)
		ret = reply(info, GECKO_CMD_BINDING_GET, binding_fill_any, b);
	mutex_unlock(&gn->lock);
	if (!b) {
		NL_SET_ERR_MSG_MOD(info->extack, "no such binding");
		return -ENOENT;
	}
	return ret;
}

struct binding_dump {
	struct rhashtable_iter iter;
	struct gecko_net *gn;
	struct in6_addr home;	/* :: for all services */
	unsigned int restarts;	/* of the walk, after the table was resized */
};

static int binding_dump_start(struct netlink_callback *cb)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct nlattr *tb[GECKO_BINDING_A_MAX + 1];
	struct binding_dump *ctx;
	int ret;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	if (info->attrs[GECKO_A_BINDING]) {
		ret = nla_parse_nested(tb, GECKO_BINDING_A_MAX, info->attrs[GECKO_A_BINDING],
				       binding_policy, cb->extack);
		if (!ret && tb[GECKO_BINDING_A_HOME])
			ctx->home = nla_get_in6_addr(tb[GECKO_BINDING_A_HOME]);
		if (ret) {
			kfree(ctx);
			return ret;
		}
	}
	ctx->gn = gecko_net(sock_net(cb->skb->sk));
	rhashtable_walk_enter(&ctx->gn->bindings, &ctx->iter);
	cb->args[0] = (long)ctx;
	return 0;
}

static int binding_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct binding_dump *ctx = (struct binding_dump *)cb->args[0];
	struct gecko_binding *b;
	void *hdr;

	/* A change or a restart of the walk flags the dump NLM_F_DUMP_INTR. */
	cb->seq = READ_ONCE(ctx->gn->generation) + ctx->restarts;
	rhashtable_walk_start(&ctx->iter);
	/* Peek, and step only once the binding is in: a full skb loses none. */
	while ((b = rhashtable_walk_peek(&ctx->iter))) {
		if (IS_ERR(b)) {	/* -EAGAIN: resized, the walk starts over */
			ctx->restarts++;
			cb->seq = READ_ONCE(ctx->gn->generation) + ctx->restarts;
			continue;
		}
		if ((ipv6_addr_any(&ctx->home) || ipv6_addr_equal(&ctx->home, &b->key.home)) &&
		    gecko_binding_lifetime_left(b)) {
			hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
					  &gecko_genl_family, NLM_F_MULTI,
					  GECKO_CMD_BINDING_GET);
			if (!hdr)
				break;
			genl_dump_check_consistent(cb, hdr);
			if (binding_fill(skb, b)) {
				genlmsg_cancel(skb, hdr);
				break;
			}
			genlmsg_end(skb, hdr);
		}
		rhashtable_walk_next(&ctx->iter);
	}
	rhashtable_walk_stop(&ctx->iter);
	return skb->len;
}

static int binding_dump_done(struct netlink_callback *cb)
{
	struct binding_dump *ctx = (struct binding_dump *)cb->args[0];

	if (ctx) {
		rhashtable_walk_exit(&ctx->iter);
		kfree(ctx);
	}
	return 0;
}

/*
 * The socket commands: a GECKO_A_SOCK nest naming the caller's socket,
 * with no attribute but those the command @takes (a mask of their types):
 * a donor given to a freeze must not pass for a restore's.
 */
/* -EINVAL if @tb, a GECKO_A_SOCK nest, has an attribute that @takes does not name. */
static int only_takes(struct genl_info *info, struct nlattr **tb, unsigned long takes)
{
	int type;

	for (type = 1; type <= GECKO_SOCK_A_MAX; type++)
		if (tb[type] && !(BIT(type) & takes)) {
			NL_SET_ERR_MSG_ATTR(info->extack, tb[type], "attribute not taken by this command");
			return -EINVAL;
		}
	return 0;
}

/* The connection @tb names by its addresses and ports, which are there. */
static void tuple_of(struct nlattr **tb, struct gecko_flow_key *key)
{
	memset(key, 0, sizeof(*key));
	key->local = nla_get_in6_addr(tb[GECKO_SOCK_A_LOCAL]);
	key->remote = nla_get_in6_addr(tb[GECKO_SOCK_A_REMOTE]);
	key->local_port = htons(nla_get_u16(tb[GECKO_SOCK_A_LOCAL_PORT]));
	key->remote_port = htons(nla_get_u16(tb[GECKO_SOCK_A_REMOTE_PORT]));
}

static int parse_sock(struct genl_info *info, struct nlattr **tb, int *fd, unsigned long takes)
{
	int ret = parse_nest(info, ATTR(GECKO_A_SOCK), tb, GECKO_SOCK_A_MAX, sock_policy) ?:
		  require(info, info->attrs[GECKO_A_SOCK], tb, ATTR(GECKO_SOCK_A_FD)) ?:
		  only_takes(info, tb, takes | BIT(GECKO_SOCK_A_FD));

	if (ret)
		return ret;
	*fd = nla_get_u32(tb[GECKO_SOCK_A_FD]);
	return 0;
}

static u32 timeout_of(struct nlattr **tb)
{
	return tb[GECKO_SOCK_A_TIMEOUT] ? nla_get_u32(tb[GECKO_SOCK_A_TIMEOUT]) :
					  GECKO_SOCK_TIMEOUT_DEFAULT;
}

static int sock_freeze(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[GECKO_SOCK_A_MAX + 1];
	int fd, ret;

	ret = parse_sock(info, tb, &fd, BIT(GECKO_SOCK_A_TIMEOUT));
	return ret ?: gecko_sock_freeze(gecko_net(genl_info_net(info)), fd, timeout_of(tb),
					info->extack);
}

static int sock_commit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[GECKO_SOCK_A_MAX + 1];
	const struct in6_addr *forward;
	struct in6_addr buf;
	int fd, ret;

	ret = parse_sock(info, tb, &fd, BIT(GECKO_SOCK_A_TIMEOUT) | BIT(GECKO_SOCK_A_FORWARD)) ?:
	      get_sock_addr(info, tb, GECKO_SOCK_A_FORWARD, &buf, &forward);
	return ret ?: gecko_sock_commit(gecko_net(genl_info_net(info)), fd, timeout_of(tb), forward,
					info->extack);
}

static int sock_restore(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[GECKO_SOCK_A_MAX + 1];
	const struct in6_addr *donor;
	struct in6_addr buf;
	int fd, ret;

	ret = parse_sock(info, tb, &fd, BIT(GECKO_SOCK_A_DATA) | BIT(GECKO_SOCK_A_TIMEOUT) |
				    BIT(GECKO_SOCK_A_DONOR)) ?:
	      require(info, info->attrs[GECKO_A_SOCK], tb, ATTR(GECKO_SOCK_A_DATA)) ?:
	      get_sock_addr(info, tb, GECKO_SOCK_A_DONOR, &buf, &donor);
	return ret ?: gecko_sock_restore(gecko_net(genl_info_net(info)), fd,
					 nla_data(tb[GECKO_SOCK_A_DATA]),
					 nla_len(tb[GECKO_SOCK_A_DATA]), timeout_of(tb), donor,
					 info->extack);
}

static int sock_restore_data(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[GECKO_SOCK_A_MAX + 1];
	int fd, ret;

	ret = parse_sock(info, tb, &fd, BIT(GECKO_SOCK_A_DATA)) ?:
	      require(info, info->attrs[GECKO_A_SOCK], tb, ATTR(GECKO_SOCK_A_DATA));
	if (ret)
		return ret;
	if (!nla_len(tb[GECKO_SOCK_A_DATA])) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[GECKO_SOCK_A_DATA], "no octets");
		return -EINVAL;
	}
	return gecko_sock_restore_data(gecko_net(genl_info_net(info)), fd,
				       nla_data(tb[GECKO_SOCK_A_DATA]),
				       nla_len(tb[GECKO_SOCK_A_DATA]), info->extack);
}

static int sock_thaw(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[GECKO_SOCK_A_MAX + 1];
	int fd, ret;

	ret = parse_sock(info, tb, &fd, 0);
	return ret ?: gecko_sock_thaw(gecko_net(genl_info_net(info)), fd, info->extack);
}

static int sock_drop(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[GECKO_SOCK_A_MAX + 1];
	const struct in6_addr *forward;
	struct in6_addr buf;
	int fd, ret;

	ret = parse_sock(info, tb, &fd, BIT(GECKO_SOCK_A_FORWARD)) ?:
	      get_sock_addr(info, tb, GECKO_SOCK_A_FORWARD, &buf, &forward);
	return ret ?: gecko_sock_drop(gecko_net(genl_info_net(info)), fd, forward, info->extack);
}

static int sock_guard(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[GECKO_SOCK_A_MAX + 1];
	int fd, ret;

	ret = parse_sock(info, tb, &fd, 0);
	return ret ?: gecko_sock_guard(gecko_net(genl_info_net(info)), fd, info->extack);
}

static int sock_probe(struct sk_buff *skb, struct genl_info *info)
{
	static const unsigned long takes = BIT(GECKO_SOCK_A_LOCAL) | BIT(GECKO_SOCK_A_LOCAL_PORT) |
					   BIT(GECKO_SOCK_A_REMOTE) | BIT(GECKO_SOCK_A_REMOTE_PORT) |
					   BIT(GECKO_SOCK_A_TIMEOUT) | BIT(GECKO_SOCK_A_PROBE);
	struct nlattr *nest = info->attrs[GECKO_A_SOCK];
	struct nlattr *tb[GECKO_SOCK_A_MAX + 1];
	struct nlattr *pb[GECKO_PROBE_A_MAX + 1];
	struct gecko_probe_seg seg = {};
	struct gecko_flow_key key;
	int ret;

	ret = parse_nest(info, ATTR(GECKO_A_SOCK), tb, GECKO_SOCK_A_MAX, sock_policy) ?:
	      require(info, nest, tb, ATTR(GECKO_SOCK_A_LOCAL)) ?:
	      require(info, nest, tb, ATTR(GECKO_SOCK_A_LOCAL_PORT)) ?:
	      require(info, nest, tb, ATTR(GECKO_SOCK_A_REMOTE)) ?:
	      require(info, nest, tb, ATTR(GECKO_SOCK_A_REMOTE_PORT)) ?:
	      only_takes(info, tb, takes);
	if (ret)
		return ret;
	tuple_of(tb, &key);
	/* No segment: the flow is made PROBING, nothing is sent. */
	if (!tb[GECKO_SOCK_A_PROBE])
		return gecko_probe(gecko_net(genl_info_net(info)), &key, NULL, timeout_of(tb), info->extack);
	ret = nla_parse_nested(pb, GECKO_PROBE_A_MAX, tb[GECKO_SOCK_A_PROBE], probe_policy, info->extack) ?:
	      require(info, tb[GECKO_SOCK_A_PROBE], pb, ATTR(GECKO_PROBE_A_SEQ)) ?:
	      require(info, tb[GECKO_SOCK_A_PROBE], pb, ATTR(GECKO_PROBE_A_ACK));
	if (ret)
		return ret;
	if (!pb[GECKO_PROBE_A_TSVAL] != !pb[GECKO_PROBE_A_TSECR]) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[GECKO_SOCK_A_PROBE],
				    "the timestamps option takes both GECKO_PROBE_A_TSVAL and _TSECR");
		return -EINVAL;
	}
	seg.seq = nla_get_u32(pb[GECKO_PROBE_A_SEQ]);
	seg.ack = nla_get_u32(pb[GECKO_PROBE_A_ACK]);
	if (pb[GECKO_PROBE_A_WINDOW])
		seg.window = nla_get_u16(pb[GECKO_PROBE_A_WINDOW]);
	if (pb[GECKO_PROBE_A_TSVAL]) {
		seg.has_ts = true;
		seg.tsval = nla_get_u32(pb[GECKO_PROBE_A_TSVAL]);
		seg.tsecr = nla_get_u32(pb[GECKO_PROBE_A_TSECR]);
	}
	return gecko_probe(gecko_net(genl_info_net(info)), &key, &seg, timeout_of(tb), info->extack);
}

/* A capture in progress: the state, sent in pieces as the reader reads. */
struct capture_dump {
	u8 *buf;
	size_t len;
	size_t sent;
};

static int capture_key(struct netlink_callback *cb, struct nlattr **tb,
		       struct gecko_flow_key *key)
{
	static const int need[] = { GECKO_SOCK_A_LOCAL, GECKO_SOCK_A_LOCAL_PORT,
				    GECKO_SOCK_A_REMOTE, GECKO_SOCK_A_REMOTE_PORT };
	int i;

	for (i = 0; i < ARRAY_SIZE(need); i++)
		if (!tb[need[i]]) {
			NL_SET_ERR_MSG_MOD(cb->extack, "name the socket by GECKO_SOCK_A_FD, or by both addresses and ports");
			return -EINVAL;
		}
	tuple_of(tb, key);
	return 0;
}

static int capture_start(struct netlink_callback *cb)
{
	const struct genl_dumpit_info *info = genl_dumpit_info(cb);
	struct gecko_net *gn = gecko_net(sock_net(cb->skb->sk));
	struct nlattr *tb[GECKO_SOCK_A_MAX + 1];
	struct capture_dump *ctx;
	struct gecko_flow_key key;
	int ret;

	if (!info->attrs[GECKO_A_SOCK]) {
		NL_SET_ERR_MSG_MOD(cb->extack, "missing attribute GECKO_A_SOCK");
		return -EINVAL;
	}
	ret = nla_parse_nested(tb, GECKO_SOCK_A_MAX, info->attrs[GECKO_A_SOCK], sock_policy,
			       cb->extack);
	if (ret)
		return ret;
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return -ENOMEM;
	if (tb[GECKO_SOCK_A_FD]) {
		/* The dump starts in the caller's context: its descriptors are ours. */
		ctx->buf = gecko_sock_capture(gn, nla_get_u32(tb[GECKO_SOCK_A_FD]), &ctx->len,
					      cb->extack);
		ret = PTR_ERR_OR_ZERO(ctx->buf);
	} else {
		ctx->len = GECKO_TCP_STATE_HDR_LEN;
		ctx->buf = kvmalloc(ctx->len, GFP_KERNEL_ACCOUNT);
		ret = capture_key(cb, tb, &key) ?:
		      (ctx->buf ? gecko_sock_snapshot(gn, &key, ctx->buf, cb->extack) : -ENOMEM);
		if (ret)
			kvfree(ctx->buf);
	}
	if (ret) {
		kfree(ctx);
		return ret;
	}
	cb->args[0] = (long)ctx;
	return 0;
}

static int capture_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct capture_dump *ctx = (struct capture_dump *)cb->args[0];

	while (ctx->sent < ctx->len) {
		size_t room = skb_tailroom(skb), n;
		struct nlattr *nest;
		void *hdr;

		/* Messages of a dump start with a page at least: the first piece fits. */
		if (room < 512)
			break;
		n = min3(ctx->len - ctx->sent, (size_t)GECKO_SOCK_DATA_MAX, room - 256);
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &gecko_genl_family, NLM_F_MULTI, GECKO_CMD_SOCK_CAPTURE);
		if (!hdr)
			break;
		nest = nla_nest_start(skb, GECKO_A_SOCK);
		if (!nest || (!ctx->sent && nla_put_u32(skb, GECKO_SOCK_A_LENGTH, ctx->len)) ||
		    nla_put(skb, GECKO_SOCK_A_DATA, n, ctx->buf + ctx->sent)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		nla_nest_end(skb, nest);
		genlmsg_end(skb, hdr);
		ctx->sent += n;
	}
	return skb->len;
}

static int capture_done(struct netlink_callback *cb)
{
	struct capture_dump *ctx = (struct capture_dump *)cb->args[0];

	if (ctx) {
		/* Queue octets are the application's data. */
		kvfree_sensitive(ctx->buf, ctx->len);
		kfree(ctx);
	}
	return 0;
}

/* A PROBING flow's probes and last answer, read as one under the hooks' lock. */
static int probe_fill(struct sk_buff *skb, const struct gecko_flow *flow)
{
	struct nlattr *nest = nla_nest_start(skb, GECKO_SOCK_A_PROBE);
	struct gecko_probe_seg answer;
	unsigned long at;
	bool answered;

	spin_lock_bh((spinlock_t *)&flow->held.lock);
	answered = flow->answered;
	answer = flow->answer;
	at = flow->answered_at;
	spin_unlock_bh((spinlock_t *)&flow->held.lock);
	if (!nest || nla_put_u32(skb, GECKO_PROBE_A_SENT, flow->probes))
		return -EMSGSIZE;
	if (answered &&
	    (nla_put_u32(skb, GECKO_PROBE_A_SEQ, answer.seq) ||
	     nla_put_u32(skb, GECKO_PROBE_A_ACK, answer.ack) ||
	     nla_put_u16(skb, GECKO_PROBE_A_WINDOW, answer.window) ||
	     nla_put_u8(skb, GECKO_PROBE_A_FLAGS, answer.flags) ||
	     nla_put_u32(skb, GECKO_PROBE_A_AGE, jiffies_to_msecs(jiffies - at)) ||
	     (answer.has_ts && (nla_put_u32(skb, GECKO_PROBE_A_TSVAL, answer.tsval) ||
				nla_put_u32(skb, GECKO_PROBE_A_TSECR, answer.tsecr)))))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int flow_fill(struct sk_buff *skb, const struct gecko_flow *flow)
{
	struct nlattr *nest = nla_nest_start(skb, GECKO_A_SOCK);
	long left = (long)(flow->expires - jiffies);

	if (!nest ||
	    nla_put_in6_addr(skb, GECKO_SOCK_A_LOCAL, &flow->key.local) ||
	    nla_put_u16(skb, GECKO_SOCK_A_LOCAL_PORT, ntohs(flow->key.local_port)) ||
	    nla_put_in6_addr(skb, GECKO_SOCK_A_REMOTE, &flow->key.remote) ||
	    nla_put_u16(skb, GECKO_SOCK_A_REMOTE_PORT, ntohs(flow->key.remote_port)) ||
	    nla_put_u8(skb, GECKO_SOCK_A_FLOW, READ_ONCE(flow->state)) ||
	    nla_put_u32(skb, GECKO_SOCK_A_HELD, skb_queue_len_lockless(&flow->held)) ||
	    nla_put_u32(skb, GECKO_SOCK_A_TIMEOUT, left > 0 ? jiffies_to_msecs(left) : 0) ||
	    (flow->has_donor && nla_put_in6_addr(skb, GECKO_SOCK_A_DONOR, &flow->donor)) ||
	    (flow->forward && nla_put_in6_addr(skb, GECKO_SOCK_A_FORWARD, &flow->fwd_dst)) ||
	    (READ_ONCE(flow->state) == GECKO_FLOW_PROBING && probe_fill(skb, flow)))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int flow_fill_any(struct sk_buff *skb, const void *flow)
{
	return flow_fill(skb, flow);
}

static int flow_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	return dump_list(skb, cb, GECKO_CMD_SOCK_GET, &gecko_net(sock_net(cb->skb->sk))->flows_list,
			 offsetof(struct gecko_flow, list), flow_fill_any);
}

#define USED_AFTER (GECKO_LIMITS_A_SERVICES_USED - GECKO_LIMITS_A_SERVICES)

static int limits_fill(struct sk_buff *skb, const void *arg)
{
	struct gecko_net *gn = (struct gecko_net *)arg;
	struct nlattr *nest = nla_nest_start(skb, GECKO_A_LIMITS);
	int which;

	if (!nest)
		return -EMSGSIZE;
	/* Each limit's _USED attribute comes as many types after it. */
	BUILD_BUG_ON(GECKO_LIMITS_A_HELD_USED - GECKO_LIMITS_A_HELD != USED_AFTER);
	for (which = GECKO_LIMITS_A_SERVICES; which <= GECKO_LIMITS_A_HELD; which++)
		if (nla_put_u32(skb, which, gecko_limit(gn, which)) ||
		    nla_put_u32(skb, which + USED_AFTER, gecko_limit_used(gn, which)))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int limits_get(struct sk_buff *skb, struct genl_info *info)
{
	return reply(info, GECKO_CMD_LIMITS_GET, limits_fill, gecko_net(genl_info_net(info)));
}

static int limits_set(struct sk_buff *skb, struct genl_info *info)
{
	struct gecko_net *gn = gecko_net(genl_info_net(info));
	struct nlattr *tb[GECKO_LIMITS_A_MAX + 1];
	bool any = false;
	int which, ret;

	ret = parse_nest(info, ATTR(GECKO_A_LIMITS), tb, GECKO_LIMITS_A_MAX, limits_policy);
	if (ret)
		return ret;
	for (which = GECKO_LIMITS_A_SERVICES; which <= GECKO_LIMITS_A_HELD; which++)
		any |= !!tb[which];
	if (!any) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[GECKO_A_LIMITS], "no limit to set");
		return -EINVAL;
	}
	/* What exists stays: only new ones are refused (limits.c). */
	mutex_lock(&gn->lock);
	for (which = GECKO_LIMITS_A_SERVICES; which <= GECKO_LIMITS_A_HELD; which++)
		if (tb[which])
			WRITE_ONCE(gn->limits.max[which], nla_get_u32(tb[which]));
	mutex_unlock(&gn->lock);
	return 0;
}

/* Count every command that passed validation and the permission check. */
static int pre_doit(const struct genl_ops *ops, struct sk_buff *skb,
		    struct genl_info *info)
{
	gecko_counter_inc(genl_info_net(info), GECKO_COUNTER_NL_REQUESTS);
	return 0;
}

/*
 * post_doit does not see the result on 6.1, so each command reports its
 * own failures through this wrapper.
 */
#define COUNTED(fn)							\
static int fn##_counted(struct sk_buff *skb, struct genl_info *info)	\
{									\
	int ret = fn(skb, info);					\
									\
	if (ret)							\
		gecko_counter_inc(genl_info_net(info),			\
				  GECKO_COUNTER_NL_ERRORS);		\
	return ret;							\
}

COUNTED(get_info)
COUNTED(service_set)
COUNTED(service_del)
COUNTED(service_get)
COUNTED(binding_set)
COUNTED(binding_del)
COUNTED(binding_get)
COUNTED(sock_freeze)
COUNTED(sock_restore)
COUNTED(sock_restore_data)
COUNTED(sock_thaw)
COUNTED(sock_drop)
COUNTED(sock_commit)
COUNTED(limits_get)
COUNTED(limits_set)
COUNTED(sock_probe)
COUNTED(sock_guard)

static const struct genl_ops gecko_genl_ops[] = {
	{
		.cmd = GECKO_CMD_GET_INFO,
		.doit = get_info_counted,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_SERVICE_SET,
		.doit = service_set_counted,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_SERVICE_DEL,
		.doit = service_del_counted,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_SERVICE_GET,
		.doit = service_get_counted,
		.dumpit = service_dump,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_BINDING_SET,
		.doit = binding_set_counted,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_BINDING_DEL,
		.doit = binding_del_counted,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_BINDING_GET,
		.doit = binding_get_counted,
		.start = binding_dump_start,
		.dumpit = binding_dump,
		.done = binding_dump_done,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_SOCK_FREEZE,
		.doit = sock_freeze_counted,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_SOCK_CAPTURE,
		.start = capture_start,
		.dumpit = capture_dump,
		.done = capture_done,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_SOCK_RESTORE,
		.doit = sock_restore_counted,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_SOCK_RESTORE_DATA,
		.doit = sock_restore_data_counted,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_SOCK_THAW,
		.doit = sock_thaw_counted,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_SOCK_DROP,
		.doit = sock_drop_counted,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_SOCK_GET,
		.dumpit = flow_dump,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_SOCK_COMMIT,
		.doit = sock_commit_counted,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_LIMITS_GET,
		.doit = limits_get_counted,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_LIMITS_SET,
		.doit = limits_set_counted,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_SOCK_PROBE,
		.doit = sock_probe_counted,
		.flags = GENL_UNS_ADMIN_PERM,
	}, {
		.cmd = GECKO_CMD_SOCK_GUARD,
		.doit = sock_guard_counted,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static struct genl_family gecko_genl_family __ro_after_init = {
	.name = GECKO_GENL_NAME,
	.version = GECKO_GENL_VERSION,
	.maxattr = GECKO_A_MAX,
	.policy = gecko_genl_policy,
	.pre_doit = pre_doit,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = gecko_genl_ops,
	.n_ops = ARRAY_SIZE(gecko_genl_ops),
};

int __init gecko_genl_init(void)
{
	return genl_register_family(&gecko_genl_family);
}

void gecko_genl_uninit(void)
{
	genl_unregister_family(&gecko_genl_family);
}
