// SPDX-License-Identifier: LGPL-2.1-or-later
/* The messages between the node agent and its programs: see programs.h. */

#include "agent/programs.h"

#include "fail.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace gecko::agent::programs {

std::string socket_name(const std::string &control)
{
	return control + ".programs";
}

Writer &Writer::raw(const void *p, std::size_t n)
{
	auto *b = static_cast<const std::byte *>(p);
	buf_.insert(buf_.end(), b, b + n);
	return *this;
}

Writer &Writer::bytes(std::span<const std::byte> b)
{
	u32(static_cast<std::uint32_t>(b.size()));
	return raw(b.data(), b.size());
}

Writer &Writer::text(const std::string &t)
{
	/* What Parser::text() takes: a longer reason or description is cut, not a broken message. */
	return bytes(std::as_bytes(std::span(t)).first(std::min(t.size(), max_text)));
}

bool Parser::take(void *p, std::size_t n)
{
	if (bad_ || data_.size() - at_ < n)
		return false;
	std::memcpy(p, data_.data() + at_, n);
	at_ += n;
	return true;
}

std::optional<Type> Parser::type()
{
	auto t = u8();
	if (bad_)
		return std::nullopt;
	return static_cast<Type>(t);
}

std::vector<std::byte> Parser::bytes(std::size_t max)
{
	auto n = u32();
	if (bad_ || n > max || data_.size() - at_ < n) {
		bad_ = true;
		return {};
	}
	std::vector<std::byte> out(data_.begin() + at_, data_.begin() + at_ + n);
	at_ += n;
	return out;
}

Result<void> send(int sock, const Writer &message, std::span<const int> pass)
{
	if (pass.size() > max_passed)
		return fail(EINVAL, std::to_string(pass.size()) + " descriptors in one message");
	auto data = message.data();
	iovec iov{const_cast<std::byte *>(data.data()), data.size()};
	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_passed)]{};
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (!pass.empty()) {
		msg.msg_control = control;
		msg.msg_controllen = CMSG_SPACE(pass.size_bytes());
		auto *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(pass.size_bytes());
		std::memcpy(CMSG_DATA(c), pass.data(), pass.size_bytes());
	}
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) {
		if (errno != EINTR)
			return fail(errno, std::string("cannot reach the other end: ") + std::strerror(errno));
	}
	return {};
}

Result<std::optional<Received>> receive(int sock)
{
	Received r;
	r.data.resize(max_message);
	iovec iov{r.data.data(), r.data.size()};
	alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_passed)]{};
	msghdr msg{};
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control;
	msg.msg_controllen = sizeof(control);
	ssize_t n;
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0) {
		/* A killed program, or agent, that had not read all it was sent: its end all the same. */
		if (errno == ECONNRESET)
			return std::nullopt;
		if (errno != EINTR)
			return fail(errno, std::string("recvmsg: ") + std::strerror(errno));
	}
	/* Whatever came with it is ours to close, whether the message is good or not. */
	for (auto *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		auto count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (std::size_t i = 0; i < count; i++) {
			int fd;
			std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			r.fds.emplace_back(fd);
		}
	}
	if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		return fail(EMSGSIZE, "a message too long");
	if (n == 0)
		return std::nullopt;
	r.data.resize(static_cast<std::size_t>(n));
	return r;
}

void put_connections(Writer &w, std::span<const Removal> removed, std::span<const int> added, std::uint32_t synced)
{
	w.u32(static_cast<std::uint32_t>(removed.size()));
	for (const auto &r : removed)
		w.u32(r.id).addr(r.client).u16(r.port);
	w.u32(static_cast<std::uint32_t>(added.size()));
	for (int fd : added)
		w.u32(static_cast<std::uint32_t>(fd));
	w.u32(synced);
}

Connections get_connections(Parser &p)
{
	Connections c;
	for (auto n = p.u32(); n > 0 && !p.failed(); n--)
		c.removed.push_back({p.u32(), p.addr(), p.u16()});
	for (auto n = p.u32(); n > 0 && !p.failed(); n--)
		c.added.push_back(p.u32());
	c.synced = p.u32();
	return c;
}

void put_members(Writer &w, const std::vector<MemberStatus> &members)
{
	w.u32(static_cast<std::uint32_t>(members.size()));
	for (const auto &m : members)
		w.text(m.name)
			.addr(m.address)
			.u8(static_cast<std::uint8_t>(m.state))
			.i64(m.silent ? m.silent->count() : -1)
			.u32(m.connections)
			.u64(m.heartbeats)
			.u8(m.joined ? 1 : 0)
			.u32(m.weight);
}

std::vector<MemberStatus> get_members(Parser &p)
{
	std::vector<MemberStatus> members;
	auto count = p.u32();
	for (std::uint32_t i = 0; i < count && !p.failed(); i++) {
		MemberStatus m;
		m.name = p.text();
		m.address = p.addr();
		auto state = p.u8();
		m.state = state <= static_cast<std::uint8_t>(MemberStatus::State::unavailable) ? static_cast<MemberStatus::State>(state)
											   : MemberStatus::State::unknown;
		if (auto silent = p.i64(); silent >= 0)
			m.silent = std::chrono::milliseconds(silent);
		m.connections = p.u32();
		m.heartbeats = p.u64();
		m.joined = p.u8() != 0;
		m.weight = p.u32();
		members.push_back(std::move(m));
	}
	return members;
}

void put_counters(Writer &w, const Counters &counters)
{
	w.u32(static_cast<std::uint32_t>(counters.size()));
	for (const auto &[name, value] : counters)
		w.text(name).u64(value);
}

Result<Counters> get_counters(Parser &p)
{
	auto count = p.u32();
	if (p.failed() || count > max_program_counters)
		return fail(EPROTO, "more counters than " + std::to_string(max_program_counters));
	Counters counters;
	for (std::uint32_t i = 0; i < count; i++) {
		auto name = p.text();
		auto value = p.u64();
		if (p.failed() || !valid_counter_name(name))
			return fail(EPROTO, "a counter that is not one");
		counters.emplace_back(std::move(name), value);
	}
	return counters;
}

} // namespace gecko::agent::programs
