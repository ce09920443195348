/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_FLOW_H
#define GECKO_FLOW_H

/*
 * A TCP connection of G that gecko.ko holds while it moves between nodes:
 * frozen for capture, committed to an acceptor, being restored, lately
 * handed off from or to here, or probed for its peer's numbers. The UAPI header, include/uapi/linux/gecko.h,
 * says what each state means to the module.
 */

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <optional>

namespace gecko {

enum class FlowState : std::uint8_t {
	frozen = 1,	/* frozen by Client::freeze_socket() */
	restoring = 2,	/* restored, its queues still coming */
	restored = 3,	/* restored, frozen until the thaw */
	moved = 4,	/* dropped here: its packets are dropped */
	committed = 5,	/* frozen, its state left: the module drops it, never thaws it */
	arrived = 6,	/* restored and thawed here: its donor's packets still taken, a recovered one's ACKs lowered */
	probing = 7,	/* no socket here, probed by Client::probe_socket(): its segments are answers */
};

/* A TCP segment's numbers: what a probe sends (Client::probe_socket()), and what answered it. */
struct ProbeSegment {
	std::uint32_t seq = 0;
	std::uint32_t ack = 0;
	std::uint16_t window = 0;	/* as on the wire, unscaled */
	std::optional<std::uint32_t> tsval;	/* the timestamps option: both or neither */
	std::optional<std::uint32_t> tsecr;
	std::uint8_t flags = 0;		/* an answer's TCP flags: FIN 0x01 ... CWR 0x80 */
};

/* What a probed flow has: how many probes left, and the last answer. */
struct Probe {
	std::uint32_t sent = 0;
	std::optional<ProbeSegment> answer;
	std::chrono::milliseconds age{};	/* of the answer */
};

struct Flow {
	in6_addr local{};	/* G */
	std::uint16_t local_port = 0;
	in6_addr remote{};	/* the client */
	std::uint16_t remote_port = 0;
	FlowState state = FlowState::frozen;
	std::uint32_t held = 0;	/* packets held back for it now */
	/* Before the module thaws, drops or forgets it on its own. */
	std::chrono::milliseconds timeout_left{};
	/* Restored naming its donor: the care-of address whose tunnelled packets are taken. */
	std::optional<in6_addr> donor;
	/* Probing: its probes and answer. */
	std::optional<Probe> probe;
	/* Committed and passed on, or moved: the acceptor's care-of address, where its packets go. */
	std::optional<in6_addr> forward;
};

} // namespace gecko

#endif /* GECKO_FLOW_H */
