// SPDX-License-Identifier: GPL-2.0-only
/*
 * The TCP state format. Validation refuses what the kernel's repair
 * interface would refuse or misuse (TCP_REPAIR_OPTIONS, TCP_REPAIR_WINDOW,
 * the queues), so that a restore fails before it touches a socket.
 */

#include "tcpstate.h"

#include <linux/errno.h>
#include <linux/tcp.h>
#include <asm/unaligned.h>
#include <net/tcp.h>
#include <uapi/linux/gecko.h>

/* Whether @state is one a connection can be handed off in, with its FIN flags. */
static bool state_ok(const struct gecko_tcp_state *st)
{
	bool fin_out = st->flags & GECKO_TCP_STATE_F_FIN_OUT;
	bool fin_in = st->flags & GECKO_TCP_STATE_F_FIN_IN;

	switch (st->state) {
	case TCP_ESTABLISHED:
		return !fin_out && !fin_in;
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
		return fin_out && !fin_in;
	case TCP_CLOSE_WAIT:
		return !fin_out && fin_in;
	case TCP_LAST_ACK:
	case TCP_CLOSING:
		return fin_out && fin_in;
	default:
		return false;
	}
}

int gecko_tcp_state_validate(const struct gecko_tcp_state *st)
{
	bool wscale = st->flags & GECKO_TCP_STATE_F_WSCALE;

	if (st->flags & ~__GECKO_TCP_STATE_F_ALL || !state_ok(st))
		return -EINVAL;
	if (wscale ? st->snd_wscale > TCP_MAX_WSCALE || st->rcv_wscale > TCP_MAX_WSCALE
		   : st->snd_wscale || st->rcv_wscale)
		return -EINVAL;
	if (st->mss_clamp < TCP_MIN_MSS)
		return -EINVAL;
	if (!st->local_port || !st->remote_port)
		return -EINVAL;
	/* What SO_SNDBUFFORCE could set: sk_sndbuf and sk_rcvbuf are ints. */
	if (st->snd_buf > INT_MAX || st->rcv_buf > INT_MAX)
		return -EINVAL;
	if (!(st->flags & GECKO_TCP_STATE_F_TIMESTAMPS) && st->ts_val)
		return -EINVAL;
	if (st->inq_len > GECKO_TCP_STATE_MAX_QUEUE || st->outq_len > GECKO_TCP_STATE_MAX_QUEUE ||
	    st->unsq_len > st->outq_len)
		return -EINVAL;
	/* The queues' first octets lie at or after the connection's start. */
	if (st->bytes_sent < st->outq_len || st->bytes_received < st->inq_len)
		return -EINVAL;
	/* What TCP_REPAIR_WINDOW checks, and what the window fields can express. */
	if (st->max_window < st->snd_wnd ||
	    (u64)st->snd_wnd > (u64)U16_MAX << st->snd_wscale ||
	    (u64)st->rcv_wnd > (u64)U16_MAX << st->rcv_wscale ||
	    after(st->snd_wl1, st->rcv_nxt + st->rcv_wnd) || after(st->rcv_wup, st->rcv_nxt))
		return -EINVAL;
	/* An RTO of 0 means none was measured; otherwise within TCP's own bounds. */
	if (st->rto_us && (st->rto_us < jiffies_to_usecs(TCP_RTO_MIN) ||
			   st->rto_us > jiffies_to_usecs(TCP_RTO_MAX)))
		return -EINVAL;
	if (st->srtt_us > jiffies_to_usecs(TCP_RTO_MAX) || st->rttvar_us > jiffies_to_usecs(TCP_RTO_MAX))
		return -EINVAL;
	return 0;
}

void gecko_tcp_state_encode(const struct gecko_tcp_state *st, u8 *buf)
{
	memset(buf, 0, GECKO_TCP_STATE_HDR_LEN);
	put_unaligned_be16(GECKO_TCP_STATE_VERSION, buf);
	put_unaligned_be16(GECKO_TCP_STATE_HDR_LEN, buf + 2);
	put_unaligned_be32(st->flags, buf + 4);
	buf[8] = st->state;
	buf[9] = st->snd_wscale;
	buf[10] = st->rcv_wscale;
	put_unaligned_be16(st->mss_clamp, buf + 12);
	put_unaligned_be32(st->rcv_nxt, buf + 16);
	put_unaligned_be32(st->write_seq, buf + 20);
	put_unaligned_be32(st->inq_len, buf + 24);
	put_unaligned_be32(st->outq_len, buf + 28);
	put_unaligned_be32(st->unsq_len, buf + 32);
	put_unaligned_be32(st->ts_val, buf + 36);
	put_unaligned_be32(st->snd_wl1, buf + 40);
	put_unaligned_be32(st->snd_wnd, buf + 44);
	put_unaligned_be32(st->max_window, buf + 48);
	put_unaligned_be32(st->rcv_wnd, buf + 52);
	put_unaligned_be32(st->rcv_wup, buf + 56);
	put_unaligned_be32(st->srtt_us, buf + 60);
	put_unaligned_be32(st->rttvar_us, buf + 64);
	put_unaligned_be32(st->rto_us, buf + 68);
	put_unaligned_be64(st->bytes_sent, buf + 72);
	put_unaligned_be64(st->bytes_received, buf + 80);
	memcpy(buf + 88, &st->local, sizeof(st->local));
	memcpy(buf + 104, &st->remote, sizeof(st->remote));
	put_unaligned_be16(st->local_port, buf + 120);
	put_unaligned_be16(st->remote_port, buf + 122);
	put_unaligned_be32(st->snd_buf, buf + 124);
	put_unaligned_be32(st->rcv_buf, buf + 128);
}

/* Reads the header of @len octets at @buf into @st; its length, or an error. */
static int decode_header(const u8 *buf, size_t len, struct gecko_tcp_state *st)
{
	size_t hdr_len;
	int err;

	if (len < 4)
		return -EINVAL;
	if (get_unaligned_be16(buf) != GECKO_TCP_STATE_VERSION)
		return -EPROTONOSUPPORT;
	hdr_len = get_unaligned_be16(buf + 2);
	if (hdr_len < GECKO_TCP_STATE_HDR_LEN || hdr_len > len)
		return -EINVAL;
	if (buf[11] || get_unaligned_be16(buf + 14) || get_unaligned_be32(buf + 132))
		return -EINVAL;

	st->flags = get_unaligned_be32(buf + 4);
	st->state = buf[8];
	st->snd_wscale = buf[9];
	st->rcv_wscale = buf[10];
	st->mss_clamp = get_unaligned_be16(buf + 12);
	st->rcv_nxt = get_unaligned_be32(buf + 16);
	st->write_seq = get_unaligned_be32(buf + 20);
	st->inq_len = get_unaligned_be32(buf + 24);
	st->outq_len = get_unaligned_be32(buf + 28);
	st->unsq_len = get_unaligned_be32(buf + 32);
	st->ts_val = get_unaligned_be32(buf + 36);
	st->snd_wl1 = get_unaligned_be32(buf + 40);
	st->snd_wnd = get_unaligned_be32(buf + 44);
	st->max_window = get_unaligned_be32(buf + 48);
	st->rcv_wnd = get_unaligned_be32(buf + 52);
	st->rcv_wup = get_unaligned_be32(buf + 56);
	st->srtt_us = get_unaligned_be32(buf + 60);
	st->rttvar_us = get_unaligned_be32(buf + 64);
	st->rto_us = get_unaligned_be32(buf + 68);
	st->bytes_sent = get_unaligned_be64(buf + 72);
	st->bytes_received = get_unaligned_be64(buf + 80);
	memcpy(&st->local, buf + 88, sizeof(st->local));
	memcpy(&st->remote, buf + 104, sizeof(st->remote));
	st->local_port = get_unaligned_be16(buf + 120);
	st->remote_port = get_unaligned_be16(buf + 122);
	st->snd_buf = get_unaligned_be32(buf + 124);
	st->rcv_buf = get_unaligned_be32(buf + 128);

	err = gecko_tcp_state_validate(st);
	return err ?: hdr_len;
}

int gecko_tcp_state_decode(const u8 *buf, size_t len, struct gecko_tcp_state *st,
			   const u8 **inq, const u8 **outq)
{
	int hdr_len = decode_header(buf, len, st);

	if (hdr_len < 0)
		return hdr_len;
	/* Validation bounded both queues, so the sum cannot wrap. */
	if (st->flags & GECKO_TCP_STATE_F_SNAPSHOT ||
	    (u64)hdr_len + st->inq_len + st->outq_len != len)
		return -EINVAL;
	*inq = buf + hdr_len;
	*outq = *inq + st->inq_len;
	return 0;
}

int gecko_tcp_state_decode_header(const u8 *buf, size_t len, struct gecko_tcp_state *st)
{
	int hdr_len = decode_header(buf, len, st);

	if (hdr_len < 0)
		return hdr_len;
	return hdr_len == len ? 0 : -EINVAL;
}
