// SPDX-License-Identifier: GPL-2.0-only
/*
 * The node channel's TLS (libgeckoctl/src/agent/tls.h), both ends in this
 * process over loopback TCP: the cluster key, certificates made here with
 * the openssl tool, and what each refuses.
 */

#include "agent/tls.h"

#include <gecko/address.h>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace gecko::agent::tls {
namespace {

namespace fs = std::filesystem;

in6_addr loopback()
{
	return in6addr_loopback;
}

Security keyed(const std::string &key_file)
{
	Security s;
	s.key_file = key_file;
	return s;
}

/* A folder of this test's own, gone afterwards. */
class Files : public ::testing::Test {
protected:
	void SetUp() override
	{
		char tmpl[] = "/tmp/gecko-tls-XXXXXX";
		ASSERT_NE(mkdtemp(tmpl), nullptr);
		dir_ = tmpl;
	}
	void TearDown() override { fs::remove_all(dir_); }

	std::string write(const std::string &name, const std::string &contents, mode_t mode = 0600)
	{
		auto path = dir_ + "/" + name;
		std::ofstream(path) << contents;
		chmod(path.c_str(), mode);
		return path;
	}

	std::string key_file(const std::string &name)
	{
		auto key = generate_key();
		EXPECT_TRUE(key);
		return write(name, *key + "\n");
	}

	/* Runs the openssl tool in the folder. */
	void openssl(const std::string &args)
	{
		auto cmd = "cd " + dir_ + " && openssl " + args + " > /dev/null 2>&1";
		ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
	}

	/* A CA and, signed by it, a certificate for @ip (its key readable by the owner only). */
	void make_ca(const std::string &ca)
	{
		openssl("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=" + ca +
			" -keyout " + ca + ".key -out " + ca + ".pem");
	}
	Security node(const std::string &ca, const std::string &name, const std::string &ip)
	{
		openssl("req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=" + name + " -keyout " +
			name + ".key -out " + name + ".csr");
		write(name + ".ext", "subjectAltName = IP:" + ip + "\n");
		openssl("x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca + ".key -CAcreateserial -days 2 "
			"-extfile " + name + ".ext -out " + name + ".pem");
		chmod((dir_ + "/" + name + ".key").c_str(), 0600);
		return {"", dir_ + "/" + name + ".pem", dir_ + "/" + name + ".key", dir_ + "/" + ca + ".pem"};
	}

	std::string dir_;
};

/* A connected pair of nonblocking TCP sockets over ::1: {client, server}. */
std::pair<int, int> tcp_pair()
{
	int listener = socket(AF_INET6, SOCK_STREAM, 0);
	sockaddr_in6 sa{};
	socklen_t len = sizeof(sa);
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = loopback();
	EXPECT_EQ(bind(listener, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0);
	EXPECT_EQ(listen(listener, 1), 0);
	EXPECT_EQ(getsockname(listener, reinterpret_cast<sockaddr *>(&sa), &len), 0);
	int client = socket(AF_INET6, SOCK_STREAM, 0);
	EXPECT_EQ(connect(client, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0);
	int server = accept(listener, nullptr, nullptr);
	close(listener);
	fcntl(client, F_SETFL, O_NONBLOCK);
	fcntl(server, F_SETFL, O_NONBLOCK);
	return {client, server};
}

struct Outcome {
	Session::Status client, server;
	std::string why;	/* the server's */
};

/* Both handshakes, to their end. */
Outcome handshake(Session &client, Session &server, int cfd, int sfd)
{
	auto c = Session::Status::want_read, s = Session::Status::want_read;
	for (int round = 0; round < 200; round++) {
		if (c == Session::Status::want_read || c == Session::Status::want_write)
			c = client.handshake();
		if (s == Session::Status::want_read || s == Session::Status::want_write)
			s = server.handshake();
		bool waiting = c == Session::Status::want_read || c == Session::Status::want_write ||
			       s == Session::Status::want_read || s == Session::Status::want_write;
		if (!waiting)
			break;
		/* One side's end decided: the other learns it from the socket. */
		pollfd fds[] = {{cfd, POLLIN, 0}, {sfd, POLLIN, 0}};
		poll(fds, 2, 20);
	}
	return {c, s, server.why()};
}

struct Pair {
	int cfd = -1, sfd = -1;
	std::unique_ptr<Session> client, server;
	~Pair()
	{
		client.reset();
		server.reset();
		close(cfd);
		close(sfd);
	}
};

/* A connection from @claimed (the client's identity) to the server, each with its own credentials. */
void connect_pair(Pair &p, Context &client_ctx, Context &server_ctx, const in6_addr &claimed = loopback())
{
	std::tie(p.cfd, p.sfd) = tcp_pair();
	auto c = client_ctx.connect(p.cfd, claimed, loopback());
	auto s = server_ctx.accept(p.sfd, loopback());
	ASSERT_TRUE(c && s);
	p.client = std::move(*c);
	p.server = std::move(*s);
}

TEST_F(Files, TheSameClusterKeyConnectsAndCarriesData)
{
	auto key = key_file("cluster.key");
	auto a = Context::load(keyed(key));
	auto b = Context::load(keyed(key));
	ASSERT_TRUE(a && b) << (a ? b.error().describe() : a.error().describe());
	EXPECT_STREQ((*a)->mode(), "cluster key");

	Pair p;
	connect_pair(p, **a, **b);
	auto out = handshake(*p.client, *p.server, p.cfd, p.sfd);
	ASSERT_EQ(out.client, Session::Status::ok) << p.client->why();
	ASSERT_EQ(out.server, Session::Status::ok) << out.why;

	std::string hello = "hello, node";
	std::size_t n = 0;
	ASSERT_EQ(p.client->write(std::as_bytes(std::span(hello)), n), Session::Status::ok);
	EXPECT_EQ(n, hello.size());
	std::byte buf[64];
	auto st = Session::Status::want_read;
	for (int i = 0; i < 100 && st == Session::Status::want_read; i++) {
		pollfd fd{p.sfd, POLLIN, 0};
		poll(&fd, 1, 20);
		st = p.server->read(buf, n);
	}
	ASSERT_EQ(st, Session::Status::ok);
	EXPECT_EQ(std::string(reinterpret_cast<char *>(buf), n), hello);
}

TEST_F(Files, ChaCha20WhereEitherSideLacksAesInstructions)
{
	auto key = key_file("cluster.key");
	const struct {
		bool client_aes, server_aes;
		const char *suite;
	} cases[] = {
		{true, true, "TLS_AES_128_GCM_SHA256"},
		{false, true, "TLS_CHACHA20_POLY1305_SHA256"},
		{true, false, "TLS_CHACHA20_POLY1305_SHA256"},
		{false, false, "TLS_CHACHA20_POLY1305_SHA256"},
	};
	for (const auto &c : cases) {
		auto client = Context::load(keyed(key), c.client_aes);
		auto server = Context::load(keyed(key), c.server_aes);
		ASSERT_TRUE(client && server);
		Pair p;
		connect_pair(p, **client, **server);
		auto out = handshake(*p.client, *p.server, p.cfd, p.sfd);
		ASSERT_EQ(out.client, Session::Status::ok) << p.client->why();
		ASSERT_EQ(out.server, Session::Status::ok) << out.why;
		EXPECT_EQ(p.client->suite(), c.suite) << c.client_aes << c.server_aes;
		EXPECT_EQ(p.server->suite(), c.suite) << c.client_aes << c.server_aes;
	}
}

TEST_F(Files, AnotherKeyGetsNothing)
{
	auto a = Context::load(keyed(key_file("ours.key")));
	auto b = Context::load(keyed(key_file("theirs.key")));
	ASSERT_TRUE(a && b);

	Pair p;
	connect_pair(p, **b, **a);
	auto out = handshake(*p.client, *p.server, p.cfd, p.sfd);
	EXPECT_EQ(out.server, Session::Status::failed);
	EXPECT_NE(out.client, Session::Status::ok);
}

TEST_F(Files, AnIdentityThatIsNotTheAddressItComesFromIsRefused)
{
	auto key = key_file("cluster.key");
	auto a = Context::load(keyed(key));
	auto b = Context::load(keyed(key));
	ASSERT_TRUE(a && b);

	/* The client holds the key but claims a care-of address it does not connect from. */
	Pair p;
	connect_pair(p, **a, **b, *parse_address("fd00:12::2"));
	auto out = handshake(*p.client, *p.server, p.cfd, p.sfd);
	EXPECT_EQ(out.server, Session::Status::failed);
	EXPECT_NE(out.why.find("does not match the address ::1"), std::string::npos) << out.why;
}

TEST_F(Files, ASecretOthersMayReadIsRefused)
{
	auto key = generate_key();
	ASSERT_TRUE(key);
	auto path = write("open.key", *key + "\n", 0644);
	auto ctx = Context::load(keyed(path));
	ASSERT_FALSE(ctx);
	EXPECT_EQ(ctx.error().code, EPERM);
	EXPECT_NE(ctx.error().message.find("readable by its owner only (mode 0600), not 0644"), std::string::npos)
		<< ctx.error().message;

	auto group = write("group.key", *key + "\n", 0640);
	EXPECT_EQ(Context::load(keyed(group)).error().code, EPERM);
}

TEST_F(Files, WhatIsNotAKeyIsRefused)
{
	for (std::string bad : {std::string(), std::string("short"), std::string("AAAA"), std::string(44, 'A'),
				std::string(42, 'A') + "==", std::string(43, '*') + "="}) {
		auto ctx = Context::load(keyed(write("bad.key", bad + "\n")));
		ASSERT_FALSE(ctx) << bad;
		EXPECT_EQ(ctx.error().code, EINVAL) << bad;
	}
	auto missing = Context::load(keyed(dir_ + "/none.key"));
	ASSERT_FALSE(missing);
	EXPECT_EQ(missing.error().code, ENOENT);
}

TEST_F(Files, NoCredentialsMeansNoChannel)
{
	auto ctx = Context::load({});
	ASSERT_FALSE(ctx);
	EXPECT_EQ(ctx.error().code, ENOKEY);
	auto both = Context::load(Security{key_file("k"), "cert.pem", "cert.key", "ca.pem"});
	ASSERT_FALSE(both);
	EXPECT_EQ(both.error().code, EINVAL);
	auto half = Context::load(Security{"", "cert.pem", "", ""});
	ASSERT_FALSE(half);
	EXPECT_EQ(half.error().code, EINVAL);
}

TEST_F(Files, KeysAreRandomAndWellFormed)
{
	auto a = generate_key();
	auto b = generate_key();
	ASSERT_TRUE(a && b);
	EXPECT_EQ(a->size(), 44u);
	EXPECT_NE(*a, *b);
	EXPECT_TRUE(Context::load(keyed(write("a.key", *a))));
}

TEST_F(Files, CertificatesNamingTheAddressConnect)
{
	make_ca("ca");
	auto a = Context::load(node("ca", "node1", "::1"));
	auto b = Context::load(node("ca", "node2", "::1"));
	ASSERT_TRUE(a && b) << (a ? b.error().describe() : a.error().describe());
	EXPECT_STREQ((*a)->mode(), "certificates");

	Pair p;
	connect_pair(p, **a, **b);
	auto out = handshake(*p.client, *p.server, p.cfd, p.sfd);
	EXPECT_EQ(out.client, Session::Status::ok) << p.client->why();
	EXPECT_EQ(out.server, Session::Status::ok) << out.why;
}

TEST_F(Files, ACertificateForAnotherAddressIsRefused)
{
	make_ca("ca");
	auto good = Context::load(node("ca", "good", "::1"));
	auto elsewhere = Context::load(node("ca", "elsewhere", "fd00:13::2"));
	ASSERT_TRUE(good && elsewhere);

	/* Its certificate names another node's address than the one it connects from. */
	Pair p;
	connect_pair(p, **elsewhere, **good);
	auto out = handshake(*p.client, *p.server, p.cfd, p.sfd);
	EXPECT_EQ(out.server, Session::Status::failed);

	/* And as a server, it is not the node the client dialled. */
	Pair q;
	connect_pair(q, **good, **elsewhere);
	EXPECT_EQ(handshake(*q.client, *q.server, q.cfd, q.sfd).client, Session::Status::failed);
}

TEST_F(Files, ACertificateOfAnotherCaIsRefused)
{
	make_ca("ca");
	make_ca("rogue");
	auto member = Context::load(node("ca", "member", "::1"));
	auto rogue = Context::load(node("rogue", "stranger", "::1"));
	ASSERT_TRUE(member && rogue);

	Pair p;
	connect_pair(p, **rogue, **member);
	EXPECT_EQ(handshake(*p.client, *p.server, p.cfd, p.sfd).server, Session::Status::failed);
}

TEST_F(Files, ACertificateKeyOthersMayReadIsRefused)
{
	make_ca("ca");
	auto security = node("ca", "node1", "::1");
	chmod(security.cert_key_file.c_str(), 0644);
	auto ctx = Context::load(security);
	ASSERT_FALSE(ctx);
	EXPECT_EQ(ctx.error().code, EPERM);
}

} // namespace
} // namespace gecko::agent::tls
