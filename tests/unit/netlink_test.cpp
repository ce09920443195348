// SPDX-License-Identifier: LGPL-2.1-or-later
/* Against the running kernel's nlctrl, which every Linux has. */

#include "netlink.h"

#include <gtest/gtest.h>

#include <netlink/genl/genl.h>

#include <linux/genetlink.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

class HostNetlink : public testing::Test {
protected:
	void SetUp() override
	{
		auto sock = gecko::netlink::Socket::open();

		ASSERT_TRUE(sock) << sock.error().describe();
		sock_.emplace(std::move(*sock));
	}

	/* The names of the families a CTRL_CMD_GETFAMILY dump on sock_ lists. */
	std::vector<std::string> family_names() { return family_names(*sock_); }

	static std::vector<std::string> family_names(gecko::netlink::Socket &sock)
	{
		std::vector<std::string> names;
		auto request = gecko::netlink::new_request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, ctrl_version);
		if (!request) {
			ADD_FAILURE() << request.error().describe();
			return names;
		}

		auto replies = sock.dump(request->get());
		if (!replies) {
			ADD_FAILURE() << replies.error().describe();
			return names;
		}
		for (const auto &reply : *replies) {
			nlattr *tb[CTRL_ATTR_MAX + 1];

			EXPECT_EQ(genlmsg_parse(nlmsg_hdr(reply.get()), 0, tb, CTRL_ATTR_MAX, nullptr), 0);
			if (tb[CTRL_ATTR_FAMILY_NAME])
				names.emplace_back(nla_get_string(tb[CTRL_ATTR_FAMILY_NAME]));
		}
		return names;
	}

	/* The same on a socket that has done nothing else: it cannot be out of step. */
	static std::vector<std::string> fresh_family_names()
	{
		auto sock = gecko::netlink::Socket::open();

		if (!sock) {
			ADD_FAILURE() << sock.error().describe();
			return {};
		}
		return family_names(*sock);
	}

	/* What iproute2's genl lists: another implementation's dump, sorted. */
	static std::vector<std::string> genl_family_names()
	{
		std::vector<std::string> names;
		std::unique_ptr<FILE, int (*)(FILE *)> genl(popen("genl ctrl list", "r"), pclose);
		char line[512];

		if (!genl) {
			ADD_FAILURE() << "cannot run genl";
			return names;
		}
		while (fgets(line, sizeof(line), genl.get()))
			if (std::string_view text(line); text.starts_with("Name: "))
				names.emplace_back(text.substr(6, text.find_first_of(" \n", 6) - 6));
		std::ranges::sort(names);
		return names;
	}

	static constexpr std::uint8_t ctrl_version = 2;
	std::optional<gecko::netlink::Socket> sock_;
};

TEST_F(HostNetlink, ResolvesNlctrl)
{
	auto id = sock_->resolve("nlctrl");

	ASSERT_TRUE(id) << id.error().describe();
	EXPECT_EQ(*id, GENL_ID_CTRL);
}

TEST_F(HostNetlink, MissingFamilyIsEnoent)
{
	auto id = sock_->resolve("no-such-family");

	ASSERT_FALSE(id);
	EXPECT_EQ(id.error().code, ENOENT);
	EXPECT_EQ(id.error().message, "generic netlink family 'no-such-family' not found");
}

/* nlctrl's policy refuses names longer than GENL_NAMSIZ - 1, saying why. */
TEST_F(HostNetlink, KernelRefusalCarriesExtack)
{
	auto id = sock_->resolve(std::string(GENL_NAMSIZ * 2, 'x'));

	ASSERT_FALSE(id);
	EXPECT_EQ(id.error().code, EINVAL);
	EXPECT_FALSE(id.error().message.empty());
}

/* Each request is read up to its ACK, so a failure leaves the socket usable. */
TEST_F(HostNetlink, SocketWorksAfterAFailure)
{
	ASSERT_FALSE(sock_->resolve("no-such-family"));

	auto id = sock_->resolve("nlctrl");

	ASSERT_TRUE(id) << id.error().describe();
	EXPECT_EQ(*id, GENL_ID_CTRL);
}

/* One message per family, across as many reads as the kernel needs: all that genl lists. */
TEST_F(HostNetlink, DumpListsEveryFamilyOnce)
{
	auto names = family_names();
	auto theirs = genl_family_names();

	EXPECT_EQ(std::ranges::count(names, "nlctrl"), 1);
	std::ranges::sort(names);
	EXPECT_EQ(std::ranges::adjacent_find(names), names.end());
	ASSERT_FALSE(theirs.empty());
	EXPECT_EQ(names, theirs);
}

/*
 * A dump ends at NLMSG_DONE: the socket stays in step for the next request.
 * Each answer after it must be its own, the same as on a socket that did
 * nothing before.
 */
TEST_F(HostNetlink, SocketWorksAfterADump)
{
	auto want = fresh_family_names();

	ASSERT_FALSE(want.empty());
	EXPECT_EQ(family_names(), want);
	auto id = sock_->resolve("nlctrl");
	ASSERT_TRUE(id) << id.error().describe();
	EXPECT_EQ(*id, GENL_ID_CTRL);
	EXPECT_EQ(family_names(), want);
	EXPECT_EQ(family_names(), want);
}

/* nlctrl cannot dump policies without a family: its start() refuses. */
TEST_F(HostNetlink, RefusedDumpCarriesErrno)
{
	auto request = gecko::netlink::new_request(GENL_ID_CTRL, CTRL_CMD_GETPOLICY, ctrl_version);
	ASSERT_TRUE(request) << request.error().describe();

	auto replies = sock_->dump(request->get());

	ASSERT_FALSE(replies);
	EXPECT_EQ(replies.error().code, EINVAL);
	EXPECT_TRUE(sock_->resolve("nlctrl"));
}

/* Each request's outcome, in order, the refused ones with the kernel's errno; the others are still done. */
TEST_F(HostNetlink, BatchTellsEachRequestsOutcome)
{
	gecko::netlink::Requests requests(GENL_ID_CTRL, ctrl_version);
	for (const char *name : {"gecko-none", "nlctrl", "gecko-none", "nlctrl"}) {
		requests.begin(CTRL_CMD_GETFAMILY);
		requests.put(CTRL_ATTR_FAMILY_NAME, name, std::strlen(name) + 1);
		requests.end();
	}

	auto outcomes = sock_->batch(requests);

	ASSERT_TRUE(outcomes) << outcomes.error().describe();
	ASSERT_EQ(outcomes->size(), 4U);
	for (std::size_t i : {0U, 2U}) {
		ASSERT_TRUE((*outcomes)[i]) << i;
		EXPECT_EQ((*outcomes)[i]->code, ENOENT) << i << ": " << (*outcomes)[i]->describe();
	}
	EXPECT_FALSE((*outcomes)[1]);
	EXPECT_FALSE((*outcomes)[3]);
	/* The replies to the requests that were done are not left for the next exchange. */
	EXPECT_TRUE(sock_->resolve("nlctrl"));
}

/* A request of another protocol, built in place, is what libnl builds: the header padded, then the attributes. */
TEST(Requests, OfAnotherProtocolAreWhatLibnlBuilds)
{
	struct Header {
		std::uint8_t bytes[6] = {1, 2, 3, 4, 5, 6};	/* not a multiple of 4 */
	} header;
	const std::uint32_t value = 0x01020304;
	gecko::netlink::Requests requests;

	requests.begin(0x19, header);
	requests.put(7, value);
	requests.end();

	std::unique_ptr<nl_msg, decltype(&nlmsg_free)> msg(nlmsg_alloc_simple(0x19, 0), nlmsg_free);
	ASSERT_TRUE(msg);
	ASSERT_EQ(nlmsg_append(msg.get(), &header, sizeof(header), NLMSG_ALIGNTO), 0);
	ASSERT_EQ(nla_put_u32(msg.get(), 7, value), 0);
	nlmsghdr *nlh = nlmsg_hdr(msg.get());
	nlh->nlmsg_seq = nlh->nlmsg_pid = 0;	/* Socket::batch() numbers them */
	const auto *raw = reinterpret_cast<const std::byte *>(nlh);

	ASSERT_EQ(requests.size(), 1U);
	EXPECT_TRUE(std::ranges::equal(requests.bytes(), std::span(raw, nlh->nlmsg_len)));
}

} // namespace
