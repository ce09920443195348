// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the sequence probe's segment, as the peer's stack will check it,
 * the reading of an answer, whatever its options, and a snapshot
 * recovered at the answer's numbers.
 */

#include "../flow.h"
#include "../probe.h"
#include "../tcpstate.h"

#include <kunit/test.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <net/ip6_checksum.h>
#include <net/tcp.h>
#include <uapi/linux/gecko.h>

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

/* A snapshot of an established connection: 1000 octets out (200 unsent), 50 unread. */
static struct gecko_tcp_state snapshot(u32 rcv_nxt, u32 write_seq)
{
	return (struct gecko_tcp_state){
		.flags = GECKO_TCP_STATE_F_SNAPSHOT | GECKO_TCP_STATE_F_TIMESTAMPS |
			 GECKO_TCP_STATE_F_WSCALE | GECKO_TCP_STATE_F_SACK,
		.state = TCP_ESTABLISHED,
		.snd_wscale = 7,
		.rcv_wscale = 7,
		.mss_clamp = 1440,
		.rcv_nxt = rcv_nxt,
		.write_seq = write_seq,
		.inq_len = 50,
		.outq_len = 1000,
		.unsq_len = 200,
		.ts_val = 5000,
		.snd_wl1 = rcv_nxt,
		.snd_wnd = 600 << 7,
		.max_window = 700 << 7,
		.rcv_wnd = 500 << 7,
		.rcv_wup = rcv_nxt,
		.rto_us = 204000,
		.bytes_sent = 1000000,
		.bytes_received = 20000,
		.local_port = 80,
		.remote_port = 40000,
	};
}

struct recover_case {
	const char *name;
	u32 rcv_nxt, write_seq;		/* the snapshot's */
	s32 seq_ahead, ack_ahead;	/* the answer's, past rcv_nxt and the snapshot's snd_una */
	u16 window;
	bool has_ts;
	u32 tsecr;
	u8 state;
	int ret;
	u32 ts_val;			/* then */
};

static const struct recover_case recover_cases[] = {
	{ "numbers past the snapshot's", 100000, 900000, 300, 700, 800, true, 6000,
	  TCP_ESTABLISHED, 0, 6001 },
	{ "the snapshot's own numbers", 100000, 900000, 0, 0, 600, true, 5000,
	  TCP_ESTABLISHED, 0, 5001 },
	{ "across the sequence space's wrap", 0xffffff00, 0xfffffff0, 0x200, 0x800, 600, true, 7000,
	  TCP_ESTABLISHED, 0, 7001 },
	{ "a TSecr older than the snapshot's clock", 100000, 900000, 0, 1000, 600, true, 4000,
	  TCP_ESTABLISHED, 0, 5001 },
	{ "an acknowledgement behind the snapshot's", 100000, 900000, 0, -1, 600, true, 5000,
	  TCP_ESTABLISHED, -ERANGE },
	{ "a sequence number behind the snapshot's", 100000, 900000, -1, 0, 600, true, 5000,
	  TCP_ESTABLISHED, -ERANGE },
	{ "2^30 octets ahead", 100000, 900000, 1 << 30, 0, 600, true, 5000,
	  TCP_ESTABLISHED, -ERANGE },
	{ "no timestamps where they were agreed", 100000, 900000, 0, 0, 600, false, 0,
	  TCP_ESTABLISHED, -EPROTO },
	{ "a connection past established", 100000, 900000, 0, 0, 600, true, 5000,
	  TCP_FIN_WAIT1, -EOPNOTSUPP },
};

static void recover_case_desc(const struct recover_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(recover, recover_cases, recover_case_desc);

static void snapshot_recovered_at_the_answer(struct kunit *test)
{
	const struct recover_case *c = test->param_value;
	struct gecko_tcp_state st = snapshot(c->rcv_nxt, c->write_seq);
	const struct gecko_tcp_state before = st;
	u32 una = c->write_seq - before.outq_len;
	struct gecko_probe_seg answer = {
		.seq = c->rcv_nxt + c->seq_ahead,
		.ack = una + c->ack_ahead,
		.window = c->window,
		.has_ts = c->has_ts,
		.tsval = 31337,
		.tsecr = c->tsecr,
		.flags = TCPHDR_ACK,
	};

	if (c->state == TCP_FIN_WAIT1)
		st.flags |= GECKO_TCP_STATE_F_FIN_OUT;
	st.state = c->state;
	KUNIT_ASSERT_EQ(test, gecko_probe_recover(&st, &answer), c->ret);
	if (c->ret)
		return;
	KUNIT_EXPECT_EQ(test, st.flags, before.flags & ~GECKO_TCP_STATE_F_SNAPSHOT);
	KUNIT_EXPECT_EQ(test, st.rcv_nxt, answer.seq);
	KUNIT_EXPECT_EQ(test, st.write_seq, answer.ack);
	KUNIT_EXPECT_EQ(test, st.inq_len + st.outq_len + st.unsq_len, 0U);
	/* What the client has, and what it sent: where the application resumes. */
	KUNIT_EXPECT_EQ(test, st.bytes_sent, before.bytes_sent - before.outq_len + c->ack_ahead);
	KUNIT_EXPECT_EQ(test, st.bytes_received, before.bytes_received + c->seq_ahead);
	KUNIT_EXPECT_EQ(test, st.snd_wnd, (u32)c->window << 7);
	KUNIT_EXPECT_EQ(test, st.max_window, max_t(u32, before.max_window, (u32)c->window << 7));
	KUNIT_EXPECT_EQ(test, st.snd_wl1, answer.seq);
	KUNIT_EXPECT_EQ(test, st.rcv_wup, answer.seq);
	KUNIT_EXPECT_EQ(test, st.rcv_wnd, before.rcv_wnd);
	KUNIT_EXPECT_EQ(test, st.ts_val, c->ts_val);
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_validate(&st), 0);
}

static struct kunit_case probe_cases[] = {
	KUNIT_CASE(probe_is_a_valid_empty_ack),
	KUNIT_CASE_PARAM(answer_options_are_read_safely, option_gen_params),
	KUNIT_CASE(a_cut_header_is_no_answer),
	KUNIT_CASE_PARAM(snapshot_recovered_at_the_answer, recover_gen_params),
	{}
};

static struct kunit_suite probe_suite = {
	.name = "gecko_probe",
	.test_cases = probe_cases,
};

kunit_test_suite(probe_suite);
