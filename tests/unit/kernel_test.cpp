// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Needs gecko.ko loaded, so it runs in the VM only:
 *   ctest -C kernel -L kernel   or   build/tests/unit/gecko-kernel-tests
 * Run as root of the network namespace (GENL_UNS_ADMIN_PERM).
 */

#include "netlink.h"

#include <gecko/client.h>

#include <gtest/gtest.h>

#include <linux/gecko.h>
#include <netlink/attr.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <optional>
#include <string>

namespace {

class GeckoModule : public testing::Test {
protected:
	void SetUp() override
	{
		auto client = gecko::Client::open();

		ASSERT_TRUE(client) << client.error().describe();
		client_.emplace(std::move(*client));
	}

	gecko::Info get_info()
	{
		auto info = client_->get_info();

		if (!info) {
			ADD_FAILURE() << info.error().describe();
			return {};
		}
		return *info;
	}

	std::optional<gecko::Client> client_;
};

std::uint64_t nl_requests(const gecko::Info &info)
{
	auto it = std::ranges::find(info.counters, "nl_requests", &gecko::Counter::name);

	if (it == info.counters.end()) {
		ADD_FAILURE() << "no nl_requests counter";
		return 0;
	}
	return it->value;
}

TEST_F(GeckoModule, GetInfoSucceeds)
{
	auto info = client_->get_info();

	ASSERT_TRUE(info) << info.error().describe();
}

TEST_F(GeckoModule, ModuleVersionIsSysfsVersion)
{
	std::ifstream sysfs("/sys/module/gecko/version");
	std::string version;
	ASSERT_TRUE(std::getline(sysfs, version)) << "cannot read /sys/module/gecko/version";

	EXPECT_EQ(get_info().module_version, version);
}

TEST_F(GeckoModule, ProtocolVersionIsOne)
{
	EXPECT_EQ(get_info().protocol_version, 1u);
}

/* Nothing else talks to gecko in this namespace while the tests run. */
TEST_F(GeckoModule, EachRequestIsCountedOnce)
{
	auto before = nl_requests(get_info());

	auto after = nl_requests(get_info());

	EXPECT_EQ(after, before + 1);
}

/* Through the internal socket: Client never sends reply attributes. */
TEST(GeckoRequest, ReplyOnlyAttributeIsRefused)
{
	auto sock = gecko::netlink::Socket::open();
	ASSERT_TRUE(sock) << sock.error().describe();
	auto family = sock->resolve(GECKO_GENL_NAME);
	ASSERT_TRUE(family) << family.error().describe();
	auto request = gecko::netlink::new_request(*family, GECKO_CMD_GET_INFO, GECKO_GENL_VERSION);
	ASSERT_TRUE(request) << request.error().describe();
	ASSERT_EQ(nla_put_string(request->get(), GECKO_A_MODULE_VERSION, "0.1.0"), 0);

	auto reply = sock->transact(request->get());

	ASSERT_FALSE(reply);
	EXPECT_EQ(reply.error().code, EINVAL);
	EXPECT_NE(reply.error().message.find("reply-only"), std::string::npos)
		<< reply.error().message;
}

} // namespace
