// SPDX-License-Identifier: GPL-2.0-only
/*
 * A program's connections reach the node agent in batches
 * (libgeckoctl/src/agent/node.cpp): a real gecko::Node, behind a
 * stand-in for gecko-agent on an abstract socket of its own.
 */

#include "agent/programs.h"

#include <gecko/address.h>
#include <gecko/node.h>

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <future>
#include <string>
#include <vector>

namespace gecko {
namespace {

namespace programs = agent::programs;
using agent::UniqueFd;

sockaddr_in6 endpoint(const char *address, std::uint16_t port)
{
	sockaddr_in6 a{};
	a.sin6_family = AF_INET6;
	a.sin6_addr = *parse_address(address);
	a.sin6_port = htons(port);
	return a;
}

class NodeBatch : public ::testing::Test {
protected:
	void SetUp() override
	{
		static int instance;
		agent::Config config;
		config.control = "gecko-node-batch-test-" + std::to_string(getpid()) + "-" + std::to_string(instance++);
		auto listener = agent::listen_unix(programs::socket_name(config.control), SOCK_SEQPACKET);
		ASSERT_TRUE(listener) << listener.error().describe();
		auto started = std::async(std::launch::async, [config] { return Node::start(config); });
		pollfd p{listener->get(), POLLIN, 0};
		ASSERT_EQ(poll(&p, 1, 5000), 1);
		session_ = UniqueFd(accept4(listener->get(), nullptr, nullptr, SOCK_CLOEXEC));
		ASSERT_GE(session_.get(), 0);
		auto hello = next();
		ASSERT_TRUE(hello);
		EXPECT_EQ(programs::Parser(hello->data).type(), programs::Type::hello);
		programs::Writer welcome(programs::Type::welcome);
		programs::put_members(welcome, {});
		ASSERT_TRUE(programs::send(session_.get(), welcome));
		auto node = started.get();
		ASSERT_TRUE(node) << node.error().describe();
		node_ = std::move(*node);
	}

	/* The node's next message, if one comes within @ms. */
	std::optional<programs::Received> next(int ms = 5000)
	{
		pollfd p{session_.get(), POLLIN, 0};
		if (poll(&p, 1, ms) != 1)
			return std::nullopt;
		auto got = programs::receive(session_.get());
		if (!got || !*got)
			return std::nullopt;
		return std::move(**got);
	}

	/* A descriptor to pass for a connection: any will do. */
	int descriptor()
	{
		fds_.emplace_back(eventfd(0, EFD_CLOEXEC));
		return fds_.back().get();
	}

	void add(int fd, std::uint16_t client_port = 40000)
	{
		ASSERT_TRUE(node_->add(fd, endpoint("fd00:9::1", 80), endpoint("fd00:c::7", client_port)));
	}

	UniqueFd session_;
	std::unique_ptr<Node> node_;
	std::vector<UniqueFd> fds_;
};

bool same_file(int a, int b)
{
	struct stat x, y;
	return fstat(a, &x) == 0 && fstat(b, &y) == 0 && x.st_ino == y.st_ino && x.st_dev == y.st_dev;
}

TEST_F(NodeBatch, ConnectionsGoTogetherBeforeAnythingElse)
{
	int a = descriptor(), b = descriptor();
	add(a);
	add(b, 40001);
	node_->describe("after them");

	auto batch = next();
	ASSERT_TRUE(batch);
	programs::Parser p(batch->data);
	EXPECT_EQ(p.type(), programs::Type::connections);
	EXPECT_EQ(p.u32(), 0u) << "nothing removed";
	EXPECT_EQ(p.u32(), 2u);
	EXPECT_EQ(p.u32(), static_cast<std::uint32_t>(a));
	EXPECT_EQ(p.u32(), static_cast<std::uint32_t>(b));
	EXPECT_EQ(p.u32(), 0u) << "no sync answered";
	EXPECT_TRUE(p.ok());
	ASSERT_EQ(batch->fds.size(), 2u);
	EXPECT_TRUE(same_file(batch->fds[0].get(), a));
	EXPECT_TRUE(same_file(batch->fds[1].get(), b));
	auto then = next();
	ASSERT_TRUE(then);
	EXPECT_EQ(programs::Parser(then->data).type(), programs::Type::describe);
}

TEST_F(NodeBatch, AConnectionThatEndsWithinTheBatchNeverReachesTheAgent)
{
	int a = descriptor();
	add(a);
	node_->remove(a);
	node_->describe("alone");
	auto got = next();
	ASSERT_TRUE(got);
	EXPECT_EQ(programs::Parser(got->data).type(), programs::Type::describe);
	EXPECT_TRUE(got->fds.empty());
}

TEST_F(NodeBatch, ABatchGoesByItselfShortlyAfter)
{
	int a = descriptor();
	add(a);
	/* Not at once: later connections may join it (it can only come later than planned, never sooner). */
	EXPECT_FALSE(next(5)) << "sent at once";
	auto batch = next();
	ASSERT_TRUE(batch) << "never sent";
	programs::Parser p(batch->data);
	EXPECT_EQ(p.type(), programs::Type::connections);
	EXPECT_EQ(batch->fds.size(), 1u);
}

TEST_F(NodeBatch, ARemovalNamesItsClient)
{
	int a = descriptor();
	add(a, 41234);
	node_->describe("added");
	ASSERT_TRUE(next());
	ASSERT_TRUE(next());
	node_->remove(a);
	node_->describe("removed");

	auto batch = next();
	ASSERT_TRUE(batch);
	programs::Parser p(batch->data);
	EXPECT_EQ(p.type(), programs::Type::connections);
	EXPECT_EQ(p.u32(), 1u);
	EXPECT_EQ(p.u32(), static_cast<std::uint32_t>(a));
	EXPECT_EQ(format_address(p.addr()), "fd00:c::7");
	EXPECT_EQ(p.u16(), 41234);
	EXPECT_EQ(p.u32(), 0u) << "nothing added";
	EXPECT_EQ(p.u32(), 0u);
	EXPECT_TRUE(p.ok());
	EXPECT_TRUE(batch->fds.empty());
}

TEST_F(NodeBatch, AFullBatchGoesAtOnceAndNothingIsLost)
{
	std::vector<int> added;
	for (std::size_t i = 0; i < programs::max_passed + 40; i++) {
		added.push_back(descriptor());
		add(added.back(), static_cast<std::uint16_t>(40000 + i));
	}
	std::vector<std::uint32_t> got;
	while (got.size() < added.size()) {
		auto batch = next();
		ASSERT_TRUE(batch) << got.size() << " of " << added.size() << " arrived";
		programs::Parser p(batch->data);
		ASSERT_EQ(p.type(), programs::Type::connections);
		EXPECT_EQ(p.u32(), 0u);
		auto n = p.u32();
		ASSERT_LE(n, programs::max_passed);
		ASSERT_EQ(batch->fds.size(), n);
		for (std::uint32_t i = 0; i < n; i++) {
			got.push_back(p.u32());
			EXPECT_TRUE(same_file(batch->fds[i].get(), static_cast<int>(got.back())));
		}
		EXPECT_EQ(p.u32(), 0u);
		EXPECT_TRUE(p.ok());
	}
	EXPECT_EQ(got, std::vector<std::uint32_t>(added.begin(), added.end()));
}

/* The agent gathers a client's connections for a handoff: a program answers its sync with what it has not told yet. */
TEST_F(NodeBatch, ASyncBringsTheBatchAndIsAnswered)
{
	int a = descriptor();
	add(a);
	ASSERT_TRUE(programs::send(session_.get(), programs::Writer(programs::Type::sync).u32(7)));
	auto batch = next();
	ASSERT_TRUE(batch);
	programs::Parser p(batch->data);
	EXPECT_EQ(p.type(), programs::Type::connections);
	EXPECT_EQ(p.u32(), 0u);
	EXPECT_EQ(p.u32(), 1u);
	EXPECT_EQ(p.u32(), static_cast<std::uint32_t>(a));
	EXPECT_EQ(p.u32(), 7u) << "the sync answered";
	EXPECT_TRUE(p.ok());
	ASSERT_EQ(batch->fds.size(), 1u);

	/* With nothing to tell, the answer comes all the same. */
	ASSERT_TRUE(programs::send(session_.get(), programs::Writer(programs::Type::sync).u32(8)));
	auto empty = next();
	ASSERT_TRUE(empty);
	programs::Parser q(empty->data);
	EXPECT_EQ(q.type(), programs::Type::connections);
	EXPECT_EQ(q.u32(), 0u);
	EXPECT_EQ(q.u32(), 0u);
	EXPECT_EQ(q.u32(), 8u);
	EXPECT_TRUE(q.ok());
	EXPECT_FALSE(next(50)) << "nothing more";
}

} // namespace
} // namespace gecko
