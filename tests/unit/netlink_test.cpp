// SPDX-License-Identifier: LGPL-2.1-or-later
/* Against the running kernel's nlctrl, which every Linux has. */

#include "netlink.h"

#include <gtest/gtest.h>

#include <netlink/genl/genl.h>

#include <linux/genetlink.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
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

	/* The names of the families a CTRL_CMD_GETFAMILY dump lists. */
	std::vector<std::string> family_names()
	{
		std::vector<std::string> names;
		auto request = gecko::netlink::new_request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, ctrl_version);
		if (!request) {
			ADD_FAILURE() << request.error().describe();
			return names;
		}

		auto replies = sock_->dump(request->get());
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

/* One message per family, across as many reads as the kernel needs. */
TEST_F(HostNetlink, DumpListsEveryFamilyOnce)
{
	auto names = family_names();

	EXPECT_EQ(std::ranges::count(names, "nlctrl"), 1);
	std::ranges::sort(names);
	EXPECT_EQ(std::ranges::adjacent_find(names), names.end());
}

/* A dump ends at NLMSG_DONE: the socket stays in step for the next request. */
TEST_F(HostNetlink, SocketWorksAfterADump)
{
	ASSERT_FALSE(family_names().empty());
	auto id = sock_->resolve("nlctrl");
	ASSERT_TRUE(id) << id.error().describe();

	EXPECT_EQ(family_names(), family_names());
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

} // namespace
