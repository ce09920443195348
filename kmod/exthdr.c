// SPDX-License-Identifier: GPL-2.0-only
/*
 * Type 2 routing header in, Home Address option out; Home Address options
 * found in packets coming in and in what ICMPv6 errors quote.
 *
 * Strip and insert keep the transport header where it is in memory and
 * move the IPv6 header (and any extension headers before the one added or
 * removed) instead, so csum_start, the transport header offset and GSO
 * state stay valid. Transport checksums need no change: both ends compute
 * them with the home address G (RFC 6275 §6.1.1, §6.3, §6.4), which is
 * what the sender's checksum already covers.
 */

#include "exthdr.h"

#include <linux/icmpv6.h>
#include <linux/ipv6.h>
#include <linux/skbuff.h>
#include <net/checksum.h>
#include <net/ipv6.h>

/* Extension headers allowed before the routing header: hop-by-hop, then
 * destination options (RFC 8200 §4.1). More than this is not ours.
 */
#define MAX_HEADERS_BEFORE 2

enum gecko_rh2_result gecko_rh2_parse(const struct sk_buff *skb, struct gecko_rh2 *rh2)
{
	unsigned int off = sizeof(struct ipv6hdr), nh_off = offsetof(struct ipv6hdr, nexthdr);
	unsigned int base = skb_network_offset(skb);
	const struct ipv6hdr *ip6 = ipv6_hdr(skb);
	const struct rt2_hdr *rt;
	struct rt2_hdr buf;
	u8 nexthdr = ip6->nexthdr;
	int i;

	for (i = 0; i < MAX_HEADERS_BEFORE && (nexthdr == NEXTHDR_HOP || nexthdr == NEXTHDR_DEST); i++) {
		u8 hdr[2];

		if (skb_copy_bits(skb, base + off, hdr, sizeof(hdr)))
			return GECKO_RH2_TRUNCATED;
		nh_off = off;
		nexthdr = hdr[0];
		off += ipv6_optlen((struct ipv6_opt_hdr *)hdr);
	}
	if (nexthdr != NEXTHDR_ROUTING)
		return GECKO_RH2_ABSENT;

	rt = skb_header_pointer(skb, base + off, sizeof(struct ipv6_rt_hdr), &buf);
	if (!rt)
		return GECKO_RH2_TRUNCATED;
	if (rt->rt_hdr.type != IPV6_SRCRT_TYPE_2)
		return GECKO_RH2_ABSENT;
	if (rt->rt_hdr.hdrlen != 2)
		return GECKO_RH2_BAD_LENGTH;
	rt = skb_header_pointer(skb, base + off, sizeof(buf), &buf);
	if (!rt)
		return GECKO_RH2_TRUNCATED;
	if (rt->rt_hdr.segments_left != 1)
		return GECKO_RH2_BAD_SEGMENTS;
	if (!(ipv6_addr_type(&rt->addr) & IPV6_ADDR_UNICAST))
		return GECKO_RH2_BAD_ADDRESS;

	rh2->off = off;
	rh2->nh_off = nh_off;
	rh2->home = rt->addr;
	return GECKO_RH2_OK;
}

/**
 * gecko_rh2_strip - deliver a packet sent to a care-of address to its home address
 * @skb: an IPv6 packet whose network header is at skb->data, as on the
 *       receive path, with its transport header set past what the receive
 *       path has parsed (as ip6_rcv_core() leaves it)
 * @rh2: what gecko_rh2_parse() found in it
 *
 * Removes the routing header and makes its address the destination, as
 * the kernel's own type 2 processing would (RFC 6275 §9.3.2 on the
 * receiving side).
 *
 * Return: 0, or -ENOMEM when the headers cannot be made writable.
 */
int gecko_rh2_strip(struct sk_buff *skb, const struct gecko_rh2 *rh2)
{
	/* What the receive path has parsed so far (hop-by-hop) stays put. */
	int transport = skb_transport_header(skb) - skb_network_header(skb);
	struct ipv6hdr *ip6;
	u8 nexthdr;

	if (skb_ensure_writable(skb, rh2->off + GECKO_RH2_LEN))
		return -ENOMEM;
	nexthdr = skb_network_header(skb)[rh2->off];
	skb_network_header(skb)[rh2->nh_off] = nexthdr;
	memmove(skb_network_header(skb) + GECKO_RH2_LEN, skb_network_header(skb), rh2->off);
	__skb_pull(skb, GECKO_RH2_LEN);
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, transport);

	ip6 = ipv6_hdr(skb);
	ip6->daddr = rh2->home;
	be16_add_cpu(&ip6->payload_len, -GECKO_RH2_LEN);
	/* The sum over the packet changed in three places: let the stack verify. */
	if (skb->ip_summed == CHECKSUM_COMPLETE)
		skb->ip_summed = CHECKSUM_NONE;
	return 0;
}

/*
 * Where the Home Address option goes (RFC 6275 §6.3): after hop-by-hop
 * options and a routing header, before anything else. Returns the offset
 * and that of the Next Header field naming what comes there, or -EINVAL
 * for a packet that already has destination options there.
 */
static int hao_place(const struct sk_buff *skb, unsigned int *nh_off)
{
	unsigned int off = sizeof(struct ipv6hdr), base = skb_network_offset(skb);
	u8 nexthdr = ipv6_hdr(skb)->nexthdr;

	*nh_off = offsetof(struct ipv6hdr, nexthdr);
	while (nexthdr == NEXTHDR_HOP || nexthdr == NEXTHDR_ROUTING) {
		u8 hdr[2];

		if (skb_copy_bits(skb, base + off, hdr, sizeof(hdr)))
			return -EINVAL;
		*nh_off = off;
		nexthdr = hdr[0];
		off += ipv6_optlen((struct ipv6_opt_hdr *)hdr);
	}
	return nexthdr == NEXTHDR_DEST ? -EINVAL : off;
}

/**
 * gecko_hao_insert - send a packet from a home address through a care-of address
 * @skb: an IPv6 packet from the home address, network header at skb->data
 * @coa: the care-of address it leaves from
 *
 * Inserts a Destination Options header holding a Home Address option with
 * the packet's source, and makes @coa the source (RFC 6275 §6.3, §11.3.1).
 *
 * Return: 0; -EINVAL when the packet's headers leave no place for it;
 * -ENOMEM.
 */
int gecko_hao_insert(struct sk_buff *skb, const struct in6_addr *coa)
{
	struct ipv6_opt_hdr *dst;
	struct ipv6_destopt_hao *hao;
	unsigned int nh_off;
	struct ipv6hdr *ip6;
	int off;
	u8 *opt;

	off = hao_place(skb, &nh_off);
	if (off < 0)
		return off;
	if (skb_cow_head(skb, GECKO_HAO_LEN) || skb_ensure_writable(skb, off))
		return -ENOMEM;

	__skb_push(skb, GECKO_HAO_LEN);
	memmove(skb->data, skb->data + GECKO_HAO_LEN, off);
	skb_reset_network_header(skb);

	dst = (struct ipv6_opt_hdr *)(skb->data + off);
	dst->nexthdr = skb->data[nh_off];
	dst->hdrlen = GECKO_HAO_LEN / 8 - 1;
	/* PadN of 2 octets puts the option at 8n+6, its required alignment. */
	opt = (u8 *)(dst + 1);
	opt[0] = IPV6_TLV_PADN;
	opt[1] = 2;
	opt[2] = 0;
	opt[3] = 0;
	hao = (struct ipv6_destopt_hao *)(opt + 4);
	hao->type = IPV6_TLV_HAO;
	hao->length = sizeof(hao->addr);
	skb->data[nh_off] = NEXTHDR_DEST;

	ip6 = ipv6_hdr(skb);
	hao->addr = ip6->saddr;
	ip6->saddr = *coa;
	be16_add_cpu(&ip6->payload_len, GECKO_HAO_LEN);
	return 0;
}

/*
 * Looks through the options of the destination options header at @start
 * (from skb->data), @len octets long, never past its end.
 */
static enum gecko_hao_result hao_in_options(const struct sk_buff *skb, unsigned int start,
					    unsigned int len, struct gecko_hao *hao)
{
	unsigned int i = sizeof(struct ipv6_opt_hdr);
	u8 tlv[2];

	while (i < len) {
		if (skb_copy_bits(skb, start + i, tlv, 1))
			return GECKO_HAO_MALFORMED;
		if (tlv[0] == IPV6_TLV_PAD1) {
			i++;
			continue;
		}
		if (i + sizeof(tlv) > len || skb_copy_bits(skb, start + i, tlv, sizeof(tlv)) ||
		    i + sizeof(tlv) + tlv[1] > len)
			return GECKO_HAO_MALFORMED;
		if (tlv[0] == IPV6_TLV_HAO) {
			if (tlv[1] != sizeof(hao->home) ||
			    skb_copy_bits(skb, start + i + sizeof(tlv), &hao->home, sizeof(hao->home)))
				return GECKO_HAO_MALFORMED;
			hao->off = start + i + sizeof(tlv) - skb_network_offset(skb);
			return GECKO_HAO_OK;
		}
		i += sizeof(tlv) + tlv[1];
	}
	return GECKO_HAO_ABSENT;
}

/**
 * gecko_hao_parse - find the Home Address option of an IPv6 packet
 * @skb: holds the packet
 * @ip6_off: where its IPv6 header is, from the network header: 0 for the
 *           packet itself, or inside an ICMPv6 error for the one it quotes
 * @hao: where the first option found is described
 *
 * Looks in every destination options header among the hop-by-hop, routing
 * and destination options headers that follow the IPv6 header; the option
 * belongs there (RFC 6275 §6.3), before any fragment header.
 *
 * Return: GECKO_HAO_OK with @hao filled in, GECKO_HAO_ABSENT, or
 * GECKO_HAO_MALFORMED (which the kernel's own parser drops).
 */
enum gecko_hao_result gecko_hao_parse(const struct sk_buff *skb, unsigned int ip6_off,
				      struct gecko_hao *hao)
{
	unsigned int base = skb_network_offset(skb) + ip6_off, off = sizeof(struct ipv6hdr);
	enum gecko_hao_result res;
	u8 nexthdr, hdr[2];

	if (skb_copy_bits(skb, base + offsetof(struct ipv6hdr, nexthdr), &nexthdr, 1))
		return GECKO_HAO_MALFORMED;
	while (nexthdr == NEXTHDR_HOP || nexthdr == NEXTHDR_ROUTING || nexthdr == NEXTHDR_DEST) {
		if (skb_copy_bits(skb, base + off, hdr, sizeof(hdr)))
			return GECKO_HAO_MALFORMED;
		if (nexthdr == NEXTHDR_DEST) {
			res = hao_in_options(skb, base + off, ipv6_optlen((struct ipv6_opt_hdr *)hdr),
					     hao);
			if (res != GECKO_HAO_ABSENT)
				return res;
		}
		nexthdr = hdr[0];
		off += ipv6_optlen((struct ipv6_opt_hdr *)hdr);
	}
	return GECKO_HAO_ABSENT;
}

/**
 * gecko_icmp_err_parse - find the Home Address option an ICMPv6 error quotes
 * @skb: an IPv6 packet, network header at skb->data
 * @icmp_off: where its ICMPv6 header is, from the network header
 * @coa: the source the quoted packet must have
 * @err: where what was found is described
 *
 * Return: whether @skb is an error (destination unreachable, packet too
 * big, time exceeded, parameter problem) quoting a packet from @coa with a
 * Home Address option, whole, at an even offset from the ICMPv6 header.
 */
bool gecko_icmp_err_parse(const struct sk_buff *skb, unsigned int icmp_off,
			  const struct in6_addr *coa, struct gecko_icmp_err *err)
{
	unsigned int quote = icmp_off + sizeof(struct icmp6hdr);
	const struct icmp6hdr *icmp6;
	const struct ipv6hdr *ip6;
	struct icmp6hdr _icmp6;
	struct ipv6hdr _ip6;

	icmp6 = skb_header_pointer(skb, skb_network_offset(skb) + icmp_off, sizeof(_icmp6), &_icmp6);
	if (!icmp6 || icmp6->icmp6_type < ICMPV6_DEST_UNREACH ||
	    icmp6->icmp6_type > ICMPV6_PARAMPROB)
		return false;
	ip6 = skb_header_pointer(skb, skb_network_offset(skb) + quote, sizeof(_ip6), &_ip6);
	if (!ip6 || !ipv6_addr_equal(&ip6->saddr, coa))
		return false;
	/* hao_out puts the address at 8n + 8; elsewhere, swapping it with the
	 * source would change the checksum.
	 */
	if (gecko_hao_parse(skb, quote, &err->hao) != GECKO_HAO_OK || (err->hao.off - icmp_off) % 2)
		return false;
	err->icmp_off = icmp_off;
	return true;
}

/**
 * gecko_icmp_err_to_home - make an ICMPv6 error about a packet from a care-of
 *                          address one about the home address's packet
 * @skb: what gecko_icmp_err_parse() accepted, network header at skb->data
 * @err: what it found
 *
 * Swaps the quoted source and the option's address, as the kernel swaps
 * them on receipt (ipv6_dest_hao()), so the error reaches the home
 * address's socket. A Packet Too Big reports 24 octets less, never below
 * the IPv6 minimum MTU: each packet from the home address grows by the
 * option on its way out.
 *
 * Return: 0, or -ENOMEM when the message cannot be made writable.
 */
int gecko_icmp_err_to_home(struct sk_buff *skb, const struct gecko_icmp_err *err)
{
	struct icmp6hdr *icmp6;
	struct ipv6hdr *ip6;
	__be32 mtu;
	u8 *nh;

	if (skb_ensure_writable(skb, skb_network_offset(skb) + err->hao.off + sizeof(struct in6_addr)))
		return -ENOMEM;
	nh = skb_network_header(skb);
	icmp6 = (struct icmp6hdr *)(nh + err->icmp_off);
	ip6 = (struct ipv6hdr *)(icmp6 + 1);

	/* Both at even offsets: the sum over the message, and so its checksum
	 * and a CHECKSUM_COMPLETE skb->csum, stay as they are.
	 */
	memcpy(nh + err->hao.off, &ip6->saddr, sizeof(ip6->saddr));
	ip6->saddr = err->hao.home;

	if (icmp6->icmp6_type == ICMPV6_PKT_TOOBIG && ntohl(icmp6->icmp6_mtu) > IPV6_MIN_MTU) {
		mtu = htonl(max_t(u32, ntohl(icmp6->icmp6_mtu) - GECKO_HAO_LEN, IPV6_MIN_MTU));
		/* The checksum absorbs the change: skb->csum stays right too. */
		inet_proto_csum_replace4(&icmp6->icmp6_cksum, skb, icmp6->icmp6_mtu, mtu, false);
		icmp6->icmp6_mtu = mtu;
	}
	return 0;
}

int gecko_ip6ip6_push(struct sk_buff *skb, const struct in6_addr *src, const struct in6_addr *dst)
{
	unsigned int inner = skb->len;
	struct ipv6hdr *ip6;
	int ret;

	/* One checksum at a time can be left to the device: the inner one is finished now. */
	if (skb_is_gso(skb))
		return -EINVAL;
	if (skb->ip_summed == CHECKSUM_PARTIAL) {
		ret = skb_checksum_help(skb);
		if (ret)
			return ret;
	}
	if (skb_cow_head(skb, sizeof(*ip6) + LL_MAX_HEADER))
		return -ENOMEM;
	ip6 = skb_push(skb, sizeof(*ip6));
	skb_reset_network_header(skb);
	ip6_flow_hdr(ip6, 0, 0);
	ip6->payload_len = htons(inner <= IPV6_MAXPLEN ? inner : 0);
	ip6->nexthdr = IPPROTO_IPV6;
	ip6->hop_limit = 64;
	ip6->saddr = *src;
	ip6->daddr = *dst;
	skb->protocol = htons(ETH_P_IPV6);
	return 0;
}

int gecko_ip6ip6_strip(struct sk_buff *skb)
{
	const struct ipv6hdr *inner;
	unsigned int len;

	if (!pskb_may_pull(skb, skb_network_offset(skb) + 2 * sizeof(struct ipv6hdr)))
		return -EINVAL;
	inner = (const struct ipv6hdr *)(skb_network_header(skb) + sizeof(struct ipv6hdr));
	len = sizeof(*inner) + ntohs(inner->payload_len);
	if (inner->version != 6 || len > skb->len - skb_network_offset(skb) - sizeof(*inner))
		return -EINVAL;
	skb_pull_rcsum(skb, skb_network_offset(skb) + sizeof(struct ipv6hdr));
	skb_reset_network_header(skb);
	skb_set_transport_header(skb, sizeof(*inner));
	if (pskb_trim_rcsum(skb, len))
		return -ENOMEM;
	IP6CB(skb)->nhoff = offsetof(struct ipv6hdr, nexthdr);
	return 0;
}
