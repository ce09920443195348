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
 * with -EINVAL, numbers and lengths outside their range with -ERANGE, each
 * with an extended-ACK message naming the attribute.
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
 *    GECKO_COUNTER_BINDINGS_EXPIRED: bindings removed because their
 *                                    lifetime ran out
 *    GECKO_COUNTER_RH2_IN: packets from a bound client whose type 2
 *                          routing header was removed, delivered to G
 *    GECKO_COUNTER_RH2_TRUNCATED, _BAD_LENGTH, _BAD_SEGMENTS,
 *    _BAD_ADDRESS: packets to a service's care-of address dropped for a
 *                  malformed type 2 routing header (a header cut short,
 *                  Hdr Ext Len not 2, Segments Left not 1, a home address
 *                  that is not unicast)
 *    GECKO_COUNTER_RH2_NO_BINDING: well-formed type 2 routing headers
 *                                  dropped because the sender is neither
 *                                  bound here nor the service's home agent
 *    GECKO_COUNTER_HAO_OUT: packets from G that left from the care-of
 *                           address with a Home Address option
 *    GECKO_COUNTER_HAO_FAILED: packets from G to a bound client dropped
 *                              because the option could not be added or
 *                              no route leads from the care-of address
 *    GECKO_COUNTER_MSS_CLAMPED: TCP SYNs to G whose MSS option was
 *                               lowered so that segments carrying the
 *                               Home Address option still fit the path
 *    GECKO_COUNTER_HAO_IN_DROPPED: packets to a service's care-of address
 *                                  or to G dropped because they carry a
 *                                  Home Address option: a node is never a
 *                                  mobile node's correspondent
 *    GECKO_COUNTER_ICMP_ERR_IN: ICMPv6 errors to a service's care-of
 *                               address about a packet that left from it
 *                               with a Home Address option for G, made
 *                               into errors about G's packet so that they
 *                               reach G's socket; a Packet Too Big then
 *                               reports 24 octets less, never below 1280
 *
 * Addresses are NLA_BINARY of exactly 16 octets (struct in6_addr), global
 * or unique-local unicast: never unspecified, loopback, link-local or
 * multicast.
 *
 * GECKO_CMD_SERVICE_SET
 * ---------------------
 *
 * Makes this node serve a global address G: the seed's mip6_addr_passive,
 * and with GECKO_SERVICE_F_CONTACT its mip6_addr_active. Creates the
 * service, or replaces every field of the existing one for the same
 * GECKO_SERVICE_A_HOME; its bindings are kept. Requires NLM_F_REQUEST.
 *
 *    GECKO_A_SERVICE: NLA_NESTED
 *        GECKO_SERVICE_A_HOME: address, required: G, the service's address
 *        GECKO_SERVICE_A_COA: address, required: this node's care-of
 *                             address, where clients are handed to it
 *        GECKO_SERVICE_A_CONTACT_COA: address, required: the contact
 *                                     node's care-of address
 *        GECKO_SERVICE_A_HA: address: the home agent; required with
 *                            GECKO_SERVICE_F_CONTACT
 *        GECKO_SERVICE_A_FLAGS: NLA_U32, enum gecko_service_flag:
 *            GECKO_SERVICE_F_CONTACT: this node is the contact node,
 *                                     registered with the home agent
 *
 * GECKO_CMD_SERVICE_DEL
 * ---------------------
 *
 * Stops serving G and drops all its bindings. Requires NLM_F_REQUEST.
 *
 *    GECKO_A_SERVICE: NLA_NESTED
 *        GECKO_SERVICE_A_HOME: address, required
 *
 * GECKO_CMD_SERVICE_GET
 * ---------------------
 *
 * With NLM_F_DUMP, one message per service, each with a GECKO_A_SERVICE
 * nest carrying every GECKO_SERVICE_A_* attribute that is set, and
 * GECKO_SERVICE_A_BINDINGS: NLA_U32, how many bindings it has. Without
 * NLM_F_DUMP, the same for the service named by GECKO_SERVICE_A_HOME in a
 * GECKO_A_SERVICE nest.
 *
 * GECKO_CMD_BINDING_SET
 * ---------------------
 *
 * Records this node's binding for one client of a service: the seed's
 * mip6_handoff bookkeeping. Creates the binding or replaces its fields.
 * Requires NLM_F_REQUEST.
 *
 *    GECKO_A_BINDING: NLA_NESTED
 *        GECKO_BINDING_A_HOME: address, required: G; the service must exist
 *        GECKO_BINDING_A_PEER: address, required: the client
 *        GECKO_BINDING_A_STATE: NLA_U8, required, enum gecko_binding_state:
 *            GECKO_BINDING_PENDING: a Binding Update to this node's care-of
 *                                   address is on its way to the client
 *            GECKO_BINDING_BOUND: the client sends to this node
 *        GECKO_BINDING_A_SEQ: NLA_U16, required: the sequence number of
 *                             the client's most recent Binding Update
 *        GECKO_BINDING_A_LIFETIME: NLA_U32, required, 1..420 seconds
 *                                  (RFC 6275 MAX_RR_BINDING_LIFETIME): the
 *                                  binding is removed when it expires
 *
 * GECKO_CMD_BINDING_DEL
 * ---------------------
 *
 * Forgets a binding (the seed's mip6_handoff_clear, for the kernel's part).
 * Requires NLM_F_REQUEST.
 *
 *    GECKO_A_BINDING: NLA_NESTED
 *        GECKO_BINDING_A_HOME: address, required
 *        GECKO_BINDING_A_PEER: address, required
 *
 * GECKO_CMD_BINDING_GET
 * ---------------------
 *
 * With NLM_F_DUMP, one message per binding (optionally only those of the
 * service named by GECKO_BINDING_A_HOME in a GECKO_A_BINDING nest); without
 * it, the binding named by GECKO_BINDING_A_HOME and GECKO_BINDING_A_PEER.
 * Each reply has a GECKO_A_BINDING nest with every GECKO_BINDING_A_*
 * attribute; GECKO_BINDING_A_LIFETIME is then the seconds left. A dump
 * interrupted by changes to the table is flagged with NLM_F_DUMP_INTR, as
 * usual: entries may then be missing or repeated.
 */

#ifndef _UAPI_LINUX_GECKO_H
#define _UAPI_LINUX_GECKO_H

#define GECKO_GENL_NAME "gecko"
#define GECKO_GENL_VERSION 1

enum gecko_cmd {
	GECKO_CMD_UNSPEC,
	GECKO_CMD_GET_INFO,
	GECKO_CMD_SERVICE_SET,
	GECKO_CMD_SERVICE_DEL,
	GECKO_CMD_SERVICE_GET,
	GECKO_CMD_BINDING_SET,
	GECKO_CMD_BINDING_DEL,
	GECKO_CMD_BINDING_GET,
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
	GECKO_A_SERVICE,
	GECKO_A_BINDING,
	__GECKO_A_LAST
};
#define GECKO_A_MAX (__GECKO_A_LAST - 1)

enum gecko_service_attr {
	GECKO_SERVICE_A_UNSPEC,
	GECKO_SERVICE_A_HOME,
	GECKO_SERVICE_A_COA,
	GECKO_SERVICE_A_CONTACT_COA,
	GECKO_SERVICE_A_HA,
	GECKO_SERVICE_A_FLAGS,
	GECKO_SERVICE_A_BINDINGS,
	__GECKO_SERVICE_A_LAST
};
#define GECKO_SERVICE_A_MAX (__GECKO_SERVICE_A_LAST - 1)

enum gecko_service_flag {
	GECKO_SERVICE_F_CONTACT = 1U << 0,
	__GECKO_SERVICE_F_ALL = GECKO_SERVICE_F_CONTACT
};

enum gecko_binding_attr {
	GECKO_BINDING_A_UNSPEC,
	GECKO_BINDING_A_HOME,
	GECKO_BINDING_A_PEER,
	GECKO_BINDING_A_STATE,
	GECKO_BINDING_A_SEQ,
	GECKO_BINDING_A_LIFETIME,
	__GECKO_BINDING_A_LAST
};
#define GECKO_BINDING_A_MAX (__GECKO_BINDING_A_LAST - 1)

enum gecko_binding_state {
	GECKO_BINDING_UNSPEC,
	GECKO_BINDING_PENDING,
	GECKO_BINDING_BOUND,
	__GECKO_BINDING_STATE_MAX
};
#define GECKO_BINDING_STATE_MAX (__GECKO_BINDING_STATE_MAX - 1)

/* RFC 6275 MAX_RR_BINDING_LIFETIME, seconds. */
#define GECKO_BINDING_MAX_LIFETIME 420

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
	GECKO_COUNTER_BINDINGS_EXPIRED,
	GECKO_COUNTER_RH2_IN,
	GECKO_COUNTER_RH2_TRUNCATED,
	GECKO_COUNTER_RH2_BAD_LENGTH,
	GECKO_COUNTER_RH2_BAD_SEGMENTS,
	GECKO_COUNTER_RH2_BAD_ADDRESS,
	GECKO_COUNTER_RH2_NO_BINDING,
	GECKO_COUNTER_HAO_OUT,
	GECKO_COUNTER_HAO_FAILED,
	GECKO_COUNTER_MSS_CLAMPED,
	GECKO_COUNTER_HAO_IN_DROPPED,
	GECKO_COUNTER_ICMP_ERR_IN,
	__GECKO_COUNTER_LAST
};
#define GECKO_COUNTER_MAX (__GECKO_COUNTER_LAST - 1)

/*
 * The state of a TCP connection, as the socket handoff commands will
 * capture and restore it (DESIGN §2, flow 4): a header, then the unread
 * receive queue (inq_len octets), then the send queue (outq_len octets,
 * of which the last unsq_len were never sent). Numbers in network order.
 * A header of a later version keeps these fields where they are and adds
 * after them; hdr_len says how long it is, so a reader skips what it does
 * not know. Offsets in octets:
 *
 *    0 version (16)          GECKO_TCP_STATE_VERSION
 *    2 hdr_len (16)          at least GECKO_TCP_STATE_HDR_LEN
 *    4 flags (32)            enum gecko_tcp_state_flag
 *    8 state (8)             TCP_ESTABLISHED, TCP_FIN_WAIT1/2, TCP_CLOSE_WAIT,
 *                            TCP_LAST_ACK or TCP_CLOSING
 *    9 snd_wscale (8), 10 rcv_wscale (8)   0 to 14, 0 without WSCALE
 *   11 reserved (8), zero
 *   12 mss_clamp (16)
 *   14 reserved (16), zero
 *   16 rcv_nxt (32)          the next octet expected from the peer
 *   20 write_seq (32)        the sequence number after the last octet queued
 *   24 inq_len (32)          received, not yet read by the application
 *   28 outq_len (32)         queued and not acknowledged
 *   32 unsq_len (32)         the part of outq_len never sent
 *   36 ts_val (32)           the timestamp clock (TCP_TIMESTAMP), 0 without TIMESTAMPS
 *   40 snd_wl1, 44 snd_wnd, 48 max_window, 52 rcv_wnd, 56 rcv_wup (32 each)
 *                            as TCP_REPAIR_WINDOW takes them
 *   60 srtt_us, 64 rttvar_us, 68 rto_us (32 each)   the donor's RTT estimate
 *   72 bytes_sent (64)       octets the application wrote since the
 *                            connection began (write_seq's offset)
 *   80 bytes_received (64)   octets received since it began (rcv_nxt's offset)
 */
#define GECKO_TCP_STATE_VERSION 1
#define GECKO_TCP_STATE_HDR_LEN 88

enum gecko_tcp_state_flag {
	GECKO_TCP_STATE_F_SACK = 1U << 0,
	GECKO_TCP_STATE_F_WSCALE = 1U << 1,
	GECKO_TCP_STATE_F_TIMESTAMPS = 1U << 2,
	GECKO_TCP_STATE_F_FIN_OUT = 1U << 3,	/* this side's FIN is queued or sent */
	GECKO_TCP_STATE_F_FIN_IN = 1U << 4,	/* the peer's FIN was received */
	__GECKO_TCP_STATE_F_ALL = (1U << 5) - 1
};

#endif /* _UAPI_LINUX_GECKO_H */
