// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the sequence probe's segment, as the peer's stack will check it,
 * and the reading of an answer, whatever its options.
 */

#include "../flow.h"
#include "../probe.h"

#include <kunit/test.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <net/ip6_checksum.h>
#include <net/tcp.h>

static const struct gecko_flow_key key = {
	.local = { .s6_addr = { 0xfd, 0, 0, 0x0a, [14] = 1 } },
	.remote = { .s6_addr = { 0xfd, 0, 0, 0x0c, [15] = 2 } },
	.local_port = htons(80),
	.remote_port = htons(40000),
};

static void probe_is_a_valid_empty_ack(struct kunit *test)
{
	struct gecko_probe_seg seg = { .seq = 0xfffffff0, .ack = 12345, .window = 0xabcd,
				       .has_ts = true, .tsval = 0x01020304, .tsecr = 0xa0b0c0d0 };
	struct sk_buff *skb = gecko_probe_build(&key, &seg);
	const struct ipv6hdr *ip6;
	const struct tcphdr *th;
	struct gecko_probe_seg back;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	ip6 = ipv6_hdr(skb);
	th = tcp_hdr(skb);
	KUNIT_EXPECT_EQ(test, skb->len, sizeof(*ip6) + sizeof(*th) + TCPOLEN_TSTAMP_ALIGNED);
	KUNIT_EXPECT_EQ(test, (int)ip6->version, 6);
	KUNIT_EXPECT_EQ(test, ip6->nexthdr, IPPROTO_TCP);
	KUNIT_EXPECT_EQ(test, ntohs(ip6->payload_len), sizeof(*th) + TCPOLEN_TSTAMP_ALIGNED);
	KUNIT_EXPECT_TRUE(test, ipv6_addr_equal(&ip6->saddr, &key.local));
	KUNIT_EXPECT_TRUE(test, ipv6_addr_equal(&ip6->daddr, &key.remote));
	KUNIT_EXPECT_EQ(test, th->source, key.local_port);
	KUNIT_EXPECT_EQ(test, th->dest, key.remote_port);
	KUNIT_EXPECT_EQ(test, tcp_flag_byte(th), (u8)TCPHDR_ACK);
	/* The checksum holds over G's pseudo-header: the peer puts G back from the option. */
	KUNIT_EXPECT_EQ(test, csum_ipv6_magic(&key.local, &key.remote, ntohs(ip6->payload_len), IPPROTO_TCP,
					      csum_partial(th, ntohs(ip6->payload_len), 0)),
			(__sum16)0);

	KUNIT_ASSERT_TRUE(test, gecko_probe_parse(skb, sizeof(*ip6), &back));
	KUNIT_EXPECT_EQ(test, back.seq, seg.seq);
	KUNIT_EXPECT_EQ(test, back.ack, seg.ack);
	KUNIT_EXPECT_EQ(test, back.window, seg.window);
	KUNIT_EXPECT_TRUE(test, back.has_ts);
	KUNIT_EXPECT_EQ(test, back.tsval, seg.tsval);
	KUNIT_EXPECT_EQ(test, back.tsecr, seg.tsecr);
	kfree_skb(skb);

	seg.has_ts = false;
	skb = gecko_probe_build(&key, &seg);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	KUNIT_EXPECT_EQ(test, skb->len, sizeof(*ip6) + sizeof(*th));
	KUNIT_ASSERT_TRUE(test, gecko_probe_parse(skb, sizeof(*ip6), &back));
	KUNIT_EXPECT_FALSE(test, back.has_ts);
	kfree_skb(skb);
}

/* A TCP header with @opts (padded to 4 octets) after 40 octets of IPv6 header. */
static struct sk_buff *with_options(struct kunit *test, const u8 *opts, unsigned int len)
{
	unsigned int padded = ALIGN(len, 4);
	struct sk_buff *skb = alloc_skb(sizeof(struct ipv6hdr) + sizeof(struct tcphdr) + padded,
					GFP_KERNEL);
	struct tcphdr *th;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_put_zero(skb, sizeof(struct ipv6hdr));
	th = skb_put_zero(skb, sizeof(*th) + padded);
	th->seq = htonl(7);
	th->ack_seq = htonl(9);
	th->doff = (sizeof(*th) + padded) / 4;
	th->ack = 1;
	memcpy(th + 1, opts, len);
	return skb;
}

struct option_case {
	const char *name;
	u8 opts[40];
	unsigned int len;
	bool has_ts;
};

static const struct option_case option_cases[] = {
	{ "timestamps after SACK-permitted and MSS",
	  { 4, 2, 2, 4, 5, 180, 8, 10, 0, 0, 0, 42, 0, 0, 0, 43 }, 16, true },
	{ "timestamps after NOPs", { 1, 1, 1, 8, 10, 0, 0, 0, 42, 0, 0, 0, 43 }, 13, true },
	{ "the end of the list stops the reading", { 0, 8, 10, 0, 0, 0, 42, 0, 0, 0, 43 }, 11, false },
	{ "a zero length stops the reading", { 5, 0, 8, 10, 0, 0, 0, 42, 0, 0, 0, 43 }, 12, false },
	{ "an option past the header stops it", { 1, 1, 8, 10, 0, 0, 0, 42 }, 8, false },
	{ "timestamps of the wrong length are not read", { 8, 6, 0, 0, 0, 42 }, 6, false },
};

static void option_case_desc(const struct option_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(option, option_cases, option_case_desc);

static void answer_options_are_read_safely(struct kunit *test)
{
	const struct option_case *c = test->param_value;
	struct sk_buff *skb = with_options(test, c->opts, c->len);
	struct gecko_probe_seg seg;

	KUNIT_ASSERT_TRUE(test, gecko_probe_parse(skb, sizeof(struct ipv6hdr), &seg));
	KUNIT_EXPECT_EQ(test, seg.seq, 7U);
	KUNIT_EXPECT_EQ(test, seg.ack, 9U);
	KUNIT_EXPECT_EQ(test, seg.has_ts, c->has_ts);
	if (c->has_ts) {
		KUNIT_EXPECT_EQ(test, seg.tsval, 42U);
		KUNIT_EXPECT_EQ(test, seg.tsecr, 43U);
	}
	kfree_skb(skb);
}

static void a_cut_header_is_no_answer(struct kunit *test)
{
	struct sk_buff *skb = with_options(test, (const u8 *)"\x01\x01\x01\x01", 4);
	struct gecko_probe_seg seg;

	/* The header says 24 octets; 22 are there. */
	skb_trim(skb, skb->len - 2);
	KUNIT_EXPECT_TRUE(test, gecko_probe_parse(skb, sizeof(struct ipv6hdr), &seg));
	skb_trim(skb, sizeof(struct ipv6hdr) + 19);
	KUNIT_EXPECT_FALSE(test, gecko_probe_parse(skb, sizeof(struct ipv6hdr), &seg));
	/* A data offset below the fixed header's. */
	skb_put_zero(skb, 1);
	((struct tcphdr *)(skb->data + sizeof(struct ipv6hdr)))->doff = 4;
	KUNIT_EXPECT_FALSE(test, gecko_probe_parse(skb, sizeof(struct ipv6hdr), &seg));
	kfree_skb(skb);
}

static struct kunit_case probe_cases[] = {
	KUNIT_CASE(probe_is_a_valid_empty_ack),
	KUNIT_CASE_PARAM(answer_options_are_read_safely, option_gen_params),
	KUNIT_CASE(a_cut_header_is_no_answer),
	{}
};

static struct kunit_suite probe_suite = {
	.name = "gecko_probe",
	.test_cases = probe_cases,
};

kunit_test_suite(probe_suite);
