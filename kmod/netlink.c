// SPDX-License-Identifier: GPL-2.0-only
/*
 * The generic netlink family: policies, commands and their replies. Each
 * command is documented in include/uapi/linux/gecko.h.
 */

#include "netlink.h"
#include "netns.h"
#include "version.h"

#include <net/genetlink.h>

/* Reply-only attributes are refused in requests, with a message saying so. */
#define REPLY_ONLY { .type = NLA_REJECT, .reject_message = "attribute is reply-only" }

const struct nla_policy gecko_genl_policy[GECKO_A_MAX + 1] = {
	[GECKO_A_PAD] = REPLY_ONLY,
	[GECKO_A_MODULE_VERSION] = REPLY_ONLY,
	[GECKO_A_PROTOCOL_VERSION] = REPLY_ONLY,
	[GECKO_A_FEATURES] = REPLY_ONLY,
	[GECKO_A_COUNTERS] = REPLY_ONLY,
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

static int get_info(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct sk_buff *msg;
	void *hdr;
	int ret;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg) {
		NL_SET_ERR_MSG_MOD(info->extack, "out of memory for the reply");
		return -ENOMEM;
	}
	hdr = genlmsg_put_reply(msg, info, &gecko_genl_family, 0,
				GECKO_CMD_GET_INFO);
	if (!hdr || gecko_info_fill(msg, net)) {
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

static const struct genl_ops gecko_genl_ops[] = {
	{
		.cmd = GECKO_CMD_GET_INFO,
		.doit = get_info_counted,
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
