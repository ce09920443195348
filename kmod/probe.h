/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sequence probe: an empty ACK from G to the peer of a connection this
 * node has no socket for, whose answer the hooks take (flow.c) and
 * GECKO_CMD_SOCK_GET reports: where the peer's stack stands, for a
 * connection recovered from another node's mirror.
 */

#ifndef _GECKO_PROBE_H
#define _GECKO_PROBE_H

#include <linux/skbuff.h>
#include <linux/types.h>

struct gecko_flow_key;
struct gecko_net;
struct gecko_tcp_state;
struct netlink_ext_ack;

/* A TCP segment's numbers, host order. */
struct gecko_probe_seg {
	u32 seq;
	u32 ack;
	u32 tsval;
	u32 tsecr;
	u16 window;
	u8 flags;		/* FIN 0x01 ... CWR 0x80 */
	bool has_ts;
};

/*
 * The probe for @key with @seg's numbers: an IPv6 packet from G with an
 * empty ACK, its checksum complete, without a route yet. NULL without
 * memory.
 */
struct sk_buff *gecko_probe_build(const struct gecko_flow_key *key, const struct gecko_probe_seg *seg);

/*
 * The numbers of the TCP segment at @thoff in @skb into @seg: false if the
 * header is cut short. A timestamps option is read wherever it lies among
 * the options; malformed options end the reading, not the answer.
 */
bool gecko_probe_parse(const struct sk_buff *skb, unsigned int thoff, struct gecko_probe_seg *seg);

/*
 * Whether the segment at @thoff in @skb, @seg as gecko_probe_parse() read
 * it, can be the answer to a probe: an ACK without data, SYN or RST.
 */
bool gecko_probe_is_answer(const struct sk_buff *skb, unsigned int thoff, const struct gecko_probe_seg *seg);

/*
 * Turns @st, a snapshot of an established connection taken on another
 * node, into the connection where its peer's @answer says it stands:
 * every octet the peer acknowledged was sent, every octet it sent was
 * received, nothing is queued either way; the peer's window, and a
 * timestamp clock its PAWS check lets by. The counters follow the
 * numbers. -EOPNOTSUPP for a snapshot past ESTABLISHED, -EPROTO for an
 * answer without the timestamps the connection agreed (or with them when
 * it did not), -ERANGE for numbers behind the snapshot's or more than
 * 2^30 octets ahead: an answer of another connection or incarnation.
 */
int gecko_probe_recover(struct gecko_tcp_state *st, const struct gecko_probe_seg *answer);

/*
 * GECKO_CMD_SOCK_PROBE: makes @key's flow PROBING (or keeps it so, with
 * its answer) for @timeout_ms and sends the probe @seg, if any.
 */
int gecko_probe(struct gecko_net *gn, const struct gecko_flow_key *key, const struct gecko_probe_seg *seg,
		u32 timeout_ms, struct netlink_ext_ack *extack);

#endif /* _GECKO_PROBE_H */
