// SPDX-License-Identifier: GPL-2.0-only
/*
 * gecko-rogue: what a host on the node network can try against a node
 * agent's node channel, for the rogue-node scenario. Every attempt is one
 * TCP connection to NODE's port 7433; the tool prints a line per attempt
 * and "attempts N" last, and exits 0 only if each was refused as the
 * scenario expects.
 *
 *   gecko-rogue plain NODE G CLIENT       in plaintext: a Home Test request, a
 *                                         handoff of CLIENT with no connections,
 *                                         a reply to a handoff
 *   gecko-rogue tls KEY NODE G CLIENT     the same over TLS with KEY, a key
 *                                         that is not the cluster's
 *   gecko-rogue flood N NODE G CLIENT     N handoff requests, 8 connections at a
 *                                         time
 *   gecko-rogue member KEY NODE G CLIENT  with the cluster's KEY, as a member
 *                                         gone bad: another client's connection,
 *                                         a port the node does not serve, no
 *                                         connection at all, a reply to no
 *                                         handoff; each must be refused by the
 *                                         node itself
 */

#include <gecko/address.h>

#include "agent/tls.h"
#include "agent/wire.h"

#include <linux/gecko.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace gecko;
using namespace gecko::agent;
using Clock = std::chrono::steady_clock;

constexpr std::uint16_t port = default_port;

[[noreturn]] void die(const std::string &why)
{
	std::fprintf(stderr, "gecko-rogue: %s\n", why.c_str());
	std::exit(2);
}

in6_addr address(const char *text)
{
	auto addr = parse_address(text);
	if (!addr)
		die(addr.error().describe());
	return *addr;
}

std::uint64_t random_id()
{
	std::uint64_t id = 0;
	while (!id)
		RAND_bytes(reinterpret_cast<unsigned char *>(&id), sizeof(id));
	return id;
}

/* A blocking TCP connection to the node's channel, and the address it comes from. */
int connect_to(const in6_addr &node, in6_addr &self)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in6 sa{};
	socklen_t len = sizeof(sa);
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = node;
	sa.sin6_port = htons(port);
	if (fd < 0 || connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) < 0)
		die("cannot connect to the node channel: " + std::string(std::strerror(errno)));
	getsockname(fd, reinterpret_cast<sockaddr *>(&sa), &len);
	self = sa.sin6_addr;
	return fd;
}

wire::Message prepare(std::uint64_t id, const in6_addr &home, const in6_addr &client)
{
	wire::Message m(wire::Type::handoff_prepare);
	m.put_u64(wire::Attr::handoff, id).put(wire::Attr::home, home).put(wire::Attr::client, client);
	return m;
}

wire::Message commit(std::uint64_t id, std::uint32_t length)
{
	wire::Message m(wire::Type::handoff_commit);
	m.put_u64(wire::Attr::handoff, id).put_u32(wire::Attr::length, length);
	return m;
}

wire::Message forged_reply()
{
	wire::Message m(wire::Type::handoff_reply);
	m.put_u64(wire::Attr::handoff, random_id()).put_u8(wire::Attr::answer, static_cast<std::uint8_t>(wire::Answer::done));
	return m;
}

std::vector<wire::Message> attempt_frames(const in6_addr &home, const in6_addr &client)
{
	wire::Message hot(wire::Type::home_test);
	std::array<std::byte, 8> cookie{};
	hot.put(wire::Attr::home, home).put(wire::Attr::client, client).put(wire::Attr::cookie, cookie);
	auto id = random_id();
	return {hot, prepare(id, home, client), commit(id, 0), forged_reply()};
}

void send_all(int fd, const std::vector<std::byte> &bytes)
{
	for (std::size_t off = 0; off < bytes.size();) {
		auto n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
		if (n <= 0)
			return;	/* the node closed it: that is the point */
		off += static_cast<std::size_t>(n);
	}
}

/* Whether the node answered with a frame before closing; "refused" is the answer wanted. */
std::string outcome_plain(int fd)
{
	wire::Reader reader;
	std::byte buf[4096];
	auto deadline = Clock::now() + std::chrono::seconds(10);

	while (Clock::now() < deadline) {
		pollfd p{fd, POLLIN, 0};
		if (poll(&p, 1, 100) <= 0)
			continue;
		auto n = recv(fd, buf, sizeof(buf), 0);
		if (n <= 0)
			return "refused: the node closed the connection";
		reader.feed(std::span(buf, static_cast<std::size_t>(n)));
		auto msg = reader.next();
		if (msg && *msg)
			return "ANSWERED with message " + std::to_string(int((*msg)->type()));
	}
	return "ANSWERED nothing, but kept the connection open";
}

/* One TLS session over @fd from @self, driven to the end of its handshake. */
std::unique_ptr<tls::Session> handshake(tls::Context &ctx, int fd, const in6_addr &self, const in6_addr &node,
					std::string &why)
{
	auto s = ctx.connect(fd, self, node);
	if (!s)
		die(s.error().describe());
	for (int i = 0; i < 500; i++) {
		auto st = (*s)->handshake();
		if (st == tls::Session::Status::ok)
			return std::move(*s);
		if (st == tls::Session::Status::failed || st == tls::Session::Status::closed) {
			why = (*s)->why();
			return nullptr;
		}
		pollfd p{fd, short(st == tls::Session::Status::want_write ? POLLOUT : POLLIN), 0};
		poll(&p, 1, 20);
	}
	why = "no end to the handshake";
	return nullptr;
}

std::unique_ptr<tls::Context> context(const char *key)
{
	Security security;
	security.key_file = key;
	auto ctx = tls::Context::load(security);
	if (!ctx)
		die(ctx.error().describe());
	return std::move(*ctx);
}

/* A member's messages over TLS, and the answers it reads. */
class Member {
public:
	Member(tls::Context &ctx, const in6_addr &node)
	{
		fd_ = connect_to(node, self_);
		std::string why;
		session_ = handshake(ctx, fd_, self_, node, why);
		if (!session_)
			die("the cluster key did not open the node channel: " + why);
	}
	~Member() { close(fd_); }

	void send(const wire::Message &m)
	{
		auto bytes = m.encode();
		for (std::size_t off = 0; off < bytes.size();) {
			std::size_t n = 0;
			auto st = session_->write(std::span(bytes).subspan(off), n);
			if (st == tls::Session::Status::ok)
				off += n;
			else if (st != tls::Session::Status::want_write && st != tls::Session::Status::want_read)
				die("the node closed the channel: " + session_->why());
		}
	}

	/* The next reply for @id, or nothing within @wait. */
	std::optional<wire::Message> reply(std::uint64_t id, std::chrono::milliseconds wait)
	{
		auto deadline = Clock::now() + wait;
		std::byte buf[4096];
		while (Clock::now() < deadline) {
			auto msg = reader_.next();
			if (!msg)
				die("malformed answer: " + msg.error().describe());
			if (*msg) {
				if ((*msg)->type() == wire::Type::handoff_reply && (*msg)->u64(wire::Attr::handoff).value_or(0) == id)
					return **msg;
				continue;
			}
			std::size_t n = 0;
			auto st = session_->read(buf, n);
			if (st == tls::Session::Status::ok) {
				reader_.feed(std::span(buf, n));
				continue;
			}
			if (st != tls::Session::Status::want_read)
				die("the node closed the channel: " + session_->why());
			pollfd p{fd_, POLLIN, 0};
			poll(&p, 1, 50);
		}
		return std::nullopt;
	}

private:
	int fd_ = -1;
	in6_addr self_{};
	std::unique_ptr<tls::Session> session_;
	wire::Reader reader_;
};

/* A connection's state: the header alone (no queue octets), between @home:@local_port and @client. */
std::vector<std::byte> fake_state(const in6_addr &home, const in6_addr &client, std::uint16_t local_port)
{
	std::vector<std::byte> st(GECKO_TCP_STATE_HDR_LEN);
	auto put16 = [&](std::size_t at, std::uint16_t v) {
		st[at] = std::byte(v >> 8);
		st[at + 1] = std::byte(v);
	};
	put16(0, GECKO_TCP_STATE_VERSION);
	put16(2, GECKO_TCP_STATE_HDR_LEN);
	st[8] = std::byte{1};	/* TCP_ESTABLISHED */
	put16(12, 1400);
	std::memcpy(&st[88], &home, 16);
	std::memcpy(&st[104], &client, 16);
	put16(120, local_port);
	put16(122, 40000);
	return st;
}

/* One connection's entry of a bundle: its state, and no application state. */
std::vector<std::byte> entry(const std::vector<std::byte> &state)
{
	std::vector<std::byte> out;
	auto put32 = [&](std::uint32_t v) {
		for (int s = 24; s >= 0; s -= 8)
			out.push_back(std::byte(v >> s));
	};
	put32(static_cast<std::uint32_t>(state.size()));
	out.insert(out.end(), state.begin(), state.end());
	put32(0);
	return out;
}

int run_member(const char *key, const in6_addr &node, const in6_addr &home, const in6_addr &client)
{
	auto ctx = context(key);
	Member m(*ctx, node);
	int bad = 0, attempts = 0;
	auto expect = [&](const char *what, std::uint64_t id, const std::string &text) {
		attempts++;
		auto r = m.reply(id, std::chrono::seconds(15));
		auto answer = r ? r->u8(wire::Attr::answer).value_or(0) : 0;
		auto why = r ? r->text(wire::Attr::text).value_or("") : "no answer";
		bool refused = answer == static_cast<std::uint8_t>(wire::Answer::aborted) ||
			       answer == static_cast<std::uint8_t>(wire::Answer::refused);
		bool ok = refused && why.find(text) != std::string::npos;
		std::printf("%s %s: %s\n", ok ? "refused" : "NOT REFUSED AS EXPECTED", what, why.c_str());
		bad += !ok;
	};
	auto ready = [&](std::uint64_t id) {
		m.send(prepare(id, home, client));
		auto r = m.reply(id, std::chrono::seconds(15));
		if (!r || r->u8(wire::Attr::answer).value_or(0) != static_cast<std::uint8_t>(wire::Answer::ready))
			die("the node did not prepare: " + (r ? r->text(wire::Attr::text).value_or("?") : "no answer"));
	};
	auto send_bundle = [&](std::uint64_t id, const std::vector<std::byte> &bundle) {
		wire::Message data(wire::Type::handoff_data);
		data.put_u64(wire::Attr::handoff, id).put(wire::Attr::data, bundle);
		m.send(data);
		m.send(commit(id, static_cast<std::uint32_t>(bundle.size())));
	};

	auto other = *parse_address("fd00:c::99");
	auto id = random_id();
	ready(id);
	send_bundle(id, entry(fake_state(home, other, 80)));
	expect("another client's connection", id, "a connection of fd00:c::99");

	id = random_id();
	ready(id);
	send_bundle(id, entry(fake_state(home, client, 9)));
	expect("a port the node does not serve", id, "port 9");

	id = random_id();
	ready(id);
	m.send(commit(id, 0));
	expect("a handoff without connections", id, "without connections");

	/* A reply to no handoff of this node's: dropped, and counted there. */
	m.send(forged_reply());
	attempts++;
	std::printf("sent a reply to no handoff\n");
	std::printf("attempts %d\n", attempts);
	return bad ? 1 : 0;
}

int run_attempts(const char *mode, const char *key, int count, const in6_addr &node, const in6_addr &home,
		 const in6_addr &client)
{
	std::unique_ptr<tls::Context> ctx;
	if (key)
		ctx = context(key);
	int bad = 0, attempts = 0;
	auto frames = attempt_frames(home, client);
	int n = count ? count : static_cast<int>(frames.size());
	/* The flood opens 8 at a time, like a careless scanner would, not a SYN flood. */
	const int batch = count ? 8 : 1;

	for (int i = 0; i < n; i += batch) {
		std::vector<int> fds;
		for (int j = i; j < std::min(n, i + batch); j++) {
			in6_addr self;
			int fd = connect_to(node, self);
			attempts++;
			const auto &frame = frames[count ? 1 : static_cast<std::size_t>(j)];
			if (ctx) {
				std::string why;
				auto s = handshake(*ctx, fd, self, node, why);
				if (s) {
					std::printf("NOT REFUSED: the TLS handshake succeeded\n");
					bad++;
				} else if (!count) {
					std::printf("refused: %s\n", why.c_str());
				}
				close(fd);
				continue;
			}
			send_all(fd, frame.encode());
			fds.push_back(fd);
		}
		for (int fd : fds) {
			auto out = outcome_plain(fd);
			if (!out.starts_with("refused"))
				bad++;
			if (!count || !out.starts_with("refused"))
				std::printf("%s %s\n", mode, out.c_str());
			close(fd);
		}
	}
	std::printf("attempts %d\n", attempts);
	return bad ? 1 : 0;
}

} // namespace

int main(int argc, char *argv[])
{
	std::setvbuf(stdout, nullptr, _IOLBF, 0);
	if (argc < 5)
		die("usage: gecko-rogue plain NODE G CLIENT | tls KEY NODE G CLIENT | flood N NODE G CLIENT | "
		    "member KEY NODE G CLIENT");
	std::string mode = argv[1];
	if (mode == "plain")
		return run_attempts("plain", nullptr, 0, address(argv[2]), address(argv[3]), address(argv[4]));
	if (argc != 6)
		die("usage: gecko-rogue " + mode + " ARG NODE G CLIENT");
	if (mode == "tls")
		return run_attempts("tls", argv[2], 0, address(argv[3]), address(argv[4]), address(argv[5]));
	if (mode == "flood")
		return run_attempts("flood", nullptr, std::atoi(argv[2]), address(argv[3]), address(argv[4]),
				    address(argv[5]));
	if (mode == "member")
		return run_member(argv[2], address(argv[3]), address(argv[4]), address(argv[5]));
	die("unknown mode " + mode);
}
