// SPDX-License-Identifier: LGPL-2.1-or-later

#include "sock_codec.h"

#include "attrs.h"
#include "fail.h"
#include "names.h"

#include <linux/gecko.h>
#include <netlink/attr.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <string>

namespace gecko {

static_assert(static_cast<int>(FlowState::frozen) == GECKO_FLOW_FROZEN);
static_assert(static_cast<int>(FlowState::restoring) == GECKO_FLOW_RESTORING);
static_assert(static_cast<int>(FlowState::restored) == GECKO_FLOW_RESTORED);
static_assert(static_cast<int>(FlowState::moved) == GECKO_FLOW_MOVED);
static_assert(static_cast<int>(FlowState::committed) == GECKO_FLOW_COMMITTED);
static_assert(static_cast<int>(FlowState::arrived) == GECKO_FLOW_ARRIVED);
static_assert(static_cast<int>(FlowState::probing) == GECKO_FLOW_PROBING);
/* A state added to the UAPI header needs its FlowState. */
static_assert(GECKO_FLOW_STATE_MAX == GECKO_FLOW_PROBING);

using netlink::put_address;
using netlink::put_nest;

Result<void> put_sock(nl_msg *msg, int fd, std::span<const std::byte> data,
		      std::optional<std::chrono::milliseconds> timeout, const in6_addr *forward,
		      const in6_addr *donor)
{
	/* Saturated, so that the module refuses a timeout out of range rather than read it wrapped. */
	auto ms = std::clamp<std::int64_t>(timeout ? timeout->count() : 0, 0,
					   std::numeric_limits<std::uint32_t>::max());

	return put_nest(msg, GECKO_A_SOCK, [&] {
		return nla_put_u32(msg, GECKO_SOCK_A_FD, static_cast<std::uint32_t>(fd)) ||
		       (!data.empty() ? nla_put(msg, GECKO_SOCK_A_DATA, static_cast<int>(data.size()), data.data())
				      : 0) ||
		       (timeout ? nla_put_u32(msg, GECKO_SOCK_A_TIMEOUT, static_cast<std::uint32_t>(ms)) : 0) ||
		       (forward ? put_address(msg, GECKO_SOCK_A_FORWARD, *forward) : 0) ||
		       (donor ? put_address(msg, GECKO_SOCK_A_DONOR, *donor) : 0);
	});
}

Result<void> put_sock_tuple(nl_msg *msg, const in6_addr &local, std::uint16_t local_port,
			    const in6_addr &remote, std::uint16_t remote_port)
{
	return put_nest(msg, GECKO_A_SOCK, [&] {
		return put_address(msg, GECKO_SOCK_A_LOCAL, local) ||
		       nla_put_u16(msg, GECKO_SOCK_A_LOCAL_PORT, local_port) ||
		       put_address(msg, GECKO_SOCK_A_REMOTE, remote) ||
		       nla_put_u16(msg, GECKO_SOCK_A_REMOTE_PORT, remote_port);
	});
}

Result<void> put_probe(nl_msg *msg, const in6_addr &local, std::uint16_t local_port, const in6_addr &remote,
		       std::uint16_t remote_port, const std::optional<ProbeSegment> &seg,
		       std::optional<std::chrono::milliseconds> timeout)
{
	auto ms = std::clamp<std::int64_t>(timeout ? timeout->count() : 0, 0,
					   std::numeric_limits<std::uint32_t>::max());

	return put_nest(msg, GECKO_A_SOCK, [&] {
		return put_address(msg, GECKO_SOCK_A_LOCAL, local) ||
		       nla_put_u16(msg, GECKO_SOCK_A_LOCAL_PORT, local_port) ||
		       put_address(msg, GECKO_SOCK_A_REMOTE, remote) ||
		       nla_put_u16(msg, GECKO_SOCK_A_REMOTE_PORT, remote_port) ||
		       (timeout ? nla_put_u32(msg, GECKO_SOCK_A_TIMEOUT, static_cast<std::uint32_t>(ms)) : 0) ||
		       (seg && !put_nest(msg, GECKO_SOCK_A_PROBE, [&] {
			       return nla_put_u32(msg, GECKO_PROBE_A_SEQ, seg->seq) ||
				      nla_put_u32(msg, GECKO_PROBE_A_ACK, seg->ack) ||
				      nla_put_u16(msg, GECKO_PROBE_A_WINDOW, seg->window) ||
				      (seg->tsval ? nla_put_u32(msg, GECKO_PROBE_A_TSVAL, *seg->tsval) : 0) ||
				      (seg->tsecr ? nla_put_u32(msg, GECKO_PROBE_A_TSECR, *seg->tsecr) : 0);
		       }));
	});
}

Result<std::vector<std::byte>> decode_capture(std::span<const std::span<const std::byte>> replies)
{
	netlink::Decoder dec("GECKO_CMD_SOCK_CAPTURE reply");
	std::optional<std::uint32_t> length;	/* the first reply's */
	std::vector<std::byte> state;

	if (replies.empty())
		return fail(EPROTO, "the module sent no GECKO_CMD_SOCK_CAPTURE reply");
	for (auto reply : replies) {
		auto attrs = dec.attrs(reply, attr_names).nested(GECKO_A_SOCK, sock_attr_names);
		const nlattr *data = attrs.required(GECKO_SOCK_A_DATA);

		if (!length)
			length = attrs.get<std::uint32_t>(GECKO_SOCK_A_LENGTH);
		if (!data)
			break;
		const auto *piece = static_cast<const std::byte *>(nla_data(data));
		state.insert(state.end(), piece, piece + nla_len(data));
	}
	if (state.size() != *length)
		dec.malformed("GECKO_SOCK_A_DATA", "adds up to " + std::to_string(state.size()) +
							   " octets, not GECKO_SOCK_A_LENGTH's " +
							   std::to_string(*length));
	return dec.result(std::move(state));
}

Result<Flow> decode_flow(std::span<const std::byte> data)
{
	netlink::Decoder dec("GECKO_CMD_SOCK_GET reply");
	auto attrs = dec.attrs(data, attr_names).nested(GECKO_A_SOCK, sock_attr_names);
	auto state = attrs.get<std::uint8_t>(GECKO_SOCK_A_FLOW);

	/* A state this library cannot name would be misreported as another. */
	if (state < GECKO_FLOW_FROZEN || state > GECKO_FLOW_STATE_MAX)
		dec.malformed(attrs.name(GECKO_SOCK_A_FLOW), "is " + std::to_string(state) + ", not a known state");
	std::optional<Probe> probe;
	if (attrs.has(GECKO_SOCK_A_PROBE)) {
		auto p = attrs.nested(GECKO_SOCK_A_PROBE, probe_attr_names);
		probe.emplace();
		probe->sent = p.get<std::uint32_t>(GECKO_PROBE_A_SENT);
		if (p.has(GECKO_PROBE_A_SEQ)) {
			probe->answer = ProbeSegment{
				.seq = p.get<std::uint32_t>(GECKO_PROBE_A_SEQ),
				.ack = p.get<std::uint32_t>(GECKO_PROBE_A_ACK),
				.window = p.get<std::uint16_t>(GECKO_PROBE_A_WINDOW),
				.tsval = p.find<std::uint32_t>(GECKO_PROBE_A_TSVAL),
				.tsecr = p.find<std::uint32_t>(GECKO_PROBE_A_TSECR),
				.flags = p.get<std::uint8_t>(GECKO_PROBE_A_FLAGS),
			};
			probe->age = std::chrono::milliseconds(p.get<std::uint32_t>(GECKO_PROBE_A_AGE));
		}
	}
	return dec.result(Flow{
		.local = attrs.get<in6_addr>(GECKO_SOCK_A_LOCAL),
		.local_port = attrs.get<std::uint16_t>(GECKO_SOCK_A_LOCAL_PORT),
		.remote = attrs.get<in6_addr>(GECKO_SOCK_A_REMOTE),
		.remote_port = attrs.get<std::uint16_t>(GECKO_SOCK_A_REMOTE_PORT),
		.state = static_cast<FlowState>(state),
		.held = attrs.get<std::uint32_t>(GECKO_SOCK_A_HELD),
		.timeout_left = std::chrono::milliseconds(attrs.get<std::uint32_t>(GECKO_SOCK_A_TIMEOUT)),
		.donor = attrs.find<in6_addr>(GECKO_SOCK_A_DONOR),
		.probe = std::move(probe),
		.forward = attrs.find<in6_addr>(GECKO_SOCK_A_FORWARD),
	});
}

std::vector<std::span<const std::byte>> data_pieces(std::span<const std::byte> octets)
{
	std::vector<std::span<const std::byte>> pieces;

	for (std::size_t off = 0; off < octets.size(); off += GECKO_SOCK_DATA_MAX)
		pieces.push_back(octets.subspan(off, std::min<std::size_t>(GECKO_SOCK_DATA_MAX, octets.size() - off)));
	return pieces;
}

std::vector<std::span<const std::byte>> restore_data(const TcpState &hdr, std::span<const std::byte> state)
{
	if (hdr.flags & TcpState::snapshot)
		return {};

	auto received = receive_queue(hdr, state);
	/* The send queue follows the receive queue in a state: one run of octets. */
	return data_pieces(std::span(received.data(), received.size() + std::size_t{hdr.outq_len}));
}

} // namespace gecko
