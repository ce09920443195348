// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the TCP state format. Every state a restore must refuse, one
 * defect at a time on top of a good one, and the encoding round trip with
 * its framing errors.
 */

#include "../tcpstate.h"

#include <asm/unaligned.h>
#include <kunit/test.h>
#include <linux/slab.h>
#include <net/tcp.h>
#include <uapi/linux/gecko.h>

/* An established connection with SACK, window scaling and timestamps. */
static const struct gecko_tcp_state good = {
	.flags = GECKO_TCP_STATE_F_SACK | GECKO_TCP_STATE_F_WSCALE | GECKO_TCP_STATE_F_TIMESTAMPS,
	.state = TCP_ESTABLISHED,
	.snd_wscale = 7,
	.rcv_wscale = 7,
	.mss_clamp = 1416,
	.rcv_nxt = 0xfffff000,		/* the receive window wraps past 0 */
	.write_seq = 200000,
	.inq_len = 5,
	.outq_len = 7,
	.unsq_len = 3,
	.ts_val = 123456,
	.snd_wl1 = 0xfffff000,
	.snd_wnd = 64000,
	.max_window = 64000,
	.rcv_wnd = 65536,
	.rcv_wup = 0xffffe000,
	.srtt_us = 20000,
	.rttvar_us = 5000,
	.rto_us = 220000,
	.bytes_sent = 1000000,
	.bytes_received = 5000000,
	.local = { .s6_addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x10 } },
	.remote = { .s6_addr = { 0x20, 0x01, 0x0d, 0xb8, 0xc, [15] = 0x02 } },
	.local_port = 80,
	.remote_port = 49152,
	.snd_buf = 87040,
	.rcv_buf = 131072,
};

struct state_case {
	const char *name;
	void (*change)(struct gecko_tcp_state *st);
	int err;
};

#define CASE(n, e, body)						\
	static void n(struct gecko_tcp_state *st) { body; }

CASE(as_is, 0, )
CASE(no_options, 0, st->flags = 0; st->snd_wscale = st->rcv_wscale = 0; st->ts_val = 0;
     st->snd_wnd = st->max_window = st->rcv_wnd = 65535)
CASE(half_closed_out, 0, st->state = TCP_FIN_WAIT1; st->flags |= GECKO_TCP_STATE_F_FIN_OUT)
CASE(half_closed_in, 0, st->state = TCP_CLOSE_WAIT; st->flags |= GECKO_TCP_STATE_F_FIN_IN)
CASE(both_closed, 0, st->state = TCP_LAST_ACK;
     st->flags |= GECKO_TCP_STATE_F_FIN_OUT | GECKO_TCP_STATE_F_FIN_IN)
CASE(no_rtt_yet, 0, st->srtt_us = st->rttvar_us = st->rto_us = 0)
CASE(unknown_flag, -EINVAL, st->flags |= 1U << 31)
CASE(listening, -EINVAL, st->state = TCP_LISTEN)
CASE(syn_sent, -EINVAL, st->state = TCP_SYN_SENT)
CASE(fin_without_state, -EINVAL, st->flags |= GECKO_TCP_STATE_F_FIN_IN)
CASE(close_wait_without_fin, -EINVAL, st->state = TCP_CLOSE_WAIT)
CASE(wscale_15, -EINVAL, st->snd_wscale = 15)
CASE(wscale_without_flag, -EINVAL, st->flags &= ~GECKO_TCP_STATE_F_WSCALE)
CASE(tiny_mss, -EINVAL, st->mss_clamp = TCP_MIN_MSS - 1)
CASE(timestamp_without_flag, -EINVAL, st->flags &= ~GECKO_TCP_STATE_F_TIMESTAMPS)
CASE(unsent_over_queued, -EINVAL, st->unsq_len = st->outq_len + 1)
CASE(huge_queue, -EINVAL, st->inq_len = GECKO_TCP_STATE_MAX_QUEUE + 1)
CASE(queue_before_start, -EINVAL, st->bytes_sent = st->outq_len - 1)
CASE(read_before_start, -EINVAL, st->bytes_received = st->inq_len - 1)
CASE(window_over_max, -EINVAL, st->snd_wnd = st->max_window + 1)
CASE(window_over_scale, -EINVAL, st->snd_wscale = 0; st->snd_wnd = st->max_window = 65536)
CASE(rcv_window_over_scale, -EINVAL, st->rcv_wscale = 0)
CASE(wl1_past_window, -EINVAL, st->snd_wl1 = st->rcv_nxt + st->rcv_wnd + 1)
CASE(rcv_wup_ahead, -EINVAL, st->rcv_wup = st->rcv_nxt + 1)
CASE(rto_below_min, -EINVAL, st->rto_us = 1000)
CASE(rto_over_max, -EINVAL, st->rto_us = 121000000)
CASE(srtt_over_max, -EINVAL, st->srtt_us = 121000000)
CASE(no_local_port, -EINVAL, st->local_port = 0)
CASE(no_remote_port, -EINVAL, st->remote_port = 0)
CASE(huge_buffer, -EINVAL, st->snd_buf = 0x80000000U)

static const struct state_case state_cases[] = {
#define C(n, e) { #n, n, e }
	C(as_is, 0),
	C(no_options, 0),
	C(half_closed_out, 0),
	C(half_closed_in, 0),
	C(both_closed, 0),
	C(no_rtt_yet, 0),
	C(unknown_flag, -EINVAL),
	C(listening, -EINVAL),
	C(syn_sent, -EINVAL),
	C(fin_without_state, -EINVAL),
	C(close_wait_without_fin, -EINVAL),
	C(wscale_15, -EINVAL),
	C(wscale_without_flag, -EINVAL),
	C(tiny_mss, -EINVAL),
	C(timestamp_without_flag, -EINVAL),
	C(unsent_over_queued, -EINVAL),
	C(huge_queue, -EINVAL),
	C(queue_before_start, -EINVAL),
	C(read_before_start, -EINVAL),
	C(window_over_max, -EINVAL),
	C(window_over_scale, -EINVAL),
	C(rcv_window_over_scale, -EINVAL),
	C(wl1_past_window, -EINVAL),
	C(rcv_wup_ahead, -EINVAL),
	C(rto_below_min, -EINVAL),
	C(rto_over_max, -EINVAL),
	C(srtt_over_max, -EINVAL),
	C(no_local_port, -EINVAL),
	C(no_remote_port, -EINVAL),
	C(huge_buffer, -EINVAL),
#undef C
};

static void state_case_desc(const struct state_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(state, state_cases, state_case_desc);

/* A whole encoded state: header, then the queues "recvq" and "sendq..". */
static u8 *encode(struct kunit *test, const struct gecko_tcp_state *st, size_t *len)
{
	u8 *buf;

	*len = GECKO_TCP_STATE_HDR_LEN + st->inq_len + st->outq_len;
	buf = kunit_kzalloc(test, *len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	gecko_tcp_state_encode(st, buf);
	memset(buf + GECKO_TCP_STATE_HDR_LEN, 'r', st->inq_len);
	memset(buf + GECKO_TCP_STATE_HDR_LEN + st->inq_len, 's', st->outq_len);
	return buf;
}

/* Each case is judged alike by validation and by decoding its encoding. */
static void validate_and_decode(struct kunit *test)
{
	const struct state_case *c = test->param_value;
	struct gecko_tcp_state st = good, back = {};
	const u8 *inq, *outq;
	size_t len;
	u8 *buf;

	c->change(&st);
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_validate(&st), c->err);
	if (st.inq_len > 4096)
		return;	/* not worth encoding */
	buf = encode(test, &st, &len);
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode(buf, len, &back, &inq, &outq), c->err);
	if (c->err)
		return;
	KUNIT_EXPECT_EQ(test, memcmp(&back, &st, sizeof(st)), 0);
	KUNIT_EXPECT_PTR_EQ(test, inq, (const u8 *)buf + GECKO_TCP_STATE_HDR_LEN);
	KUNIT_EXPECT_PTR_EQ(test, outq, inq + st.inq_len);
	KUNIT_EXPECT_EQ(test, outq[0], 's');
}

static void fixed_layout(struct kunit *test)
{
	u8 buf[GECKO_TCP_STATE_HDR_LEN];

	gecko_tcp_state_encode(&good, buf);
	KUNIT_EXPECT_EQ(test, get_unaligned_be16(buf), GECKO_TCP_STATE_VERSION);
	KUNIT_EXPECT_EQ(test, get_unaligned_be16(buf + 2), GECKO_TCP_STATE_HDR_LEN);
	KUNIT_EXPECT_EQ(test, buf[8], TCP_ESTABLISHED);
	KUNIT_EXPECT_EQ(test, get_unaligned_be16(buf + 12), 1416);
	KUNIT_EXPECT_EQ(test, get_unaligned_be32(buf + 16), 0xfffff000U);
	KUNIT_EXPECT_EQ(test, get_unaligned_be32(buf + 68), 220000U);
	KUNIT_EXPECT_EQ(test, get_unaligned_be64(buf + 80), 5000000ULL);
	KUNIT_EXPECT_EQ(test, buf[88], 0x20);
	KUNIT_EXPECT_EQ(test, buf[103], 0x10);
	KUNIT_EXPECT_EQ(test, buf[108], 0x0c);
	KUNIT_EXPECT_EQ(test, get_unaligned_be16(buf + 120), 80);
	KUNIT_EXPECT_EQ(test, get_unaligned_be16(buf + 122), 49152);
	KUNIT_EXPECT_EQ(test, get_unaligned_be32(buf + 124), 87040U);
	KUNIT_EXPECT_EQ(test, get_unaligned_be32(buf + 128), 131072U);
	KUNIT_EXPECT_EQ(test, get_unaligned_be32(buf + 132), 0U);
}

static void framing_errors(struct kunit *test)
{
	struct gecko_tcp_state st;
	const u8 *inq, *outq;
	size_t len;
	u8 *buf = encode(test, &good, &len);
	u8 *longer;

	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode(buf, 3, &st, &inq, &outq), -EINVAL);
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode(buf, GECKO_TCP_STATE_HDR_LEN - 1, &st, &inq, &outq), -EINVAL);
	/* A queue octet missing, or one too many. */
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode(buf, len - 1, &st, &inq, &outq), -EINVAL);
	longer = kunit_kzalloc(test, len + 1, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, longer);
	memcpy(longer, buf, len);
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode(longer, len + 1, &st, &inq, &outq), -EINVAL);

	put_unaligned_be16(2, buf);
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode(buf, len, &st, &inq, &outq), -EPROTONOSUPPORT);
	put_unaligned_be16(0, buf);
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode(buf, len, &st, &inq, &outq), -EPROTONOSUPPORT);
	put_unaligned_be16(GECKO_TCP_STATE_VERSION, buf);

	put_unaligned_be16(GECKO_TCP_STATE_HDR_LEN - 8, buf + 2);
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode(buf, len, &st, &inq, &outq), -EINVAL);
	put_unaligned_be16(0xffff, buf + 2);
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode(buf, len, &st, &inq, &outq), -EINVAL);
	put_unaligned_be16(GECKO_TCP_STATE_HDR_LEN, buf + 2);

	buf[11] = 1;
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode(buf, len, &st, &inq, &outq), -EINVAL);
	buf[11] = 0;
	put_unaligned_be16(1, buf + 14);
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode(buf, len, &st, &inq, &outq), -EINVAL);
	put_unaligned_be16(0, buf + 14);
	put_unaligned_be32(1, buf + 132);
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode(buf, len, &st, &inq, &outq), -EINVAL);
	put_unaligned_be32(0, buf + 132);
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode(buf, len, &st, &inq, &outq), 0);
}

/* A restore takes the header alone; a snapshot never carries queues. */
static void header_alone(struct kunit *test)
{
	struct gecko_tcp_state st, snap = good;
	const u8 *inq, *outq;
	size_t len;
	u8 *buf = encode(test, &good, &len);

	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode_header(buf, GECKO_TCP_STATE_HDR_LEN, &st), 0);
	KUNIT_EXPECT_EQ(test, st.outq_len, good.outq_len);
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode_header(buf, GECKO_TCP_STATE_HDR_LEN + 1, &st),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode_header(buf, GECKO_TCP_STATE_HDR_LEN - 1, &st),
			-EINVAL);

	snap.flags |= GECKO_TCP_STATE_F_SNAPSHOT;
	gecko_tcp_state_encode(&snap, buf);
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode(buf, len, &st, &inq, &outq), -EINVAL);
	KUNIT_EXPECT_EQ(test, gecko_tcp_state_decode_header(buf, GECKO_TCP_STATE_HDR_LEN, &st), 0);
	KUNIT_EXPECT_TRUE(test, st.flags & GECKO_TCP_STATE_F_SNAPSHOT);
}

/* A later version's longer header: the fields it adds are skipped. */
static void longer_header(struct kunit *test)
{
	const size_t extra = 16;
	size_t len = GECKO_TCP_STATE_HDR_LEN + extra + good.inq_len + good.outq_len;
	u8 *buf = kunit_kzalloc(test, len, GFP_KERNEL);
	struct gecko_tcp_state st;
	const u8 *inq, *outq;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	gecko_tcp_state_encode(&good, buf);
	put_unaligned_be16(GECKO_TCP_STATE_HDR_LEN + extra, buf + 2);
	memset(buf + GECKO_TCP_STATE_HDR_LEN, 0xee, extra);
	memset(buf + GECKO_TCP_STATE_HDR_LEN + extra, 'r', good.inq_len);
	KUNIT_ASSERT_EQ(test, gecko_tcp_state_decode(buf, len, &st, &inq, &outq), 0);
	KUNIT_EXPECT_PTR_EQ(test, inq, (const u8 *)buf + GECKO_TCP_STATE_HDR_LEN + extra);
	KUNIT_EXPECT_EQ(test, inq[0], 'r');
	KUNIT_EXPECT_EQ(test, st.write_seq, good.write_seq);
}

static struct kunit_case tcpstate_cases[] = {
	KUNIT_CASE_PARAM(validate_and_decode, state_gen_params),
	KUNIT_CASE(fixed_layout),
	KUNIT_CASE(framing_errors),
	KUNIT_CASE(longer_header),
	KUNIT_CASE(header_alone),
	{}
};

static struct kunit_suite tcpstate_suite = {
	.name = "gecko_tcpstate",
	.test_cases = tcpstate_cases,
};

kunit_test_suite(tcpstate_suite);
