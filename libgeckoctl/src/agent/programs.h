/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_PROGRAMS_H
#define GECKO_AGENT_PROGRAMS_H

/*
 * Between the node agent (gecko-agent) and the Gecko programs of its
 * network namespace: a program's gecko::Node is then a proxy of the
 * agent's, so that several programs share one agent, one membership and
 * one node channel, and a client's handoff takes its connections from
 * every program at once (the binding is per client, not per port).
 *
 * An abstract Unix SOCK_SEQPACKET socket "@<control>.programs"; one
 * datagram per message: type(8), then the fields below in order, numbers
 * in host order (both ends run on one machine), bytes and text as a 32-bit
 * length then the octets. Descriptors travel as SCM_RIGHTS: one at most,
 * except in connections (max_passed). A message that does not parse ends
 * the session.
 *
 * Program to agent; a connection's id is the program's descriptor number:
 *   hello     version(32) has_service(8) [service]   -> welcome or refused
 *   serve     port(16)
 *   connections  removed(32), each: id(32) client port(16);
 *             added(32), each: id(32); synced(32); + the added sockets, in order
 *             the connections the program closed, then those it opened,
 *             since its last such message (Node::Impl::queue); a removal
 *             names the client's address and port, so that one that
 *             crossed an adopt of the same number removes nothing;
 *             synced: the last sync this answers (0: none)
 *   conn      id(32) app_state(bytes)   one connection of the next handoff
 *   handoff   node client               the conn messages before it (64 at most), all of @client
 *   decline   client errno(32) text
 *   drained   errno(32) text            0: moved, text says what
 *   adopt     tag(32) id(32)            the arrival @tag is the program's @id
 *   describe  text                      for gecko-ctl programs
 *   distance  tag(32) client            -> distances
 *   mirror    id(32) app_state(bytes)   the connection's state for its mirror (16 KiB at most)
 *   available flag(8)                   0: the program cannot serve new clients (Node::set_available)
 *   counters  count(32), each: name(text) value(64)   its own, for gecko-ctl programs (Node::count)
 * Agent to program:
 *   welcome   members
 *   refused   errno(32) text
 *   members   count(32), each: name address state(8) silent_ms(64, -1 none)
 *             connections(32) heartbeats(64) joined(8) weight(32)
 *   arrival   tag(32) home client app_state(bytes) sent(64) acked(64)
 *             received(64) recovered(8) + the socket
 *   departure client node fate(8) errno(32) text frozen_us(64)
 *             count(32), each: id(32) acked(64)
 *   request   client node
 *   drain
 *   distances tag(32) count(32), each: member(text) rtt_us(64)
 *   sync      tag(32)                   send the connections not told yet, at once, answering @tag
 *
 * Who owns a connection: the program, which sent the agent a copy (connections) so
 * that the agent can freeze and capture it; the agent closes its copy on
 * removal, after a handoff that moved it, and when the program's session
 * ends (the program's copies went with it). A handoff's connections stay
 * the agent's until its departure names them.
 */

#include <gecko/agent.h>
#include <gecko/error.h>

#include "agent/common.h"

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gecko::agent::programs {

/*
 * 2: distance and distances; 3: mirror; 4: arrival says whether it was
 * recovered; 5: available and counters; 6: connections (several at once) for add
 * and remove, and sync. An agent takes programs of its own version only, and says so.
 */
inline constexpr std::uint32_t version = 6;
/* The descriptors one message passes at most: the kernel's SCM_MAX_FD. */
inline constexpr std::size_t max_passed = 253;
/* An application state is at most 64 KiB (max_app_state), the rest is small. */
inline constexpr std::size_t max_message = 96 * 1024;
/* A text field: a reason, a name, a program's description. */
inline constexpr std::size_t max_text = 4096;

enum class Type : std::uint8_t {
	hello = 1,
	serve = 2,
	connections = 3,
	conn = 5,
	handoff = 6,
	decline = 7,
	drained = 8,
	adopt = 9,
	describe = 10,
	distance = 11,
	mirror = 12,
	available = 13,
	counters = 14,
	welcome = 32,
	refused = 33,
	members = 34,
	arrival = 35,
	departure = 36,
	request = 37,
	drain = 38,
	distances = 39,
	sync = 40,
};

/* The socket programs reach the agent whose control socket is @control on. */
std::string socket_name(const std::string &control);

class Writer {
public:
	explicit Writer(Type type) { u8(static_cast<std::uint8_t>(type)); }

	Writer &u8(std::uint8_t v) { return raw(&v, sizeof(v)); }
	Writer &u16(std::uint16_t v) { return raw(&v, sizeof(v)); }
	Writer &u32(std::uint32_t v) { return raw(&v, sizeof(v)); }
	Writer &u64(std::uint64_t v) { return raw(&v, sizeof(v)); }
	Writer &i64(std::int64_t v) { return raw(&v, sizeof(v)); }
	Writer &addr(const in6_addr &a) { return raw(&a, sizeof(a)); }
	Writer &bytes(std::span<const std::byte> b);
	Writer &text(const std::string &t);

	std::span<const std::byte> data() const { return buf_; }

private:
	Writer &raw(const void *p, std::size_t n);

	std::vector<std::byte> buf_;
};

/*
 * Reads the fields of one message in order. A field past the end marks
 * the message bad and reads as zero; ok() says whether all read well and
 * nothing was left over.
 */
class Parser {
public:
	explicit Parser(std::span<const std::byte> data) : data_(data) {}

	std::optional<Type> type();
	std::uint8_t u8() { return get<std::uint8_t>(); }
	std::uint16_t u16() { return get<std::uint16_t>(); }
	std::uint32_t u32() { return get<std::uint32_t>(); }
	std::uint64_t u64() { return get<std::uint64_t>(); }
	std::int64_t i64() { return get<std::int64_t>(); }
	in6_addr addr() { return get<in6_addr>(); }
	std::vector<std::byte> bytes(std::size_t max);
	std::string text()
	{
		auto b = bytes(max_text);
		return {reinterpret_cast<const char *>(b.data()), b.size()};
	}

	bool ok() const { return !bad_ && at_ == data_.size(); }
	bool failed() const { return bad_; }

private:
	template <class T>
	T get()
	{
		T v{};
		if (!take(&v, sizeof(v)))
			bad_ = true;
		return v;
	}
	bool take(void *p, std::size_t n);

	std::span<const std::byte> data_;
	std::size_t at_ = 0;
	bool bad_ = false;
};

/* Sends one message, with the descriptors @pass (max_passed at most). EPIPE once the other end left. */
Result<void> send(int sock, const Writer &message, std::span<const int> pass = {});
/* With one descriptor, if @pass is not negative. */
inline Result<void> send(int sock, const Writer &message, int pass)
{
	return send(sock, message, pass < 0 ? std::span<const int>() : std::span(&pass, 1));
}

struct Received {
	std::vector<std::byte> data;
	std::vector<UniqueFd> fds;	/* the descriptors that came with it, in order */
	/* The one descriptor a message other than connections may carry; -1 if none. */
	int fd() const { return fds.size() == 1 ? fds.front().get() : -1; }
};
/*
 * The next message; none at the end of the session, whether the other side
 * closed it or died with messages of ours unread (ECONNRESET); nonblocking,
 * EAGAIN when none waits.
 */
Result<std::optional<Received>> receive(int sock);

void put_members(Writer &w, const std::vector<MemberStatus> &members);
std::vector<MemberStatus> get_members(Parser &p);

/* A connections message's fields. */
struct Removal {
	std::uint32_t id;
	in6_addr client;
	std::uint16_t port;	/* 0: not known */
};
struct Connections {
	std::vector<Removal> removed;
	std::vector<std::uint32_t> added;
	std::uint32_t synced = 0;
};
void put_connections(Writer &w, std::span<const Removal> removed, std::span<const int> added, std::uint32_t synced);
Connections get_connections(Parser &p);

using Counters = std::vector<std::pair<std::string, std::uint64_t>>;
void put_counters(Writer &w, const Counters &counters);
/* A program's counters; EPROTO for more than max_program_counters or a name that is none. */
Result<Counters> get_counters(Parser &p);

} // namespace gecko::agent::programs

#endif /* GECKO_AGENT_PROGRAMS_H */
