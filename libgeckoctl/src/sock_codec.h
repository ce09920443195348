/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_SOCK_CODEC_H
#define GECKO_SOCK_CODEC_H

/*
 * The socket commands on the wire: the GECKO_A_SOCK nest each request
 * carries, the decoding of the replies, and how a state is cut up for a
 * restore. Pure functions, so that tests can feed them messages built by
 * hand.
 */

#include <gecko/error.h>
#include <gecko/flow.h>
#include <gecko/tcp_state.h>

#include <netlink/msg.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace gecko {

/*
 * The GECKO_A_SOCK nest naming the socket @fd, with @data, @timeout,
 * @forward and @donor if there are.
 */
Result<void> put_sock(nl_msg *msg, int fd, std::span<const std::byte> data = {},
		      std::optional<std::chrono::milliseconds> timeout = {}, const in6_addr *forward = nullptr,
		      const in6_addr *donor = nullptr);
/* The GECKO_A_SOCK nest naming a connection by its addresses and ports, for a snapshot. */
Result<void> put_sock_tuple(nl_msg *msg, const in6_addr &local, std::uint16_t local_port,
			    const in6_addr &remote, std::uint16_t remote_port);

/* The GECKO_A_SOCK nest of a GECKO_CMD_SOCK_PROBE: the connection, @seg and @timeout if given. */
Result<void> put_probe(nl_msg *msg, const in6_addr &local, std::uint16_t local_port, const in6_addr &remote,
		       std::uint16_t remote_port, const std::optional<ProbeSegment> &seg,
		       std::optional<std::chrono::milliseconds> timeout);

/*
 * The state that @replies, the attributes of every GECKO_CMD_SOCK_CAPTURE
 * reply in order, carry in pieces. EPROTO naming what is wrong if a piece
 * is missing or they do not add up to the length the first one announces.
 */
Result<std::vector<std::byte>> decode_capture(std::span<const std::span<const std::byte>> replies);

/* The Flow in @attrs, the attributes of a GECKO_CMD_SOCK_GET reply; strict as decode_binding(). */
Result<Flow> decode_flow(std::span<const std::byte> attrs);

/* @octets in pieces of at most GECKO_SOCK_DATA_MAX, one per GECKO_CMD_SOCK_RESTORE_DATA. */
std::vector<std::span<const std::byte>> data_pieces(std::span<const std::byte> octets);

/*
 * What the GECKO_CMD_SOCK_RESTORE_DATA requests for @state, which
 * parse_tcp_state() read @hdr from, carry: its receive queue, then its
 * send queue, in pieces of at most GECKO_SOCK_DATA_MAX octets. None if
 * both are empty, or for a snapshot.
 */
std::vector<std::span<const std::byte>> restore_data(const TcpState &hdr, std::span<const std::byte> state);

} // namespace gecko

#endif /* GECKO_SOCK_CODEC_H */
