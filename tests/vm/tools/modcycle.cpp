// SPDX-License-Identifier: GPL-2.0-only
/*
 * Load gecko.ko, give it state of every kind in each given network
 * namespace, unload it with that state in place; ROUNDS times, in one
 * process. In each namespace and round: a service for G, a binding, and
 * three connections to G on lo with unread data: one frozen; one frozen,
 * captured, dropped and restored on a new socket (left restored, frozen);
 * one frozen and dropped (a moved flow). The unload then runs the
 * teardown of each (thaw, drop, forget; bindings, services) before the
 * sockets close. tests/vm/scenarios/module-reload.sh measures the slab
 * caches around it: doing it all here, instead of with insmod, gecko-ctl
 * and ip netns exec, keeps the exec, VMA and inode churn of those
 * commands out of the measurement.
 *
 *   gecko-modcycle MODULE.ko ROUNDS [NETNS-PATH...]
 *
 * G, fd00:a::100, must be on lo (up) in this namespace and every other.
 * Prints where the module was loaded, "BASE SIZE" as /proc/modules says,
 * once per place, so that the objects it left can be found afterwards.
 */

#include <gecko/client.h>

#include <arpa/inet.h>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <sched.h>
#include <string>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <type_traits>
#include <unistd.h>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

namespace {

constexpr const char *g_text = "fd00:a::100";
constexpr std::uint16_t g_port = 7000;
/* Well past a round: the module must not act on a flow on its own. */
constexpr std::chrono::milliseconds flow_timeout{60000};

class Fd {
public:
	explicit Fd(int fd) : fd_(fd) {}
	Fd(Fd &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
	Fd &operator=(Fd &&other) noexcept
	{
		std::swap(fd_, other.fd_);
		return *this;
	}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	~Fd() { if (fd_ >= 0) ::close(fd_); }
	int get() const { return fd_; }

private:
	int fd_;
};

[[noreturn]] void die(const std::string &what, int err)
{
	std::fprintf(stderr, "gecko-modcycle: %s: %s\n", what.c_str(), std::strerror(err));
	std::exit(1);
}

[[noreturn]] void die(const std::string &what, const gecko::Error &e)
{
	std::fprintf(stderr, "gecko-modcycle: %s: %s\n", what.c_str(), e.describe().c_str());
	std::exit(1);
}

/* The value of @r, or the end of the program, saying what failed. */
template <typename T>
T must(gecko::Result<T> r, const std::string &what)
{
	if (!r)
		die(what, r.error());
	if constexpr (!std::is_void_v<T>)
		return std::move(*r);
}

in6_addr addr(const char *text)
{
	in6_addr a{};
	::inet_pton(AF_INET6, text, &a);
	return a;
}

sockaddr_in6 g_sockaddr()
{
	sockaddr_in6 sa{};
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons(g_port);
	sa.sin6_addr = addr(g_text);
	return sa;
}

Fd tcp()
{
	Fd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (fd.get() < 0)
		die("socket", errno);
	return fd;
}

struct Namespace {
	std::string name;
	Fd ns;
	Fd listener{-1};	/* on G, in this namespace */
};

void enter(const Namespace &ns)
{
	if (::setns(ns.ns.get(), CLONE_NEWNET))
		die("setns " + ns.name, errno);
}

/* A listening socket on G, made once: sockets outlive the module. */
Fd listen_on_g(const Namespace &ns)
{
	Fd fd = tcp();
	sockaddr_in6 sa = g_sockaddr();
	int one = 1;

	::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (::bind(fd.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) || ::listen(fd.get(), 16))
		die("listen on G in " + ns.name + " (is G on lo?)", errno);
	return fd;
}

/*
 * A connection to G: its client end, then its server end, which holds
 * octets it never read (so that a capture carries a queue).
 */
void connect_to_g(const Namespace &ns, std::vector<Fd> &sockets)
{
	static const char unread[1000] = {};
	sockaddr_in6 sa = g_sockaddr();
	Fd client = tcp();

	if (::connect(client.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)))
		die("connect to G in " + ns.name, errno);
	Fd server(::accept4(ns.listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
	if (server.get() < 0)
		die("accept in " + ns.name, errno);
	if (::send(client.get(), unread, sizeof(unread), MSG_NOSIGNAL) != sizeof(unread))
		die("send in " + ns.name, errno);
	sockets.push_back(std::move(client));
	sockets.push_back(std::move(server));
}

/* The state of one round in @ns; its sockets go to @sockets, to close after the unload. */
void make_state(const Namespace &ns, std::vector<Fd> &sockets)
{
	const std::string in = " in " + ns.name;
	auto client = must(gecko::Client::open(), "open" + in);
	const in6_addr g = addr(g_text);

	gecko::Service svc;
	svc.home = g;
	svc.coa = svc.contact_coa = addr("fd00:11::2");
	must(client.set_service(svc), "service" + in);
	gecko::Binding binding;
	binding.home = g;
	binding.peer = addr("fd00:c::2");
	binding.state = gecko::BindingState::bound;
	binding.seq = 1;
	binding.lifetime = 60;
	must(client.set_binding(binding), "binding" + in);

	connect_to_g(ns, sockets);
	must(client.freeze_socket(sockets.back().get(), flow_timeout), "freeze" + in);

	connect_to_g(ns, sockets);
	int donor = sockets.back().get();
	must(client.freeze_socket(donor, flow_timeout), "freeze" + in);
	auto state = must(client.capture_socket(donor), "capture" + in);
	must(client.drop_socket(donor), "drop" + in);
	sockets.push_back(tcp());
	must(client.restore_socket(sockets.back().get(), state, flow_timeout), "restore" + in);

	connect_to_g(ns, sockets);
	must(client.freeze_socket(sockets.back().get(), flow_timeout), "freeze" + in);
	must(client.drop_socket(sockets.back().get()), "drop" + in);

	/* What the unload must take down: one flow of each kind. */
	auto flows = must(client.flows(), "flows" + in);
	unsigned kinds = 0;
	for (const auto &f : flows)
		kinds |= 1U << static_cast<unsigned>(f.state);
	const unsigned want = 1U << static_cast<unsigned>(gecko::FlowState::frozen) |
			      1U << static_cast<unsigned>(gecko::FlowState::restored) |
			      1U << static_cast<unsigned>(gecko::FlowState::moved);
	if (flows.size() != 3 || kinds != want)
		die("flows" + in + ": not one frozen, one restored and one moved", EPROTO);
}

/* "BASE SIZE" of the loaded gecko.ko. */
std::string where_loaded()
{
	std::ifstream modules("/proc/modules");
	std::string line, name, size, refs, deps, state, base;

	while (std::getline(modules, line)) {
		std::istringstream fields(line);
		if (fields >> name >> size >> refs >> deps >> state >> base && name == "gecko")
			return base + " " + size;
	}
	die("gecko is not in /proc/modules", ENOENT);
}

} // namespace

int main(int argc, char **argv)
{
	if (argc < 3) {
		std::fprintf(stderr, "usage: gecko-modcycle MODULE.ko ROUNDS [NETNS-PATH...]\n");
		return 2;
	}
	const int rounds = std::atoi(argv[2]);
	std::vector<Namespace> namespaces;
	namespaces.push_back({"this namespace", Fd(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC))});
	for (int i = 3; i < argc; i++)
		namespaces.push_back({argv[i], Fd(::open(argv[i], O_RDONLY | O_CLOEXEC))});
	for (auto &ns : namespaces) {
		if (ns.ns.get() < 0)
			die(ns.name, errno);
		enter(ns);
		ns.listener = listen_on_g(ns);
	}

	std::set<std::string> places;
	for (int r = 0; r < rounds; r++) {
		std::vector<Fd> sockets;
		Fd ko(::open(argv[1], O_RDONLY | O_CLOEXEC));

		if (ko.get() < 0)
			die(argv[1], errno);
		if (::syscall(SYS_finit_module, ko.get(), "", 0))
			die("finit_module", errno);
		places.insert(where_loaded());
		for (const auto &ns : namespaces) {
			enter(ns);
			make_state(ns, sockets);
		}
		enter(namespaces.front());
		if (::syscall(SYS_delete_module, "gecko", O_NONBLOCK))
			die("delete_module", errno);
		/* Only now: the unload had frozen sockets to thaw and drop. */
		sockets.clear();
	}
	for (const auto &place : places)
		std::printf("%s\n", place.c_str());
	return 0;
}
