/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_PROXIMITY_H
#define GECKO_AGENT_PROXIMITY_H

/*
 * How far the members are from the clients' networks, for the proximity
 * policy. Every heartbeat period a node reads, from its TCP stack, the
 * lowest round-trip time seen on each connection it serves (tcpi_min_rtt:
 * the path's, without the queues'); a client's network is its address cut
 * to the configuration's proximity-prefix, and its distance the lowest of
 * its connections'. The node's heartbeats tell the other members what it
 * measured, a few networks at a time in turn; each keeps what it heard for
 * max_age after the last telling. Thread-safe: the agent's thread writes,
 * programs look up.
 */

#include <gecko/agent.h>
#include <gecko/error.h>

#include "agent/common.h"
#include "agent/transport.h"

#include <netinet/in.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gecko::agent {

/* The lowest round trip the TCP stack saw on connection @fd; none before its first sample. */
std::optional<std::chrono::microseconds> min_rtt(int fd);
/* @client's first @prefix bits: its network. */
in6_addr network(const in6_addr &client, unsigned prefix);

class Proximity {
public:
	/* Networks one heartbeat tells: a heartbeat stays one small message. */
	static constexpr std::size_t max_per_beat = 64;
	/* One network on the wire: its address (cut), then the RTT in microseconds, 32 bits big-endian. */
	static constexpr std::size_t entry_size = 20;
	/* Networks kept per member: what another member says cannot grow this node's memory further. */
	static constexpr std::size_t max_networks = 16384;
	/* A measurement nobody repeated for this long is forgotten. */
	static constexpr Clock::duration max_age = std::chrono::minutes(10);
	/* Longer is no measurement (the kernel's largest retransmission timeout). */
	static constexpr std::uint32_t max_rtt_us = 120'000'000;

	/* @self: this node's member name; @prefix: the leading bits of a network (16 to 128). */
	Proximity(std::string self, unsigned prefix);

	in6_addr network(const in6_addr &client) const;

	/* A new round of measured() calls: each network's distance is then the lowest of that round. */
	void begin_round();
	/* This node measured @rtt to @client (min_rtt() of a connection to it). */
	void measured(const in6_addr &client, std::chrono::microseconds rtt, Clock::time_point now);
	/*
	 * What the next heartbeat tells: up to max_per_beat of the networks
	 * this node measured since it last told them, taking up after the
	 * last one told.
	 */
	std::vector<std::byte> report();
	/* What @member's heartbeat told; EBADMSG if it is not a report. */
	Result<void> heard(const std::string &member, std::span<const std::byte> report, Clock::time_point now);
	/* A member that left: what it told goes. */
	void forget(const std::string &member);
	/* Drops what is older than max_age. */
	void expire(Clock::time_point now);

	/* The members that measured @client's network, this node included, and their distance. */
	std::vector<Distance> lookup(const in6_addr &client) const;

private:
	struct Entry {
		std::uint32_t rtt_us = 0;
		Clock::time_point when;
		std::uint64_t round = 0;	/* this node's: the round that measured it */
		bool untold = false;		/* this node's: not in a report since */
	};
	using Table = std::map<in6_addr, Entry, AddrLess>;

	mutable std::mutex lock_;
	std::string self_;
	unsigned prefix_;
	std::map<std::string, Table, std::less<>> tables_;	/* by member, this node's included */
	std::uint64_t round_ = 0;
	in6_addr told_{};	/* the last network a report told */
};

} // namespace gecko::agent

#endif /* GECKO_AGENT_PROXIMITY_H */
