// SPDX-License-Identifier: LGPL-2.1-or-later
/* Against the running kernel's nlctrl, which every Linux has. */

#include "netlink.h"

#include <gtest/gtest.h>

#include <linux/genetlink.h>

#include <cerrno>
#include <optional>
#include <string>

namespace {

class HostNetlink : public testing::Test {
protected:
	void SetUp() override
	{
		auto sock = gecko::netlink::Socket::open();

		ASSERT_TRUE(sock) << sock.error().describe();
		sock_.emplace(std::move(*sock));
	}

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

} // namespace
