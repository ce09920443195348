/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_TCPSTATE_H
#define GECKO_TCPSTATE_H

/*
 * The transferable state of a TCP connection (layout in the UAPI header):
 * encoding and the validation a restore relies on. No socket is touched
 * here.
 */

#include <linux/in6.h>
#include <linux/types.h>

/* The most a queue may hold in a state: far above any socket buffer. */
#define GECKO_TCP_STATE_MAX_QUEUE (64U << 20)

struct gecko_tcp_state {
	u32 flags;
	u8 state;
	u8 snd_wscale;
	u8 rcv_wscale;
	u16 mss_clamp;
	u32 rcv_nxt;
	u32 write_seq;
	u32 inq_len;
	u32 outq_len;
	u32 unsq_len;
	u32 ts_val;
	u32 snd_wl1;
	u32 snd_wnd;
	u32 max_window;
	u32 rcv_wnd;
	u32 rcv_wup;
	u32 srtt_us;
	u32 rttvar_us;
	u32 rto_us;
	u64 bytes_sent;
	u64 bytes_received;
	struct in6_addr local;
	struct in6_addr remote;
	u16 local_port;
	u16 remote_port;
	u32 snd_buf;
	u32 rcv_buf;
};

/* 0, or -EINVAL naming nothing: a state a restore must refuse. */
int gecko_tcp_state_validate(const struct gecko_tcp_state *st);

/* Writes @st's header, GECKO_TCP_STATE_HDR_LEN octets, to @buf. */
void gecko_tcp_state_encode(const struct gecko_tcp_state *st, u8 *buf);

/*
 * Reads a whole state of @len octets from @buf: header, then exactly the
 * queues it announces, which @inq and @outq are pointed at. Fails with
 * -EPROTONOSUPPORT for another version, -EINVAL for anything short,
 * long, or that gecko_tcp_state_validate() refuses.
 */
int gecko_tcp_state_decode(const u8 *buf, size_t len, struct gecko_tcp_state *st,
			   const u8 **inq, const u8 **outq);

/* The same for a header alone, exactly @len octets: a restore's first step. */
int gecko_tcp_state_decode_header(const u8 *buf, size_t len, struct gecko_tcp_state *st);

#endif /* GECKO_TCPSTATE_H */
