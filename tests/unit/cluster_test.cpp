// SPDX-License-Identifier: GPL-2.0-only
/*
 * The distributed server's configuration file (gecko/cluster.h): what it
 * reads, and that every broken file is refused naming the file, the line
 * and the key.
 */

#include <gecko/address.h>
#include <gecko/agent.h>
#include <gecko/cluster.h>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>

namespace gecko {
namespace {

namespace fs = std::filesystem;

const std::string good = R"(# the reference topology's service
service = fd00:a::100
home-agent = fd00:a::1
key-file = cluster.key
contact = node1
backup = node2
backup = node3
heartbeat-period = 250ms
heartbeat-misses = 4
registration-lifetime = 600
policy = weighted

[member.node1]
address = fd00:11::2	# its own link
weight = 3

[member.node2]
address = fd00:12::2

[member.node3]
address = fd00:13::2
)";

in6_addr addr(const char *text)
{
	return *parse_address(text);
}

std::string error_of(const std::string &text)
{
	auto c = parse_cluster(text, "/etc/gecko/test.conf");

	EXPECT_FALSE(c) << "accepted:\n" << text;
	if (c)
		return {};
	EXPECT_EQ(c.error().code, EINVAL);
	return c.error().message;
}

/* @good with line @line (1-based) replaced by @with: several lines, or none. */
std::string edit(unsigned line, const std::string &with)
{
	std::string out;
	unsigned n = 0;
	std::size_t at = 0;

	while (at < good.size()) {
		auto end = good.find('\n', at);
		n++;
		if (n == line)
			out += with.empty() ? "" : with + "\n";
		else
			out += good.substr(at, end - at + 1);
		at = end + 1;
	}
	return out;
}

TEST(ClusterConfig, ReadsEveryKey)
{
	auto c = parse_cluster(good, "/etc/gecko/test.conf");

	ASSERT_TRUE(c) << c.error().message;
	EXPECT_EQ(c->file, "/etc/gecko/test.conf");
	EXPECT_EQ(format_address(c->service), "fd00:a::100");
	EXPECT_EQ(format_address(c->home_agent), "fd00:a::1");
	EXPECT_EQ(c->port, agent::default_port);
	EXPECT_EQ(c->security.key_file, "/etc/gecko/cluster.key");
	EXPECT_EQ(c->contact, "node1");
	EXPECT_EQ(c->backups, (std::vector<std::string>{"node2", "node3"}));
	EXPECT_EQ(c->heartbeat_period, std::chrono::milliseconds(250));
	EXPECT_EQ(c->heartbeat_misses, 4u);
	EXPECT_EQ(c->failure_bound(), std::chrono::milliseconds(1000));
	EXPECT_EQ(c->registration_lifetime, std::chrono::seconds(600));
	EXPECT_EQ(c->policy, "weighted");
	ASSERT_EQ(c->members.size(), 3u);
	EXPECT_EQ(c->members[0].name, "node1");
	EXPECT_EQ(c->members[0].weight, 3u);
	EXPECT_EQ(c->members[2].weight, 1u);
	ASSERT_NE(c->member(addr("fd00:12::2")), nullptr);
	EXPECT_EQ(c->member(addr("fd00:12::2"))->name, "node2");
	EXPECT_EQ(c->member("node9"), nullptr);
}

TEST(ClusterConfig, DefaultsAndUnits)
{
	auto c = parse_cluster("service = fd00:a::100\nhome-agent = fd00:a::1\nkey-file = /k\ncontact = a\n"
			       "heartbeat-period = 2s\nregistration-lifetime = 60s\nport = 9000\n"
			       "[member.a]\naddress = fd00:11::2\n",
			       "c.conf");

	ASSERT_TRUE(c) << c.error().message;
	EXPECT_EQ(c->port, 9000);
	EXPECT_EQ(c->heartbeat_period, std::chrono::milliseconds(2000));
	EXPECT_EQ(c->heartbeat_misses, 3u);
	EXPECT_EQ(c->registration_lifetime, std::chrono::seconds(60));
	EXPECT_EQ(c->policy, "random");
	EXPECT_EQ(c->proximity_prefix, 64u);
	EXPECT_TRUE(c->backups.empty());
	EXPECT_EQ(c->security.key_file, "/k");
}

TEST(ClusterConfig, MirroringToBackups)
{
	auto c = parse_cluster(edit(9, "heartbeat-misses = 4\nmirror-period = 500ms") + "backup = node1\n",
			       "/etc/gecko/test.conf");

	ASSERT_TRUE(c) << c.error().message;
	EXPECT_EQ(c->mirror_period, std::chrono::milliseconds(500));
	EXPECT_EQ(c->members[0].backup, "") << "the next member in the file's order";
	EXPECT_EQ(c->members[2].backup, "node1");
	auto defaults = parse_cluster(good, "/etc/gecko/test.conf");
	ASSERT_TRUE(defaults) << defaults.error().message;
	EXPECT_EQ(defaults->mirror_period, std::chrono::milliseconds(1000));
}

TEST(ClusterConfig, TheProximityPolicysNetworks)
{
	auto c = parse_cluster(edit(11, "policy = proximity\nproximity-prefix = 48"), "/etc/gecko/gecko.conf");

	ASSERT_TRUE(c) << c.error().message;
	EXPECT_EQ(c->policy, "proximity");
	EXPECT_EQ(c->proximity_prefix, 48u);
}

TEST(ClusterConfig, CertificatesInsteadOfTheKey)
{
	auto c = parse_cluster(edit(4, "cert = node.pem\ncert-key = /etc/ssl/node.key\nca = ../ca.pem"),
			       "/etc/gecko/test.conf");

	ASSERT_TRUE(c) << c.error().message;
	EXPECT_TRUE(c->security.key_file.empty());
	EXPECT_EQ(c->security.cert_file, "/etc/gecko/node.pem");
	EXPECT_EQ(c->security.cert_key_file, "/etc/ssl/node.key");
	EXPECT_EQ(c->security.ca_file, "/etc/ca.pem");
}

struct Broken {
	const char *what;
	std::string text;
	const char *error;	/* the whole message after "/etc/gecko/test.conf:" */
};

class ClusterBroken : public ::testing::TestWithParam<Broken> {};

TEST_P(ClusterBroken, NamesTheFileLineAndKey)
{
	const auto &b = GetParam();

	EXPECT_EQ(error_of(b.text), std::string("/etc/gecko/test.conf:") + b.error) << b.what;
}

/* Line numbers refer to `good` after the edit. */
const Broken broken[] = {
	{"missing service", edit(2, ""), "11: service: missing"},
	{"missing key file", edit(4, ""),
	 "11: key-file: missing: the node channel needs the cluster key (or cert, cert-key and ca)"},
	{"missing member address", edit(21, ""),
	 "20: member.node3.address: missing: every member needs its care-of address"},
	{"no members", good.substr(0, good.find("[member")),
	 "12: member: no [member.NAME] section: the service needs at least one node"},
	{"unknown contact", edit(5, "contact = node9"),
	 "5: contact: 'node9' is not a member (members: node1, node2, node3)"},
	{"unknown backup", edit(7, "backup = nodeX"),
	 "7: backup: 'nodeX' is not a member (members: node1, node2, node3)"},
	{"contact as its own backup", edit(6, "backup = node1"), "6: backup: 'node1' is the contact node itself"},
	{"backup twice", edit(7, "backup = node2"), "7: backup: 'node2' is named twice (first on line 6)"},
	{"bad address", edit(18, "address = fd00:12::2::"),
	 "18: member.node2.address: 'fd00:12::2::' is not an IPv6 address"},
	{"IPv4 address", edit(2, "service = 10.0.0.1"), "2: service: '10.0.0.1' is not an IPv6 address"},
	{"link-local address", edit(3, "home-agent = fe80::1"),
	 "3: home-agent: fe80::1 is not a unicast address of global or unique-local scope"},
	{"multicast address", edit(2, "service = ff02::1"),
	 "2: service: ff02::1 is not a unicast address of global or unique-local scope"},
	{"duplicate member", edit(20, "[member.node1]"), "20: member.node1: defined twice (first on line 13)"},
	{"two members, one address", edit(21, "address = fd00:11::2"),
	 "21: member.node3.address: fd00:11::2 is member node1's already"},
	{"member at G", edit(21, "address = fd00:a::100"),
	 "21: member.node3.address: a care-of address cannot be the service's or the home agent's"},
	{"G at the home agent", edit(3, "home-agent = fd00:a::100"),
	 "3: home-agent: the home agent cannot have G's address"},
	{"unknown key", edit(9, "heartbeat-miss = 4"), "9: heartbeat-miss: unknown key"},
	{"unknown member key", edit(15, "wieght = 3"), "15: member.node1.wieght: unknown key"},
	{"unknown section", edit(17, "[members.node4]"),
	 "17: members.node4: unknown section (members are [member.NAME])"},
	{"bad member name", edit(17, "[member.no de]"),
	 "17: member.no de: a member's name has 1 to 32 letters, digits, '-' or '_'"},
	{"key twice", edit(10, "service = fd00:a::200"), "10: service: given twice (first on line 2)"},
	{"prefix too short", edit(9, "proximity-prefix = 8"), "9: proximity-prefix: '8' is out of range (16 to 128)"},
	{"number out of range", edit(9, "heartbeat-misses = 0"), "9: heartbeat-misses: '0' is out of range (1 to 100)"},
	{"number too large", edit(9, "heartbeat-misses = 99999999999999999999"),
	 "9: heartbeat-misses: '99999999999999999999' is out of range (1 to 100)"},
	{"not a number", edit(15, "weight = heavy"), "15: member.node1.weight: 'heavy' is not a whole number"},
	{"negative", edit(15, "weight = -1"), "15: member.node1.weight: '-1' is not a whole number"},
	{"bad unit", edit(8, "heartbeat-period = 1min"),
	 "8: heartbeat-period: '1min' is not a duration: a whole number of milliseconds, or with 'ms' or 's' "
	 "after it"},
	{"too short", edit(8, "heartbeat-period = 10ms"),
	 "8: heartbeat-period: '10ms' is out of range (50 ms to 60000 ms)"},
	{"unknown member's backup", good + "backup = node9\n",
	 "22: member.node3.backup: 'node9' is not a member (members: node1, node2, node3)"},
	{"its own backup", good + "backup = node3\n", "22: member.node3.backup: a member cannot be its own backup"},
	{"mirrors too often", edit(9, "mirror-period = 10ms"),
	 "9: mirror-period: '10ms' is out of range (100 ms to 60000 ms)"},
	{"lifetime too long", edit(10, "registration-lifetime = 300000"),
	 "10: registration-lifetime: '300000' is out of range (4 s to 262140 s)"},
	{"unknown policy", edit(11, "policy = fastest"),
	 "11: policy: no policy called 'fastest' (there are random, round-robin, least-connections, proximity, "
	 "weighted)"},
	{"key and certificates", edit(4, "key-file = k\ncert = c"),
	 "4: key-file: give the cluster key or certificates, not both"},
	{"half the certificates", edit(4, "cert = c\nca = a"),
	 "13: cert-key: missing: certificates need cert, cert-key and ca"},
	{"not an option line", edit(8, "heartbeat-period 250"),
	 "8: 'heartbeat-period 250': expected 'name = value' or '[section]'"},
	{"no name", edit(8, "= 250"), "8: '= 250': no name before '='"},
	{"open section", edit(13, "[member.node1"), "13: '[member.node1': a section header ends with ']'"},
	{"empty key file name", edit(4, "key-file ="), "4: key-file: a file name is needed"},
	{"port zero", edit(4, "key-file = k\nport = 0"), "5: port: '0' is out of range (1 to 65535)"},
};

INSTANTIATE_TEST_SUITE_P(Config, ClusterBroken, ::testing::ValuesIn(broken),
			 [](const ::testing::TestParamInfo<Broken> &info) {
				 std::string name = info.param.what;
				 std::ranges::replace_if(name, [](char c) { return !std::isalnum(c); }, '_');
				 return name;
			 });

/* load_cluster() with real files: the key file is opened as the node channel will. */
class ClusterFiles : public ::testing::Test {
protected:
	void SetUp() override
	{
		char tmpl[] = "/tmp/gecko-cluster-XXXXXX";
		ASSERT_NE(mkdtemp(tmpl), nullptr);
		dir_ = tmpl;
		conf_ = dir_ + "/gecko.conf";
		std::ofstream(conf_) << good;
	}
	void TearDown() override { fs::remove_all(dir_); }

	void key(mode_t mode)
	{
		auto path = dir_ + "/cluster.key";
		auto text = agent::generate_key();

		ASSERT_TRUE(text);
		std::ofstream(path) << *text << "\n";
		chmod(path.c_str(), mode);
	}

	std::string dir_, conf_;
};

TEST_F(ClusterFiles, LoadsWithItsKey)
{
	key(0600);
	auto c = load_cluster(conf_);

	ASSERT_TRUE(c) << c.error().message;
	EXPECT_EQ(c->security.key_file, dir_ + "/cluster.key");
}

TEST_F(ClusterFiles, RefusesAKeyOthersMayRead)
{
	key(0644);
	auto c = load_cluster(conf_);

	ASSERT_FALSE(c);
	EXPECT_EQ(c.error().code, EPERM);
	EXPECT_TRUE(c.error().message.starts_with(conf_ + ":4: key-file: ")) << c.error().message;
}

TEST_F(ClusterFiles, RefusesAMissingKeyFile)
{
	auto c = load_cluster(conf_);

	ASSERT_FALSE(c);
	EXPECT_EQ(c.error().code, ENOENT);
	EXPECT_TRUE(c.error().message.starts_with(conf_ + ":4: key-file: ")) << c.error().message;
}

TEST_F(ClusterFiles, RefusesAKeyThatIsNotOne)
{
	auto path = dir_ + "/cluster.key";
	std::ofstream(path) << "not base64 at all\n";
	chmod(path.c_str(), 0600);
	auto c = load_cluster(conf_);

	ASSERT_FALSE(c);
	EXPECT_EQ(c.error().code, EINVAL);
	EXPECT_TRUE(c.error().message.starts_with(conf_ + ":4: key-file: ")) << c.error().message;
}

TEST_F(ClusterFiles, SaysWhenTheFileCannotBeRead)
{
	auto c = load_cluster(dir_ + "/none.conf");

	ASSERT_FALSE(c);
	EXPECT_EQ(c.error().code, ENOENT);
	EXPECT_EQ(c.error().message, dir_ + "/none.conf: cannot read: No such file or directory");
}

} // namespace
} // namespace gecko
