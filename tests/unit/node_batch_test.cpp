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
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <initializer_list>
#include <optional>
#include <string>
#include <thread>
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

/* A connections message, read whole: none if it was another message or malformed. */
struct Batch : programs::Connections {
	std::vector<UniqueFd> fds;
};

std::optional<Batch> batch_of(std::optional<programs::Received> message)
{
	if (!message)
		return std::nullopt;
	programs::Parser p(message->data);
	if (p.type() != programs::Type::connections)
		return std::nullopt;
	Batch b{programs::get_connections(p), std::move(message->fds)};
	if (!p.ok())
		return std::nullopt;
	return b;
}

/* Whether each descriptor passed is the socket of the id it came with. */
bool passed_whole(const Batch &b)
{
	if (b.fds.size() != b.added.size())
		return false;
	for (std::size_t i = 0; i < b.fds.size(); i++)
		if (!same_file(b.fds[i].get(), static_cast<int>(b.added[i])))
			return false;
	return true;
}

using Ids = std::vector<std::uint32_t>;

Ids ids(std::initializer_list<int> fds)
{
	Ids out;
	for (int fd : fds)
		out.push_back(static_cast<std::uint32_t>(fd));
	return out;
}

TEST_F(NodeBatch, ConnectionsGoTogetherBeforeAnythingElse)
{
	int a = descriptor(), b = descriptor();
	add(a);
	add(b, 40001);
	node_->describe("after them");

	auto batch = batch_of(next());
	ASSERT_TRUE(batch);
	EXPECT_TRUE(batch->removed.empty());
	EXPECT_EQ(batch->added, ids({a, b}));
	EXPECT_EQ(batch->synced, 0u) << "no sync answered";
	EXPECT_TRUE(passed_whole(*batch));
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
	auto batch = batch_of(next());
	ASSERT_TRUE(batch) << "never sent";
	EXPECT_EQ(batch->added, ids({a}));
	EXPECT_TRUE(passed_whole(*batch));
}

TEST_F(NodeBatch, ARemovalNamesItsClient)
{
	int a = descriptor();
	add(a, 41234);
	node_->describe("added");
	ASSERT_TRUE(batch_of(next()));
	ASSERT_TRUE(next());
	node_->remove(a);
	node_->describe("removed");

	auto batch = batch_of(next());
	ASSERT_TRUE(batch);
	ASSERT_EQ(batch->removed.size(), 1u);
	EXPECT_EQ(batch->removed[0].id, static_cast<std::uint32_t>(a));
	EXPECT_EQ(format_address(batch->removed[0].client), "fd00:c::7");
	EXPECT_EQ(batch->removed[0].port, 41234);
	EXPECT_TRUE(batch->added.empty());
	EXPECT_TRUE(batch->fds.empty());
}

TEST_F(NodeBatch, AFullBatchGoesAtOnceAndNothingIsLost)
{
	Ids added;
	for (std::size_t i = 0; i < programs::max_passed + 40; i++) {
		added.push_back(static_cast<std::uint32_t>(descriptor()));
		add(static_cast<int>(added.back()), static_cast<std::uint16_t>(40000 + i));
	}
	Ids got;
	while (got.size() < added.size()) {
		auto batch = batch_of(next());
		ASSERT_TRUE(batch) << got.size() << " of " << added.size() << " arrived";
		EXPECT_LE(batch->added.size(), programs::max_passed);
		EXPECT_TRUE(passed_whole(*batch));
		got.insert(got.end(), batch->added.begin(), batch->added.end());
	}
	EXPECT_EQ(got, added);
}

/* Octets waiting in the stand-in's socket, which it has not read. */
int unread(const UniqueFd &fd)
{
	int n = 0;
	ioctl(fd.get(), SIOCINQ, &n);
	return n;
}

/*
 * The agent reads nothing for a while: the batch being sent holds back
 * only the removal of a connection it carries (that descriptor must stay
 * open until it is sent), not the program's other adds and removals.
 */
TEST_F(NodeBatch, OnlyTheRemovalOfAConnectionBeingSentWaitsForIt)
{
	int told = descriptor();
	add(told, 39999);
	ASSERT_TRUE(batch_of(next()));
	/* A connection in a batch of its own each time (a sync sends it), until the socket is full and a send waits. */
	int in_flight = -1;
	for (std::uint32_t tag = 1; in_flight < 0; tag++) {
		ASSERT_LT(tag, 4000u) << "the socket never filled";
		int fd = descriptor();
		ASSERT_GE(fd, 0);
		add(fd, static_cast<std::uint16_t>(40000 + tag));
		int before = unread(session_);
		ASSERT_TRUE(programs::send(session_.get(), programs::Writer(programs::Type::sync).u32(tag)));
		auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
		while (unread(session_) == before && std::chrono::steady_clock::now() < deadline)
			std::this_thread::sleep_for(std::chrono::microseconds(200));
		if (unread(session_) == before)
			in_flight = fd;
	}
	auto other = std::async(std::launch::async, [&] { node_->remove(told); });
	EXPECT_EQ(other.wait_for(std::chrono::seconds(5)), std::future_status::ready)
		<< "a removal waited for a batch that does not carry its connection";
	auto carried = std::async(std::launch::async, [&] { node_->remove(in_flight); });
	EXPECT_EQ(carried.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout)
		<< "a connection was removed while its descriptor was being sent";
	/* The agent reads again: the batch goes, then the removals of both. */
	std::vector<std::uint32_t> removed;
	while (removed.size() < 2) {
		auto batch = batch_of(next());
		if (!batch) {
			ADD_FAILURE() << removed.size() << " of the 2 removals arrived";
			/* The agent gone: the send fails, and the removal waiting for it returns. */
			session_ = UniqueFd();
			return;
		}
		for (const auto &r : batch->removed)
			removed.push_back(r.id);
	}
	EXPECT_EQ(carried.wait_for(std::chrono::seconds(5)), std::future_status::ready);
	std::ranges::sort(removed);
	EXPECT_EQ(removed, (ids({std::min(told, in_flight), std::max(told, in_flight)})));
}

/* The agent gathers a client's connections for a handoff: a program answers its sync with what it has not told yet. */
TEST_F(NodeBatch, ASyncBringsTheBatchAndIsAnswered)
{
	int a = descriptor();
	add(a);
	ASSERT_TRUE(programs::send(session_.get(), programs::Writer(programs::Type::sync).u32(7)));
	auto batch = batch_of(next());
	ASSERT_TRUE(batch);
	EXPECT_EQ(batch->added, ids({a}));
	EXPECT_EQ(batch->synced, 7u) << "the sync answered";
	EXPECT_TRUE(passed_whole(*batch));

	/* With nothing to tell, the answer comes all the same. */
	ASSERT_TRUE(programs::send(session_.get(), programs::Writer(programs::Type::sync).u32(8)));
	auto empty = batch_of(next());
	ASSERT_TRUE(empty);
	EXPECT_TRUE(empty->added.empty() && empty->removed.empty());
	EXPECT_EQ(empty->synced, 8u);
	EXPECT_FALSE(next(50)) << "nothing more";
}

} // namespace
} // namespace gecko
