// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Needs gecko.ko loaded, so it runs in the VM only:
 *   ctest -C kernel -L kernel   or   build/tests/unit/gecko-kernel-tests
 * Run as root of the network namespace (GENL_UNS_ADMIN_PERM).
 */

#include "netlink.h"

#include <gecko/address.h>
#include <gecko/client.h>
#include <gecko/tcp_state.h>

#include <gtest/gtest.h>

#include <linux/gecko.h>
#include <netlink/attr.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <span>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>

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

std::uint64_t counter(const gecko::Info &info, const std::string &name)
{
	auto it = std::ranges::find(info.counters, name, &gecko::Counter::name);

	if (it == info.counters.end()) {
		ADD_FAILURE() << "no " << name << " counter";
		return 0;
	}
	return it->value;
}

std::uint64_t nl_requests(const gecko::Info &info)
{
	return counter(info, "nl_requests");
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

/* What Client cannot send, through the internal socket. */
class GeckoRequest : public testing::Test {
protected:
	void SetUp() override
	{
		auto sock = gecko::netlink::Socket::open();
		ASSERT_TRUE(sock) << sock.error().describe();
		auto family = sock->resolve(GECKO_GENL_NAME);
		ASSERT_TRUE(family) << family.error().describe();
		sock_.emplace(std::move(*sock));
		family_ = *family;
	}

	gecko::netlink::MessagePtr request(std::uint8_t cmd)
	{
		auto request = gecko::netlink::new_request(family_, cmd, GECKO_GENL_VERSION);

		if (!request) {
			ADD_FAILURE() << request.error().describe();
			return nullptr;
		}
		return std::move(*request);
	}

	std::optional<gecko::netlink::Socket> sock_;
	std::uint16_t family_ = 0;
};

TEST_F(GeckoRequest, ReplyOnlyAttributeIsRefused)
{
	auto msg = request(GECKO_CMD_GET_INFO);
	ASSERT_EQ(nla_put_string(msg.get(), GECKO_A_MODULE_VERSION, "0.1.0"), 0);

	auto reply = sock_->transact(msg.get());

	ASSERT_FALSE(reply);
	EXPECT_EQ(reply.error().code, EINVAL);
	EXPECT_NE(reply.error().message.find("reply-only"), std::string::npos)
		<< reply.error().message;
}

in6_addr addr(const char *text)
{
	return *gecko::parse_address(text);
}

TEST_F(GeckoRequest, UnknownServiceFlagIsRefused)
{
	const in6_addr home = addr("fd00:a::100"), coa = addr("fd00:11::2");
	auto msg = request(GECKO_CMD_SERVICE_SET);
	nlattr *nest = nla_nest_start(msg.get(), GECKO_A_SERVICE);
	ASSERT_EQ(nla_put(msg.get(), GECKO_SERVICE_A_HOME, sizeof(home), &home), 0);
	ASSERT_EQ(nla_put(msg.get(), GECKO_SERVICE_A_COA, sizeof(coa), &coa), 0);
	ASSERT_EQ(nla_put(msg.get(), GECKO_SERVICE_A_CONTACT_COA, sizeof(coa), &coa), 0);
	ASSERT_EQ(nla_put_u32(msg.get(), GECKO_SERVICE_A_FLAGS, __GECKO_SERVICE_F_ALL + 1), 0);
	nla_nest_end(msg.get(), nest);

	auto reply = sock_->transact(msg.get());

	ASSERT_FALSE(reply);
	EXPECT_EQ(reply.error().code, EINVAL);
	EXPECT_FALSE(reply.error().message.empty());
}

/* fd00:c::N, the Nth client. */
in6_addr client(std::uint32_t n)
{
	in6_addr peer = addr("fd00:c::");

	n = htonl(n);
	std::memcpy(&peer.s6_addr[12], &n, sizeof(n));
	return peer;
}

std::string text(const in6_addr &addr)
{
	return gecko::format_address(addr);
}

/* Every test starts and ends with no service, so none sees another's. */
class Services : public GeckoModule {
protected:
	void SetUp() override
	{
		GeckoModule::SetUp();
		if (!HasFatalFailure())
			remove_all();
	}

	void TearDown() override
	{
		if (client_)
			remove_all();
	}

	void remove_all()
	{
		auto services = client_->services();

		ASSERT_TRUE(services) << services.error().describe();
		for (const auto &svc : *services)
			EXPECT_TRUE(client_->del_service(svc.home)) << text(svc.home);
	}

	static gecko::Service service(const char *home = "fd00:a::100")
	{
		return {addr(home), addr("fd00:11::2"), addr("fd00:11::2"), addr("fd00:a::1"), true, 0};
	}

	static gecko::Binding binding(std::uint32_t n, const char *home = "fd00:a::100")
	{
		return {addr(home), client(n), gecko::BindingState::bound, static_cast<std::uint16_t>(n),
			GECKO_BINDING_MAX_LIFETIME};
	}

	void add(const gecko::Service &svc)
	{
		auto done = client_->set_service(svc);

		ASSERT_TRUE(done) << done.error().describe();
	}

	void add(const gecko::Binding &binding)
	{
		auto done = client_->set_binding(binding);

		ASSERT_TRUE(done) << done.error().describe();
	}

	unsigned bindings_of(const char *home)
	{
		auto svc = client_->service(addr(home));

		if (!svc) {
			ADD_FAILURE() << svc.error().describe();
			return 0;
		}
		return svc->bindings;
	}
};

/* Bindings as comparable tuples, sorted, with repeats kept. */
std::multiset<std::tuple<std::string, std::string, int, int>> keys(const std::vector<gecko::Binding> &bindings)
{
	std::multiset<std::tuple<std::string, std::string, int, int>> keys;

	for (const auto &b : bindings)
		keys.emplace(text(b.home), text(b.peer), static_cast<int>(b.state), b.seq);
	return keys;
}

TEST_F(Services, ServiceRoundTrip)
{
	add(service());

	auto svc = client_->service(addr("fd00:a::100"));

	ASSERT_TRUE(svc) << svc.error().describe();
	EXPECT_EQ(text(svc->home), "fd00:a::100");
	EXPECT_EQ(text(svc->coa), "fd00:11::2");
	EXPECT_EQ(text(svc->contact_coa), "fd00:11::2");
	ASSERT_TRUE(svc->ha);
	EXPECT_EQ(text(*svc->ha), "fd00:a::1");
	EXPECT_TRUE(svc->contact);
	EXPECT_EQ(svc->bindings, 0u);
}

TEST_F(Services, ServiceWithoutHaHasNone)
{
	gecko::Service svc{addr("fd00:a::100"), addr("fd00:12::2"), addr("fd00:11::2"), {}, false, 0};
	add(svc);

	auto read = client_->service(svc.home);

	ASSERT_TRUE(read) << read.error().describe();
	EXPECT_FALSE(read->ha);
	EXPECT_FALSE(read->contact);
}

TEST_F(Services, DumpListsServicesInCreationOrder)
{
	add(service("fd00:a::100"));
	add(service("fd00:a::200"));
	add(service("fd00:b::100"));

	auto services = client_->services();

	ASSERT_TRUE(services) << services.error().describe();
	ASSERT_EQ(services->size(), 3u);
	EXPECT_EQ(text((*services)[0].home), "fd00:a::100");
	EXPECT_EQ(text((*services)[1].home), "fd00:a::200");
	EXPECT_EQ(text((*services)[2].home), "fd00:b::100");
}

TEST_F(Services, ReplacingAServiceKeepsItsBindings)
{
	add(service());
	add(binding(1));
	gecko::Service other{addr("fd00:a::100"), addr("fd00:12::2"), addr("fd00:11::2"), {}, false, 0};

	add(other);

	auto svc = client_->service(other.home);
	ASSERT_TRUE(svc) << svc.error().describe();
	EXPECT_EQ(text(svc->coa), "fd00:12::2");
	EXPECT_FALSE(svc->ha);
	EXPECT_FALSE(svc->contact);
	EXPECT_EQ(svc->bindings, 1u);
	auto services = client_->services();
	ASSERT_TRUE(services) << services.error().describe();
	EXPECT_EQ(services->size(), 1u);
}

TEST_F(Services, MissingServiceIsEnoent)
{
	auto svc = client_->service(addr("fd00:a::100"));
	auto del = client_->del_service(addr("fd00:a::100"));

	ASSERT_FALSE(svc);
	EXPECT_EQ(svc.error().code, ENOENT);
	EXPECT_NE(svc.error().message.find("no service for this address"), std::string::npos) << svc.error().message;
	ASSERT_FALSE(del);
	EXPECT_EQ(del.error().code, ENOENT);
}

TEST_F(Services, BindingRoundTrip)
{
	add(service());
	add(gecko::Binding{addr("fd00:a::100"), client(2), gecko::BindingState::bound, 7, 60});

	auto b = client_->binding(addr("fd00:a::100"), client(2));

	ASSERT_TRUE(b) << b.error().describe();
	EXPECT_EQ(text(b->home), "fd00:a::100");
	EXPECT_EQ(text(b->peer), "fd00:c::2");
	EXPECT_EQ(b->state, gecko::BindingState::bound);
	EXPECT_EQ(b->seq, 7);
	/* The seconds left, rounded up: a slow VM may have spent one. */
	EXPECT_GE(b->lifetime, 59u);
	EXPECT_LE(b->lifetime, 60u);
	EXPECT_EQ(bindings_of("fd00:a::100"), 1u);
}

TEST_F(Services, ReplacingABindingChangesItInPlace)
{
	add(service());
	add(binding(2));

	add(gecko::Binding{addr("fd00:a::100"), client(2), gecko::BindingState::pending, 8, 30});

	auto b = client_->binding(addr("fd00:a::100"), client(2));
	ASSERT_TRUE(b) << b.error().describe();
	EXPECT_EQ(b->state, gecko::BindingState::pending);
	EXPECT_EQ(b->seq, 8);
	EXPECT_LE(b->lifetime, 30u);
	EXPECT_EQ(bindings_of("fd00:a::100"), 1u);
}

TEST_F(Services, DeletedBindingIsGone)
{
	add(service());
	add(binding(2));

	auto del = client_->del_binding(addr("fd00:a::100"), client(2));

	ASSERT_TRUE(del) << del.error().describe();
	auto b = client_->binding(addr("fd00:a::100"), client(2));
	ASSERT_FALSE(b);
	EXPECT_EQ(b.error().code, ENOENT);
	auto again = client_->del_binding(addr("fd00:a::100"), client(2));
	ASSERT_FALSE(again);
	EXPECT_EQ(again.error().code, ENOENT);
	EXPECT_EQ(bindings_of("fd00:a::100"), 0u);
}

/* Far more than one dump message holds: nothing may be lost or repeated. */
TEST_F(Services, DumpOfThousandsOfBindingsIsWhole)
{
	constexpr std::uint32_t count = 3000;
	std::vector<gecko::Binding> expected;
	add(service());
	for (std::uint32_t n = 1; n <= count; n++) {
		expected.push_back(binding(n));
		add(expected.back());
	}

	auto bindings = client_->bindings();

	ASSERT_TRUE(bindings) << bindings.error().describe();
	EXPECT_EQ(bindings->size(), count);
	EXPECT_EQ(keys(*bindings), keys(expected));
	EXPECT_EQ(bindings_of("fd00:a::100"), count);
}

TEST_F(Services, SetBindingsSetsThousandsInBatches)
{
	constexpr std::uint32_t count = 3000;	/* 47 batches: 46 of 64, then 56 */
	std::vector<gecko::Binding> expected;
	add(service());
	for (std::uint32_t n = 1; n <= count; n++)
		expected.push_back(binding(n));

	auto done = client_->set_bindings(expected);

	ASSERT_TRUE(done) << done.error().describe();
	auto bindings = client_->bindings();
	ASSERT_TRUE(bindings) << bindings.error().describe();
	EXPECT_EQ(keys(*bindings), keys(expected));
	EXPECT_TRUE(client_->set_bindings({})) << "no binding at all";
}

TEST_F(Services, SetBindingsTriesEachAndNamesTheFirstRefused)
{
	constexpr std::uint32_t count = 100;
	std::vector<gecko::Binding> bindings;
	add(service("fd00:a::100"));
	/* Two without a service, in the first batch and the second: the others are set all the same. */
	for (std::uint32_t n = 1; n <= count; n++)
		bindings.push_back(binding(n, n == 10 || n == 70 ? "fd00:b::100" : "fd00:a::100"));

	auto done = client_->set_bindings(bindings);

	ASSERT_FALSE(done);
	EXPECT_EQ(done.error().code, ENOENT);
	const std::string &message = done.error().message;
	EXPECT_NE(message.find("no service for this address"), std::string::npos) << message;
	EXPECT_NE(message.find("(the binding of " + text(client(10)) + " to fd00:b::100, 2 of 100 refused)"),
		  std::string::npos)
		<< message;
	/* Answered by libnl's own exchanges: the socket is in step for them. */
	EXPECT_EQ(bindings_of("fd00:a::100"), count - 2);
	add(binding(count + 1));
}

TEST_F(Services, DumpFiltersByHome)
{
	add(service("fd00:a::100"));
	add(service("fd00:b::100"));
	for (std::uint32_t n = 1; n <= 2; n++)
		add(binding(n, "fd00:a::100"));
	for (std::uint32_t n = 1; n <= 3; n++)
		add(binding(n, "fd00:b::100"));

	auto a = client_->bindings(addr("fd00:a::100"));
	auto b = client_->bindings(addr("fd00:b::100"));
	auto all = client_->bindings();
	auto none = client_->bindings(addr("fd00:d::100"));

	ASSERT_TRUE(a) << a.error().describe();
	EXPECT_EQ(keys(*a), keys({binding(1, "fd00:a::100"), binding(2, "fd00:a::100")}));
	ASSERT_TRUE(b) << b.error().describe();
	EXPECT_EQ(b->size(), 3u);
	EXPECT_TRUE(std::ranges::all_of(*b, [](const auto &x) { return text(x.home) == "fd00:b::100"; }));
	ASSERT_TRUE(all) << all.error().describe();
	EXPECT_EQ(all->size(), 5u);
	ASSERT_TRUE(none) << none.error().describe();
	EXPECT_TRUE(none->empty());
}

TEST_F(Services, DeletingAServiceDropsItsBindingsOnly)
{
	add(service("fd00:a::100"));
	add(service("fd00:b::100"));
	for (std::uint32_t n = 1; n <= 3; n++) {
		add(binding(n, "fd00:a::100"));
		add(binding(n, "fd00:b::100"));
	}

	auto del = client_->del_service(addr("fd00:a::100"));

	ASSERT_TRUE(del) << del.error().describe();
	auto gone = client_->bindings(addr("fd00:a::100"));
	ASSERT_TRUE(gone) << gone.error().describe();
	EXPECT_TRUE(gone->empty());
	auto b = client_->binding(addr("fd00:a::100"), client(1));
	ASSERT_FALSE(b);
	EXPECT_EQ(b.error().code, ENOENT);
	auto kept = client_->bindings(addr("fd00:b::100"));
	ASSERT_TRUE(kept) << kept.error().describe();
	EXPECT_EQ(kept->size(), 3u);
	/* A new service for the same G starts without the old bindings. */
	add(service("fd00:a::100"));
	EXPECT_EQ(bindings_of("fd00:a::100"), 0u);
}

TEST_F(Services, BindingWithoutServiceIsEnoent)
{
	auto done = client_->set_binding(binding(1));

	ASSERT_FALSE(done);
	EXPECT_EQ(done.error().code, ENOENT);
	EXPECT_NE(done.error().message.find("no service for this address"), std::string::npos)
		<< done.error().message;
}

class Lifetime : public Services, public testing::WithParamInterface<std::uint32_t> {};

/* The policy's range refuses it, with ERANGE as every NLA_POLICY_RANGE does. */
TEST_P(Lifetime, OutOfRangeIsErange)
{
	add(service());
	auto b = binding(1);
	b.lifetime = GetParam();

	auto done = client_->set_binding(b);

	ASSERT_FALSE(done);
	EXPECT_EQ(done.error().code, ERANGE);
	EXPECT_EQ(done.error().message, "integer out of range");
}

INSTANTIATE_TEST_SUITE_P(Bounds, Lifetime, testing::Values(0u, GECKO_BINDING_MAX_LIFETIME + 1u));

/* An address a service or binding cannot use, and where. */
struct Unusable {
	const char *name;
	gecko::Service svc;
	std::optional<gecko::Binding> binding;	/* set after svc, which is then good */
};

const Unusable unusable[] = {
	{"link_local_home", {addr("fe80::100"), addr("fd00:11::2"), addr("fd00:11::2"), {}, false, 0}, {}},
	{"multicast_coa", {addr("fd00:a::100"), addr("ff02::1"), addr("fd00:11::2"), {}, false, 0}, {}},
	{"loopback_contact_coa", {addr("fd00:a::100"), addr("fd00:11::2"), addr("::1"), {}, false, 0}, {}},
	{"unspecified_ha", {addr("fd00:a::100"), addr("fd00:11::2"), addr("fd00:11::2"), addr("::"), true, 0}, {}},
	{"link_local_peer",
	 {addr("fd00:a::100"), addr("fd00:11::2"), addr("fd00:11::2"), {}, false, 0},
	 gecko::Binding{addr("fd00:a::100"), addr("fe80::2"), gecko::BindingState::bound, 1, 60}},
};

class UnusableAddress : public Services, public testing::WithParamInterface<Unusable> {};

TEST_P(UnusableAddress, IsEinvalSayingWhy)
{
	auto done = client_->set_service(GetParam().svc);
	if (GetParam().binding) {
		ASSERT_TRUE(done) << done.error().describe();
		done = client_->set_binding(*GetParam().binding);
	}

	ASSERT_FALSE(done);
	EXPECT_EQ(done.error().code, EINVAL);
	EXPECT_EQ(done.error().message, "not a global or unique-local unicast address");
}

INSTANTIATE_TEST_SUITE_P(Cases, UnusableAddress, testing::ValuesIn(unusable),
			 [](const auto &info) { return std::string(info.param.name); });

/* Lookups hide it at once; the periodic collection (every 2 s) frees and counts it. */
TEST_F(Services, ExpiredBindingIsCollectedAndCounted)
{
	auto before = counter(get_info(), "bindings_expired");
	add(service());
	auto b = binding(1);
	b.lifetime = 1;
	add(b);

	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
	while (bindings_of("fd00:a::100") > 0 && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(100));

	EXPECT_EQ(bindings_of("fd00:a::100"), 0u);
	EXPECT_FALSE(client_->binding(b.home, b.peer));
	EXPECT_EQ(counter(get_info(), "bindings_expired"), before + 1);
}

/*
 * Bindings of another service come and go while this one's are dumped:
 * the dump must come back whole, or fail with EINTR if it never could.
 */
TEST_F(Services, DumpDuringChangesIsWholeOrEintr)
{
	constexpr std::uint32_t count = 3000;
	std::vector<gecko::Binding> expected;
	add(service("fd00:a::100"));
	add(service("fd00:b::100"));
	for (std::uint32_t n = 1; n <= count; n++) {
		expected.push_back(binding(n));
		add(expected.back());
	}
	std::atomic<bool> stop = false;
	std::thread churn([&] {
		auto other = gecko::Client::open();
		for (std::uint32_t n = 1; other && !stop; n++) {
			(void)other->set_binding(binding(n % 100 + 1, "fd00:b::100"));
			(void)other->del_binding(addr("fd00:b::100"), client((n + 50) % 100 + 1));
		}
	});

	auto bindings = client_->bindings(addr("fd00:a::100"));
	stop = true;
	churn.join();

	if (!bindings) {
		EXPECT_EQ(bindings.error().code, EINTR) << bindings.error().describe();
		EXPECT_NE(bindings.error().message.find("interrupted"), std::string::npos);
		return;
	}
	EXPECT_EQ(keys(*bindings), keys(expected));
}


/*
 * The socket commands on loopback: G on lo, a connection from G to G, the
 * server's end frozen, captured, dropped, restored on a new socket and
 * thawed, its queues full both ways, while the other end never stops.
 */
class Sockets : public Services {
protected:
	/* One port per test: the previous test's connections may still be closing. */
	static inline std::uint16_t next_port = 7999;
	const std::uint16_t port = next_port++;

	void SetUp() override
	{
		Services::SetUp();
		if (HasFatalFailure())
			return;
		ASSERT_EQ(std::system("ip link set lo up && ip -6 addr replace fd00:a::100/128 dev lo nodad"), 0);
		add(service());
	}

	static int tcp(const char *bind_to = nullptr, std::uint16_t bind_port = 0)
	{
		int fd = socket(AF_INET6, SOCK_STREAM, 0);
		if (fd >= 0 && bind_to) {
			int one = 1;
			sockaddr_in6 sa{};
			sa.sin6_family = AF_INET6;
			sa.sin6_port = htons(bind_port);
			sa.sin6_addr = addr(bind_to);
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)))
				ADD_FAILURE() << "bind: " << std::strerror(errno);
		}
		return fd;
	}

	/* A connection to @to: the client's end in @client, the server's in @server. */
	void connect_pair(const char *to, int &client, int &server)
	{
		int listener = tcp(to, port);
		sockaddr_in6 sa{};
		sa.sin6_family = AF_INET6;
		sa.sin6_port = htons(port);
		sa.sin6_addr = addr(to);
		ASSERT_EQ(listen(listener, 1), 0);
		client = tcp();
		ASSERT_EQ(connect(client, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)), 0) << std::strerror(errno);
		server = accept(listener, nullptr, nullptr);
		ASSERT_GE(server, 0);
		close(listener);
	}

	static std::vector<std::byte> pattern(std::size_t len, unsigned seed)
	{
		std::vector<std::byte> out(len);
		for (std::size_t i = 0; i < len; i++)
			out[i] = static_cast<std::byte>((i * 131 + seed) % 251);
		return out;
	}

	/* Writes what fits now, without waiting. */
	static std::size_t fill(int fd, std::span<const std::byte> data)
	{
		std::size_t done = 0;
		while (done < data.size()) {
			auto n = send(fd, data.data() + done, data.size() - done, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n <= 0)
				break;
			done += static_cast<std::size_t>(n);
		}
		return done;
	}

	/* Freezes @fd and captures it: the whole state in @state, its header in @st. */
	void capture(int fd, std::vector<std::byte> &state, gecko::TcpState &st)
	{
		ASSERT_TRUE(client_->freeze_socket(fd));
		auto captured = client_->capture_socket(fd);
		ASSERT_TRUE(captured) << captured.error().describe();
		auto hdr = gecko::parse_tcp_state(*captured);
		ASSERT_TRUE(hdr) << hdr.error().describe();
		state = std::move(*captured);
		st = *hdr;
	}

	static std::vector<std::byte> read_exactly(int fd, std::size_t len)
	{
		std::vector<std::byte> out(len);
		std::size_t done = 0;
		while (done < len) {
			auto n = recv(fd, out.data() + done, len - done, 0);
			if (n <= 0) {
				ADD_FAILURE() << "recv after " << done << " octets: " << (n ? std::strerror(errno) : "end");
				break;
			}
			done += static_cast<std::size_t>(n);
		}
		out.resize(done);
		return out;
	}
};

TEST_F(Sockets, HandedOffConnectionKeepsBothStreams)
{
	int client = -1, server = -1;
	connect_pair("fd00:a::100", client, server);
	ASSERT_FALSE(HasFatalFailure());

	/* Unread data on the server's side; more to send than the client takes in. */
	auto up = pattern(100000, 1);
	ASSERT_EQ(fill(client, up), up.size());
	auto down = pattern(8 << 20, 2);
	std::size_t queued = fill(server, down);
	ASSERT_GT(queued, 0u);
	std::this_thread::sleep_for(std::chrono::milliseconds(200));

	std::vector<std::byte> state;
	gecko::TcpState st;
	capture(server, state, st);
	ASSERT_FALSE(HasFatalFailure());
	/* What the window let through; the rest waits in the client's queue. */
	EXPECT_GT(st.inq_len, 0u);
	EXPECT_EQ(st.bytes_received, st.inq_len);
	EXPECT_EQ(st.bytes_sent, queued);
	EXPECT_GT(st.outq_len, 0u);
	EXPECT_EQ(st.local_port, port);

	auto flows = client_->flows();
	ASSERT_TRUE(flows) << flows.error().describe();
	ASSERT_EQ(flows->size(), 1u);
	EXPECT_EQ((*flows)[0].state, gecko::FlowState::frozen);

	ASSERT_TRUE(client_->drop_socket(server));
	close(server);
	int restored = tcp();
	auto ok = client_->restore_socket(restored, state);
	ASSERT_TRUE(ok) << ok.error().describe();
	flows = client_->flows();
	ASSERT_TRUE(flows && flows->size() == 1u);
	EXPECT_EQ((*flows)[0].state, gecko::FlowState::restored);
	ok = client_->thaw_socket(restored);
	ASSERT_TRUE(ok) << ok.error().describe();

	/* The restored end reads what the donor had not, and the client gets every octet once. */
	EXPECT_EQ(read_exactly(restored, up.size()), up);
	std::thread writer([&] {
		auto rest = std::span(down).subspan(queued);
		for (std::size_t done = 0; done < rest.size();) {
			auto n = send(restored, rest.data() + done, rest.size() - done, MSG_NOSIGNAL);
			if (n <= 0)
				break;
			done += static_cast<std::size_t>(n);
		}
	});
	auto got = read_exactly(client, down.size());
	writer.join();
	EXPECT_TRUE(got == down) << "the download differs";

	/* The offsets count from the connection's start, not from the handoff. */
	sockaddr_in6 peer{};
	socklen_t len = sizeof(peer);
	ASSERT_EQ(getsockname(client, reinterpret_cast<sockaddr *>(&peer), &len), 0);
	auto snapped = client_->snapshot_socket(addr("fd00:a::100"), port, addr("fd00:a::100"), ntohs(peer.sin6_port));
	ASSERT_TRUE(snapped) << snapped.error().describe();
	auto snap = gecko::parse_tcp_state(*snapped);
	ASSERT_TRUE(snap) << snap.error().describe();
	EXPECT_TRUE(snap->flags & gecko::TcpState::snapshot);
	EXPECT_EQ(snap->bytes_received, up.size());
	EXPECT_EQ(snap->bytes_sent, down.size());
	EXPECT_EQ(snap->outq_len, 0u);
	close(restored);
	close(client);
}

/*
 * What the donor's application wrote and its kernel never sent, then its
 * FIN, reach the client from the restored socket, at once at the thaw,
 * even when the acceptor's send buffer is far smaller than that.
 */
TEST_F(Sockets, UnsentOctetsAndFinPassTheBufferSize)
{
	int client = -1, server = -1;
	connect_pair("fd00:a::100", client, server);
	ASSERT_FALSE(HasFatalFailure());

	auto down = pattern(4 << 20, 4);
	std::size_t queued = fill(server, down);
	ASSERT_EQ(shutdown(server, SHUT_WR), 0);
	std::this_thread::sleep_for(std::chrono::milliseconds(200));
	std::vector<std::byte> state;
	gecko::TcpState st;
	capture(server, state, st);
	ASSERT_FALSE(HasFatalFailure());
	ASSERT_TRUE(st.flags & gecko::TcpState::fin_out);
	ASSERT_GT(st.unsq_len, 64u << 10) << "the client's window let everything through";
	ASSERT_TRUE(client_->drop_socket(server));
	close(server);

	/* The donor's send buffer, as the acceptor takes it: 16 KB (UAPI offset 124). */
	constexpr std::uint32_t small = 16 << 10;
	for (int i = 0; i < 4; i++)
		state[124 + i] = static_cast<std::byte>(small >> (24 - 8 * i));
	int restored = tcp();
	auto ok = client_->restore_socket(restored, state);
	ASSERT_TRUE(ok) << ok.error().describe();
	ok = client_->thaw_socket(restored);
	ASSERT_TRUE(ok) << ok.error().describe();

	std::vector<std::byte> rest(down.begin(), down.begin() + static_cast<std::ptrdiff_t>(queued));
	EXPECT_TRUE(read_exactly(client, queued) == rest) << "the download differs";
	char end;
	EXPECT_EQ(recv(client, &end, 1, 0), 0) << "no FIN after the donor's octets";
	close(restored);
	close(client);
}

TEST_F(Sockets, FrozenConnectionThawsWhereItWas)
{
	int client = -1, server = -1;
	connect_pair("fd00:a::100", client, server);
	ASSERT_FALSE(HasFatalFailure());

	ASSERT_TRUE(client_->freeze_socket(server));
	auto msg = pattern(1000, 3);
	ASSERT_EQ(fill(client, msg), msg.size());
	std::this_thread::sleep_for(std::chrono::milliseconds(100));
	EXPECT_GT(counter(get_info(), "flow_held"), 0u) << "the client's segment reached a frozen socket";
	ASSERT_TRUE(client_->thaw_socket(server));
	EXPECT_EQ(read_exactly(server, msg.size()), msg);
	EXPECT_GT(counter(get_info(), "flow_reinjected"), 0u);
	close(server);
	close(client);
}

TEST_F(Sockets, RefusalsSayWhy)
{
	int client = -1, server = -1;
	connect_pair("fd00:a::100", client, server);
	ASSERT_FALSE(HasFatalFailure());

	auto expect_error = [](const gecko::Result<void> &r, int code, const char *words) {
		ASSERT_FALSE(r);
		EXPECT_EQ(r.error().code, code) << r.error().describe();
		EXPECT_NE(r.error().message.find(words), std::string::npos) << r.error().describe();
	};
	int udp = socket(AF_INET6, SOCK_DGRAM, 0);
	expect_error(client_->freeze_socket(udp), EPROTOTYPE, "not an IPv6 TCP socket");
	close(udp);
	expect_error(client_->freeze_socket(1000), EBADF, "not a socket of the calling process");
	expect_error(client_->thaw_socket(server), ENOENT, "neither frozen nor being restored");
	ASSERT_TRUE(client_->freeze_socket(server));
	expect_error(client_->freeze_socket(server), EBUSY, "repair mode already");
	auto state = client_->capture_socket(server);
	ASSERT_TRUE(state) << state.error().describe();

	int bound = tcp("fd00:a::100", 0);
	expect_error(client_->restore_socket(bound, *state), EISCONN, "must be new");
	close(bound);
	/* The donor's socket still holds the connection. */
	int fresh = tcp();
	expect_error(client_->restore_socket(fresh, *state), EEXIST, "frozen or being restored here already");
	close(fresh);
	ASSERT_TRUE(client_->thaw_socket(server));
	close(server);
	close(client);
}

/* What the client's end sees now, without waiting: EAGAIN while its peer says nothing. */
int pending_error(int fd)
{
	char c;

	if (recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) >= 0)
		return 0;
	return errno;
}

/* The error a socket reports to its owner (SO_ERROR). */
int socket_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return errno;
	return err;
}

std::optional<gecko::Flow> flow_of(gecko::Client &client, std::uint16_t local_port)
{
	auto flows = client.flows();

	if (!flows) {
		ADD_FAILURE() << flows.error().describe();
		return std::nullopt;
	}
	auto it = std::ranges::find(*flows, local_port, &gecko::Flow::local_port);
	if (it == flows->end())
		return std::nullopt;
	return *it;
}

/* Committed or not, what the module does with a frozen socket at its deadline. */
class Deadline : public Sockets, public testing::WithParamInterface<bool> {};

TEST_P(Deadline, FrozenIsThawedCommittedIsDroppedSilently)
{
	const bool committed = GetParam();
	int client = -1, server = -1;
	connect_pair("fd00:a::100", client, server);
	ASSERT_FALSE(HasFatalFailure());
	auto expired = counter(get_info(), "flow_expired");

	/* Arrange */
	ASSERT_TRUE(client_->freeze_socket(server, std::chrono::milliseconds(committed ? 10000 : 300)));
	if (committed) {
		auto ok = client_->commit_socket(server, std::chrono::milliseconds(300));
		ASSERT_TRUE(ok) << ok.error().describe();
		auto flow = flow_of(*client_, port);
		ASSERT_TRUE(flow);
		EXPECT_EQ(flow->state, gecko::FlowState::committed);
		EXPECT_LE(flow->timeout_left, std::chrono::milliseconds(300));
	}

	/* Act: the deadline passes. */
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
	while (counter(get_info(), "flow_expired") == expired && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(50));

	/* Assert */
	EXPECT_EQ(counter(get_info(), "flow_expired"), expired + 1);
	auto flow = flow_of(*client_, port);
	if (committed) {
		/* Dropped: its owner hears ECONNABORTED, the client nothing at all. */
		ASSERT_TRUE(flow);
		EXPECT_EQ(flow->state, gecko::FlowState::moved);
		EXPECT_EQ(socket_error(server), ECONNABORTED);
		EXPECT_EQ(pending_error(client), EAGAIN);
	} else {
		/* Thawed: the donor serves on. */
		EXPECT_FALSE(flow);
		auto msg = pattern(100, 5);
		ASSERT_EQ(fill(client, msg), msg.size());
		EXPECT_EQ(read_exactly(server, msg.size()), msg);
	}
	close(server);
	close(client);
}

INSTANTIATE_TEST_SUITE_P(Commit, Deadline, testing::Bool(),
			 [](const auto &info) { return info.param ? "committed" : "frozen"; });

/* The acceptor gave the connection up: the donor's owner thaws it, committed or not. */
TEST_F(Sockets, CommittedSocketIsThawedByItsOwner)
{
	int client = -1, server = -1;
	connect_pair("fd00:a::100", client, server);
	ASSERT_FALSE(HasFatalFailure());

	ASSERT_TRUE(client_->freeze_socket(server));
	auto msg = pattern(1000, 6);
	ASSERT_EQ(fill(client, msg), msg.size());
	ASSERT_TRUE(client_->commit_socket(server, std::chrono::seconds(10)));
	auto ok = client_->thaw_socket(server);

	ASSERT_TRUE(ok) << ok.error().describe();
	EXPECT_FALSE(flow_of(*client_, port));
	EXPECT_EQ(read_exactly(server, msg.size()), msg);
	close(server);
	close(client);
}

/*
 * Passed on from the commit: a copy of each packet held goes to the
 * acceptor at once, and of each held later as it comes; the packets stay
 * held, so that a thaw here (the acceptor gave the connection up) loses
 * nothing. (The copies go to G itself here, which takes nothing out of a
 * tunnel: what a real acceptor does with them the handoff scenarios show.)
 */
class PassingOn : public Sockets {
protected:
	const in6_addr acceptor = addr("fd00:a::100");
	int client = -1, server = -1;
	std::uint64_t held0 = 0, forwarded0 = 0;

	void SetUp() override
	{
		Sockets::SetUp();
		if (HasFatalFailure())
			return;
		connect_pair("fd00:a::100", client, server);
		ASSERT_FALSE(HasFatalFailure());
		/* Each write its own segment, at once. */
		int one = 1;
		ASSERT_EQ(setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
		ASSERT_TRUE(client_->freeze_socket(server));
		auto info = get_info();
		held0 = counter(info, "flow_held");
		forwarded0 = counter(info, "flow_forwarded");
	}

	void TearDown() override
	{
		close(server);
		close(client);
		Sockets::TearDown();
	}

	/* Packets held since the freeze, and copies passed on, once both counters agree (1 s at most). */
	std::pair<std::uint64_t, std::uint64_t> held_and_copied(std::uint64_t at_least)
	{
		std::uint64_t held = 0, copied = 0;
		auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
		do {
			auto info = get_info();
			held = counter(info, "flow_held") - held0;
			copied = counter(info, "flow_forwarded") - forwarded0;
			if (held >= at_least && held == copied)
				break;
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
		} while (std::chrono::steady_clock::now() < deadline);
		return {held, copied};
	}

	void send_held(std::span<const std::byte> msg)
	{
		auto before = counter(get_info(), "flow_held");
		ASSERT_EQ(fill(client, msg), msg.size());
		auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
		while (counter(get_info(), "flow_held") == before && std::chrono::steady_clock::now() < deadline)
			std::this_thread::sleep_for(std::chrono::milliseconds(5));
		ASSERT_GT(counter(get_info(), "flow_held"), before) << "the segment was not held";
	}
};

TEST_F(PassingOn, CopiesGoFromTheCommitAndThePacketsStayForAThaw)
{
	auto first = pattern(1000, 8);
	send_held(first);
	ASSERT_FALSE(HasFatalFailure());
	ASSERT_EQ(counter(get_info(), "flow_forwarded"), forwarded0) << "passed on before the commit";

	/* Act: the acceptor restored the connection. */
	auto ok = client_->commit_socket(server, std::chrono::seconds(10), acceptor);

	/* Assert: a copy of each went, the packets stay. */
	ASSERT_TRUE(ok) << ok.error().describe();
	auto [held, copied] = held_and_copied(1);
	EXPECT_EQ(copied, held);
	auto flow = flow_of(*client_, port);
	ASSERT_TRUE(flow);
	EXPECT_EQ(flow->state, gecko::FlowState::committed);
	EXPECT_GE(flow->held, 1u);
	ASSERT_TRUE(flow->forward);
	EXPECT_EQ(std::memcmp(&*flow->forward, &acceptor, sizeof(acceptor)), 0);

	/* What comes later is held, and copied as it comes. */
	auto second = pattern(500, 9);
	send_held(second);
	ASSERT_FALSE(HasFatalFailure());
	std::tie(held, copied) = held_and_copied(2);
	EXPECT_EQ(copied, held);

	/* Once is enough: committed again, nothing is sent twice. Another acceptor is refused. */
	ok = client_->commit_socket(server, std::chrono::seconds(10), acceptor);
	ASSERT_TRUE(ok) << ok.error().describe();
	std::tie(held, copied) = held_and_copied(2);
	EXPECT_EQ(copied, held);
	for (bool drop : {false, true}) {
		auto r = drop ? client_->drop_socket(server, addr("fd00:a::200"))
			      : client_->commit_socket(server, std::chrono::seconds(10), addr("fd00:a::200"));
		ASSERT_FALSE(r) << (drop ? "drop" : "commit");
		EXPECT_EQ(r.error().code, EBUSY) << r.error().describe();
		EXPECT_NE(r.error().message.find("another acceptor"), std::string::npos) << r.error().describe();
	}

	/* The acceptor gave it up: thawed here, every octet read once, in order. */
	ok = client_->thaw_socket(server);
	ASSERT_TRUE(ok) << ok.error().describe();
	auto both = first;
	both.insert(both.end(), second.begin(), second.end());
	EXPECT_EQ(read_exactly(server, both.size()), both);
}

/* Passed on, then dropped: what it held went already and is not sent again; what comes later is. */
TEST_F(PassingOn, DropSendsNothingTwice)
{
	send_held(pattern(1000, 10));
	ASSERT_FALSE(HasFatalFailure());
	ASSERT_TRUE(client_->commit_socket(server, std::chrono::seconds(10), acceptor));
	auto [held, copied] = held_and_copied(1);
	ASSERT_EQ(copied, held);
	auto dropped = counter(get_info(), "flow_held_dropped");

	auto ok = client_->drop_socket(server, acceptor);

	ASSERT_TRUE(ok) << ok.error().describe();
	auto info = get_info();
	EXPECT_EQ(counter(info, "flow_forwarded") - forwarded0, copied);
	EXPECT_EQ(counter(info, "flow_held_dropped"), dropped);
	auto flow = flow_of(*client_, port);
	ASSERT_TRUE(flow);
	EXPECT_EQ(flow->state, gecko::FlowState::moved);
	EXPECT_EQ(flow->held, 0u);
	ASSERT_TRUE(flow->forward);
	EXPECT_EQ(std::memcmp(&*flow->forward, &acceptor, sizeof(acceptor)), 0);
	/* The client, unanswered, sends its segment again: it goes on. */
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
	while (counter(get_info(), "flow_forwarded") - forwarded0 == copied &&
	       std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
	EXPECT_GT(counter(get_info(), "flow_forwarded") - forwarded0, copied);
}

TEST_F(Sockets, CommitNeedsAFrozenSocket)
{
	int client = -1, server = -1;
	connect_pair("fd00:a::100", client, server);
	ASSERT_FALSE(HasFatalFailure());

	auto r = client_->commit_socket(server, std::chrono::seconds(1));

	ASSERT_FALSE(r);
	EXPECT_EQ(r.error().code, ENOENT) << r.error().describe();
	EXPECT_NE(r.error().message.find("neither frozen nor being restored"), std::string::npos);
	close(server);
	close(client);
}

/*
 * A restore fed in pieces of any size, one longer than a message carries,
 * naming the donor: the flow shows it, and stays ARRIVED after the thaw.
 */
TEST_F(Sockets, RestoreInPiecesFromADonor)
{
	const in6_addr donor = addr("fd00:11::2");
	int client = -1, server = -1;
	connect_pair("fd00:a::100", client, server);
	ASSERT_FALSE(HasFatalFailure());
	auto up = pattern(150000, 7);
	ASSERT_EQ(fill(client, up), up.size());
	std::this_thread::sleep_for(std::chrono::milliseconds(200));
	std::vector<std::byte> state;
	gecko::TcpState st;
	capture(server, state, st);
	ASSERT_FALSE(HasFatalFailure());
	ASSERT_GT(st.inq_len, std::uint32_t{GECKO_SOCK_DATA_MAX});
	ASSERT_TRUE(client_->drop_socket(server));
	close(server);

	int restored = tcp();
	auto all = std::span<const std::byte>(state);
	auto ok = client_->restore_socket_begin(restored, all.first(st.hdr_len), std::chrono::seconds(10), donor);
	ASSERT_TRUE(ok) << ok.error().describe();
	auto flow = flow_of(*client_, port);
	ASSERT_TRUE(flow);
	EXPECT_EQ(flow->state, gecko::FlowState::restoring);
	ASSERT_TRUE(flow->donor);
	EXPECT_EQ(text(*flow->donor), "fd00:11::2");
	auto queues = all.subspan(st.hdr_len);
	for (auto piece : {queues.first(1), queues.subspan(1, GECKO_SOCK_DATA_MAX + 10),
			   queues.subspan(GECKO_SOCK_DATA_MAX + 11)}) {
		ok = client_->restore_socket_data(restored, piece);
		ASSERT_TRUE(ok) << ok.error().describe();
	}
	EXPECT_EQ(flow_of(*client_, port)->state, gecko::FlowState::restored);
	ok = client_->thaw_socket(restored);
	ASSERT_TRUE(ok) << ok.error().describe();

	flow = flow_of(*client_, port);
	ASSERT_TRUE(flow) << "no flow left for the donor's packets";
	EXPECT_EQ(flow->state, gecko::FlowState::arrived);
	EXPECT_EQ(flow->held, 0u);
	EXPECT_GT(flow->timeout_left, std::chrono::seconds(20));
	EXPECT_EQ(read_exactly(restored, up.size()), up);
	/* It blocks nothing: the restored end answers. */
	auto down = pattern(1000, 8);
	ASSERT_EQ(fill(restored, down), down.size());
	EXPECT_EQ(read_exactly(client, down.size()), down);
	close(restored);
	close(client);
}

/*
 * A recovery: the server's socket goes without a word after a snapshot that
 * the connection has since moved past. Probed, the client tells where it
 * stands; a socket restored from the snapshot starts there, its counters
 * saying what the client has and what it sent, and both streams go on.
 */
TEST_F(Sockets, CrashedConnectionRecoversFromASnapshot)
{
	const in6_addr g = addr("fd00:a::100");
	int client = -1, server = -1;
	connect_pair("fd00:a::100", client, server);
	ASSERT_FALSE(HasFatalFailure());
	sockaddr_in6 peer{};
	socklen_t len = sizeof(peer);
	ASSERT_EQ(getsockname(client, reinterpret_cast<sockaddr *>(&peer), &len), 0);
	const std::uint16_t client_port = ntohs(peer.sin6_port);
	auto up = pattern(30000, 1), down = pattern(50000, 2);
	auto exchange = [&](std::size_t up_from, std::size_t up_to, std::size_t down_from, std::size_t down_to) {
		auto u = std::span(up).subspan(up_from, up_to - up_from);
		auto d = std::span(down).subspan(down_from, down_to - down_from);
		ASSERT_EQ(fill(client, u), u.size());
		ASSERT_EQ(fill(server, d), d.size());
		EXPECT_TRUE(std::ranges::equal(read_exactly(server, u.size()), u));
		EXPECT_TRUE(std::ranges::equal(read_exactly(client, d.size()), d));
	};

	/* Arrange: a snapshot, then traffic it does not know of, all acknowledged. */
	exchange(0, 10000, 0, 20000);
	auto snapshot = client_->snapshot_socket(g, port, g, client_port);
	ASSERT_TRUE(snapshot) << snapshot.error().describe();
	auto snap = gecko::parse_tcp_state(*snapshot);
	ASSERT_TRUE(snap) << snap.error().describe();
	exchange(10000, 30000, 20000, 50000);
	std::this_thread::sleep_for(std::chrono::milliseconds(100));
	ASSERT_TRUE(client_->freeze_socket(server));
	ASSERT_TRUE(client_->drop_socket(server));
	close(server);
	int restored = tcp();
	auto refused = client_->restore_socket(restored, *snapshot);
	ASSERT_FALSE(refused) << "a snapshot was restored before its client answered a probe";
	EXPECT_EQ(refused.error().code, ENOENT);
	EXPECT_NE(refused.error().describe().find("probe the connection"), std::string::npos)
		<< refused.error().describe();
	auto answers = counter(get_info(), "probe_answers");
	/* A flow made probing with no segment: nothing sent, no answer, and the snapshot still waits. */
	auto sent = counter(get_info(), "probes_sent");
	auto guarded = client_->probe_socket(g, port, g, client_port, std::nullopt, std::chrono::seconds(10));
	ASSERT_TRUE(guarded) << guarded.error().describe();
	auto quiet = flow_of(*client_, port);
	ASSERT_TRUE(quiet && quiet->probe) << "no probing flow";
	EXPECT_EQ(quiet->state, gecko::FlowState::probing);
	EXPECT_EQ(quiet->probe->sent, 0u);
	EXPECT_FALSE(quiet->probe->answer);
	EXPECT_EQ(counter(get_info(), "probes_sent"), sent);
	EXPECT_EQ(client_->restore_socket(restored, *snapshot).error().code, ENOENT);

	/* Act: the probe, from the snapshot's numbers and an old timestamp PAWS refuses, then the restore. */
	gecko::ProbeSegment probe;
	probe.seq = snap->write_seq - snap->outq_len - (1U << 30);
	probe.ack = snap->rcv_nxt;
	if (snap->flags & gecko::TcpState::timestamps) {
		probe.tsval = snap->ts_val;
		probe.tsecr = 0;
	}
	auto probed = client_->probe_socket(g, port, g, client_port, probe, std::chrono::seconds(10));
	ASSERT_TRUE(probed) << probed.error().describe();
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
	while (counter(get_info(), "probe_answers") == answers && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	auto flow = flow_of(*client_, port);
	ASSERT_TRUE(flow && flow->probe && flow->probe->answer) << "the client did not answer";
	EXPECT_EQ(flow->probe->answer->seq, snap->rcv_nxt + 20000);
	EXPECT_EQ(flow->probe->answer->ack, snap->write_seq + 30000);
	auto ok = client_->restore_socket(restored, *snapshot);
	ASSERT_TRUE(ok) << ok.error().describe();
	EXPECT_EQ(flow_of(*client_, port)->state, gecko::FlowState::restored);

	/* Assert: both ways on, the counters (TCP_INFO's) from the connection's start. */
	ok = client_->thaw_socket(restored);
	ASSERT_TRUE(ok) << ok.error().describe();
	auto arrived = flow_of(*client_, port);
	ASSERT_TRUE(arrived) << "a recovered connection keeps its flow: what its client acknowledges past it is lowered";
	EXPECT_EQ(arrived->state, gecko::FlowState::arrived);
	auto now = client_->snapshot_socket(g, port, g, client_port);
	ASSERT_TRUE(now) << now.error().describe();
	auto counts = gecko::parse_tcp_state(*now);
	ASSERT_TRUE(counts) << counts.error().describe();
	EXPECT_EQ(counts->bytes_sent, down.size()) << "what the client has";
	EXPECT_EQ(counts->bytes_received, up.size()) << "what the client sent";
	auto more_down = pattern(70000, 3), more_up = pattern(40000, 4);
	ASSERT_EQ(fill(restored, more_down), more_down.size());
	EXPECT_EQ(read_exactly(client, more_down.size()), more_down);
	ASSERT_EQ(fill(client, more_up), more_up.size());
	EXPECT_EQ(read_exactly(restored, more_up.size()), more_up);
	EXPECT_EQ(pending_error(client), EAGAIN) << "the client saw an error";
	close(restored);
	close(client);
}

/* Whether @fd becomes readable within @ms. */
bool readable_within(int fd, int ms)
{
	pollfd p{fd, POLLIN, 0};
	return poll(&p, 1, ms) == 1;
}

TEST_F(Sockets, GuardedConnectionClosedByItsProgramEndsAsUsual)
{
	int client = -1, server = -1;
	connect_pair("fd00:a::100", client, server);
	ASSERT_FALSE(HasFatalFailure());
	auto ok = client_->guard_socket(server);
	ASSERT_TRUE(ok) << ok.error().describe();
	ASSERT_TRUE(client_->guard_socket(server)) << "guarding twice does nothing";
	auto fenced = counter(get_info(), "fenced");

	close(server);

	ASSERT_TRUE(readable_within(client, 2000)) << "no FIN from a guarded socket its running program closed";
	char c;
	EXPECT_EQ(recv(client, &c, 1, MSG_DONTWAIT), 0) << "the client did not see the end of the stream";
	EXPECT_EQ(counter(get_info(), "fenced"), fenced);
	close(client);
}

TEST_F(Sockets, GuardedConnectionOfADeadProgramEndsWithoutAWord)
{
	int client = -1, server = -1, ready[2];
	connect_pair("fd00:a::100", client, server);
	ASSERT_FALSE(HasFatalFailure());
	ASSERT_EQ(pipe(ready), 0);
	auto fenced = counter(get_info(), "fenced");
	/* The program: it guards its connection, then is killed. */
	pid_t child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		auto own = gecko::Client::open();
		char verdict = own && own->guard_socket(server) ? 'y' : 'n';
		(void)!write(ready[1], &verdict, 1);
		pause();
		_exit(0);
	}
	close(server);
	char verdict = 0;
	ASSERT_EQ(read(ready[0], &verdict, 1), 1);
	close(ready[0]);
	close(ready[1]);
	ASSERT_EQ(verdict, 'y') << "the child could not guard the connection";

	kill(child, SIGKILL);
	waitpid(child, nullptr, 0);
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
	while (counter(get_info(), "fenced") == fenced && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(20));

	EXPECT_EQ(counter(get_info(), "fenced"), fenced + 1);
	auto flow = flow_of(*client_, port);
	ASSERT_TRUE(flow) << "no flow takes what the client still sends";
	EXPECT_EQ(flow->state, gecko::FlowState::moved);
	auto more = pattern(3000, 9);
	EXPECT_EQ(fill(client, more), more.size());
	EXPECT_FALSE(readable_within(client, 500)) << "the client heard from a dead program's connection";
	EXPECT_EQ(pending_error(client), EAGAIN);
	EXPECT_EQ(socket_error(client), 0);
	close(client);
}

TEST_F(Sockets, GuardRefusesWhatItCannotGuard)
{
	int client = -1, server = -1;
	ASSERT_EQ(std::system("ip -6 addr replace fd00:b::1/128 dev lo nodad"), 0);
	connect_pair("fd00:b::1", client, server);
	ASSERT_FALSE(HasFatalFailure());
	auto r = client_->guard_socket(server);
	ASSERT_FALSE(r);
	EXPECT_EQ(r.error().code, EADDRNOTAVAIL) << r.error().describe();
	int fresh = tcp();
	r = client_->guard_socket(fresh);
	ASSERT_FALSE(r);
	EXPECT_EQ(r.error().code, EADDRNOTAVAIL) << "an unbound socket: " << r.error().describe();
	close(fresh);
	close(server);
	close(client);
}

TEST_F(Sockets, ConnectionsOfOtherAddressesAreNotFrozen)
{
	int client = -1, server = -1;
	ASSERT_EQ(std::system("ip -6 addr replace fd00:b::1/128 dev lo nodad"), 0);
	connect_pair("fd00:b::1", client, server);
	ASSERT_FALSE(HasFatalFailure());
	auto r = client_->freeze_socket(server);
	ASSERT_FALSE(r);
	EXPECT_EQ(r.error().code, EADDRNOTAVAIL) << r.error().describe();
	close(server);
	close(client);
}

/*
 * The namespace's limits. Each test puts the defaults back: no other test
 * may find a limit lowered.
 */
class Limits : public Sockets {
protected:
	void TearDown() override
	{
		gecko::Limits defaults;
		defaults.services = GECKO_LIMIT_SERVICES_DEFAULT;
		defaults.bindings = GECKO_LIMIT_BINDINGS_DEFAULT;
		defaults.flows = GECKO_LIMIT_FLOWS_DEFAULT;
		defaults.held = GECKO_LIMIT_HELD_DEFAULT;
		if (client_) {
			EXPECT_TRUE(client_->set_limits(defaults));
		}
		Sockets::TearDown();
	}

	void set(std::optional<std::uint32_t> gecko::Limits::*which, std::uint32_t value)
	{
		gecko::Limits change;
		change.*which = value;
		auto ok = client_->set_limits(change);

		ASSERT_TRUE(ok) << ok.error().describe();
	}

	static void expect_refusal(const gecko::Result<void> &r, const char *limit)
	{
		ASSERT_FALSE(r);
		EXPECT_EQ(r.error().code, ENOSPC) << r.error().describe();
		EXPECT_NE(r.error().message.find(std::string("gecko-ctl limits set ") + limit + " N"),
			  std::string::npos)
			<< r.error().describe();
	}
};

TEST_F(Limits, DefaultsAndWhatIsInUse)
{
	add(binding(1));
	add(binding(2));

	auto limits = client_->limits();

	ASSERT_TRUE(limits) << limits.error().describe();
	EXPECT_EQ(limits->services, GECKO_LIMIT_SERVICES_DEFAULT);
	EXPECT_EQ(limits->bindings, GECKO_LIMIT_BINDINGS_DEFAULT);
	EXPECT_EQ(limits->flows, GECKO_LIMIT_FLOWS_DEFAULT);
	EXPECT_EQ(limits->held, GECKO_LIMIT_HELD_DEFAULT);
	EXPECT_EQ(limits->in_use.services, 1u);
	EXPECT_EQ(limits->in_use.bindings, 2u);
	EXPECT_EQ(limits->in_use.flows, 0u);
	EXPECT_EQ(limits->in_use.held, 0u);
}

TEST_F(Limits, SettingSomeKeepsTheOthers)
{
	gecko::Limits change;
	change.flows = 10;
	change.held = 20;

	ASSERT_TRUE(client_->set_limits(change));

	auto limits = client_->limits();
	ASSERT_TRUE(limits) << limits.error().describe();
	EXPECT_EQ(limits->flows, 10u);
	EXPECT_EQ(limits->held, 20u);
	EXPECT_EQ(limits->services, GECKO_LIMIT_SERVICES_DEFAULT);
	EXPECT_EQ(limits->bindings, GECKO_LIMIT_BINDINGS_DEFAULT);
}

TEST_F(Limits, PastItsHighestIsErange)
{
	gecko::Limits change;
	change.services = GECKO_LIMIT_SERVICES_MAX + 1;

	auto r = client_->set_limits(change);

	ASSERT_FALSE(r);
	EXPECT_EQ(r.error().code, ERANGE) << r.error().describe();
}

TEST_F(Limits, ServicesPastTheLimitAreRefusedSayingHow)
{
	set(&gecko::Limits::services, 1);

	expect_refusal(client_->set_service(service("fd00:a::200")), "services");
	/* Replacing the one there creates none. */
	auto svc = service();
	svc.contact = false;
	EXPECT_TRUE(client_->set_service(svc));
}

TEST_F(Limits, LoweredBelowWhatExistsKeepsItAndRefusesMore)
{
	add(binding(1));
	add(binding(2));
	add(binding(3));

	set(&gecko::Limits::bindings, 2);

	EXPECT_EQ(bindings_of("fd00:a::100"), 3u);
	EXPECT_TRUE(client_->set_binding(binding(3)));	/* a change, not a new one */
	expect_refusal(client_->set_binding(binding(4)), "bindings");
	ASSERT_TRUE(client_->del_binding(addr("fd00:a::100"), client(3)));
	ASSERT_TRUE(client_->del_binding(addr("fd00:a::100"), client(2)));
	EXPECT_TRUE(client_->set_binding(binding(4)));
}

TEST_F(Limits, FlowsPastTheLimitAreRefusedSayingHow)
{
	int c1 = -1, s1 = -1, c2 = -1, s2 = -1;
	connect_pair("fd00:a::100", c1, s1);
	ASSERT_FALSE(HasFatalFailure());
	connect_pair("fd00:a::100", c2, s2);
	ASSERT_FALSE(HasFatalFailure());
	set(&gecko::Limits::flows, 1);

	ASSERT_TRUE(client_->freeze_socket(s1));
	expect_refusal(client_->freeze_socket(s2), "flows");

	/* The refused one is untouched: not frozen, still serving. */
	auto msg = pattern(100, 9);
	ASSERT_EQ(fill(c2, msg), msg.size());
	EXPECT_EQ(read_exactly(s2, msg.size()), msg);
	ASSERT_TRUE(client_->thaw_socket(s1));
	for (int fd : {c1, s1, c2, s2})
		close(fd);
}

/* A donor given to a freeze, or a forward to a thaw, must not pass unnoticed. */
TEST_F(GeckoRequest, SocketAttributeACommandDoesNotTakeIsRefused)
{
	const in6_addr donor = addr("fd00:11::2");
	auto msg = request(GECKO_CMD_SOCK_FREEZE);
	nlattr *nest = nla_nest_start(msg.get(), GECKO_A_SOCK);
	ASSERT_EQ(nla_put_u32(msg.get(), GECKO_SOCK_A_FD, 0), 0);
	ASSERT_EQ(nla_put(msg.get(), GECKO_SOCK_A_DONOR, sizeof(donor), &donor), 0);
	nla_nest_end(msg.get(), nest);

	auto reply = sock_->transact(msg.get());

	ASSERT_FALSE(reply);
	EXPECT_EQ(reply.error().code, EINVAL);
	EXPECT_EQ(reply.error().message, "attribute not taken by this command");
}

TEST_F(GeckoRequest, LimitsSetWithNothingToSetIsRefused)
{
	auto msg = request(GECKO_CMD_LIMITS_SET);
	/* By hand: libnl's nla_nest_end() takes an empty nest out of the message. */
	nlattr empty{NLA_HDRLEN, GECKO_A_LIMITS | NLA_F_NESTED};
	ASSERT_EQ(nlmsg_append(msg.get(), &empty, sizeof(empty), NLMSG_ALIGNTO), 0);

	auto reply = sock_->transact(msg.get());

	ASSERT_FALSE(reply);
	EXPECT_EQ(reply.error().code, EINVAL);
	EXPECT_NE(reply.error().message.find("no limit to set"), std::string::npos) << reply.error().message;
}

} // namespace
