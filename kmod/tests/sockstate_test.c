// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit: the parts of the socket state commands that need no connection.
 * A capture reads a frozen socket's sequence numbers and counters into a
 * state (read_state()) and copies its queues out of their skbs
 * (copy_queues()); both only read the socket, so here they read a zeroed
 * struct tcp_sock whose fields and queues the test fills in as TCP would
 * have left them. Nothing here is ever connected or locked.
 */

#include "../sockstate.h"
#include "../tcpstate.h"

#include <kunit/test.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/inet_connection_sock.h>
#include <net/ipv6.h>
#include <net/tcp.h>
#include <uapi/linux/gecko.h>

static const struct in6_addr home = { .s6_addr = { 0xfd, 0, 0, 0x0a, [14] = 1 } };
static const struct in6_addr client = { .s6_addr = { 0xfd, 0, 0, 0x0c, [15] = 2 } };

/* The octet at sequence number @seq of either stream. */
static u8 octet(u32 seq)
{
	return seq * 31 + (seq >> 8) + 7;
}

/* What a retransmission carries where it overlaps what came before: never to be copied. */
#define STALE 0xee

static int sockstate_init(struct kunit *test)
{
	struct tcp_sock *tp = kunit_kzalloc(test, sizeof(*tp), GFP_KERNEL);
	struct sock *sk = (struct sock *)tp;

	KUNIT_ASSERT_NOT_NULL(test, tp);
	skb_queue_head_init(&sk->sk_receive_queue);
	skb_queue_head_init(&sk->sk_write_queue);
	sk->tcp_rtx_queue = RB_ROOT;
	test->priv = sk;
	return 0;
}

static void sockstate_exit(struct kunit *test)
{
	struct sock *sk = test->priv;

	if (!sk)
		return;
	__skb_queue_purge(&sk->sk_receive_queue);
	skb_rbtree_purge(&sk->tcp_rtx_queue);
	__skb_queue_purge(&sk->sk_write_queue);
}

enum queue { NONE, RCV, RTX, SND };

struct seg {
	u8 queue;
	s32 at;		/* sequence number, from the queue's first octet */
	u16 len;	/* octets */
	u8 flags;	/* TCPHDR_SYN, TCPHDR_FIN */
	u16 stale;	/* leading octets that are STALE */
	bool paged;	/* the octets in a page fragment, not the linear part */
};

/* A segment as TCP queues it: data at skb->data (or in a fragment), its sequence in the cb. */
static struct sk_buff *segment(struct kunit *test, u32 seq, const struct seg *g)
{
	u32 first = seq + !!(g->flags & TCPHDR_SYN);
	struct sk_buff *skb = alloc_skb(g->paged ? 0 : g->len, GFP_KERNEL);
	struct page *page;
	u8 *data;
	u16 i;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	if (g->paged) {
		page = alloc_page(GFP_KERNEL);
		if (!page)
			kfree_skb(skb);
		KUNIT_ASSERT_NOT_NULL(test, page);
		data = page_address(page) + 64;
		skb_fill_page_desc(skb, 0, page, 64, g->len);
		skb->len += g->len;
		skb->data_len += g->len;
		skb->truesize += PAGE_SIZE;
	} else {
		data = skb_put(skb, g->len);
	}
	for (i = 0; i < g->len; i++)
		data[i] = i < g->stale ? STALE : octet(first + i);
	TCP_SKB_CB(skb)->seq = seq;
	TCP_SKB_CB(skb)->end_seq = seq + g->len + !!(g->flags & TCPHDR_SYN) +
				   !!(g->flags & TCPHDR_FIN);
	TCP_SKB_CB(skb)->tcp_flags = g->flags;
	return skb;
}

struct queue_case {
	const char *name;
	u32 in_from;		/* copied_seq: the first octet the application has not read */
	u32 inq_len;
	u32 out_from;		/* the first octet the peer has not acknowledged */
	u32 outq_len;
	bool fin_out;		/* our FIN follows them */
	struct seg segs[5];
	int err;
};

#define IN 1000
#define OUT 5000

static const struct queue_case queue_cases[] = {
	{ "nothing queued", IN, 0, OUT, 0, false, {}, 0 },
	{ "received in order", IN, 300, OUT, 0, false, { { RCV, 0, 100 }, { RCV, 100, 200 } }, 0 },
	{ "the first segment partly read", IN, 150, OUT, 0, false,
	  { { RCV, -50, 100 }, { RCV, 50, 100 } }, 0 },
	{ "a segment read whole: skipped", IN, 100, OUT, 0, false,
	  { { RCV, -150, 100 }, { RCV, -50, 150 } }, 0 },
	{ "a retransmission overlapping: copied past it", IN, 160, OUT, 0, false,
	  { { RCV, 0, 100 }, { RCV, 60, 100, 0, 40 } }, 0 },
	{ "a retransmission inside what came: skipped", IN, 200, OUT, 0, false,
	  { { RCV, 0, 200 }, { RCV, 50, 100, 0, 100 } }, 0 },
	{ "a hole: -EIO", IN, 250, OUT, 0, false, { { RCV, 0, 100 }, { RCV, 150, 100 } }, -EIO },
	{ "fewer octets than the state says: -EIO", IN, 200, OUT, 0, false, { { RCV, 0, 100 } },
	  -EIO },
	{ "a SYN first (Fast Open) takes no octet", IN, 100, OUT, 0, false,
	  { { RCV, -1, 100, TCPHDR_SYN } }, 0 },
	{ "octets in page fragments", IN, 200, OUT, 0, false,
	  { { RCV, 0, 100, 0, 0, true }, { RCV, 100, 100, 0, 0, true } }, 0 },
	{ "sent: the retransmission queue, then the rest", IN, 0, OUT, 300, false,
	  { { RTX, 100, 100 }, { RTX, 0, 100 }, { SND, 200, 100 } }, 0 },
	{ "sent, then our FIN, which takes no octet", IN, 0, OUT, 200, true,
	  { { RTX, 0, 100 }, { SND, 100, 100, TCPHDR_FIN } }, 0 },
	{ "send queues short of the state: -EIO", IN, 0, OUT, 300, false,
	  { { RTX, 0, 100 }, { SND, 100, 100 } }, -EIO },
	{ "sequence numbers past 2^32", 0xffffff80, 0x100, 0xffffffc0, 0x100, false,
	  { { RCV, 0, 0x80 }, { RCV, 0x80, 0x80 }, { RTX, 0, 0x80 }, { SND, 0x80, 0x80 } }, 0 },
};

static void queue_case_desc(const struct queue_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(queue, queue_cases, queue_case_desc);

static void queues_copied_in_order(struct kunit *test)
{
	const struct queue_case *c = test->param_value;
	struct gecko_tcp_state st = {
		.flags = c->fin_out ? GECKO_TCP_STATE_F_FIN_OUT : 0,
		.write_seq = c->out_from + c->outq_len + c->fin_out,
		.inq_len = c->inq_len,
		.outq_len = c->outq_len,
	};
	struct sock *sk = test->priv;
	const struct seg *g;
	u8 *inq, *outq;
	u32 i;

	/* Arrange */
	tcp_sk(sk)->copied_seq = c->in_from;
	for (g = c->segs; g < c->segs + ARRAY_SIZE(c->segs) && g->queue != NONE; g++) {
		struct sk_buff *skb = segment(test, (g->queue == RCV ? c->in_from : c->out_from) +
						    g->at, g);

		if (g->queue == RCV)
			__skb_queue_tail(&sk->sk_receive_queue, skb);
		else if (g->queue == RTX)
			tcp_rbtree_insert(&sk->tcp_rtx_queue, skb);
		else
			__skb_queue_tail(&sk->sk_write_queue, skb);
	}
	inq = kunit_kzalloc(test, c->inq_len + 1, GFP_KERNEL);
	outq = kunit_kzalloc(test, c->outq_len + 1, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, inq);
	KUNIT_ASSERT_NOT_NULL(test, outq);

	/* Act */
	KUNIT_ASSERT_EQ(test, gecko_sock_copy_queues(sk, &st, inq, outq), c->err);

	/* Assert: each stream's octets, in sequence order, none stale. */
	if (c->err)
		return;
	for (i = 0; i < c->inq_len; i++)
		KUNIT_ASSERT_EQ_MSG(test, inq[i], octet(c->in_from + i), "received octet %u", i);
	for (i = 0; i < c->outq_len; i++)
		KUNIT_ASSERT_EQ_MSG(test, outq[i], octet(c->out_from + i), "sent octet %u", i);
}

struct state_case {
	const char *name;
	u8 state;
	u32 rcv_nxt, copied_seq, write_seq, snd_una, snd_nxt;
	u64 bytes_acked, bytes_received;
	/* what the state says */
	u32 flags, inq_len, outq_len, unsq_len;
	u64 bytes_sent, bytes_rcvd;
};

#define FIN_IN GECKO_TCP_STATE_F_FIN_IN
#define FIN_OUT GECKO_TCP_STATE_F_FIN_OUT

static const struct state_case state_cases[] = {
	{ "established, all read and acknowledged", TCP_ESTABLISHED, 1000, 1000, 5000, 5000, 5000,
	  4000, 999, 0, 0, 0, 0, 4000, 999 },
	{ "established, unread, unacked and unsent octets", TCP_ESTABLISHED, 1500, 1000, 5300, 5000,
	  5200, 4000, 1499, 0, 500, 300, 100, 4300, 1499 },
	{ "close wait: the peer's FIN is no octet", TCP_CLOSE_WAIT, 1501, 1000, 5000, 5000, 5000,
	  4000, 1501, FIN_IN, 500, 0, 0, 4000, 1500 },
	{ "close wait, all read but the FIN", TCP_CLOSE_WAIT, 1501, 1500, 5000, 5000, 5000, 4000,
	  1501, FIN_IN, 0, 0, 0, 4000, 1500 },
	{ "close wait, the FIN read too", TCP_CLOSE_WAIT, 1501, 1501, 5000, 5000, 5000, 4000, 1501,
	  FIN_IN, 0, 0, 0, 4000, 1500 },
	{ "FIN wait 1: our FIN sent, not acked", TCP_FIN_WAIT1, 1000, 1000, 5301, 5000, 5301, 4000,
	  999, FIN_OUT, 0, 300, 0, 4300, 999 },
	{ "FIN wait 1: our FIN not sent yet", TCP_FIN_WAIT1, 1000, 1000, 5301, 5000, 5200, 4000, 999,
	  FIN_OUT, 0, 300, 100, 4300, 999 },
	{ "FIN wait 2: our FIN acked", TCP_FIN_WAIT2, 1000, 1000, 5301, 5301, 5301, 4301, 999,
	  FIN_OUT, 0, 0, 0, 4300, 999 },
	{ "last ack: both FINs", TCP_LAST_ACK, 1501, 1501, 5301, 5000, 5301, 4000, 1501,
	  FIN_IN | FIN_OUT, 0, 300, 0, 4300, 1500 },
	{ "sequence numbers past 2^32", TCP_ESTABLISHED, 0x10, 0xfffffff0, 0x100, 0xffffff00, 0x80,
	  4000, 5000, 0, 0x20, 0x200, 0x80, 4000 + 0x200, 5000 },
};

static void state_case_desc(const struct state_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(state, state_cases, state_case_desc);

static void state_counts_octets_not_fins(struct kunit *test)
{
	const struct state_case *c = test->param_value;
	struct sock *sk = test->priv;
	struct tcp_sock *tp = tcp_sk(sk);
	struct gecko_tcp_state st;

	/* Arrange */
	sk->sk_state = c->state;
	tp->rcv_nxt = c->rcv_nxt;
	tp->copied_seq = c->copied_seq;
	tp->write_seq = c->write_seq;
	tp->snd_una = c->snd_una;
	tp->snd_nxt = c->snd_nxt;
	tp->bytes_acked = c->bytes_acked;
	tp->bytes_received = c->bytes_received;

	/* Act */
	gecko_sock_read_state(sk, &st);

	/* Assert */
	KUNIT_EXPECT_EQ(test, st.state, c->state);
	KUNIT_EXPECT_EQ(test, st.flags, c->flags);
	KUNIT_EXPECT_EQ(test, st.rcv_nxt, c->rcv_nxt);
	KUNIT_EXPECT_EQ(test, st.write_seq, c->write_seq);
	KUNIT_EXPECT_EQ(test, st.inq_len, c->inq_len);
	KUNIT_EXPECT_EQ(test, st.outq_len, c->outq_len);
	KUNIT_EXPECT_EQ(test, st.unsq_len, c->unsq_len);
	KUNIT_EXPECT_EQ(test, st.bytes_sent, c->bytes_sent);
	KUNIT_EXPECT_EQ(test, st.bytes_received, c->bytes_rcvd);
}

struct options_case {
	const char *name;
	bool agreed;	/* SACK, window scaling and timestamps */
};

static const struct options_case options_cases[] = {
	{ "SACK, window scaling and timestamps agreed", true },
	{ "no option agreed", false },
};

static void options_case_desc(const struct options_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(options, options_cases, options_case_desc);

/* The rest of the state: options, windows, RTT, addresses, buffer sizes. */
static void state_takes_the_rest(struct kunit *test)
{
	const struct options_case *c = test->param_value;
	struct sock *sk = test->priv;
	struct tcp_sock *tp = tcp_sk(sk);
	struct gecko_tcp_state st;
	u32 ts_before, ts_after;

	/* Arrange */
	sk->sk_state = TCP_ESTABLISHED;
	if (c->agreed) {
		tp->rx_opt.sack_ok = TCP_SACK_SEEN;
		tp->rx_opt.wscale_ok = 1;
		tp->rx_opt.snd_wscale = 7;
		tp->rx_opt.rcv_wscale = 9;
		tp->rx_opt.tstamp_ok = 1;
		tp->tsoffset = 123456;
	}
	tp->rx_opt.mss_clamp = 1416;
	tp->snd_wl1 = 1000;
	tp->snd_wnd = 65535;
	tp->max_window = 131072;
	tp->rcv_wnd = 64240;
	tp->rcv_wup = 990;
	tp->srtt_us = 2500 << 3;	/* TCP keeps it times 8 */
	tp->rttvar_us = 1200;
	inet_csk(sk)->icsk_rto = msecs_to_jiffies(300);
	sk->sk_v6_rcv_saddr = home;
	sk->sk_v6_daddr = client;
	inet_sk(sk)->inet_num = 80;
	inet_sk(sk)->inet_dport = htons(40000);
	sk->sk_sndbuf = 87040;
	sk->sk_rcvbuf = 131072;

	/* Act */
	ts_before = tcp_time_stamp_raw() + tp->tsoffset;
	gecko_sock_read_state(sk, &st);
	ts_after = tcp_time_stamp_raw() + tp->tsoffset;

	/* Assert */
	KUNIT_EXPECT_EQ(test, st.flags, c->agreed ? GECKO_TCP_STATE_F_SACK |
			GECKO_TCP_STATE_F_WSCALE | GECKO_TCP_STATE_F_TIMESTAMPS : 0U);
	KUNIT_EXPECT_EQ(test, st.snd_wscale, c->agreed ? 7 : 0);
	KUNIT_EXPECT_EQ(test, st.rcv_wscale, c->agreed ? 9 : 0);
	if (c->agreed) {
		KUNIT_EXPECT_TRUE(test, !before(st.ts_val, ts_before) && !after(st.ts_val, ts_after));
	} else {
		KUNIT_EXPECT_EQ(test, st.ts_val, 0U);
	}
	KUNIT_EXPECT_EQ(test, st.mss_clamp, 1416);
	KUNIT_EXPECT_EQ(test, st.snd_wl1, 1000U);
	KUNIT_EXPECT_EQ(test, st.snd_wnd, 65535U);
	KUNIT_EXPECT_EQ(test, st.max_window, 131072U);
	KUNIT_EXPECT_EQ(test, st.rcv_wnd, 64240U);
	KUNIT_EXPECT_EQ(test, st.rcv_wup, 990U);
	KUNIT_EXPECT_EQ(test, st.srtt_us, 2500U);
	KUNIT_EXPECT_EQ(test, st.rttvar_us, 1200U);
	KUNIT_EXPECT_EQ(test, st.rto_us, jiffies_to_usecs(msecs_to_jiffies(300)));
	KUNIT_EXPECT_TRUE(test, ipv6_addr_equal(&st.local, &home));
	KUNIT_EXPECT_TRUE(test, ipv6_addr_equal(&st.remote, &client));
	KUNIT_EXPECT_EQ(test, st.local_port, 80);
	KUNIT_EXPECT_EQ(test, st.remote_port, 40000);
	KUNIT_EXPECT_EQ(test, st.snd_buf, 87040U);
	KUNIT_EXPECT_EQ(test, st.rcv_buf, 131072U);
}

/*
 * Pacing stamps segments with their departure time, ahead of the clock: the
 * timestamp clock handed on is never behind a TSval the socket may have sent.
 */
static void state_timestamp_not_behind_departures(struct kunit *test)
{
	struct sock *sk = test->priv;
	struct tcp_sock *tp = tcp_sk(sk);
	struct gecko_tcp_state st;
	u32 last_sent;

	/* Arrange */
	sk->sk_state = TCP_ESTABLISHED;
	tp->rx_opt.tstamp_ok = 1;
	tp->tsoffset = 4000000000U;	/* the sum wraps, as on the wire */
	tp->tcp_wstamp_ns = tcp_clock_ns() + 5 * NSEC_PER_SEC;
	last_sent = tcp_ns_to_ts(tp->tcp_wstamp_ns) + tp->tsoffset;

	/* Act */
	gecko_sock_read_state(sk, &st);

	/* Assert */
	KUNIT_EXPECT_EQ(test, st.ts_val, last_sent);
}

struct window_case {
	const char *name;
	u32 packets_out, cwnd, ssthresh;	/* before */
	u32 want_cwnd, want_ssthresh;
};

static const struct window_case window_cases[] = {
	{ "more in flight than the initial window: the window holds it", 1500, 10, TCP_INFINITE_SSTHRESH, 1500, 1500 },
	{ "less in flight: the window stays", 4, 10, TCP_INFINITE_SSTHRESH, 10, TCP_INFINITE_SSTHRESH },
	{ "as much in flight as the window: it stays", 10, 10, TCP_INFINITE_SSTHRESH, 10, TCP_INFINITE_SSTHRESH },
};

static void window_case_desc(const struct window_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(window, window_cases, window_case_desc);

/* A restored socket's congestion window covers what it holds as in flight. */
static void restored_window_covers_flight(struct kunit *test)
{
	const struct window_case *c = test->param_value;
	struct sock *sk = test->priv;
	struct tcp_sock *tp = tcp_sk(sk);

	/* Arrange */
	tp->packets_out = c->packets_out;
	tcp_snd_cwnd_set(tp, c->cwnd);
	tp->snd_ssthresh = c->ssthresh;

	/* Act */
	gecko_sock_open_window(sk);

	/* Assert */
	KUNIT_EXPECT_EQ(test, tcp_snd_cwnd(tp), c->want_cwnd);
	KUNIT_EXPECT_EQ(test, tp->snd_ssthresh, c->want_ssthresh);
}

static struct kunit_case sockstate_cases[] = {
	KUNIT_CASE_PARAM(queues_copied_in_order, queue_gen_params),
	KUNIT_CASE_PARAM(state_counts_octets_not_fins, state_gen_params),
	KUNIT_CASE_PARAM(state_takes_the_rest, options_gen_params),
	KUNIT_CASE(state_timestamp_not_behind_departures),
	KUNIT_CASE_PARAM(restored_window_covers_flight, window_gen_params),
	{}
};

static struct kunit_suite sockstate_suite = {
	.name = "gecko_sockstate",
	.init = sockstate_init,
	.exit = sockstate_exit,
	.test_cases = sockstate_cases,
};

kunit_test_suite(sockstate_suite);
