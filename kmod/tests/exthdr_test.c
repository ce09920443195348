// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the type 2 routing header and Home Address option helpers, and
 * ICMPv6 errors that quote the option, on packets built octet by octet,
 * with each kind of checksum state.
 */

#include "../exthdr.h"

#include <asm/unaligned.h>
#include <kunit/test.h>
#include <linux/icmpv6.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/ip6_checksum.h>
#include <net/ipv6.h>

#define PAYLOAD 32

static const struct in6_addr client = { .s6_addr = { 0xfd, 0, 0, 0x0c, [15] = 2 } };
static const struct in6_addr home = { .s6_addr = { 0xfd, 0, 0, 0x0a, [14] = 1 } };
static const struct in6_addr coa = { .s6_addr = { 0xfd, 0, 0, 0x12, [15] = 2 } };
static const struct in6_addr mcast = { .s6_addr = { 0xff, 0x02, [15] = 1 } };
static const struct in6_addr router = { .s6_addr = { 0xfd, 0, 0, 0x12, [15] = 1 } };

/* What goes between the IPv6 header and UDP. */
struct layout {
	bool hop;		/* hop-by-hop options first */
	bool dest;		/* then destination options */
	bool rh;		/* then a routing header */
	u8 rh_type, rh_len, rh_left;
	const struct in6_addr *rh_addr;
	unsigned int cut;	/* truncate to this many octets (0: no) */
};

/* An skb with headroom and an IPv6 header from @src to @dst, its next header @next. */
static struct sk_buff *new_ip6(struct kunit *test, unsigned int size, u8 next,
			       const struct in6_addr *src, const struct in6_addr *dst)
{
	struct sk_buff *skb = alloc_skb(128 + size, GFP_KERNEL);
	struct ipv6hdr *ip6;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_reserve(skb, 128);
	skb_reset_network_header(skb);
	ip6 = skb_put_zero(skb, sizeof(*ip6));
	ip6->version = 6;
	ip6->hop_limit = 64;
	ip6->nexthdr = next;
	ip6->saddr = *src;
	ip6->daddr = *dst;
	return skb;
}

/* Appends an 8-octet options header (PadN only) naming @next. */
static void put_opts(struct sk_buff *skb, u8 next)
{
	u8 *h = skb_put_zero(skb, 8);

	h[0] = next;
	h[2] = IPV6_TLV_PADN;
	h[3] = 4;
}

static bool udp_ok(struct sk_buff *skb, const struct in6_addr *src, const struct in6_addr *dst)
{
	struct udphdr *uh = udp_hdr(skb);
	unsigned int len = ntohs(uh->len);

	return !csum_ipv6_magic(src, dst, len, IPPROTO_UDP, csum_partial(uh, len, 0));
}

/*
 * An IPv6 packet with @l's headers and UDP, as the receive path leaves it
 * at PRE_ROUTING: network header at data, transport header past the
 * hop-by-hop options. The UDP checksum is computed with @src and @dst.
 */
static struct sk_buff *build(struct kunit *test, const struct layout *l,
			     const struct in6_addr *src, const struct in6_addr *dst)
{
	struct sk_buff *skb;
	struct ipv6hdr *ip6;
	struct udphdr *uh;
	u8 *rh;

	skb = new_ip6(test, 384, l->hop ? NEXTHDR_HOP : l->dest ? NEXTHDR_DEST :
			     l->rh ? NEXTHDR_ROUTING : NEXTHDR_UDP, src, l->rh ? &coa : dst);
	ip6 = ipv6_hdr(skb);
	if (l->hop)
		put_opts(skb, l->dest ? NEXTHDR_DEST : l->rh ? NEXTHDR_ROUTING : NEXTHDR_UDP);
	skb_set_transport_header(skb, skb->len);
	if (l->dest)
		put_opts(skb, l->rh ? NEXTHDR_ROUTING : NEXTHDR_UDP);
	if (l->rh) {
		rh = skb_put_zero(skb, GECKO_RH2_LEN);
		rh[0] = NEXTHDR_UDP;
		rh[1] = l->rh_len;
		rh[2] = l->rh_type;
		rh[3] = l->rh_left;
		memcpy(rh + 8, l->rh_addr, sizeof(struct in6_addr));
	}
	uh = skb_put_zero(skb, sizeof(*uh) + PAYLOAD);
	memset(uh + 1, 0x5a, PAYLOAD);
	uh->source = htons(40000);
	uh->dest = htons(7);
	uh->len = htons(sizeof(*uh) + PAYLOAD);
	uh->check = csum_ipv6_magic(src, dst, sizeof(*uh) + PAYLOAD, IPPROTO_UDP,
				    csum_partial(uh, sizeof(*uh) + PAYLOAD, 0));
	ip6->payload_len = htons(skb->len - sizeof(*ip6));
	if (l->cut)
		skb_trim(skb, l->cut);
	return skb;
}

#define RH2(...) .rh = true, .rh_type = IPV6_SRCRT_TYPE_2, .rh_len = 2, .rh_left = 1, \
	.rh_addr = &home, __VA_ARGS__

struct parse_case {
	const char *name;
	struct layout l;
	enum gecko_rh2_result want;
	unsigned int off, nh_off;
};

static const struct parse_case parse_cases[] = {
	{ "no extension header", {}, GECKO_RH2_ABSENT },
	{ "RH2 after the IPv6 header", { RH2() }, GECKO_RH2_OK, 40, 6 },
	{ "RH2 after hop-by-hop", { .hop = true, RH2() }, GECKO_RH2_OK, 48, 40 },
	{ "RH2 after hop-by-hop and dest options", { .hop = true, .dest = true, RH2() },
	  GECKO_RH2_OK, 56, 48 },
	{ "routing header type 0", { RH2(.rh_type = 0) }, GECKO_RH2_ABSENT },
	{ "segment routing header", { RH2(.rh_type = IPV6_SRCRT_TYPE_4) }, GECKO_RH2_ABSENT },
	{ "Hdr Ext Len 4", { RH2(.rh_len = 4) }, GECKO_RH2_BAD_LENGTH },
	{ "Hdr Ext Len 0", { RH2(.rh_len = 0) }, GECKO_RH2_BAD_LENGTH },
	{ "Segments Left 0", { RH2(.rh_left = 0) }, GECKO_RH2_BAD_SEGMENTS },
	{ "Segments Left 2", { RH2(.rh_left = 2) }, GECKO_RH2_BAD_SEGMENTS },
	{ "multicast home address", { RH2(.rh_addr = &mcast) }, GECKO_RH2_BAD_ADDRESS },
	{ "unspecified home address", { RH2(.rh_addr = &in6addr_any) }, GECKO_RH2_BAD_ADDRESS },
	{ "cut inside the routing header", { RH2(.cut = 40 + 12) }, GECKO_RH2_TRUNCATED },
	{ "cut before the routing header type", { RH2(.cut = 40 + 2) }, GECKO_RH2_TRUNCATED },
	{ "cut inside hop-by-hop", { .hop = true, RH2(.cut = 41) }, GECKO_RH2_TRUNCATED },
};

static void parse_case_desc(const struct parse_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(parse, parse_cases, parse_case_desc);

static void rh2_parse(struct kunit *test)
{
	const struct parse_case *c = test->param_value;
	struct sk_buff *skb = build(test, &c->l, &client, &home);
	struct gecko_rh2 rh2 = {};

	KUNIT_EXPECT_EQ(test, gecko_rh2_parse(skb, &rh2), c->want);
	if (c->want == GECKO_RH2_OK) {
		KUNIT_EXPECT_EQ(test, rh2.off, c->off);
		KUNIT_EXPECT_EQ(test, rh2.nh_off, c->nh_off);
		KUNIT_EXPECT_TRUE(test, ipv6_addr_equal(&rh2.home, &home));
	}
	kfree_skb(skb);
}

struct strip_case {
	const char *name;
	struct layout l;
	u8 ip_summed;
	u8 want_summed;
};

static const struct strip_case strip_cases[] = {
	{ "plain, no checksum state", { RH2() }, CHECKSUM_NONE, CHECKSUM_NONE },
	{ "after hop-by-hop", { .hop = true, RH2() }, CHECKSUM_NONE, CHECKSUM_NONE },
	{ "after hop-by-hop and dest options", { .hop = true, .dest = true, RH2() },
	  CHECKSUM_NONE, CHECKSUM_NONE },
	{ "CHECKSUM_COMPLETE is downgraded", { RH2() }, CHECKSUM_COMPLETE, CHECKSUM_NONE },
	{ "CHECKSUM_UNNECESSARY is kept", { RH2() }, CHECKSUM_UNNECESSARY,
	  CHECKSUM_UNNECESSARY },
};

static void strip_case_desc(const struct strip_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(strip, strip_cases, strip_case_desc);

static void rh2_strip(struct kunit *test)
{
	const struct strip_case *c = test->param_value;
	struct sk_buff *skb = build(test, &c->l, &client, &home);
	unsigned int len = skb->len, transport;
	struct udphdr *uh_before = udp_hdr(skb);
	struct gecko_rh2 rh2;
	struct ipv6hdr *ip6;

	/* Arrange */
	skb->ip_summed = c->ip_summed;
	KUNIT_ASSERT_EQ(test, gecko_rh2_parse(skb, &rh2), GECKO_RH2_OK);
	uh_before = (struct udphdr *)(skb->data + rh2.off + GECKO_RH2_LEN);
	transport = skb_transport_offset(skb);

	/* Act */
	KUNIT_ASSERT_EQ(test, gecko_rh2_strip(skb, &rh2), 0);

	/* Assert: a plain packet to the home address, UDP where it was. */
	ip6 = ipv6_hdr(skb);
	KUNIT_EXPECT_EQ(test, skb->len, len - GECKO_RH2_LEN);
	KUNIT_EXPECT_EQ(test, ntohs(ip6->payload_len), skb->len - sizeof(*ip6));
	KUNIT_EXPECT_TRUE(test, ipv6_addr_equal(&ip6->daddr, &home));
	KUNIT_EXPECT_EQ(test, skb_network_offset(skb), 0);
	KUNIT_EXPECT_EQ(test, skb_transport_offset(skb), (int)transport);
	KUNIT_EXPECT_EQ(test, ipv6_find_hdr(skb, &(unsigned int){0}, IPPROTO_UDP, NULL, NULL),
			IPPROTO_UDP);
	skb_set_transport_header(skb, skb->len - sizeof(struct udphdr) - PAYLOAD);
	KUNIT_EXPECT_PTR_EQ(test, udp_hdr(skb), uh_before);
	KUNIT_EXPECT_TRUE(test, udp_ok(skb, &client, &home));
	KUNIT_EXPECT_EQ(test, (u8)skb->ip_summed, c->want_summed);
	KUNIT_EXPECT_EQ(test, gecko_rh2_parse(skb, &rh2), GECKO_RH2_ABSENT);
	kfree_skb(skb);
}

/* The option as RFC 6275 §6.3 lays it out after the 2-octet header. */
static void expect_hao(struct kunit *test, const u8 *dst, u8 next)
{
	static const u8 pad[] = { IPV6_TLV_PADN, 2, 0, 0, IPV6_TLV_HAO, 16 };

	KUNIT_EXPECT_EQ(test, dst[0], next);
	KUNIT_EXPECT_EQ(test, dst[1], 2);
	KUNIT_EXPECT_EQ(test, memcmp(dst + 2, pad, sizeof(pad)), 0);
	KUNIT_EXPECT_EQ(test, memcmp(dst + 8, &home, sizeof(home)), 0);
}

static void hao_insert_plain(struct kunit *test)
{
	struct layout l = {};
	struct sk_buff *skb = build(test, &l, &home, &client);
	unsigned int len = skb->len;
	struct udphdr *uh = udp_hdr(skb);
	struct gecko_hao hao;
	struct ipv6hdr *ip6;

	KUNIT_ASSERT_EQ(test, gecko_hao_parse(skb, 0, &hao), GECKO_HAO_ABSENT);
	KUNIT_ASSERT_EQ(test, gecko_hao_insert(skb, &coa), 0);

	ip6 = ipv6_hdr(skb);
	KUNIT_EXPECT_EQ(test, gecko_hao_parse(skb, 0, &hao), GECKO_HAO_OK);
	KUNIT_EXPECT_EQ(test, hao.off, sizeof(*ip6) + 8);
	KUNIT_EXPECT_TRUE(test, ipv6_addr_equal(&hao.home, &home));
	KUNIT_EXPECT_EQ(test, skb->len, len + GECKO_HAO_LEN);
	KUNIT_EXPECT_EQ(test, ntohs(ip6->payload_len), skb->len - sizeof(*ip6));
	KUNIT_EXPECT_TRUE(test, ipv6_addr_equal(&ip6->saddr, &coa));
	KUNIT_EXPECT_EQ(test, ip6->nexthdr, NEXTHDR_DEST);
	expect_hao(test, (u8 *)(ip6 + 1), NEXTHDR_UDP);
	/* UDP did not move, and its checksum is right for the home address. */
	KUNIT_EXPECT_PTR_EQ(test, udp_hdr(skb), uh);
	KUNIT_EXPECT_PTR_EQ(test, (void *)uh, (void *)ip6 + sizeof(*ip6) + GECKO_HAO_LEN);
	KUNIT_EXPECT_TRUE(test, udp_ok(skb, &home, &client));
	kfree_skb(skb);
}

static void hao_insert_after_hop_by_hop(struct kunit *test)
{
	struct layout l = { .hop = true };
	struct sk_buff *skb = build(test, &l, &home, &client);
	u8 *hop;

	KUNIT_ASSERT_EQ(test, gecko_hao_insert(skb, &coa), 0);

	hop = skb_network_header(skb) + sizeof(struct ipv6hdr);
	KUNIT_EXPECT_EQ(test, ipv6_hdr(skb)->nexthdr, NEXTHDR_HOP);
	KUNIT_EXPECT_EQ(test, hop[0], NEXTHDR_DEST);
	expect_hao(test, hop + 8, NEXTHDR_UDP);
	kfree_skb(skb);
}

static void hao_insert_refuses_existing_dest_options(struct kunit *test)
{
	struct layout l = { .dest = true };
	struct sk_buff *skb = build(test, &l, &home, &client);
	unsigned int len = skb->len;

	KUNIT_EXPECT_EQ(test, gecko_hao_insert(skb, &coa), -EINVAL);
	KUNIT_EXPECT_EQ(test, skb->len, len);
	KUNIT_EXPECT_TRUE(test, ipv6_addr_equal(&ipv6_hdr(skb)->saddr, &home));
	kfree_skb(skb);
}

/* As a socket with checksum offload hands it over: only the pseudo-header sum. */
static void make_partial(struct sk_buff *skb, const struct in6_addr *src,
			 const struct in6_addr *dst)
{
	struct udphdr *uh = udp_hdr(skb);
	unsigned int len = ntohs(uh->len);

	uh->check = ~csum_ipv6_magic(src, dst, len, IPPROTO_UDP, 0);
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb->csum_start = skb_transport_header(skb) - skb->head;
	skb->csum_offset = offsetof(struct udphdr, check);
}

static void hao_insert_checksum_partial(struct kunit *test)
{
	struct layout l = {};
	struct sk_buff *skb = build(test, &l, &home, &client);

	/* Arrange */
	make_partial(skb, &home, &client);

	/* Act */
	KUNIT_ASSERT_EQ(test, gecko_hao_insert(skb, &coa), 0);

	/* Assert: the device (here, software) completes it right for G. */
	KUNIT_EXPECT_PTR_EQ(test, skb->head + skb->csum_start, (u8 *)udp_hdr(skb));
	KUNIT_ASSERT_EQ(test, skb_checksum_help(skb), 0);
	KUNIT_EXPECT_TRUE(test, udp_ok(skb, &home, &client));
	kfree_skb(skb);
}

static void hao_insert_then_gso_segments(struct kunit *test)
{
	const unsigned int mss = 100, total = 1000;
	struct sk_buff *skb, *segs, *seg, *next;
	struct ipv6hdr *ip6;
	struct udphdr *uh;
	unsigned int n = 0;
	int err;

	/* Arrange: one UDP GSO packet of @total octets in @mss pieces. */
	skb = new_ip6(test, sizeof(*ip6) + sizeof(*uh) + total, NEXTHDR_UDP, &home, &client);
	ip6 = ipv6_hdr(skb);
	skb_set_transport_header(skb, skb->len);
	uh = skb_put_zero(skb, sizeof(*uh) + total);
	memset(uh + 1, 0xa5, total);
	uh->len = htons(sizeof(*uh) + total);
	ip6->payload_len = uh->len;
	make_partial(skb, &home, &client);
	skb->protocol = htons(ETH_P_IPV6);
	skb_shinfo(skb)->gso_size = mss;
	skb_shinfo(skb)->gso_type = SKB_GSO_UDP_L4;
	skb_shinfo(skb)->gso_segs = DIV_ROUND_UP(total, mss);

	/* Act */
	err = gecko_hao_insert(skb, &coa);
	segs = err ? NULL : skb_gso_segment(skb, 0);
	/* The segments hold what they need: the original is still ours to free. */
	kfree_skb(skb);
	KUNIT_ASSERT_EQ(test, err, 0);

	/* Assert: every segment has the option and a checksum right for G. */
	KUNIT_ASSERT_FALSE(test, IS_ERR_OR_NULL(segs));
	skb_list_walk_safe(segs, seg, next) {
		ip6 = ipv6_hdr(seg);
		KUNIT_EXPECT_EQ(test, ntohs(ip6->payload_len), seg->len - skb_network_offset(seg) -
				sizeof(*ip6));
		KUNIT_EXPECT_TRUE(test, ipv6_addr_equal(&ip6->saddr, &coa));
		expect_hao(test, (u8 *)(ip6 + 1), NEXTHDR_UDP);
		/* An expectation, not an assertion: the rest of the list is freed either way. */
		if (seg->ip_summed == CHECKSUM_PARTIAL)
			KUNIT_EXPECT_EQ(test, skb_checksum_help(seg), 0);
		KUNIT_EXPECT_TRUE(test, udp_ok(seg, &home, &client));
		n++;
		kfree_skb(seg);
	}
	KUNIT_EXPECT_EQ(test, n, DIV_ROUND_UP(total, mss));
}

struct push_case {
	const char *name;
	u8 ip_summed;		/* as the packet reached the donor */
	bool gso;
	int err;
};

static const struct push_case push_cases[] = {
	{ "checksum complete", CHECKSUM_NONE, false, 0 },
	{ "checksum verified on receipt", CHECKSUM_UNNECESSARY, false, 0 },
	{ "checksum left to the device is finished", CHECKSUM_PARTIAL, false, 0 },
	{ "a GSO packet is refused: segments go one by one", CHECKSUM_PARTIAL, true, -EINVAL },
};

static void push_case_desc(const struct push_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(push, push_cases, push_case_desc);

/* A packet passed on by a donor leaves with whole checksums inside. */
static void ip6ip6_push(struct kunit *test)
{
	const struct push_case *c = test->param_value;
	struct layout l = {};
	struct sk_buff *skb = build(test, &l, &client, &home);
	unsigned int len = skb->len;
	struct ipv6hdr *outer;

	/* Arrange */
	if (c->ip_summed == CHECKSUM_PARTIAL)
		make_partial(skb, &client, &home);
	else
		skb->ip_summed = c->ip_summed;
	if (c->gso) {
		skb_shinfo(skb)->gso_size = 8;
		skb_shinfo(skb)->gso_type = SKB_GSO_UDP_L4;
	}

	/* Act */
	KUNIT_ASSERT_EQ(test, gecko_ip6ip6_push(skb, &coa, &router), c->err);
	if (c->err) {
		KUNIT_EXPECT_EQ(test, skb->len, len);
		kfree_skb(skb);
		return;
	}

	/* Assert: nothing is left for the device, and the inner checksum is right. */
	outer = ipv6_hdr(skb);
	KUNIT_EXPECT_NE(test, (u8)skb->ip_summed, (u8)CHECKSUM_PARTIAL);
	KUNIT_EXPECT_EQ(test, outer->nexthdr, IPPROTO_IPV6);
	KUNIT_EXPECT_TRUE(test, ipv6_addr_equal(&outer->saddr, &coa));
	KUNIT_EXPECT_EQ(test, ntohs(outer->payload_len), len);
	KUNIT_EXPECT_TRUE(test, udp_ok(skb, &client, &home));
	/* And the acceptor gets the client's packet back as it was. */
	KUNIT_ASSERT_EQ(test, gecko_ip6ip6_strip(skb), 0);
	KUNIT_EXPECT_EQ(test, skb->len, len);
	KUNIT_EXPECT_TRUE(test, ipv6_addr_equal(&ipv6_hdr(skb)->saddr, &client));
	kfree_skb(skb);
}

/* Extension headers for the Home Address option cases, octet by octet. */
enum ext {
	X_END,
	X_HOP,		/* hop-by-hop, PadN */
	X_PADN,		/* destination options, PadN */
	X_PAD1,		/* destination options, Pad1 to the end */
	X_HAO,		/* destination options as hao_out writes them: PadN of 2, HAO */
	X_HAO_PAD1,	/* Pad1, Pad1, an unknown skippable option, HAO */
	X_HAO_ODD,	/* Pad1, HAO: the address at an odd offset */
	X_HAO_LEN8,	/* HAO with 8 octets */
	X_OVERRUN,	/* PadN running 2 octets past the header */
	X_SPLIT,	/* an option's type in the last octet, its length beyond */
	X_RH2,		/* type 2 routing header */
	X_FRAG,		/* fragment header, first fragment */
};

static const struct {
	u8 proto;		/* what the Next Header before it says */
	u8 len;
	u8 addr;		/* where the home address goes, if anywhere */
	u8 octets[24];		/* from its Hdr Ext Len on; Next Header is filled in */
} exts[] = {
	[X_HOP] = { NEXTHDR_HOP, 8, 0, { 0, IPV6_TLV_PADN, 4 } },
	[X_PADN] = { NEXTHDR_DEST, 8, 0, { 0, IPV6_TLV_PADN, 4 } },
	[X_PAD1] = { NEXTHDR_DEST, 8, 0, { 0 } },
	[X_HAO] = { NEXTHDR_DEST, 24, 8, { 2, IPV6_TLV_PADN, 2, 0, 0, IPV6_TLV_HAO, 16 } },
	[X_HAO_PAD1] = { NEXTHDR_DEST, 24, 8,
			 { 2, IPV6_TLV_PAD1, IPV6_TLV_PAD1, 0x1e, 0, IPV6_TLV_HAO, 16 } },
	[X_HAO_ODD] = { NEXTHDR_DEST, 24, 5,
			{ 2, IPV6_TLV_PAD1, IPV6_TLV_HAO, 16, [20] = IPV6_TLV_PADN, 1 } },
	[X_HAO_LEN8] = { NEXTHDR_DEST, 16, 0,
			 { 1, IPV6_TLV_PADN, 2, 0, 0, IPV6_TLV_HAO, 8, 0xfd } },
	[X_OVERRUN] = { NEXTHDR_DEST, 8, 0, { 0, IPV6_TLV_PADN, 6 } },
	[X_SPLIT] = { NEXTHDR_DEST, 8, 0, { 0, IPV6_TLV_PADN, 3, 0, 0, 0, IPV6_TLV_HAO } },
	[X_RH2] = { NEXTHDR_ROUTING, 24, 8, { 2, IPV6_SRCRT_TYPE_2, 1 } },
	[X_FRAG] = { NEXTHDR_FRAGMENT, 8, 0, { 0, 0, 0, 0, 0, 0, 1 } },
};

/* Appends the headers @x (up to X_END) and then @proto's, naming each. */
static void put_exts(struct sk_buff *skb, u8 *nexthdr, const enum ext *x, u8 proto)
{
	u8 *h;

	for (; *x != X_END; x++) {
		*nexthdr = exts[*x].proto;
		h = skb_put_zero(skb, exts[*x].len);
		memcpy(h + 1, exts[*x].octets, exts[*x].len - 1);
		if (exts[*x].addr)
			memcpy(h + exts[*x].addr, &home, sizeof(home));
		nexthdr = h;
	}
	*nexthdr = proto;
}

struct hao_case {
	const char *name;
	enum ext x[4];
	unsigned int cut;	/* truncate to this many octets (0: no) */
	enum gecko_hao_result want;
	unsigned int off;	/* of the address, when found */
};

static const struct hao_case hao_cases[] = {
	{ "no extension header", {}, 0, GECKO_HAO_ABSENT },
	{ "HAO as hao_out inserts it", { X_HAO }, 0, GECKO_HAO_OK, 48 },
	{ "HAO after hop-by-hop", { X_HOP, X_HAO }, 0, GECKO_HAO_OK, 56 },
	{ "HAO after a type 2 routing header", { X_RH2, X_HAO }, 0, GECKO_HAO_OK, 72 },
	{ "HAO in the second destination options header", { X_PADN, X_RH2, X_HAO }, 0,
	  GECKO_HAO_OK, 80 },
	{ "HAO after Pad1s and an unknown option", { X_HAO_PAD1 }, 0, GECKO_HAO_OK, 48 },
	{ "HAO at an odd offset", { X_HAO_ODD }, 0, GECKO_HAO_OK, 45 },
	{ "destination options without HAO", { X_PADN }, 0, GECKO_HAO_ABSENT },
	{ "Pad1s to the end of the header", { X_PAD1 }, 0, GECKO_HAO_ABSENT },
	{ "HAO after a fragment header", { X_FRAG, X_HAO }, 0, GECKO_HAO_ABSENT },
	{ "HAO of length 8", { X_HAO_LEN8 }, 0, GECKO_HAO_MALFORMED },
	{ "option running past its header", { X_OVERRUN }, 0, GECKO_HAO_MALFORMED },
	{ "option type and length split by the header's end", { X_SPLIT }, 0,
	  GECKO_HAO_MALFORMED },
	{ "destination options cut inside the address", { X_HAO }, 40 + 12,
	  GECKO_HAO_MALFORMED },
	{ "hop-by-hop cut after one octet", { X_HOP, X_HAO }, 40 + 1, GECKO_HAO_MALFORMED },
};

static void hao_case_desc(const struct hao_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(hao, hao_cases, hao_case_desc);

static void hao_parse(struct kunit *test)
{
	const struct hao_case *c = test->param_value;
	struct sk_buff *skb = alloc_skb(256, GFP_KERNEL);
	struct gecko_hao hao = {};
	struct ipv6hdr *ip6;

	/* Arrange: the headers, then 8 octets of UDP. */
	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_reserve(skb, 64);
	skb_reset_network_header(skb);
	ip6 = skb_put_zero(skb, sizeof(*ip6));
	ip6->version = 6;
	ip6->saddr = coa;
	ip6->daddr = client;
	put_exts(skb, &ip6->nexthdr, c->x, NEXTHDR_UDP);
	skb_put_zero(skb, sizeof(struct udphdr));
	ip6->payload_len = htons(skb->len - sizeof(*ip6));
	if (c->cut)
		skb_trim(skb, c->cut);

	/* Act, Assert */
	KUNIT_EXPECT_EQ(test, gecko_hao_parse(skb, 0, &hao), c->want);
	if (c->want == GECKO_HAO_OK) {
		KUNIT_EXPECT_EQ(test, hao.off, c->off);
		KUNIT_EXPECT_TRUE(test, ipv6_addr_equal(&hao.home, &home));
	}
	kfree_skb(skb);
}

struct icmp_case {
	const char *name;
	u8 type;
	u32 mtu;		/* the ICMPv6 header's second word */
	const struct in6_addr *src;	/* the quoted packet's */
	enum ext hao;		/* its destination options, if any */
	unsigned int cut;	/* quote only this many octets (0: IPv6, HAO, TCP) */
	u8 ip_summed;
	bool want;		/* rewritten */
	u32 want_mtu;
};

static const struct icmp_case icmp_cases[] = {
	{ "too big 1400: rewritten, 1376", ICMPV6_PKT_TOOBIG, 1400, &coa, X_HAO, 0,
	  CHECKSUM_NONE, true, 1376 },
	{ "too big 1500, CHECKSUM_COMPLETE kept right", ICMPV6_PKT_TOOBIG, 1500, &coa, X_HAO,
	  0, CHECKSUM_COMPLETE, true, 1476 },
	{ "too big 1290: no lower than 1280", ICMPV6_PKT_TOOBIG, 1290, &coa, X_HAO, 0,
	  CHECKSUM_NONE, true, 1280 },
	{ "too big 1280: left at 1280", ICMPV6_PKT_TOOBIG, 1280, &coa, X_HAO, 0,
	  CHECKSUM_NONE, true, 1280 },
	{ "too big 1000: left as it is", ICMPV6_PKT_TOOBIG, 1000, &coa, X_HAO, 0,
	  CHECKSUM_NONE, true, 1000 },
	{ "too big, quote cut right after the HAO", ICMPV6_PKT_TOOBIG, 1400, &coa, X_HAO,
	  40 + 24, CHECKSUM_NONE, true, 1376 },
	{ "destination unreachable: swapped only", ICMPV6_DEST_UNREACH, 0, &coa, X_HAO, 0,
	  CHECKSUM_COMPLETE, true, 0 },
	{ "time exceeded: swapped only", ICMPV6_TIME_EXCEED, 0, &coa, X_HAO, 0,
	  CHECKSUM_NONE, true, 0 },
	{ "parameter problem: pointer kept", ICMPV6_PARAMPROB, 42, &coa, X_HAO, 0,
	  CHECKSUM_NONE, true, 42 },
	{ "quoted source not the care-of address", ICMPV6_PKT_TOOBIG, 1400, &client, X_HAO,
	  0, CHECKSUM_NONE, false },
	{ "quote without HAO", ICMPV6_PKT_TOOBIG, 1400, &coa, X_END, 0, CHECKSUM_NONE, false },
	{ "HAO at an odd offset", ICMPV6_PKT_TOOBIG, 1400, &coa, X_HAO_ODD, 0, CHECKSUM_NONE,
	  false },
	{ "quote cut inside the HAO", ICMPV6_PKT_TOOBIG, 1400, &coa, X_HAO, 40 + 20,
	  CHECKSUM_NONE, false },
	{ "quote cut inside its IPv6 header", ICMPV6_PKT_TOOBIG, 1400, &coa, X_HAO, 20,
	  CHECKSUM_NONE, false },
	{ "echo request", ICMPV6_ECHO_REQUEST, 1400, &coa, X_HAO, 0, CHECKSUM_NONE, false },
	{ "echo reply", ICMPV6_ECHO_REPLY, 1400, &coa, X_HAO, 0, CHECKSUM_NONE, false },
};

static void icmp_case_desc(const struct icmp_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(icmp, icmp_cases, icmp_case_desc);

static bool icmp_ok(struct sk_buff *skb)
{
	struct ipv6hdr *ip6 = ipv6_hdr(skb);
	unsigned int len = skb->len - sizeof(*ip6);

	return !csum_ipv6_magic(&ip6->saddr, &ip6->daddr, len, IPPROTO_ICMPV6,
				csum_partial(ip6 + 1, len, 0));
}

/*
 * What a router sends the care-of address: an ICMPv6 error quoting a TCP
 * segment from @c->src to the client, with the option as @c->hao says.
 */
static struct sk_buff *build_icmp(struct kunit *test, const struct icmp_case *c)
{
	struct sk_buff *skb = new_ip6(test, 384, IPPROTO_ICMPV6, &router, &coa);
	struct ipv6hdr *ip6 = ipv6_hdr(skb), *quote;
	struct icmp6hdr *icmp6;
	struct tcphdr *th;

	icmp6 = skb_put_zero(skb, sizeof(*icmp6));
	icmp6->icmp6_type = c->type;
	icmp6->icmp6_mtu = htonl(c->mtu);
	quote = skb_put_zero(skb, sizeof(*quote));
	quote->version = 6;
	quote->hop_limit = 63;
	quote->saddr = *c->src;
	quote->daddr = client;
	put_exts(skb, &quote->nexthdr, (enum ext[]){ c->hao, X_END }, NEXTHDR_TCP);
	th = skb_put_zero(skb, sizeof(*th));
	th->source = htons(8000);
	th->dest = htons(40000);
	th->doff = sizeof(*th) / 4;
	th->ack = 1;
	quote->payload_len = htons((u8 *)(th + 1) - (u8 *)(quote + 1) + 1400);
	if (c->cut)
		skb_trim(skb, (u8 *)quote - skb->data + c->cut);
	ip6->payload_len = htons(skb->len - sizeof(*ip6));
	icmp6->icmp6_cksum = csum_ipv6_magic(&ip6->saddr, &ip6->daddr, skb->len - sizeof(*ip6),
					     IPPROTO_ICMPV6, csum_partial(icmp6, skb->len - sizeof(*ip6), 0));
	skb->ip_summed = c->ip_summed;
	if (c->ip_summed == CHECKSUM_COMPLETE)
		skb->csum = skb_checksum(skb, 0, skb->len, 0);
	return skb;
}

/* Where the ICMPv6 header and the quoted source are in build_icmp()'s packets. */
#define ICMP_OFF sizeof(struct ipv6hdr)
#define QUOTE_SRC (ICMP_OFF + sizeof(struct icmp6hdr) + offsetof(struct ipv6hdr, saddr))
#define QUOTE_HAO (ICMP_OFF + sizeof(struct icmp6hdr) + sizeof(struct ipv6hdr) + 8)

static void icmp_err(struct kunit *test)
{
	const struct icmp_case *c = test->param_value;
	struct sk_buff *skb = build_icmp(test, c);
	const unsigned int len = skb->len;
	struct gecko_icmp_err err = {};
	struct icmp6hdr *icmp6;
	u8 *want;
	bool parsed;

	/* Arrange: what the packet must be afterwards, but for the checksum. */
	want = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, want);
	memcpy(want, skb->data, len);
	if (c->want) {
		memcpy(want + QUOTE_SRC, &home, sizeof(home));
		memcpy(want + QUOTE_HAO, &coa, sizeof(coa));
		put_unaligned_be32(c->want_mtu, want + ICMP_OFF + offsetof(struct icmp6hdr, icmp6_mtu));
	}

	/* Act: as the hook does. */
	parsed = gecko_icmp_err_parse(skb, ICMP_OFF, &coa, &err);
	if (parsed)
		KUNIT_ASSERT_EQ(test, gecko_icmp_err_to_home(skb, &err), 0);

	/* Assert */
	KUNIT_EXPECT_EQ(test, parsed, c->want);
	if (parsed)
		KUNIT_EXPECT_EQ(test, err.hao.off, QUOTE_HAO);
	KUNIT_ASSERT_EQ(test, skb->len, len);
	icmp6 = (struct icmp6hdr *)(skb_network_header(skb) + ICMP_OFF);
	memcpy(want + ICMP_OFF + offsetof(struct icmp6hdr, icmp6_cksum), &icmp6->icmp6_cksum, 2);
	KUNIT_EXPECT_EQ(test, memcmp(skb->data, want, len), 0);
	KUNIT_EXPECT_TRUE(test, icmp_ok(skb));
	if (c->ip_summed == CHECKSUM_COMPLETE)
		KUNIT_EXPECT_EQ(test, csum_fold(skb->csum), csum_fold(skb_checksum(skb, 0, len, 0)));
	kfree_skb(skb);
}

/* A clone's data is shared: the rewrite works on a copy of its own. */
static void icmp_err_clone_untouched(struct kunit *test)
{
	const struct icmp_case *c = &icmp_cases[0];
	struct sk_buff *skb = build_icmp(test, c), *clone;
	struct gecko_icmp_err err;
	u8 *before;

	/* Arrange */
	clone = skb_clone(skb, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, clone);
	before = kunit_kmalloc(test, skb->len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, before);
	memcpy(before, skb->data, skb->len);

	/* Act */
	KUNIT_ASSERT_TRUE(test, gecko_icmp_err_parse(skb, ICMP_OFF, &coa, &err));
	KUNIT_ASSERT_EQ(test, gecko_icmp_err_to_home(skb, &err), 0);

	/* Assert */
	KUNIT_EXPECT_NE(test, memcmp(skb->data, before, skb->len), 0);
	KUNIT_EXPECT_EQ(test, memcmp(clone->data, before, clone->len), 0);
	KUNIT_EXPECT_TRUE(test, icmp_ok(skb));
	kfree_skb(clone);
	kfree_skb(skb);
}

static struct kunit_case exthdr_cases[] = {
	KUNIT_CASE_PARAM(rh2_parse, parse_gen_params),
	KUNIT_CASE_PARAM(rh2_strip, strip_gen_params),
	KUNIT_CASE(hao_insert_plain),
	KUNIT_CASE(hao_insert_after_hop_by_hop),
	KUNIT_CASE(hao_insert_refuses_existing_dest_options),
	KUNIT_CASE(hao_insert_checksum_partial),
	KUNIT_CASE(hao_insert_then_gso_segments),
	KUNIT_CASE_PARAM(ip6ip6_push, push_gen_params),
	KUNIT_CASE_PARAM(hao_parse, hao_gen_params),
	KUNIT_CASE_PARAM(icmp_err, icmp_gen_params),
	KUNIT_CASE(icmp_err_clone_untouched),
	{}
};

static struct kunit_suite exthdr_suite = {
	.name = "gecko_exthdr",
	.test_cases = exthdr_cases,
};

kunit_test_suite(exthdr_suite);
