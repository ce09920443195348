/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_TCP_STATE_H
#define GECKO_TCP_STATE_H

/*
 * The state of a TCP connection as Client::capture_socket() gives it and
 * Client::restore_socket() takes it: a header, then the unread receive
 * queue, then the send queue. The layout and what each field means to the
 * module are in the UAPI header, include/uapi/linux/gecko.h.
 */

#include <gecko/error.h>
#include <gecko/export.h>

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace gecko {

/* The header of a state, in host order. */
struct TcpState {
	/* The bits of flags: enum gecko_tcp_state_flag. */
	enum Flag : std::uint32_t {
		sack = 1U << 0,
		wscale = 1U << 1,
		timestamps = 1U << 2,
		fin_out = 1U << 3,	/* this side's FIN is queued or sent */
		fin_in = 1U << 4,	/* the peer's FIN was received */
		snapshot = 1U << 5,	/* the header alone: queues not included */
	};

	std::uint16_t hdr_len = 0;	/* where the receive queue starts */
	std::uint32_t flags = 0;
	std::uint8_t state = 0;		/* TCP_ESTABLISHED, TCP_FIN_WAIT1... */
	std::uint8_t snd_wscale = 0;
	std::uint8_t rcv_wscale = 0;
	std::uint16_t mss_clamp = 0;
	std::uint32_t rcv_nxt = 0;
	std::uint32_t write_seq = 0;
	std::uint32_t inq_len = 0;	/* the receive queue's octets */
	std::uint32_t outq_len = 0;	/* the send queue's octets */
	std::uint32_t unsq_len = 0;	/* of those, the last ones never sent */
	std::uint32_t ts_val = 0;
	std::uint32_t snd_wl1 = 0;
	std::uint32_t snd_wnd = 0;
	std::uint32_t max_window = 0;
	std::uint32_t rcv_wnd = 0;
	std::uint32_t rcv_wup = 0;
	std::uint32_t srtt_us = 0;
	std::uint32_t rttvar_us = 0;
	std::uint32_t rto_us = 0;
	std::uint64_t bytes_sent = 0;
	std::uint64_t bytes_received = 0;
	in6_addr local{};		/* G */
	in6_addr remote{};		/* the client */
	std::uint16_t local_port = 0;
	std::uint16_t remote_port = 0;
	std::uint32_t snd_buf = 0;	/* the socket's buffer sizes, 0 if unknown */
	std::uint32_t rcv_buf = 0;
};

/*
 * The header of @state, checked for what a reader relies on: version
 * GECKO_TCP_STATE_VERSION (EPROTONOSUPPORT otherwise), a header length
 * in bounds, reserved octets zero, the queues it announces present and
 * nothing after them (a snapshot has the header alone). Anything else is
 * EINVAL saying what. Whether a restore would take it is the module's call.
 */
GECKO_API Result<TcpState> parse_tcp_state(std::span<const std::byte> state);
/*
 * The header alone (its hdr_len octets, not a snapshot's), for a reader
 * that takes the queues as they come: the same checks but the queues'.
 */
GECKO_API Result<TcpState> parse_tcp_state_header(std::span<const std::byte> header);

/*
 * The parts of the queues in @state, a whole state parse_tcp_state() read
 * @hdr from; empty for a snapshot.
 */
GECKO_API std::span<const std::byte> receive_queue(const TcpState &hdr, std::span<const std::byte> state);
/* The first outq_len - unsq_len octets of the send queue: sent, not yet acknowledged. */
GECKO_API std::span<const std::byte> sent_queue(const TcpState &hdr, std::span<const std::byte> state);
/* The last unsq_len octets of the send queue: never sent. */
GECKO_API std::span<const std::byte> unsent_queue(const TcpState &hdr, std::span<const std::byte> state);

} // namespace gecko

#endif /* GECKO_TCP_STATE_H */
