// SPDX-License-Identifier: GPL-2.0-only
/*
 * The sequence probe (probe.h). The segment is built here and leaves
 * through the local output path, so that the hooks give it the Home
 * Address option when the peer is bound to this node; the answer is taken
 * in the flow table's receive path (gecko_flow_in()).
 */

#include "probe.h"
#include "flow.h"
#include "netns.h"
#include "service.h"
#include "tcpstate.h"

#include <asm/unaligned.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <net/inet6_hashtables.h>
#include <net/ip6_checksum.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/netlink.h>
#include <net/tcp.h>
#include <uapi/linux/gecko.h>

struct sk_buff *gecko_probe_build(const struct gecko_flow_key *key, const struct gecko_probe_seg *seg)
{
	unsigned int optlen = seg->has_ts ? TCPOLEN_TSTAMP_ALIGNED : 0;
	unsigned int tcplen = sizeof(struct tcphdr) + optlen;
	struct sk_buff *skb;
	struct ipv6hdr *ip6;
	struct tcphdr *th;

	skb = alloc_skb(MAX_HEADER + sizeof(*ip6) + tcplen, GFP_KERNEL);
	if (!skb)
		return NULL;
	skb_reserve(skb, MAX_HEADER + sizeof(*ip6) + tcplen);

	th = skb_push(skb, tcplen);
	skb_reset_transport_header(skb);
	memset(th, 0, tcplen);
	th->source = key->local_port;
	th->dest = key->remote_port;
	th->seq = htonl(seg->seq);
	th->ack_seq = htonl(seg->ack);
	th->doff = tcplen / 4;
	th->ack = 1;
	th->window = htons(seg->window);
	if (seg->has_ts) {
		__be32 *opt = (__be32 *)(th + 1);

		*opt++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) | (TCPOPT_TIMESTAMP << 8) |
			       TCPOLEN_TIMESTAMP);
		*opt++ = htonl(seg->tsval);
		*opt = htonl(seg->tsecr);
	}
	/* G's: the peer takes the Home Address option's address for the source. */
	th->check = csum_ipv6_magic(&key->local, &key->remote, tcplen, IPPROTO_TCP,
				    csum_partial(th, tcplen, 0));
	skb->ip_summed = CHECKSUM_NONE;

	ip6 = skb_push(skb, sizeof(*ip6));
	skb_reset_network_header(skb);
	ip6_flow_hdr(ip6, 0, 0);
	ip6->payload_len = htons(tcplen);
	ip6->nexthdr = IPPROTO_TCP;
	ip6->hop_limit = 64;
	ip6->saddr = key->local;
	ip6->daddr = key->remote;
	skb->protocol = htons(ETH_P_IPV6);
	return skb;
}

bool gecko_probe_parse(const struct sk_buff *skb, unsigned int thoff, struct gecko_probe_seg *seg)
{
	u8 buf[sizeof(struct tcphdr) + MAX_TCP_OPTION_SPACE];
	const struct tcphdr *th = skb_header_pointer(skb, thoff, sizeof(*th), buf);
	unsigned int len, at;
	const u8 *opt;

	if (!th || th->doff < sizeof(*th) / 4)
		return false;
	memset(seg, 0, sizeof(*seg));
	seg->seq = ntohl(th->seq);
	seg->ack = ntohl(th->ack_seq);
	seg->window = ntohs(th->window);
	seg->flags = tcp_flag_byte(th);
	len = th->doff * 4 - sizeof(*th);
	opt = skb_header_pointer(skb, thoff + sizeof(*th), len, buf + sizeof(*th));
	if (!opt)
		return true;
	for (at = 0; at < len;) {
		if (opt[at] == TCPOPT_EOL)
			break;
		if (opt[at] == TCPOPT_NOP) {
			at++;
			continue;
		}
		if (at + 1 >= len || opt[at + 1] < 2 || at + opt[at + 1] > len)
			break;
		if (opt[at] == TCPOPT_TIMESTAMP && opt[at + 1] == TCPOLEN_TIMESTAMP) {
			seg->tsval = get_unaligned_be32(opt + at + 2);
			seg->tsecr = get_unaligned_be32(opt + at + 6);
			seg->has_ts = true;
		}
		at += opt[at + 1];
	}
	return true;
}

bool gecko_probe_is_answer(const struct sk_buff *skb, unsigned int thoff, const struct gecko_probe_seg *seg)
{
	u8 doff = 0;

	if (skb_copy_bits(skb, thoff + 12, &doff, 1))
		return false;
	return (seg->flags & (TCPHDR_ACK | TCPHDR_SYN | TCPHDR_RST)) == TCPHDR_ACK &&
	       skb->len == thoff + (doff >> 4) * 4;
}

/* Past this, an answer is another connection's, not what the snapshot's became. */
#define RECOVER_MAX_AHEAD (1U << 30)

int gecko_probe_recover(struct gecko_tcp_state *st, const struct gecko_probe_seg *answer)
{
	bool ts = st->flags & GECKO_TCP_STATE_F_TIMESTAMPS;
	u32 una = st->write_seq - st->outq_len;
	u32 acked = answer->ack - una;			/* since the snapshot's oldest unacknowledged */
	u32 received = answer->seq - st->rcv_nxt;	/* since the snapshot's last received */
	u32 snd_wnd = (u32)answer->window << st->snd_wscale;

	if (st->state != TCP_ESTABLISHED)
		return -EOPNOTSUPP;
	if (ts != answer->has_ts)
		return -EPROTO;
	if (acked >= RECOVER_MAX_AHEAD || received >= RECOVER_MAX_AHEAD)
		return -ERANGE;
	st->flags &= ~GECKO_TCP_STATE_F_SNAPSHOT;
	st->bytes_sent = st->bytes_sent - st->outq_len + acked;
	st->bytes_received += received;
	st->write_seq = answer->ack;
	st->rcv_nxt = answer->seq;
	st->inq_len = 0;
	st->outq_len = 0;
	st->unsq_len = 0;
	st->snd_wl1 = answer->seq;
	st->rcv_wup = answer->seq;
	st->snd_wnd = snd_wnd;
	st->max_window = max(st->max_window, snd_wnd);
	/* TSecr is the last TSval of ours the peer took: PAWS wants no older. */
	if (ts)
		st->ts_val = (after(answer->tsecr, st->ts_val) ? answer->tsecr : st->ts_val) + 1;
	return gecko_tcp_state_validate(st);
}

/* Whether a socket of this node (established or in TIME_WAIT) has the connection. */
static bool runs_here(struct gecko_net *gn, const struct gecko_flow_key *key)
{
	struct sock *sk;

	rcu_read_lock();
	sk = __inet6_lookup_established(gn->net, &tcp_hashinfo, &key->remote, key->remote_port,
					&key->local, ntohs(key->local_port), 0, 0);
	rcu_read_unlock();
	if (sk)
		sock_gen_put(sk);
	return sk;
}

static int send_probe(struct gecko_net *gn, const struct gecko_flow_key *key,
		      const struct gecko_probe_seg *seg, struct netlink_ext_ack *extack)
{
	struct flowi6 fl6 = {
		.saddr = key->local,
		.daddr = key->remote,
		.flowi6_proto = IPPROTO_TCP,
		.fl6_sport = key->local_port,
		.fl6_dport = key->remote_port,
	};
	struct dst_entry *dst;
	struct sk_buff *skb;
	int ret;

	dst = ip6_route_output(gn->net, NULL, &fl6);
	if (dst->error) {
		ret = dst->error;
		dst_release(dst);
		NL_SET_ERR_MSG_MOD(extack, "no route from G to the peer");
		return ret;
	}
	skb = gecko_probe_build(key, seg);
	if (!skb) {
		dst_release(dst);
		NL_SET_ERR_MSG_MOD(extack, "out of memory for the probe");
		return -ENOMEM;
	}
	ipv6_hdr(skb)->hop_limit = ip6_dst_hoplimit(dst);
	skb_dst_set(skb, dst);
	skb->dev = dst->dev;
	ret = ip6_local_out(gn->net, NULL, skb);
	ret = net_xmit_eval(ret);
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "the probe could not be sent");
		return ret;
	}
	gecko_counter_inc(gn->net, GECKO_COUNTER_PROBES_SENT);
	return 0;
}

int gecko_probe(struct gecko_net *gn, const struct gecko_flow_key *key, const struct gecko_probe_seg *seg,
		u32 timeout_ms, struct netlink_ext_ack *extack)
{
	struct gecko_flow *flow;
	bool added = false;
	int ret = 0;

	mutex_lock(&gn->lock);
	if (!gecko_service_find(gn, &key->local)) {
		NL_SET_ERR_MSG_MOD(extack, "the local address is no service's");
		ret = -EADDRNOTAVAIL;
		goto out;
	}
	flow = gecko_flow_find(gn, key);
	if (!flow || flow->state != GECKO_FLOW_PROBING) {
		if (runs_here(gn, key)) {
			NL_SET_ERR_MSG_MOD(extack, "the connection runs here: its socket answers, not a probe");
			ret = -EBUSY;
			goto out;
		}
		flow = gecko_flow_add(gn, key, NULL, GECKO_FLOW_PROBING, timeout_ms, NULL, extack);
		if (IS_ERR(flow)) {
			ret = PTR_ERR(flow);
			goto out;
		}
		added = true;
	} else {
		gecko_flow_set_timeout(gn, flow, timeout_ms);
	}
	if (!seg)
		goto out;
	/* Under the lock: the flow cannot go before its probe is sent. */
	ret = send_probe(gn, key, seg, extack);
	if (!ret)
		flow->probes++;
	else if (added)
		gecko_flow_remove(gn, flow);
out:
	mutex_unlock(&gn->lock);
	return ret;
}
