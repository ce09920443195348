// SPDX-License-Identifier: GPL-2.0-only
/*
 * gecko-request-rate: short TCP exchanges as fast as the path allows, for
 * the proxy benchmark (tests/bench/proxy.sh). One thread, one epoll set,
 * each side; so that neither end is what the benchmark measures.
 *
 *   gecko-request-rate serve ADDRESS PORT SIZE
 *       answers each connection's request (up to an empty line) with an
 *       HTTP/1.0 response of SIZE octets, then closes it
 *   gecko-request-rate load ADDRESS PORT CONCURRENCY SECONDS
 *       keeps CONCURRENCY connections going for SECONDS, each a request
 *       and its whole response up to the server's close; prints
 *       {"requests": N, "failed": N, "per_second": R...} and fails if any
 *       request did; with "octets" and "bits_per_second" of the responses,
 *       and "cpu_ms", the CPU time (user and system) the load took
 */

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;

constexpr char request[] = "GET / HTTP/1.0\r\nHost: g\r\n\r\n";

[[noreturn]] void die(const char *what)
{
	std::fprintf(stderr, "gecko-request-rate: %s: %s\n", what, std::strerror(errno));
	std::exit(1);
}

sockaddr_in6 endpoint(const char *address, const char *port)
{
	sockaddr_in6 sa{};
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons(static_cast<std::uint16_t>(std::atoi(port)));
	if (::inet_pton(AF_INET6, address, &sa.sin6_addr) != 1) {
		std::fprintf(stderr, "gecko-request-rate: '%s' is not an IPv6 address\n", address);
		std::exit(2);
	}
	return sa;
}

void add(int epoll, int fd, std::uint32_t events)
{
	epoll_event ev{};
	ev.events = events;
	ev.data.fd = fd;
	if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl");
}

/* What a served connection has read of its request, and written of its response. */
struct Served {
	std::string head;
	std::size_t written = 0;
	bool answering = false;
};

int serve(const sockaddr_in6 &at, std::size_t size)
{
	/* Thousands of connections at once (a proxy's held ones): a listener that cannot accept would spin. */
	rlimit files{65536, 65536};
	if (::setrlimit(RLIMIT_NOFILE, &files) < 0)
		die("setrlimit");
	int l = ::socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (::bind(l, reinterpret_cast<const sockaddr *>(&at), sizeof(at)) < 0 || ::listen(l, 4096) < 0)
		die("listen");
	std::string response = "HTTP/1.0 200 OK\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n";
	response.append(size, 'x');
	int epoll = ::epoll_create1(EPOLL_CLOEXEC);
	add(epoll, l, EPOLLIN);
	std::map<int, Served> conns;
	epoll_event events[256];
	for (;;) {
		int n = ::epoll_wait(epoll, events, 256, -1);
		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;
			if (fd == l) {
				int c;
				while ((c = ::accept4(l, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					conns[c];
					add(epoll, c, EPOLLIN | EPOLLOUT | EPOLLET);
				}
				if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR)
					die("accept");
				continue;
			}
			auto &s = conns[fd];
			char buf[4096];
			ssize_t got = -1;
			while (!s.answering && (got = ::recv(fd, buf, sizeof(buf), 0)) > 0) {
				s.head.append(buf, static_cast<std::size_t>(got));
				s.answering = s.head.find("\r\n\r\n") != std::string::npos;
			}
			bool done = false;
			if (s.answering) {
				ssize_t put;
				while (s.written < response.size() &&
				       (put = ::send(fd, response.data() + s.written, response.size() - s.written,
						     MSG_NOSIGNAL)) > 0)
					s.written += static_cast<std::size_t>(put);
				done = s.written == response.size() || (errno != EAGAIN && s.written < response.size());
			} else {
				done = got == 0 || errno != EAGAIN;
			}
			if (done) {
				conns.erase(fd);
				::close(fd);
			}
		}
	}
}

int load(const sockaddr_in6 &to, int concurrency, int seconds)
{
	int epoll = ::epoll_create1(EPOLL_CLOEXEC);
	std::map<int, bool> sent;	/* connection -> its request went */
	unsigned long long done = 0, failed = 0, octets = 0;
	auto start_one = [&] {
		int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			die("socket");
		/* The client closes after the server: its end never waits in TIME_WAIT. */
		if (::connect(fd, reinterpret_cast<const sockaddr *>(&to), sizeof(to)) < 0 && errno != EINPROGRESS)
			die("connect");
		sent[fd] = false;
		add(epoll, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
	};
	auto begun = Clock::now();
	auto end = begun + std::chrono::seconds(seconds);
	for (int i = 0; i < concurrency; i++)
		start_one();
	epoll_event events[256];
	while (!sent.empty()) {
		int n = ::epoll_wait(epoll, events, 256, 100);
		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;
			bool over = false, ok = false;
			int err = 0;
			socklen_t len = sizeof(err);
			::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
			if (err) {
				over = true;
			} else {
				if (!sent[fd] && (events[i].events & EPOLLOUT)) {
					sent[fd] = ::send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL) ==
						   static_cast<ssize_t>(sizeof(request) - 1);
					if (!sent[fd])
						over = true;
				}
				char buf[65536];
				ssize_t got = -1;
				while (!over && (got = ::recv(fd, buf, sizeof(buf), 0)) > 0)
					octets += static_cast<unsigned long long>(got);
				if (!over && got == 0)
					over = ok = true;
				else if (!over && errno != EAGAIN)
					over = true;
			}
			if (!over)
				continue;
			(ok ? done : failed)++;
			sent.erase(fd);
			::close(fd);
			if (Clock::now() < end)
				start_one();
		}
	}
	double elapsed = std::chrono::duration<double>(Clock::now() - begun).count();
	rusage used{};
	::getrusage(RUSAGE_SELF, &used);
	auto ms = [](const timeval &t) { return t.tv_sec * 1000.0 + t.tv_usec / 1000.0; };
	std::printf("{\"requests\": %llu, \"failed\": %llu, \"per_second\": %.1f, \"octets\": %llu, "
		    "\"bits_per_second\": %.0f, \"cpu_ms\": %.1f}\n",
		    done, failed, done / elapsed, octets, octets * 8 / elapsed, ms(used.ru_utime) + ms(used.ru_stime));
	return failed ? 1 : 0;
}

} // namespace

int main(int argc, char *argv[])
{
	std::string mode = argc > 1 ? argv[1] : "";
	if (mode == "serve" && argc == 5)
		return serve(endpoint(argv[2], argv[3]), std::strtoull(argv[4], nullptr, 10));
	if (mode == "load" && argc == 6)
		return load(endpoint(argv[2], argv[3]), std::atoi(argv[4]), std::atoi(argv[5]));
	std::fprintf(stderr, "usage: gecko-request-rate serve ADDRESS PORT SIZE\n"
			     "       gecko-request-rate load ADDRESS PORT CONCURRENCY SECONDS\n");
	return 2;
}
