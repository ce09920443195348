/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_WIRE_H
#define GECKO_AGENT_WIRE_H

/*
 * The messages node agents exchange with each other (TCP between care-of
 * addresses) and with gecko-ctl (a Unix stream socket): a frame is
 *
 *   version(16) type(16) length(32)   then length octets of attributes,
 *
 * each attribute being type(16) length(16) and that many octets, numbers in
 * network order. A receiver refuses another version, frames longer than
 * max_payload, truncated attributes and attributes of the wrong size;
 * unknown attribute types are skipped so that later versions can add some.
 */

#include <gecko/error.h>

#include <netinet/in.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gecko::agent::wire {

inline constexpr std::uint16_t version = 1;
inline constexpr std::size_t header_size = 8;
inline constexpr std::size_t max_payload = 64 * 1024;

enum class Type : std::uint16_t {
	/* gecko-ctl to the agent; each is answered by one reply. */
	register_home = 1,	/* home, [lifetime] */
	deregister_home = 2,	/* home */
	rr = 3,			/* home, client */
	bu = 4,			/* home, client, [seq], [lifetime] */
	clear = 5,		/* home, client */
	counters = 6,		/* -> the counters */
	reply = 7,		/* error, [text], [seq], [lifetime], [elapsed_us], [counters], [records] */
	handoff = 8,		/* client, node: asks the application for a handoff */
	handoffs = 9,		/* -> records */
	fault = 10,		/* text: tests only, see Control::inject_fault */
	members = 11,		/* -> records */
	drain = 12,		/* -> text: asks the application to drain the node */
	programs = 13,		/* -> records: the programs the agent serves */
	join = 14,		/* text (a member's name), node, [length (its weight)] */
	leave = 15,		/* text (a member's name) */
	/* Between agents. */
	home_test = 16,		/* home, client, cookie: the contact node sends a HoTI */
	home_test_reply = 17,	/* home, client, cookie, then nonce_index and token, or error and text */
	/* The handoff of TCP connections (agent/handoff.h), donor to acceptor then back. */
	handoff_prepare = 18,	/* handoff, home, client */
	handoff_data = 19,	/* handoff, data */
	handoff_commit = 20,	/* handoff, length, [seq], [bu_age_ms] */
	handoff_reply = 21,	/* handoff, answer, [error, text], [bu_sent] */
	handoff_abort = 22,	/* handoff: the donor gave up before the state left */
	handoff_query = 23,	/* handoff: the donor heard nothing; answered by a handoff_reply */
	/* Membership (agent/membership.h). */
	heartbeat = 24,		/* connections, [mode], [distances]: the sender is alive and serves that many */
	/* Control again. */
	proximity = 25,		/* client -> records: each member's distance to its network */
	/* Mirroring (agent/mirrors.h), a member to its backup. */
	mirror = 26,		/* data, [app_state]: a connection's snapshot (GECKO_TCP_STATE_F_SNAPSHOT); without
				   app_state, the one it had stays (a connection's first has one, empty if none) */
	mirror_gone = 27,	/* client, ports: the connection ended or left the sender */
	/* Control again. */
	backups = 28,		/* -> records: this node's backup, and the mirrors it holds */
	/* Mirroring again: the contact node to its backups. */
	registration = 29,	/* home, seq, lifetime (seconds left): its home registration */
	/* Mirroring again, a member to its backup, then back. */
	mirror_still = 30,	/* conns: these connections moved no octet since their last mirror, which holds */
	mirror_wanted = 31,	/* conns: the backup has no mirror of these (or none with their application
				   state): the member sends them whole at its next turn */
};

/* A handoff_reply's answer. */
enum class Answer : std::uint8_t {
	ready = 1,	/* prepared: send the state */
	refused = 2,	/* before the state: nothing was restored (error, text) */
	done = 3,	/* the acceptor thawed the connections */
	aborted = 4,	/* it dropped what it restored and never thaws it (error, text, bu_sent) */
	pending = 5,	/* not decided yet */
	restored = 6,	/* the acceptor restored the connections: pass on what the client still sends */
};

/* What a member does, in its heartbeats. */
enum class Mode : std::uint8_t {
	serving = 0,
	draining = 1,	/* handing its clients to others */
	left = 2,	/* drained: takes nothing */
	unavailable = 3,	/* its program cannot serve: takes no new client, serves those it has */
};

enum class Attr : std::uint16_t {
	home = 1,		/* 16 octets */
	client = 2,		/* 16 octets */
	seq = 3,		/* 16 bits */
	lifetime = 4,		/* 32 bits, seconds */
	cookie = 5,		/* 8 octets */
	nonce_index = 6,	/* 16 bits */
	token = 7,		/* 8 octets */
	error = 8,		/* 32 bits, errno, 0 for success */
	text = 9,		/* UTF-8, no terminator */
	elapsed_us = 10,	/* 64 bits */
	status = 11,		/* 8 bits, a Binding Acknowledgement's status */
	handoff = 12,		/* 64 bits, random, the donor's name for a handoff with one acceptor */
	data = 13,		/* a piece of a handoff's bundle */
	length = 14,		/* 32 bits, octets */
	node = 15,		/* 16 octets, a node's care-of address */
	bu_age_ms = 16,		/* 32 bits, since the donor's last Binding Update to the client */
	bu_sent = 17,		/* 8 bits, 1 if a Binding Update may have reached the client */
	records = 18,		/* text, one record per line: handoffs or members (see control.cpp) */
	answer = 19,		/* 8 bits, enum Answer */
	connections = 20,	/* 32 bits */
	mode = 21,		/* 8 bits, enum Mode */
	distances = 22,		/* networks the sender measured, 20 octets each (agent/proximity.h) */
	ports = 23,		/* 32 bits: G's port, then the client's, 16 bits each */
	app_state = 24,		/* a connection's application state, for its mirror */
	conns = 25,		/* connections of G, 20 octets each: the client's address, G's port, the client's */
	/* 64 bits each: the agent's counters, in the order of struct agent::Counters. */
	counter_base = 32,
};

class Message {
public:
	explicit Message(Type type) : type_(type) {}

	Type type() const { return type_; }

	Message &put(Attr attr, std::span<const std::byte> bytes);
	Message &put(Attr attr, const in6_addr &addr);
	Message &put(Attr attr, const std::string &text);
	Message &put_u8(Attr attr, std::uint8_t value);
	Message &put_u16(Attr attr, std::uint16_t value);
	Message &put_u32(Attr attr, std::uint32_t value);
	Message &put_u64(Attr attr, std::uint64_t value);

	bool has(Attr attr) const { return attrs_.contains(attr); }
	/* Each getter fails with EBADMSG, naming the attribute, if it is missing or of the wrong size. */
	Result<in6_addr> address(Attr attr) const;
	Result<std::string> text(Attr attr) const;
	Result<std::uint8_t> u8(Attr attr) const;
	Result<std::uint16_t> u16(Attr attr) const;
	Result<std::uint32_t> u32(Attr attr) const;
	Result<std::uint64_t> u64(Attr attr) const;
	/* Of any size. */
	Result<std::span<const std::byte>> bytes(Attr attr) const { return get(attr, 0); }
	template <std::size_t N>
	Result<std::array<std::uint8_t, N>> octets(Attr attr) const;

	/* The whole frame. */
	std::vector<std::byte> encode() const;

private:
	/* @attr's value, which must be @size octets long unless @size is 0. */
	Result<std::span<const std::byte>> get(Attr attr, std::size_t size) const;
	Result<std::uint64_t> number(Attr attr, std::size_t size) const;

	Type type_;
	std::map<Attr, std::vector<std::byte>> attrs_;
};

/*
 * Cuts frames out of a byte stream. feed() what arrived, then call next()
 * until it returns nothing. A malformed frame is an error from which the
 * stream cannot recover: the caller closes the connection.
 */
class Reader {
public:
	void feed(std::span<const std::byte> bytes);
	Result<std::optional<Message>> next();

private:
	std::vector<std::byte> buf_;
};

template <std::size_t N>
Result<std::array<std::uint8_t, N>> Message::octets(Attr attr) const
{
	auto bytes = get(attr, N);
	if (!bytes)
		return std::unexpected(bytes.error());
	std::array<std::uint8_t, N> out;
	for (std::size_t i = 0; i < N; i++)
		out[i] = static_cast<std::uint8_t>((*bytes)[i]);
	return out;
}

} // namespace gecko::agent::wire

#endif /* GECKO_AGENT_WIRE_H */
