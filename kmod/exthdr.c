// SPDX-License-Identifier: GPL-2.0-only
/*
 * Type 2 routing header in, Home Address option out.
 *
 * Both keep the transport header where it is in memory and move the IPv6
 * header (and any extension headers before the one added or removed)
 * instead, so csum_start, the transport header offset and GSO state stay
 * valid. Transport checksums need no change: both ends compute them with
 * the home address G (RFC 6275 §6.1.1, §6.3, §6.4), which is what the
 * sender's checksum already covers.
 */

#include "exthdr.h"

#include <linux/ipv6.h>
#include <linux/skbuff.h>
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
