// SPDX-License-Identifier: LGPL-2.1-or-later

#include <gecko/tcp_state.h>

#include "fail.h"

#include <linux/gecko.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace gecko {

static_assert(TcpState::sack == std::uint32_t{GECKO_TCP_STATE_F_SACK});
static_assert(TcpState::wscale == std::uint32_t{GECKO_TCP_STATE_F_WSCALE});
static_assert(TcpState::timestamps == std::uint32_t{GECKO_TCP_STATE_F_TIMESTAMPS});
static_assert(TcpState::fin_out == std::uint32_t{GECKO_TCP_STATE_F_FIN_OUT});
static_assert(TcpState::fin_in == std::uint32_t{GECKO_TCP_STATE_F_FIN_IN});
static_assert(TcpState::snapshot == std::uint32_t{GECKO_TCP_STATE_F_SNAPSHOT});

namespace {

/* The big-endian number at @offset of @buf. */
template <class T>
T be(std::span<const std::byte> buf, std::size_t offset)
{
	T value = 0;

	for (std::size_t i = 0; i < sizeof(T); i++)
		value = static_cast<T>(value << 8 | std::to_integer<T>(buf[offset + i]));
	return value;
}

in6_addr address(std::span<const std::byte> buf, std::size_t offset)
{
	in6_addr addr;

	std::memcpy(&addr, &buf[offset], sizeof(addr));
	return addr;
}

/* @len octets of @state, @offset octets past the header; none of a snapshot's. */
std::span<const std::byte> part(const TcpState &hdr, std::span<const std::byte> state, std::size_t offset,
				std::size_t len)
{
	if (hdr.flags & TcpState::snapshot)
		return {};
	return state.subspan(hdr.hdr_len + offset, len);
}

std::string octets(std::uint64_t n)
{
	return std::to_string(n) + (n == 1 ? " octet" : " octets");
}

} // namespace

namespace {

/* The header at the start of @state, checked for everything but what follows it. */
Result<TcpState> parse_header(std::span<const std::byte> state)
{
	/* Offsets as in the UAPI header's table. */
	if (state.size() < 4)
		return fail(EINVAL, "a TCP state of " + octets(state.size()) + " is too short for its header");
	if (auto version = be<std::uint16_t>(state, 0); version != GECKO_TCP_STATE_VERSION)
		return fail(EPROTONOSUPPORT, "TCP state version " + std::to_string(version) +
						     ": this library reads version " +
						     std::to_string(GECKO_TCP_STATE_VERSION));

	auto hdr_len = be<std::uint16_t>(state, 2);
	if (hdr_len < GECKO_TCP_STATE_HDR_LEN)
		return fail(EINVAL, "a TCP state header of " + octets(hdr_len) + " is shorter than version " +
					    std::to_string(GECKO_TCP_STATE_VERSION) + "'s " +
					    std::to_string(GECKO_TCP_STATE_HDR_LEN));
	if (hdr_len > state.size())
		return fail(EINVAL, "a TCP state of " + octets(state.size()) + " is cut short: its header has " +
					    std::to_string(hdr_len));
	if (state[11] != std::byte{0} || be<std::uint16_t>(state, 14) || be<std::uint32_t>(state, 132))
		return fail(EINVAL, "a TCP state has reserved octets that are not zero");

	const TcpState st{
		.hdr_len = hdr_len,
		.flags = be<std::uint32_t>(state, 4),
		.state = be<std::uint8_t>(state, 8),
		.snd_wscale = be<std::uint8_t>(state, 9),
		.rcv_wscale = be<std::uint8_t>(state, 10),
		.mss_clamp = be<std::uint16_t>(state, 12),
		.rcv_nxt = be<std::uint32_t>(state, 16),
		.write_seq = be<std::uint32_t>(state, 20),
		.inq_len = be<std::uint32_t>(state, 24),
		.outq_len = be<std::uint32_t>(state, 28),
		.unsq_len = be<std::uint32_t>(state, 32),
		.ts_val = be<std::uint32_t>(state, 36),
		.snd_wl1 = be<std::uint32_t>(state, 40),
		.snd_wnd = be<std::uint32_t>(state, 44),
		.max_window = be<std::uint32_t>(state, 48),
		.rcv_wnd = be<std::uint32_t>(state, 52),
		.rcv_wup = be<std::uint32_t>(state, 56),
		.srtt_us = be<std::uint32_t>(state, 60),
		.rttvar_us = be<std::uint32_t>(state, 64),
		.rto_us = be<std::uint32_t>(state, 68),
		.bytes_sent = be<std::uint64_t>(state, 72),
		.bytes_received = be<std::uint64_t>(state, 80),
		.local = address(state, 88),
		.remote = address(state, 104),
		.local_port = be<std::uint16_t>(state, 120),
		.remote_port = be<std::uint16_t>(state, 122),
		.snd_buf = be<std::uint32_t>(state, 124),
		.rcv_buf = be<std::uint32_t>(state, 128),
	};

	/* What no connection has: the kernel restores none such, and a mirror of one names nothing. */
	if (!st.local_port || !st.remote_port)
		return fail(EINVAL, "a TCP state without its ports");
	/* The queue helpers split the send queue here. */
	if (st.unsq_len > st.outq_len)
		return fail(EINVAL, "a TCP state has " + octets(st.unsq_len) + " unsent in a send queue of " +
					    std::to_string(st.outq_len));
	return st;
}

} // namespace

Result<TcpState> parse_tcp_state_header(std::span<const std::byte> header)
{
	auto st = parse_header(header);
	if (!st)
		return st;
	if (header.size() != st->hdr_len)
		return fail(EINVAL, "a TCP state header of " + octets(header.size()) + " is not the " +
					    std::to_string(st->hdr_len) + " it says");
	if (st->flags & TcpState::snapshot)
		return fail(EINVAL, "a TCP state snapshot has no queues to follow its header");
	return st;
}

Result<TcpState> parse_tcp_state(std::span<const std::byte> state)
{
	auto parsed = parse_header(state);
	if (!parsed)
		return parsed;
	const auto &st = *parsed;
	if (st.flags & TcpState::snapshot) {
		if (state.size() != st.hdr_len)
			return fail(EINVAL, "a TCP state snapshot of " + octets(state.size()) +
						    " is not its header alone (" + std::to_string(st.hdr_len) + ")");
		return st;
	}
	/* In 64 bits, so that no queue lengths can wrap around to the size. */
	if (auto whole = std::uint64_t{st.hdr_len} + st.inq_len + st.outq_len; state.size() != whole)
		return fail(EINVAL, "a TCP state of " + octets(state.size()) + " is not its header and queues (" +
					    std::to_string(st.hdr_len) + " + " + std::to_string(st.inq_len) + " + " +
					    std::to_string(st.outq_len) + ")");
	return st;
}

std::span<const std::byte> receive_queue(const TcpState &hdr, std::span<const std::byte> state)
{
	return part(hdr, state, 0, hdr.inq_len);
}

std::span<const std::byte> sent_queue(const TcpState &hdr, std::span<const std::byte> state)
{
	return part(hdr, state, hdr.inq_len, hdr.outq_len - hdr.unsq_len);
}

std::span<const std::byte> unsent_queue(const TcpState &hdr, std::span<const std::byte> state)
{
	return part(hdr, state, std::size_t{hdr.inq_len} + hdr.outq_len - hdr.unsq_len, hdr.unsq_len);
}

} // namespace gecko
