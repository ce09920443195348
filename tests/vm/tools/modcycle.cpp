// SPDX-License-Identifier: GPL-2.0-only
/*
 * Load gecko.ko, ask for its info in each given network namespace, unload
 * it; ROUNDS times, in one process. tests/vm/scenarios/module-reload.sh
 * measures the slab caches around it: doing it all here, instead of with
 * insmod, gecko-ctl and ip netns exec, keeps the exec, VMA and inode
 * churn of those commands out of the measurement.
 *
 *   gecko-modcycle MODULE.ko ROUNDS [NETNS-PATH...]
 */

#include <gecko/client.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

class Fd {
public:
	explicit Fd(int fd) : fd_(fd) {}
	Fd(Fd &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
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

void info_in(const Fd &ns, const char *name)
{
	if (::setns(ns.get(), CLONE_NEWNET))
		die(std::string("setns ") + name, errno);
	auto client = gecko::Client::open();
	if (!client)
		die(std::string("open in ") + name, client.error().code);
	if (auto info = client->get_info(); !info)
		die(std::string("info in ") + name + ": " + info.error().describe(), info.error().code);
}

} // namespace

int main(int argc, char **argv)
{
	if (argc < 3) {
		std::fprintf(stderr, "usage: gecko-modcycle MODULE.ko ROUNDS [NETNS-PATH...]\n");
		return 2;
	}
	const int rounds = std::atoi(argv[2]);
	Fd self(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
	std::vector<Fd> namespaces;
	for (int i = 3; i < argc; i++) {
		namespaces.emplace_back(::open(argv[i], O_RDONLY | O_CLOEXEC));
		if (namespaces.back().get() < 0)
			die(argv[i], errno);
	}

	for (int r = 0; r < rounds; r++) {
		Fd ko(::open(argv[1], O_RDONLY | O_CLOEXEC));
		if (ko.get() < 0)
			die(argv[1], errno);
		if (::syscall(SYS_finit_module, ko.get(), "", 0))
			die("finit_module", errno);
		info_in(self, "this namespace");
		for (int i = 0; i < static_cast<int>(namespaces.size()); i++)
			info_in(namespaces[i], argv[3 + i]);
		info_in(self, "this namespace");
		if (::syscall(SYS_delete_module, "gecko", O_NONBLOCK))
			die("delete_module", errno);
	}
	return 0;
}
