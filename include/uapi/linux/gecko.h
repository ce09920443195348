/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * Gecko: one IPv6 address served by a group of nodes.
 *
 * Documentation
 * =============
 *
 * gecko.ko speaks a generic netlink family named GECKO_GENL_NAME, version
 * GECKO_GENL_VERSION. The family is per network namespace: every command
 * acts on the namespace of the socket that sends it, and needs
 * CAP_NET_ADMIN in the user namespace that owns that network namespace
 * (GENL_UNS_ADMIN_PERM). The root of a user namespace that owns its
 * network namespace may therefore use it.
 *
 * Every request is validated strictly: unknown attributes, attributes that
 * a command does not take, wrong lengths and unknown flag bits are refused
 * with -EINVAL (or -EOPNOTSUPP for flag bits) and an extended-ACK message
 * naming the attribute.
 *
 * GECKO_CMD_GET_INFO
 * ------------------
 *
 * Reports what the module is and what it has done in this namespace.
 * Requires NLM_F_REQUEST; takes no attributes. The reply carries:
 *
 *    GECKO_A_MODULE_VERSION: NLA_NUL_STRING, the module's release, as in
 *                            /sys/module/gecko/version
 *    GECKO_A_PROTOCOL_VERSION: NLA_U32, GECKO_GENL_VERSION of the module;
 *                              a client built against an older header
 *                              still understands every attribute it knows
 *    GECKO_A_FEATURES: NLA_U64, bitmask of enum gecko_feature: optional
 *                      capabilities this module offers
 *    GECKO_A_COUNTERS: NLA_NESTED, one NLA_U64 per counter of this network
 *                      namespace, its attribute type being an enum
 *                      gecko_counter value; types a client does not know
 *                      are counters added by a newer module
 *
 * Counters (enum gecko_counter) count since the namespace first used the
 * module (they start at zero when the namespace is created or the module
 * is loaded) and never decrease:
 *
 *    GECKO_COUNTER_NL_REQUESTS: gecko commands this namespace received
 *                               that passed the permission check
 *    GECKO_COUNTER_NL_ERRORS: of those, how many failed
 */

#ifndef _UAPI_LINUX_GECKO_H
#define _UAPI_LINUX_GECKO_H

#define GECKO_GENL_NAME "gecko"
#define GECKO_GENL_VERSION 1

enum gecko_cmd {
	GECKO_CMD_UNSPEC,
	GECKO_CMD_GET_INFO,
	__GECKO_CMD_MAX
};
#define GECKO_CMD_MAX (__GECKO_CMD_MAX - 1)

enum gecko_attr {
	GECKO_A_UNSPEC,
	GECKO_A_PAD,
	GECKO_A_MODULE_VERSION,
	GECKO_A_PROTOCOL_VERSION,
	GECKO_A_FEATURES,
	GECKO_A_COUNTERS,
	__GECKO_A_LAST
};
#define GECKO_A_MAX (__GECKO_A_LAST - 1)

/*
 * Optional capabilities, reported in GECKO_A_FEATURES. None exists yet:
 * each later capability (services, bindings, hooks, socket handoff, probe)
 * adds its bit here when the module implements it.
 */
enum gecko_feature {
	__GECKO_FEATURE_ALL = 0
};

enum gecko_counter {
	GECKO_COUNTER_UNSPEC,
	GECKO_COUNTER_PAD,
	GECKO_COUNTER_NL_REQUESTS,
	GECKO_COUNTER_NL_ERRORS,
	__GECKO_COUNTER_LAST
};
#define GECKO_COUNTER_MAX (__GECKO_COUNTER_LAST - 1)

#endif /* _UAPI_LINUX_GECKO_H */
