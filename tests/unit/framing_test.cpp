// SPDX-License-Identifier: GPL-2.0-only
/* geckoproxy's HTTP/1.1 framing: how many octets each message takes, and what it gives up on. */

#include "framing.h"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

namespace gecko::proxy::http {
namespace {

class FramerTest : public ::testing::Test {
protected:
	Pending pending;
	Framer requests{Framer::Stream::requests, pending};
	Framer responses{Framer::Stream::responses, pending};
};

TEST_F(FramerTest, ARequestTakesItsHeadAndTheBodyItAnnounces)
{
	std::string head = "POST /x HTTP/1.1\r\nHost: g\r\ncontent-length:  12 \r\n\r\n";
	EXPECT_EQ(requests.next(head.substr(0, 20), false), 0U) << "framed before the head was whole";
	EXPECT_EQ(requests.next(head + "hello", false), head.size() + 12);
	EXPECT_EQ(pending.size(), 1U);
	EXPECT_TRUE(requests.idle());
	EXPECT_EQ(requests.next("GET / HTTP/1.0\r\n\r\n", false), 18U);
	EXPECT_EQ(pending.size(), 2U);
}

TEST_F(FramerTest, AChunkedRequestTakesChunkAfterChunk)
{
	std::string head = "PUT /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
	EXPECT_EQ(requests.next(head, false), head.size());
	EXPECT_FALSE(requests.idle());
	EXPECT_EQ(requests.next("1A", false), 0U);
	EXPECT_EQ(requests.next("1a;name=value\r\n", false), 15U + 26 + 2);
	EXPECT_EQ(requests.next("0\r\n", false), 3U);
	EXPECT_FALSE(requests.idle());
	EXPECT_EQ(requests.next("Trailer: x\r\n", false), 0U);
	EXPECT_EQ(requests.next("Trailer: x\r\n\r\nGET", false), 14U);
	EXPECT_TRUE(requests.idle());
}

TEST_F(FramerTest, ResponsesAnswerTheirRequestsInOrder)
{
	pending = {Method::head, Method::other, Method::other};
	std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
	EXPECT_EQ(responses.next(head, false), head.size()) << "a response to HEAD has no body";
	EXPECT_EQ(responses.next("HTTP/1.1 100 Continue\r\n\r\n", false), 25U);
	EXPECT_EQ(pending.size(), 2U) << "an interim response answered a request";
	EXPECT_EQ(responses.next(head, false), head.size() + 1000);
	std::string chunked = "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n";
	EXPECT_EQ(responses.next(chunked, false), chunked.size());
	EXPECT_EQ(responses.next("0\r\n\r\n", false), 3U);
	EXPECT_EQ(responses.next("\r\n", false), 2U);
	EXPECT_TRUE(responses.idle());
	EXPECT_TRUE(pending.empty());
	pending = {Method::other};
	std::string not_modified = "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n";
	EXPECT_EQ(responses.next(not_modified, false), not_modified.size());
}

TEST_F(FramerTest, WhatCannotBeFramedIsGivenUpForGood)
{
	auto gives_up = [](Framer::Stream stream, Pending p, const std::string &text, bool ended = false) {
		Framer f(stream, p);
		return f.next(text, ended) == unframed && !f.framing() && f.next("GET / HTTP/1.1\r\n\r\n", false) == unframed;
	};
	auto req = Framer::Stream::requests;
	auto resp = Framer::Stream::responses;
	EXPECT_TRUE(gives_up(req, {}, "CONNECT g:443 HTTP/1.1\r\n\r\n"));
	EXPECT_TRUE(gives_up(req, {}, "GET / HTTP/2.0\r\n\r\n"));
	EXPECT_TRUE(gives_up(req, {}, "GET /\r\n\r\n"));
	EXPECT_TRUE(gives_up(req, {}, "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"));
	EXPECT_TRUE(gives_up(req, {}, "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"));
	EXPECT_TRUE(gives_up(req, {}, "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n"));
	EXPECT_TRUE(gives_up(req, {}, "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n"));
	EXPECT_TRUE(gives_up(req, {}, "GET / HTTP/1.1\r\nHost: g", true)) << "a head cut by the end of the stream";
	EXPECT_TRUE(gives_up(req, {}, "GET / HTTP/1.1\r\nX: " + std::string(max_head, 'a')));
	EXPECT_TRUE(gives_up(resp, {Method::other}, "HTTP/1.1 200 OK\r\n\r\nuntil the end"));
	EXPECT_TRUE(gives_up(resp, {Method::other}, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"));
	EXPECT_TRUE(gives_up(resp, {Method::other}, "HTTP/1.1 101 Switching Protocols\r\n\r\n"));
	EXPECT_TRUE(gives_up(resp, {}, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")) << "a response to nothing";
	EXPECT_TRUE(gives_up(resp, {Method::other}, "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n"));
	EXPECT_FALSE(gives_up(resp, {Method::other}, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
}

TEST_F(FramerTest, ABadChunkLineIsGivenUp)
{
	pending = {Method::other};
	EXPECT_EQ(responses.next("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false), 47U);
	EXPECT_EQ(responses.next("zz\r\n", false), unframed);
	EXPECT_FALSE(responses.framing());
}

/* A connected pair of TCP sockets on the loopback. */
struct Pair {
	int client = -1, server = -1;

	Pair()
	{
		int l = ::socket(AF_INET6, SOCK_STREAM, 0);
		sockaddr_in6 sa{};
		sa.sin6_family = AF_INET6;
		sa.sin6_addr = in6addr_loopback;
		socklen_t len = sizeof(sa);
		EXPECT_EQ(::bind(l, reinterpret_cast<sockaddr *>(&sa), len), 0);
		EXPECT_EQ(::listen(l, 1), 0);
		::getsockname(l, reinterpret_cast<sockaddr *>(&sa), &len);
		client = ::socket(AF_INET6, SOCK_STREAM, 0);
		EXPECT_EQ(::connect(client, reinterpret_cast<sockaddr *>(&sa), len), 0);
		server = ::accept(l, nullptr, nullptr);
		::close(l);
	}
	~Pair()
	{
		::close(client);
		::close(server);
	}
};

/* The boundary counts what the server took and wrote, not what waits in its socket. */
TEST(Boundary, CountsWhatWasTakenAndWritten)
{
	Pair p;
	ASSERT_EQ(::send(p.client, "0123456789", 10, 0), 10);
	char buf[16];
	pollfd in{p.server, POLLIN, 0};
	ASSERT_EQ(::poll(&in, 1, 1000), 1);
	ASSERT_EQ(::recv(p.server, buf, 6, 0), 6);
	ASSERT_EQ(::send(p.server, "abcdefghijklmnopqrst", 20, 0), 20);
	auto state = boundary(p.server);
	ASSERT_FALSE(state.empty());
	std::string text(reinterpret_cast<const char *>(state.data()), state.size());
	EXPECT_EQ(text, "geckoproxy http boundary 6 20");
	EXPECT_TRUE(resumes_at(state, 6, 20));
	EXPECT_FALSE(resumes_at(state, 10, 20)) << "octets of the next request were taken";
	EXPECT_FALSE(resumes_at(state, 6, 19)) << "the client lacks an octet of a response";
	EXPECT_FALSE(resumes_at({}, 0, 0));
	auto junk = [](std::string_view t) {
		const auto *b = reinterpret_cast<const std::byte *>(t.data());
		return std::vector<std::byte>(b, b + t.size());
	};
	EXPECT_FALSE(resumes_at(junk("geckoproxy http boundary 6"), 6, 0));
	EXPECT_FALSE(resumes_at(junk("geckoproxy http boundary 6 20x"), 6, 20));
	EXPECT_FALSE(resumes_at(junk("file /blob 6 20"), 6, 20));
	EXPECT_EQ(describe_boundary(state), "its last boundary: 6 taken, 20 written");
	EXPECT_EQ(describe_boundary(junk("file /blob")), "no boundary between requests known");
}

} // namespace
} // namespace gecko::proxy::http
