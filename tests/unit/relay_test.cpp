// SPDX-License-Identifier: GPL-2.0-only
/*
 * geckoproxy's relay over real TCP connections on the loopback: a client,
 * the socket the proxy serves it on, and a listening "program".
 */

#include "health.h"
#include "relay.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace gecko::proxy {
namespace {

using daemon::Fd;

sockaddr_in6 loopback(std::uint16_t port)
{
	sockaddr_in6 sa{};
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_loopback;
	sa.sin6_port = htons(port);
	return sa;
}

/* A listening socket on ::1 and its port. */
std::pair<Fd, std::uint16_t> listener()
{
	Fd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
	auto sa = loopback(0);
	EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0);
	EXPECT_EQ(::listen(fd.get(), 16), 0);
	socklen_t len = sizeof(sa);
	::getsockname(fd.get(), reinterpret_cast<sockaddr *>(&sa), &len);
	return {std::move(fd), ntohs(sa.sin6_port)};
}

/* A port nothing listens on. */
std::uint16_t closed_port()
{
	return listener().second;	/* closed again when the listener goes */
}

Fd connect_to(std::uint16_t port)
{
	Fd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
	auto sa = loopback(port);
	EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0);
	return fd;
}

Fd accept_from(const Fd &l)
{
	return Fd(::accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC));
}

void nonblocking(const Fd &fd)
{
	::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) | O_NONBLOCK);
}

void abort_close(Fd fd)
{
	linger l{1, 0};
	::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

/* The largest buffer TCP may give a socket (net.ipv4.tcp_wmem or tcp_rmem's third field). */
std::size_t largest_buffer(const std::string &sysctl)
{
	std::ifstream in("/proc/sys/net/ipv4/" + sysctl);
	std::size_t low = 0, standard = 0, high = 0;
	in >> low >> standard >> high;
	return high ? high : std::size_t{6} << 20;
}

std::vector<std::byte> random_octets(std::size_t n, unsigned seed)
{
	std::mt19937 gen(seed);
	std::vector<std::byte> v(n);
	for (auto &b : v)
		b = static_cast<std::byte>(gen());
	return v;
}

/*
 * A listening socket whose queue is full: the connections to it that
 * follow are never answered (their SYNs are dropped). Holds the one that
 * fills the queue.
 */
struct Unanswering {
	Fd listener;
	Fd queued;
	std::uint16_t port = 0;

	Unanswering()
	{
		listener = Fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
		auto sa = loopback(0);
		EXPECT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0);
		EXPECT_EQ(::listen(listener.get(), 0), 0);
		socklen_t len = sizeof(sa);
		::getsockname(listener.get(), reinterpret_cast<sockaddr *>(&sa), &len);
		port = ntohs(sa.sin6_port);
		queued = connect_to(port);
	}
};

sockaddr_in6 sockname(const Fd &fd)
{
	sockaddr_in6 sa{};
	socklen_t len = sizeof(sa);
	::getsockname(fd.get(), reinterpret_cast<sockaddr *>(&sa), &len);
	return sa;
}

/* One end of the test: writes what it is given, reads until the end of the stream or an error. */
struct Peer {
	Fd fd;
	std::vector<std::byte> out;
	std::size_t written = 0;
	bool shut_after = false;	/* shutdown(SHUT_WR) once @out is written */
	bool shut = false;
	bool read = true;		/* false: never reads (backpressure) */
	std::vector<std::byte> in;
	bool eof = false;
	int err = 0;

	void step()
	{
		while (written < out.size() && !err) {
			ssize_t n = ::send(fd.get(), out.data() + written, out.size() - written, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN)
				err = errno;
			if (n <= 0)
				break;
			written += static_cast<std::size_t>(n);
		}
		if (shut_after && written == out.size() && !shut) {
			::shutdown(fd.get(), SHUT_WR);
			shut = true;
		}
		std::byte buf[65536];
		while (read && !eof && !err) {
			ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
			if (n > 0)
				in.insert(in.end(), buf, buf + n);
			else if (n == 0)
				eof = true;
			else if (errno != EAGAIN)
				err = errno;
			if (n < 0)
				break;
		}
	}
};

class RelayTest : public ::testing::Test {
protected:
	void SetUp() override
	{
		auto [pl, pp] = listener();
		program_listener = std::move(pl);
		program_port = pp;
	}

	/* The relay, to the program's port (or @addresses), with a client connected to it. */
	void start(std::vector<sockaddr_in6> addresses = {}, const std::function<void(RelayOptions &)> &tune = {})
	{
		if (addresses.empty())
			addresses.push_back(loopback(program_port));
		RelayOptions options{addresses, [this](std::span<const SessionEnd> e) { ended = e.back(); }};
		if (tune)
			tune(options);
		auto r = Relay::create(std::move(options));
		ASSERT_TRUE(r);
		relay.emplace(std::move(*r));
		auto [front, front_port] = listener();
		client.fd = connect_to(front_port);
		served = accept_from(front);
		relay->add({served.get(), sockname(client.fd), [this] { served = Fd(); }, {},
			    [this](bool h) { return hold(h); }});
	}

	/* What the relay's hold callback does: as GeckoSocket::Hold, false once the connection "moved". */
	bool hold(bool h)
	{
		if (moved)
			return false;
		releases += held && !h ? 1 : 0;
		held = h;
		return true;
	}

	/* The program's end of the relay's connection, once the relay made it. */
	void take_program()
	{
		ASSERT_TRUE(until([&] { return bool(program.fd); }));
	}

	/* Runs the relay and both ends until @done (false after 10 s). */
	bool until(const std::function<bool()> &done)
	{
		nonblocking(client.fd);
		nonblocking(program_listener);
		auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
		while (!done()) {
			if (std::chrono::steady_clock::now() > deadline)
				return false;
			pollfd p{relay->fd(), POLLIN, 0};
			::poll(&p, 1, 1);
			relay->run();
			client.step();
			if (!program.fd) {
				program.fd = accept_from(program_listener);
				if (program.fd)
					nonblocking(program.fd);
			}
			if (program.fd)
				program.step();
		}
		return true;
	}

	/* Runs until @progress has not moved for 200 turns, doing @turn at each (false after 10 s). */
	bool until_stalled(const std::size_t &progress, const std::function<void()> &turn = {})
	{
		std::size_t last = progress, still = 0;
		return until([&] {
			if (turn)
				turn();
			still = progress == last ? still + 1 : 0;
			last = progress;
			return still > 200;
		});
	}

	Fd program_listener;
	std::uint16_t program_port = 0;
	Fd served;
	Peer client, program;
	std::optional<SessionEnd> ended;
	bool held = true, moved = false;
	unsigned releases = 0;
	/* Last: its sessions end (into the members above) before those go. */
	std::optional<Relay> relay;
};

/* Whether @fd has every option of client_options(). */
bool has_client_options(int fd)
{
	return std::ranges::all_of(client_options(), [fd](const SocketOption &o) {
		int value = 0;
		socklen_t len = sizeof(value);
		return ::getsockopt(fd, o.level, o.name, &value, &len) == 0 && value == o.value;
	});
}

/* What the relay counts on to set them once, on the listener, not on each connection. */
TEST(ClientOptions, AreInheritedFromTheListener)
{
	auto [front, port] = listener();
	for (const auto &o : client_options())
		ASSERT_EQ(::setsockopt(front.get(), o.level, o.name, &o.value, sizeof(o.value)), 0);
	auto client = connect_to(port);
	auto served = accept_from(front);
	ASSERT_TRUE(served);
	EXPECT_TRUE(has_client_options(served.get()));
}

TEST_F(RelayTest, SetsTheClientsOptionsOnASocketWithout)
{
	start();
	EXPECT_TRUE(has_client_options(served.get()));
}

TEST_F(RelayTest, RelaysBothWaysExactlyAndPassesEachEndOfStream)
{
	start();
	take_program();
	client.out = random_octets(16 << 20, 1);
	client.shut_after = true;
	program.out = random_octets(5 << 20, 2);
	/* The program reads nothing at first: the client's end of stream then waits behind full buffers. */
	program.read = false;
	ASSERT_TRUE(until_stalled(client.written));
	program.read = true;
	ASSERT_TRUE(until([&] { return program.eof && client.in.size() == program.out.size(); }));
	EXPECT_EQ(program.in, client.out);
	/* The client's end of stream is passed on; the program's direction still runs. */
	EXPECT_FALSE(client.eof);
	EXPECT_FALSE(ended);
	program.shut_after = true;
	ASSERT_TRUE(until([&] { return client.eof && ended; }));
	EXPECT_EQ(client.in, program.out);
	EXPECT_EQ(ended->how, "closed");
	EXPECT_EQ(ended->from_client, client.out.size());
	EXPECT_EQ(ended->to_client, program.out.size());
	EXPECT_EQ(relay->sessions(), 0U);
	EXPECT_FALSE(served) << "the client's socket was not closed";
}

/*
 * A client sends small pieces of distinct pages (sendfile() of 100 octets
 * from each page of a file in turn: each takes a pipe slot of its own, so
 * the pipe is full long before its capacity) to a program that does not
 * read, until every buffer on the way is full, then waits. Once the
 * program reads, every octet reaches it, though no new segment comes to
 * wake the relay: the pipe, not the socket, refused the last read.
 */
TEST_F(RelayTest, SmallPiecesBehindAFullPipeAllArrive)
{
	start();
	take_program();
	constexpr std::size_t pages = 64, piece = 100, page = 4096;
	Fd file(::memfd_create("pieces", MFD_CLOEXEC));
	auto content = random_octets(pages * page, 11);
	ASSERT_EQ(::write(file.get(), content.data(), content.size()), static_cast<ssize_t>(content.size()));
	nonblocking(client.fd);
	std::vector<std::byte> sent;
	std::size_t next = 0;
	auto send_pieces = [&] {
		for (;;) {
			off_t at = static_cast<off_t>(next % pages * page);
			ssize_t n = ::sendfile(client.fd.get(), file.get(), &at, piece);
			if (n <= 0)
				return;	/* full */
			auto from = content.begin() + static_cast<std::ptrdiff_t>(next % pages * page);
			sent.insert(sent.end(), from, from + n);
			next++;
		}
	};
	program.read = false;
	std::size_t sent_size = 0;
	ASSERT_TRUE(until_stalled(sent_size, [&] {
		send_pieces();
		sent_size = sent.size();
	}));
	program.read = true;
	ASSERT_TRUE(until([&] { return program.in.size() == sent.size(); }))
		<< program.in.size() << " of " << sent.size() << " octets arrived";
	EXPECT_EQ(program.in, sent);
}

TEST_F(RelayTest, AProgramsResetResetsTheClient)
{
	start();
	take_program();
	client.out = random_octets(1000, 3);
	ASSERT_TRUE(until([&] { return program.in.size() == 1000; }));
	abort_close(std::move(program.fd));
	ASSERT_TRUE(until([&] { return client.err || client.eof; }));
	EXPECT_EQ(client.err, ECONNRESET) << "the client saw a clean end of a cut stream";
	ASSERT_TRUE(ended);
	EXPECT_EQ(ended->how, "program reset");
}

TEST_F(RelayTest, AClientsResetResetsTheProgram)
{
	start();
	take_program();
	program.out = random_octets(1000, 4);
	ASSERT_TRUE(until([&] { return client.in.size() == 1000; }));
	abort_close(std::move(client.fd));
	client.fd = Fd(::socket(AF_INET6, SOCK_STREAM, 0));	/* unconnected: reads fail, ignored */
	ASSERT_TRUE(until([&] { return program.err || program.eof; }));
	EXPECT_EQ(program.err, ECONNRESET);
	ASSERT_TRUE(ended);
	EXPECT_EQ(ended->how, "client reset");
}

/* The program ends its stream, then resets while the client still sends: the relay lives on. */
TEST_F(RelayTest, AResetAfterTheProgramsEndResetsTheClient)
{
	start();
	take_program();
	program.out = random_octets(1000, 7);
	program.shut_after = true;
	client.out = random_octets(64 << 20, 8);
	ASSERT_TRUE(until([&] { return client.eof && program.in.size() > 0; }));
	EXPECT_EQ(client.in, program.out);
	abort_close(std::move(program.fd));
	program.fd = Fd(::socket(AF_INET6, SOCK_STREAM, 0));	/* unconnected: its errors are ignored */
	ASSERT_TRUE(until([&] { return client.err != 0; }));
	EXPECT_TRUE(client.err == ECONNRESET || client.err == EPIPE) << std::strerror(client.err);
	ASSERT_TRUE(ended);
	EXPECT_EQ(ended->how, "program reset");
}

TEST_F(RelayTest, AProgramThatRefusesResetsTheClient)
{
	start({loopback(closed_port())});
	ASSERT_TRUE(until([&] { return client.err || client.eof; }));
	EXPECT_EQ(client.err, ECONNRESET);
	ASSERT_TRUE(ended);
	EXPECT_EQ(ended->how, std::string("program refused: ") + std::strerror(ECONNREFUSED));
	EXPECT_EQ(relay->sessions(), 0U);
}

/* With somewhere else to go, a refused client is handed over untouched: no reset, no octet read. */
TEST_F(RelayTest, AClientTheProgramRefusesGoesElsewhereUntouched)
{
	auto r = Relay::create({{loopback(closed_port())}, [this](std::span<const SessionEnd> e) { ended = e.back(); }});
	ASSERT_TRUE(r);
	relay.emplace(std::move(*r));
	auto [front, front_port] = listener();
	client.fd = connect_to(front_port);
	served = accept_from(front);
	const char request[] = "GET / HTTP/1.1\r\n\r\n";
	ASSERT_EQ(::send(client.fd.get(), request, sizeof(request) - 1, 0), static_cast<ssize_t>(sizeof(request) - 1));
	bool sent_elsewhere = false;
	relay->add({served.get(), sockname(client.fd), [this] { served = Fd(); }, [&] { sent_elsewhere = true; }, {}});
	ASSERT_TRUE(until([&] { return sent_elsewhere; }));
	ASSERT_TRUE(ended);
	EXPECT_EQ(ended->how, std::string("program refused: ") + std::strerror(ECONNREFUSED) + "; sent to another member");
	EXPECT_TRUE(served) << "the relay closed a socket that was to go elsewhere";
	EXPECT_EQ(relay->sessions(), 0U);
	/* The request waits in the socket, for the node it goes to; the client saw nothing. */
	char buf[64];
	EXPECT_EQ(::recv(served.get(), buf, sizeof(buf), MSG_DONTWAIT), static_cast<ssize_t>(sizeof(request) - 1));
	EXPECT_EQ(::recv(client.fd.get(), buf, sizeof(buf), MSG_DONTWAIT), -1);
	EXPECT_EQ(errno, EAGAIN);
}

TEST_F(RelayTest, TriesTheProgramsNextAddress)
{
	start({loopback(closed_port()), loopback(program_port)});
	take_program();
	client.out = random_octets(1000, 5);
	ASSERT_TRUE(until([&] { return program.in.size() == 1000; }));
	EXPECT_EQ(program.in, client.out);
}

/* A client that does not read: the program is held back, the proxy keeps no more than its pipes. */
TEST_F(RelayTest, AClientThatDoesNotReadHoldsTheProgramBack)
{
	start();
	take_program();
	client.read = false;
	program.out = random_octets(64 << 20, 6);
	ASSERT_TRUE(until_stalled(program.written));
	/* At most both sockets' largest buffers on each side of the relay, and its pipe. */
	auto bound = 2 * (largest_buffer("tcp_wmem") + largest_buffer("tcp_rmem")) + (1 << 20);
	EXPECT_LT(program.written, bound) << "the program's writes were never held back";
	client.read = true;
	ASSERT_TRUE(until([&] { return client.in.size() == program.out.size(); }));
	EXPECT_EQ(client.in, program.out);
}

TEST_F(RelayTest, ARefusedClientIsResetAndLogged)
{
	auto r = Relay::create({{loopback(program_port)}, [this](std::span<const SessionEnd> e) { ended = e.back(); }});
	ASSERT_TRUE(r);
	auto [front, front_port] = listener();
	client.fd = connect_to(front_port);
	served = accept_from(front);
	r->refuse({served.get(), loopback(0), [this] { served = Fd(); }, {}, {}}, "refused here");
	EXPECT_FALSE(served) << "the client's socket was not closed";
	ASSERT_TRUE(ended);
	EXPECT_EQ(ended->how, "refused here");
	std::byte buf[16];
	EXPECT_EQ(::recv(client.fd.get(), buf, sizeof(buf), 0), -1);
	EXPECT_EQ(errno, ECONNRESET);
	EXPECT_EQ(r->sessions(), 0U);
}

/* Their log lines go out in one write: the sessions that end in one turn of run() are given together. */
TEST_F(RelayTest, TheSessionsThatEndInOneTurnAreGivenTogether)
{
	std::vector<std::vector<std::string>> calls;
	auto r = Relay::create({{loopback(program_port)}, [&](std::span<const SessionEnd> ends) {
					calls.emplace_back();
					for (const auto &e : ends)
						calls.back().push_back(e.how);
				}});
	ASSERT_TRUE(r);
	auto [front, front_port] = listener();
	std::vector<Fd> clients, programs;
	for (int i = 0; i < 3; i++) {
		clients.push_back(connect_to(front_port));
		auto end = std::make_shared<Fd>(accept_from(front));
		r->add({end->get(), sockname(clients.back()), [end] { *end = Fd(); }, {}, {}});
		programs.push_back(accept_from(program_listener));
	}
	/* Each connection to the program completes: nothing but the resets below is left to end them. */
	auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
	while (std::chrono::steady_clock::now() < deadline)
		r->run(10);
	ASSERT_TRUE(calls.empty());
	for (auto &c : clients)
		abort_close(std::move(c));
	r->run(1000);
	ASSERT_EQ(calls.size(), 1U);
	EXPECT_EQ(calls[0], std::vector<std::string>(3, "client reset"));
	EXPECT_EQ(r->sessions(), 0U);
}

TEST_F(RelayTest, ThePROXYHeaderNamesTheClientBeforeItsOctets)
{
	start({}, [](RelayOptions &o) { o.proxy_protocol = true; });
	take_program();
	client.out = random_octets(1000, 9);
	constexpr std::size_t header = 16 + 2 * 16 + 2 * 2;
	ASSERT_TRUE(until([&] { return program.in.size() == header + 1000; }));
	const auto *h = reinterpret_cast<const std::uint8_t *>(program.in.data());
	EXPECT_EQ(std::memcmp(h, "\r\n\r\n\0\r\nQUIT\n", 12), 0);
	EXPECT_EQ(h[12], 0x21) << "version 2, PROXY";
	EXPECT_EQ(h[13], 0x21) << "TCP over IPv6";
	EXPECT_EQ(h[14] << 8 | h[15], 36);
	auto from = sockname(client.fd), to = sockname(served);
	EXPECT_EQ(std::memcmp(h + 16, &from.sin6_addr, 16), 0);
	EXPECT_EQ(std::memcmp(h + 32, &to.sin6_addr, 16), 0);
	EXPECT_EQ(h[48] << 8 | h[49], ntohs(from.sin6_port));
	EXPECT_EQ(h[50] << 8 | h[51], ntohs(to.sin6_port));
	EXPECT_TRUE(std::equal(client.out.begin(), client.out.end(), program.in.begin() + header));
	EXPECT_EQ(ended, std::nullopt);
}

TEST(ProxyHeader, IPv4ClientsAreNamedAsIPv4)
{
	sockaddr_in6 client{}, local{};
	client.sin6_addr.s6_addr[10] = client.sin6_addr.s6_addr[11] = 0xff;
	local.sin6_addr = client.sin6_addr;
	client.sin6_addr.s6_addr[12] = 192, client.sin6_addr.s6_addr[15] = 7;
	local.sin6_addr.s6_addr[12] = 10, local.sin6_addr.s6_addr[15] = 1;
	client.sin6_port = htons(40000);
	local.sin6_port = htons(80);
	auto h = proxy_header(client, local);
	std::vector<std::uint8_t> tail = {0x21, 0x11, 0, 12, 192, 0, 0, 7, 10, 0, 0, 1, 40000 >> 8, 40000 & 0xff, 0, 80};
	ASSERT_EQ(h.size(), 12 + tail.size());
	EXPECT_TRUE(std::equal(tail.begin(), tail.end(), reinterpret_cast<const std::uint8_t *>(h.data()) + 12));
}

TEST_F(RelayTest, AnAddressThatDoesNotAnswerIsGivenUpForTheNext)
{
	Unanswering silent;
	start({loopback(silent.port), loopback(program_port)},
	      [](RelayOptions &o) { o.connect_timeout = std::chrono::milliseconds(200); });
	take_program();
	client.out = random_octets(1000, 10);
	ASSERT_TRUE(until([&] { return program.in.size() == 1000; }));
	EXPECT_EQ(program.in, client.out);
}

TEST_F(RelayTest, AProgramThatDoesNotAnswerResetsTheClient)
{
	Unanswering silent;
	auto begun = std::chrono::steady_clock::now();
	start({loopback(silent.port)}, [](RelayOptions &o) { o.connect_timeout = std::chrono::milliseconds(200); });
	ASSERT_TRUE(until([&] { return client.err || client.eof; }));
	EXPECT_EQ(client.err, ECONNRESET);
	EXPECT_GE(std::chrono::steady_clock::now() - begun, std::chrono::milliseconds(200));
	ASSERT_TRUE(ended);
	EXPECT_EQ(ended->how, "program did not answer within 200 ms");
	EXPECT_EQ(relay->sessions(), 0U);
}

TEST_F(RelayTest, AnIdleSessionIsResetAndABusyOneIsNot)
{
	start({}, [](RelayOptions &o) { o.idle_timeout = std::chrono::milliseconds(300); });
	take_program();
	/* One octet every 50 ms for a second: never idle for long. */
	auto busy_until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
	auto next = std::chrono::steady_clock::now();
	ASSERT_TRUE(until([&] {
		auto now = std::chrono::steady_clock::now();
		if (now >= next) {
			client.out.push_back(std::byte{'x'});
			next = now + std::chrono::milliseconds(50);
		}
		return now >= busy_until || ended;
	}));
	EXPECT_EQ(ended, std::nullopt) << "a busy session was reset as idle";
	ASSERT_TRUE(until([&] { return client.err || client.eof; }));
	EXPECT_EQ(client.err, ECONNRESET);
	ASSERT_TRUE(ended);
	EXPECT_EQ(ended->how, "idle for 300 ms");
	EXPECT_EQ(program.in.size(), client.out.size());
}

std::vector<std::byte> octets(std::string_view text)
{
	const auto *b = reinterpret_cast<const std::byte *>(text.data());
	return {b, b + text.size()};
}

void append(std::vector<std::byte> &to, std::string_view text)
{
	auto more = octets(text);
	to.insert(to.end(), more.begin(), more.end());
}

constexpr std::string_view first_request = "POST /a HTTP/1.1\r\nHost: g\r\nContent-Length: 5\r\n\r\nhello";
constexpr std::string_view response_head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
constexpr std::string_view second_request = "GET /b HTTP/1.1\r\nHost: g\r\n\r\n";

/* HTTP mode: held through an exchange, let go once the response passed whole, taken back for the next. */
TEST_F(RelayTest, HttpModeLetsTheConnectionGoBetweenRequestsOnly)
{
	start({}, [](RelayOptions &o) { o.http = true; });
	take_program();
	client.out = octets(first_request);
	ASSERT_TRUE(until([&] { return program.in.size() == first_request.size(); }));
	EXPECT_TRUE(held) << "let go while the request waited for its response";
	/* A new connection is between requests too: it may have been let go before the request came. */
	auto before = releases;
	/* The response in two parts: the head and half the body, then the rest. */
	auto body = random_octets(100000, 7);
	program.out = octets(response_head);
	program.out.insert(program.out.end(), body.begin(), body.begin() + 50000);
	ASSERT_TRUE(until([&] { return client.in.size() == response_head.size() + 50000; }));
	ASSERT_TRUE(until_stalled(client.in.size()));
	EXPECT_TRUE(held) << "let go in the middle of a response";
	program.out.insert(program.out.end(), body.begin() + 50000, body.end());
	ASSERT_TRUE(until([&] { return !held; }));
	EXPECT_EQ(client.in.size(), response_head.size() + body.size());
	EXPECT_EQ(releases, before + 1);
	append(client.out, second_request);
	ASSERT_TRUE(until([&] { return program.in.size() == first_request.size() + second_request.size(); }));
	EXPECT_TRUE(held) << "the next request was read without taking the connection back";
	EXPECT_EQ(program.in, client.out);
	EXPECT_EQ(ended, std::nullopt);
}

/* Moved between requests: the next request stays in the socket for the member it went to; the program sees a clean end. */
TEST_F(RelayTest, HttpModeEndsQuietlyWhenTheConnectionMoved)
{
	start({}, [](RelayOptions &o) { o.http = true; });
	take_program();
	client.out = octets(second_request);
	ASSERT_TRUE(until([&] { return program.in.size() == second_request.size(); }));
	program.out = octets("HTTP/1.1 204 No Content\r\n\r\n");
	ASSERT_TRUE(until([&] { return !held; }));
	moved = true;
	append(client.out, second_request);
	ASSERT_TRUE(until([&] { return ended.has_value() && program.eof; }));
	EXPECT_EQ(ended->how, "handed off between requests");
	EXPECT_EQ(program.err, 0) << "the program's connection was reset";
	EXPECT_EQ(program.in.size(), second_request.size()) << "the moved connection's next request was taken";
	EXPECT_EQ(relay->sessions(), 0U);
}

/* A response whose body ends with the connection cannot be framed: the connection is never let go. */
TEST_F(RelayTest, HttpModeKeepsWhatItCannotFrame)
{
	start({}, [](RelayOptions &o) { o.http = true; });
	take_program();
	client.out = octets(second_request);
	ASSERT_TRUE(until([&] { return program.in.size() == second_request.size(); }));
	auto before = releases;
	program.out = octets("HTTP/1.1 200 OK\r\n\r\nuntil the end");
	program.shut_after = true;
	client.shut_after = true;
	ASSERT_TRUE(until([&] { return ended.has_value(); }));
	EXPECT_EQ(ended->how, "closed");
	EXPECT_EQ(client.in, program.out);
	EXPECT_EQ(releases, before);
}

/* The health check against a real listener that goes away and comes back. */
class HealthTest : public ::testing::Test {
protected:
	void check(std::vector<sockaddr_in6> program)
	{
		HealthOptions o;
		o.program = std::move(program);
		o.interval = std::chrono::milliseconds(50);
		o.fall = 2;
		o.rise = 2;
		o.changed = [this](bool up, const std::string &why) { changes.emplace_back(up, why); };
		auto h = HealthCheck::create(std::move(o));
		ASSERT_TRUE(h);
		health.emplace(std::move(*h));
	}

	/* Runs the check for @d, or until @changes has @n entries. */
	void run_for(std::chrono::milliseconds d, std::size_t n = SIZE_MAX)
	{
		auto deadline = std::chrono::steady_clock::now() + d;
		while (std::chrono::steady_clock::now() < deadline && changes.size() < n) {
			pollfd p{health->fd(), POLLIN, 0};
			::poll(&p, 1, 10);
			health->run();
		}
	}

	std::vector<std::pair<bool, std::string>> changes;
	std::optional<HealthCheck> health;
};

TEST_F(HealthTest, DownAfterFallFailuresAndUpAfterRiseSuccesses)
{
	auto [l, port] = listener();
	check({loopback(port)});
	run_for(std::chrono::milliseconds(400));
	EXPECT_TRUE(changes.empty()) << "a listening program was found down";
	EXPECT_TRUE(health->up());
	l = Fd();
	run_for(std::chrono::seconds(5), 1);
	ASSERT_EQ(changes.size(), 1U);
	EXPECT_FALSE(changes[0].first);
	EXPECT_EQ(changes[0].second, std::strerror(ECONNREFUSED));
	EXPECT_FALSE(health->up());

	Fd again(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
	auto sa = loopback(port);
	ASSERT_EQ(::bind(again.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0);
	ASSERT_EQ(::listen(again.get(), 16), 0);
	run_for(std::chrono::seconds(5), 2);
	ASSERT_EQ(changes.size(), 2U);
	EXPECT_TRUE(changes[1].first);
	EXPECT_TRUE(health->up());
}

TEST_F(HealthTest, AProgramThatDoesNotAnswerIsDown)
{
	Unanswering silent;
	check({loopback(silent.port)});
	run_for(std::chrono::seconds(5), 1);
	ASSERT_EQ(changes.size(), 1U);
	EXPECT_FALSE(changes[0].first);
	EXPECT_EQ(changes[0].second, "no answer within 50 ms");
}

TEST_F(HealthTest, OneAnsweringAddressIsEnough)
{
	auto [l, port] = listener();
	check({loopback(closed_port()), loopback(port)});
	run_for(std::chrono::milliseconds(400));
	EXPECT_TRUE(changes.empty());
	EXPECT_TRUE(health->up());
}

TEST(Relay, WantsTheProgramsAddress)
{
	auto r = Relay::create({});
	ASSERT_FALSE(r);
	EXPECT_EQ(r.error().code, EINVAL);
}

/* Where RelayThreads take clients in these tests: those the test queued. */
class Queue {
public:
	Queue() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

	/* As GeckoServerSocket's: the eventfd is written when a client comes to an empty queue. */
	void push(NewClient c)
	{
		bool was_empty;
		{
			std::lock_guard guard(lock_);
			was_empty = clients_.empty();
			clients_.push_back(std::move(c));
		}
		std::uint64_t one = 1;
		if (was_empty) {
			EXPECT_EQ(::write(fd_.get(), &one, sizeof(one)), 8);
		}
	}

	std::size_t waiting() const
	{
		std::lock_guard guard(lock_);
		return clients_.size();
	}

	ClientSource source()
	{
		return {{fd_.get()}, [this]() -> std::optional<NewClient> {
				std::lock_guard guard(lock_);
				if (clients_.empty())
					return std::nullopt;
				auto c = std::move(clients_.front());
				clients_.pop_front();
				return c;
			}};
	}

private:
	Fd fd_;
	mutable std::mutex lock_;
	std::deque<NewClient> clients_;
};

/*
 * RelayThreads, with blocking ends on threads of their own: a program that
 * echoes each connection until its end, and clients that each send their
 * octets, shut down, and read the echo to its end.
 */
class RelayThreadsTest : public ::testing::Test {
protected:
	void SetUp() override
	{
		auto [l, port] = listener();
		echo_listener = std::move(l);
		echo_port = port;
		echo = std::thread([this] {
			std::vector<std::thread> conns;
			/* Until TearDown() shuts the listener down. */
			while (Fd c = accept_from(echo_listener)) {
				conns.emplace_back([c = std::move(c)] {
					char buf[65536];
					ssize_t n;
					while ((n = ::recv(c.get(), buf, sizeof(buf), 0)) > 0)
						if (::send(c.get(), buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n)
							return;
					::shutdown(c.get(), SHUT_WR);
				});
			}
			for (auto &t : conns)
				t.join();
		});
		auto [f, fp] = listener();
		front = std::move(f);
		front_port = fp;
	}

	void TearDown() override
	{
		threads.reset();
		::shutdown(echo_listener.get(), SHUT_RDWR);	/* its accept() fails */
		echo.join();
	}

	void start(unsigned n, std::size_t limit = 10000, std::optional<ClientSource> source = {})
	{
		RelayOptions options{{loopback(echo_port)}, [this](std::span<const SessionEnd> e) {
					     std::lock_guard guard(lock);
					     ends.insert(ends.end(), e.begin(), e.end());
					     enders.insert(std::this_thread::get_id());
				     }};
		auto t = RelayThreads::create(std::move(options), n, source ? std::move(*source) : queue.source(), limit);
		ASSERT_TRUE(t);
		threads.emplace(std::move(*t));
	}

	/* A client connected through the front listener: its end, and the served end for the threads. */
	std::pair<Fd, ClientEnd> new_client()
	{
		Fd client = connect_to(front_port);
		auto served = std::make_shared<Fd>(accept_from(front));
		ClientEnd end{served->get(), sockname(client), [served] { *served = Fd(); }, {}, {}};
		return {std::move(client), std::move(end)};
	}

	/* A new client's served end queued for the threads; the client's end. */
	Fd connect_client()
	{
		auto [client, end] = new_client();
		queue.push({std::move(end), std::nullopt});
		return std::move(client);
	}

	std::size_t ended() const
	{
		std::lock_guard guard(lock);
		return ends.size();
	}

	bool until(const std::function<bool()> &done)
	{
		auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
		while (!done()) {
			if (std::chrono::steady_clock::now() > deadline)
				return false;
			std::this_thread::sleep_for(std::chrono::milliseconds(2));
		}
		return true;
	}

	Fd echo_listener;
	std::uint16_t echo_port = 0, front_port = 0;
	std::thread echo;
	Fd front;
	mutable std::mutex lock;
	std::vector<SessionEnd> ends;
	std::multiset<std::thread::id> enders;
	Queue queue;
	std::optional<RelayThreads> threads;
};

/* Sends @out on @fd and shuts down, while reading to the end of the stream: what was read. */
std::vector<std::byte> echo_of(const Fd &fd, const std::vector<std::byte> &out)
{
	std::thread writer([&] {
		std::size_t done = 0;
		while (done < out.size()) {
			ssize_t n = ::send(fd.get(), out.data() + done, out.size() - done, MSG_NOSIGNAL);
			if (n <= 0)
				return;
			done += static_cast<std::size_t>(n);
		}
		::shutdown(fd.get(), SHUT_WR);
	});
	std::vector<std::byte> in;
	std::byte buf[65536];
	ssize_t n;
	while ((n = ::recv(fd.get(), buf, sizeof(buf), 0)) > 0)
		in.insert(in.end(), buf, buf + n);
	writer.join();
	return in;
}

/*
 * A thread takes clients while it has at most 8 sessions more than the one
 * with the fewest: 30 sessions open at once on 3 threads are on each,
 * however the threads raced for them.
 */
TEST_F(RelayThreadsTest, SpreadsTheSessionsAndRelaysEachExactly)
{
	start(3);
	ASSERT_EQ(threads->threads(), 3U);
	constexpr unsigned clients = 30;
	constexpr std::size_t size = 1 << 18;
	std::vector<Fd> fds;
	for (unsigned i = 0; i < clients; i++)
		fds.push_back(connect_client());
	ASSERT_TRUE(until([&] { return threads->sessions() == clients; }));
	EXPECT_EQ(queue.waiting(), 0U);
	std::vector<std::vector<std::byte>> got(clients);
	std::vector<std::thread> running;
	for (unsigned i = 0; i < clients; i++)
		running.emplace_back([&, i] { got[i] = echo_of(fds[i], random_octets(size, i)); });
	for (auto &t : running)
		t.join();
	for (unsigned i = 0; i < clients; i++)
		EXPECT_EQ(got[i], random_octets(size, i)) << "client " << i;
	ASSERT_TRUE(until([&] { return ended() == clients; }));
	EXPECT_EQ(threads->sessions(), 0U);
	std::lock_guard guard(lock);
	for (const auto &e : ends) {
		EXPECT_EQ(e.how, "closed");
		EXPECT_EQ(e.from_client, size);
		EXPECT_EQ(e.to_client, size);
	}
	std::set<std::thread::id> used(enders.begin(), enders.end());
	ASSERT_EQ(used.size(), 3U) << "the sessions did not spread over the threads";
	for (auto id : used)
		EXPECT_GE(enders.count(id), 3U) << "a thread took less than its share";
}

/* As geckoproxy's, a source of two descriptors: the queue's and a listening socket the threads accept from. */
TEST_F(RelayThreadsTest, TakesFromEachDescriptorOfItsSource)
{
	nonblocking(front);
	auto source = queue.source();
	source.fds.push_back(front.get());
	source.take = [this, queued = std::move(source.take)]() -> std::optional<NewClient> {
		if (auto c = queued())
			return c;
		sockaddr_in6 peer{};
		socklen_t len = sizeof(peer);
		auto served = std::make_shared<Fd>(::accept4(front.get(), reinterpret_cast<sockaddr *>(&peer), &len, SOCK_CLOEXEC));
		if (!*served)
			return std::nullopt;
		return NewClient{{served->get(), peer, [served] { *served = Fd(); }, {}, {}}, std::nullopt};
	};
	start(2, 10000, std::move(source));
	/* One queued (its listener is another); once it is taken, four that only the listening socket tells of. */
	auto [other, other_port] = listener();
	Fd queued = connect_to(other_port);
	auto queued_end = std::make_shared<Fd>(accept_from(other));
	queue.push({{queued_end->get(), sockname(queued), [queued_end] { *queued_end = Fd(); }, {}, {}}, std::nullopt});
	ASSERT_TRUE(until([&] { return threads->sessions() == 1; }));
	std::vector<Fd> fds;
	fds.push_back(std::move(queued));
	for (int i = 0; i < 4; i++)
		fds.push_back(connect_to(front_port));
	ASSERT_TRUE(until([&] { return threads->sessions() == 5; }));
	for (int i = 0; i < 5; i++)
		EXPECT_EQ(echo_of(fds[i], random_octets(1000, i)), random_octets(1000, i)) << "client " << i;
	ASSERT_TRUE(until([&] { return ended() == 5; }));
}

/* At the limit, clients wait in the source: one is taken as a session ends, and all once the limit rises. */
TEST_F(RelayThreadsTest, TakesNoMoreThanTheLimit)
{
	start(2, 2);
	std::vector<Fd> fds;
	for (int i = 0; i < 5; i++)
		fds.push_back(connect_client());
	ASSERT_TRUE(until([&] { return threads->sessions() == 2 && queue.waiting() == 3; }));
	std::this_thread::sleep_for(std::chrono::milliseconds(50));
	EXPECT_EQ(threads->sessions(), 2U);
	/* The clients are taken in order: the first two relay, and the first to end makes room for the third. */
	EXPECT_EQ(echo_of(fds[0], random_octets(1000, 0)), random_octets(1000, 0));
	ASSERT_TRUE(until([&] { return ended() == 1 && threads->sessions() == 2 && queue.waiting() == 2; }));
	threads->set_limit(10);
	ASSERT_TRUE(until([&] { return threads->sessions() == 4 && queue.waiting() == 0; }));
	for (int i = 1; i < 5; i++)
		EXPECT_EQ(echo_of(fds[i], random_octets(1000, i)), random_octets(1000, i)) << "client " << i;
	ASSERT_TRUE(until([&] { return ended() == 5; }));
}

TEST_F(RelayThreadsTest, StoppingResetsEverySession)
{
	start(2);
	std::vector<Fd> fds;
	for (int i = 0; i < 4; i++)
		fds.push_back(connect_client());
	/* Each session relays once, so that it runs before the stop. */
	for (auto &fd : fds) {
		ASSERT_EQ(::send(fd.get(), "x", 1, 0), 1);
		char c;
		ASSERT_EQ(::recv(fd.get(), &c, 1, 0), 1);
	}
	threads.reset();
	EXPECT_EQ(ended(), 4U);
	for (auto &fd : fds) {
		char c;
		EXPECT_EQ(::recv(fd.get(), &c, 1, 0), -1);
		EXPECT_EQ(errno, ECONNRESET);
	}
	std::lock_guard guard(lock);
	for (const auto &e : ends)
		EXPECT_EQ(e.how, "stopped");
}

TEST_F(RelayThreadsTest, NewOptionsReachEveryThread)
{
	start(2);
	EXPECT_FALSE(threads->configure({}));
	auto [other, other_port] = listener();
	ASSERT_TRUE(threads->configure({{loopback(other_port)}, {}}));
	/* 20 held at once: each thread takes some (see SpreadsTheSessions...), and relays them to the new address. */
	std::vector<Fd> clients;
	for (int i = 0; i < 20; i++)
		clients.push_back(connect_client());
	nonblocking(other);
	std::vector<Fd> accepted;
	ASSERT_TRUE(until([&] {
		if (Fd c = accept_from(other))
			accepted.push_back(std::move(c));
		return accepted.size() == 20;
	}));
	threads.reset();
	std::lock_guard guard(lock);
	EXPECT_EQ(std::set<std::thread::id>(enders.begin(), enders.end()).size(), 2U);
}

TEST_F(RelayThreadsTest, ARefusedClientIsResetAndCountedOnce)
{
	start(2);
	auto [client, end] = new_client();
	queue.push({std::move(end), "refused here"});
	ASSERT_TRUE(until([&] { return ended() == 1; }));
	EXPECT_EQ(threads->sessions(), 0U);
	char c;
	EXPECT_EQ(::recv(client.get(), &c, 1, 0), -1);
	EXPECT_EQ(errno, ECONNRESET);
	std::lock_guard guard(lock);
	EXPECT_EQ(ends[0].how, "refused here");
}

} // namespace
} // namespace gecko::proxy
