// SPDX-License-Identifier: LGPL-2.1-or-later

#include <gecko/client.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>

TEST(ClientWithoutModule, OpenSaysToLoadIt)
{
	if (std::filesystem::exists("/sys/module/gecko"))
		GTEST_SKIP() << "gecko.ko is loaded: gecko-kernel-tests covers this host";

	auto client = gecko::Client::open();

	ASSERT_FALSE(client);
	EXPECT_EQ(client.error().code, ENOENT);
	EXPECT_EQ(client.error().describe(),
		  "generic netlink family 'gecko' not found: is gecko.ko loaded? (modprobe gecko)");
}
