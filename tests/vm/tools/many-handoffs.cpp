// SPDX-License-Identifier: GPL-2.0-only
/*
 * gecko-many-handoffs: many clients' connections kept busy through G's
 * echo while the clients are handed between the nodes at a steady rate,
 * for the many-at-once benchmark (tests/bench/many.sh).
 *
 *   gecko-many-handoffs G PORT PREFIX FIRST CLIENTS CONNS INTERVAL_MS HANDOFFS NETNS=CARE-OF...
 *
 * Client i (FIRST <= i < FIRST + CLIENTS) opens CONNS connections to G's
 * PORT from PREFIX + i (hexadecimal); new clients are served by the first
 * NETNS (the contact node). Each connection sends a 16-octet record
 * (connection, sequence number) a second and checks that each comes back
 * whole and in order. A client's first connection is its probe: from
 * 300 ms before its client's handoff until 500 ms after it, it sends a
 * record every 4 ms. Every INTERVAL_MS the next client in turn is handed
 * from the node that serves it to the next one, HANDOFFS times: the
 * donor's agent is asked through its control socket, from a pool of
 * threads, so that no request waits behind another client's. Then every
 * connection closes.
 *
 * Prints a JSON object a line per handoff: "client", "from", "to",
 * "queued_ms" (from its time to a thread asking it), "took_ms" (the
 * agent's answer), "ok", "error", and "gap_ms", the longest the probe
 * waited between two echoes from the handoff's time until 500 ms after
 * the answer; then "ok N connections, N records echoed" and exits 0, or
 * says which connection broke and exits 1.
 */

#include <gecko/address.h>
#include <gecko/agent.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t record_size = 16;
constexpr double probe_every_ms = 4, cold_every_ms = 1000, hot_before_ms = 300, hot_after_ms = 500;
constexpr int threads = 16;

double ms_since(Clock::time_point t0)
{
	return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

[[noreturn]] void die(const std::string &what)
{
	std::fprintf(stderr, "gecko-many-handoffs: %s\n", what.c_str());
	std::exit(1);
}

struct Node {
	std::string netns;
	in6_addr care_of{};
};

struct Conn {
	int fd = -1;
	std::uint32_t id = 0;
	std::size_t client = 0;
	bool probe = false;
	std::uint64_t sent = 0, echoed = 0;
	double next_send = 0;
	std::string out, in;
	bool writing = false;	/* epoll waits for room to send the rest of out */
	bool closed = false;
};

struct Request {
	std::size_t index, client, from, to;
	double due;
};

struct Answer {
	Request req;
	double asked, answered;
	std::string error;
};

/* The handoff requests, and the answers back to the loop (which an eventfd wakes). */
class Queues {
public:
	explicit Queues(int wake) : wake_(wake) {}

	void ask(Request r)
	{
		std::lock_guard lock(mu_);
		requests_.push_back(r);
		cv_.notify_one();
	}

	std::optional<Request> next()
	{
		std::unique_lock lock(mu_);
		cv_.wait(lock, [this] { return stop_ || !requests_.empty(); });
		if (requests_.empty())
			return std::nullopt;
		auto r = requests_.front();
		requests_.pop_front();
		return r;
	}

	void answer(Answer a)
	{
		{
			std::lock_guard lock(mu_);
			answers_.push_back(std::move(a));
		}
		std::uint64_t one = 1;
		(void)!::write(wake_, &one, sizeof(one));
	}

	std::vector<Answer> answers()
	{
		std::lock_guard lock(mu_);
		std::vector<Answer> out(answers_.begin(), answers_.end());
		answers_.clear();
		return out;
	}

	void stop()
	{
		std::lock_guard lock(mu_);
		stop_ = true;
		cv_.notify_all();
	}

private:
	std::mutex mu_;
	std::condition_variable cv_;
	std::deque<Request> requests_;
	std::deque<Answer> answers_;
	bool stop_ = false;
	int wake_;
};

/* A control connection to each node's agent: made in the node's network namespace, used from this one. */
std::vector<gecko::agent::Control> controls(const std::vector<Node> &nodes)
{
	int home = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		die(std::string("/proc/thread-self/ns/net: ") + std::strerror(errno));
	std::vector<gecko::agent::Control> out;
	for (auto &n : nodes) {
		auto path = "/run/netns/" + n.netns;
		int ns = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
		if (ns < 0 || ::setns(ns, CLONE_NEWNET) < 0)
			die(path + ": " + std::strerror(errno));
		::close(ns);
		auto c = gecko::agent::Control::connect();
		if (!c)
			die(n.netns + "'s agent: " + c.error().describe());
		out.push_back(std::move(*c));
	}
	if (::setns(home, CLONE_NEWNET) < 0)
		die(std::string("back to this namespace: ") + std::strerror(errno));
	::close(home);
	return out;
}

in6_addr client_address(const std::string &prefix, std::size_t i)
{
	char hex[16];
	std::snprintf(hex, sizeof(hex), "%zx", i);
	auto a = gecko::parse_address(prefix + hex);
	if (!a)
		die(prefix + hex + ": " + a.error().describe());
	return *a;
}

int open_conn(const in6_addr &from, const in6_addr &g, std::uint16_t port)
{
	int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in6 src{}, dst{};
	src.sin6_family = dst.sin6_family = AF_INET6;
	src.sin6_addr = from;
	dst.sin6_addr = g;
	dst.sin6_port = htons(port);
	timeval limit{30, 0};
	::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit));
	if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr *>(&src), sizeof(src)) < 0 ||
	    ::connect(fd, reinterpret_cast<sockaddr *>(&dst), sizeof(dst)) < 0)
		die(std::string("connect from ") + gecko::format_address(from) + ": " + std::strerror(errno));
	::fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* The longest wait between two of @times (sorted) within [lo, hi], the one before lo included. */
double largest_gap(const std::vector<double> &times, double lo, double hi)
{
	auto first = std::lower_bound(times.begin(), times.end(), lo);
	if (first != times.begin())
		--first;
	auto last = std::upper_bound(times.begin(), times.end(), hi);
	double gap = 0;
	for (auto it = first; it != last && std::next(it) != last; ++it)
		gap = std::max(gap, *std::next(it) - *it);
	return last - first < 2 ? hi - lo : gap;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc < 10)
		die("usage: gecko-many-handoffs G PORT PREFIX FIRST CLIENTS CONNS INTERVAL_MS HANDOFFS NETNS=CARE-OF...");
	auto g = gecko::parse_address(argv[1]);
	if (!g)
		die(std::string(argv[1]) + ": " + g.error().describe());
	auto port = static_cast<std::uint16_t>(std::atoi(argv[2]));
	std::string prefix = argv[3];
	std::size_t first = std::strtoul(argv[4], nullptr, 0), clients = std::strtoul(argv[5], nullptr, 0);
	std::size_t per_client = std::strtoul(argv[6], nullptr, 0), handoffs = std::strtoul(argv[8], nullptr, 0);
	double interval = std::atof(argv[7]);
	std::vector<Node> nodes;
	for (int i = 9; i < argc; i++) {
		std::string arg = argv[i];
		auto eq = arg.find('=');
		auto a = gecko::parse_address(eq == std::string::npos ? "" : arg.substr(eq + 1));
		if (!a)
			die("'" + arg + "' is not NETNS=CARE-OF");
		nodes.push_back({arg.substr(0, eq), *a});
	}
	if (!clients || !per_client || interval <= 0 || nodes.size() < 2)
		die("wants a client, a connection each, an interval and two nodes at least");

	rlimit files{65536, 65536};
	if (::setrlimit(RLIMIT_NOFILE, &files) < 0)
		die(std::string("setrlimit: ") + std::strerror(errno));

	std::vector<Conn> conns;
	std::vector<in6_addr> addresses;
	for (std::size_t c = 0; c < clients; c++) {
		addresses.push_back(client_address(prefix, first + c));
		for (std::size_t k = 0; k < per_client; k++) {
			Conn conn;
			conn.fd = open_conn(addresses.back(), *g, port);
			conn.id = static_cast<std::uint32_t>(conns.size());
			conn.client = c;
			conn.probe = k == 0;
			conns.push_back(std::move(conn));
		}
	}

	int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int epoll = ::epoll_create1(EPOLL_CLOEXEC);
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.u64 = conns.size();
	::epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &ev);
	for (auto &c : conns) {
		ev.events = EPOLLIN | EPOLLRDHUP;
		ev.data.u64 = c.id;
		::epoll_ctl(epoll, EPOLL_CTL_ADD, c.fd, &ev);
	}

	Queues queues(wake);
	auto t0 = Clock::now();
	std::vector<std::thread> pool;
	for (int i = 0; i < threads; i++) {
		pool.emplace_back([&] {
			auto ctl = controls(nodes);
			while (auto r = queues.next()) {
				double asked = ms_since(t0);
				auto out = ctl[r->from].handoff(addresses[r->client], nodes[r->to].care_of);
				queues.answer({*r, asked, ms_since(t0), out ? "" : out.error().describe()});
			}
		});
	}

	std::vector<std::size_t> where(clients, 0);
	std::vector<bool> moving(clients, false);
	std::vector<double> hot_until(clients, -1);	/* < 0: cold; infinity: until its handoff's answer */
	std::vector<std::vector<double>> arrivals(clients);
	std::vector<Answer> answered;
	std::size_t asked = 0, warmed = 0, skipped = 0;
	double start = 1000, done_at = -1;	/* the first handoff a second after the loop starts */
	std::string broken;

	auto flush = [&](Conn &c) {
		while (!c.out.empty()) {
			auto n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
			if (n < 0) {
				if (errno != EAGAIN && broken.empty())
					broken = "connection " + std::to_string(c.id) + ": " + std::strerror(errno);
				break;
			}
			c.out.erase(0, static_cast<std::size_t>(n));
		}
		/* Almost every record leaves at once: epoll is told only when that changes. */
		if (c.writing == c.out.empty()) {
			c.writing = !c.out.empty();
			epoll_event e{};
			e.events = EPOLLIN | EPOLLRDHUP | (c.writing ? std::uint32_t{EPOLLOUT} : 0u);
			e.data.u64 = c.id;
			::epoll_ctl(epoll, EPOLL_CTL_MOD, c.fd, &e);
		}
	};
	auto receive = [&](Conn &c, double now) {
		char buf[4096];
		ssize_t n;
		while ((n = ::recv(c.fd, buf, sizeof(buf), 0)) > 0) {
			c.in.append(buf, static_cast<std::size_t>(n));
			for (; c.in.size() >= record_size; c.in.erase(0, record_size)) {
				std::uint32_t id;
				std::uint64_t seq;
				std::memcpy(&id, c.in.data(), sizeof(id));
				std::memcpy(&seq, c.in.data() + 8, sizeof(seq));
				if ((id != c.id || seq != c.echoed) && broken.empty())
					broken = "connection " + std::to_string(c.id) + ": record " +
						 std::to_string(c.echoed) + " came back as " + std::to_string(id) + "/" +
						 std::to_string(seq);
				c.echoed++;
				if (c.probe)
					arrivals[c.client].push_back(now);
			}
		}
		if (n == 0)
			c.closed = true;
		else if (errno != EAGAIN && broken.empty())
			broken = "connection " + std::to_string(c.id) + ": " + std::strerror(errno);
	};

	for (bool sending = true;;) {
		double now = ms_since(t0);
		/* Probes warm up ahead of their client's handoff. */
		for (; warmed < handoffs && start + warmed * interval - hot_before_ms <= now; warmed++) {
			hot_until[warmed % clients] = 1e300;
			conns[warmed % clients * per_client].next_send = now;
		}
		if (asked < handoffs && start + asked * interval <= now) {
			std::size_t c = asked % clients;
			if (moving[c]) {
				skipped++;
			} else {
				moving[c] = true;
				queues.ask({asked, c, where[c], (where[c] + 1) % nodes.size(), start + asked * interval});
			}
			asked++;
		}
		for (auto &a : queues.answers()) {
			moving[a.req.client] = false;
			if (a.error.empty())
				where[a.req.client] = a.req.to;
			hot_until[a.req.client] = a.answered + hot_after_ms;
			/* Unless its next handoff is near already. */
			for (auto k = asked; k < warmed; k++)
				if (k % clients == a.req.client)
					hot_until[a.req.client] = 1e300;
			answered.push_back(std::move(a));
		}
		if (done_at < 0 && asked == handoffs && answered.size() + skipped == handoffs)
			done_at = now;
		if (sending && done_at >= 0 && now > done_at + hot_after_ms + 100) {
			sending = false;
			for (auto &c : conns) {
				flush(c);
				::shutdown(c.fd, SHUT_WR);
			}
		}
		if (sending) {
			for (auto &c : conns) {
				if (c.next_send > now)
					continue;
				bool hot = c.probe && hot_until[c.client] > now;
				char rec[record_size] = {};
				std::memcpy(rec, &c.id, sizeof(c.id));
				std::memcpy(rec + 8, &c.sent, sizeof(c.sent));
				c.out.append(rec, sizeof(rec));
				c.sent++;
				/* Cold connections spread over the second, not all at once. */
				c.next_send = hot ? now + probe_every_ms
						  : now + cold_every_ms * (c.sent == 1 ? 1 + double(c.id % 97) / 97 : 1);
				flush(c);
			}
		}
		if (!sending && std::all_of(conns.begin(), conns.end(), [](auto &c) { return c.closed; }))
			break;
		if (!sending && now > done_at + 60000) {
			broken = "the echoes did not all come back within 60 s of the end";
			break;
		}

		epoll_event events[256];
		int n = ::epoll_wait(epoll, events, 256, 2);
		now = ms_since(t0);
		for (int i = 0; i < n; i++) {
			if (events[i].data.u64 == conns.size()) {
				std::uint64_t count;
				(void)!::read(wake, &count, sizeof(count));
				continue;
			}
			auto &c = conns[events[i].data.u64];
			if (events[i].events & EPOLLOUT)
				flush(c);
			if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
				receive(c, now);
			if (c.closed) {
				::epoll_ctl(epoll, EPOLL_CTL_DEL, c.fd, nullptr);
				if (sending && broken.empty())
					broken = "connection " + std::to_string(c.id) + " closed by the server";
			}
		}
		if (!broken.empty())
			break;
	}
	queues.stop();
	for (auto &t : pool)
		t.join();

	std::sort(answered.begin(), answered.end(), [](auto &a, auto &b) { return a.req.index < b.req.index; });
	for (auto &a : answered) {
		std::string error;
		for (char ch : a.error)
			error += ch == '"' || ch == '\\' ? std::string("\\") + ch : std::string(1, ch);
		std::printf("{\"client\": \"%s\", \"from\": \"%s\", \"to\": \"%s\", \"queued_ms\": %.1f, "
			    "\"took_ms\": %.1f, \"ok\": %s, \"error\": \"%s\", \"gap_ms\": %.1f}\n",
			    gecko::format_address(addresses[a.req.client]).c_str(), nodes[a.req.from].netns.c_str(),
			    nodes[a.req.to].netns.c_str(), a.asked - a.req.due, a.answered - a.asked,
			    a.error.empty() ? "true" : "false", error.c_str(),
			    largest_gap(arrivals[a.req.client], a.req.due, a.answered + hot_after_ms));
	}
	if (!broken.empty()) {
		std::printf("BROKEN: %s\n", broken.c_str());
		return 1;
	}
	std::uint64_t records = 0;
	for (auto &c : conns) {
		if (c.echoed != c.sent) {
			std::printf("BROKEN: connection %u: %llu records sent, %llu echoed\n", c.id,
				    static_cast<unsigned long long>(c.sent), static_cast<unsigned long long>(c.echoed));
			return 1;
		}
		records += c.echoed;
	}
	std::printf("ok %zu connections, %llu records echoed, %zu handoffs skipped (their client still moving)\n",
		    conns.size(), static_cast<unsigned long long>(records), skipped);
	return 0;
}
