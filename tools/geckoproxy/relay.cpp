// SPDX-License-Identifier: GPL-2.0-only

#include "relay.h"

#include "framing.h"
#include "mailbox.h"

#include <coarse_clock.h>

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>
#include <string_view>
#include <thread>

namespace gecko::proxy {

namespace {

using Clock = daemon::CoarseClock;
using daemon::Fd;

enum Side : std::uint64_t { client_side = 0, program_side = 1 };

/*
 * The epoll events' data: the sweep timer's 0; a session's its number
 * (from 1) and side; a watched descriptor's this bit and its index.
 */
constexpr std::uint64_t timer_event = 0;
constexpr std::uint64_t watched_event = std::uint64_t{1} << 63;

/* @fd's pending error (SO_ERROR), or @otherwise when none is. */
int pending_error(int fd, int otherwise)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err == 0)
		return otherwise;
	return err;
}

/*
 * What a socket's last events said it can do, edge-triggered: set by an
 * event, cleared by an EAGAIN that only the socket can have caused. A
 * direction tries a splice() only when it may succeed, so the events of a
 * busy connection (every ACK makes its socket writable) cost no vain
 * system call.
 */
struct Ready {
	bool in = true;
	bool out = true;
	bool ended = false;	/* the peer's FIN arrived: nothing more comes after what waits */
};

/* A pipe, with its capacity. */
struct Pipe {
	Fd out;	/* read end */
	Fd in;	/* write end */
	std::size_t capacity = 0;
};

/* One way of a session: from a socket, through a pipe, to the other socket. */
struct Direction {
	int from = -1;
	int to = -1;
	Pipe pipe;
	std::size_t queued = 0;	/* in the pipe */
	std::uint64_t moved = 0;
	bool eof = false;	/* @from's stream ended */
	bool shut = false;	/* and that was passed on to @to */
	/* @to is this process's alone and closes as soon as this direction ends: close() passes the end on. */
	bool ends_by_close = false;
	bool active = false;	/* octets moved since the last sweep */
	/* HTTP mode: what frames @from's messages, and how many octets may pass before it looks again. */
	http::Framer *framer = nullptr;
	std::uint64_t allowed = http::unframed;

	/* A failed side: which one, and why. */
	struct Failure {
		Side side;
		int err;
	};

	/*
	 * Moves what can move without blocking; @from_side names @from for
	 * the failure it may return. Loops while either end makes progress:
	 * a pipe can refuse more octets before it holds @capacity (the
	 * socket's pages fill its slots partly), so a read is tried again
	 * after each write.
	 */
	std::optional<Failure> pump(Side from_side, Ready &source, Ready &sink)
	{
		Side to_side = from_side == client_side ? program_side : client_side;
		for (;;) {
			bool progress = false;
			if (!eof && allowed == 0 && source.in) {
				if (auto failure = look(from_side, source, progress))
					return failure;
			}
			if (!eof && allowed > 0 && queued < pipe.capacity && source.in) {
				auto room = std::min<std::uint64_t>(pipe.capacity - queued, allowed);
				ssize_t n = ::splice(from, nullptr, pipe.in.get(), nullptr, room,
						     SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
				if (n > 0) {
					queued += static_cast<std::size_t>(n);
					if (allowed != http::unframed)
						allowed -= static_cast<std::uint64_t>(n);
					progress = true;
				} else if (n == 0) {
					eof = true;
					progress = true;
				} else if (errno == EINTR) {
					continue;
				} else if (errno == EAGAIN) {
					/*
					 * With octets in the pipe, the pipe may be what is
					 * full (its slots hold a segment each, however
					 * small): the socket is to be read again once it
					 * drained, whether or not more arrives.
					 */
					if (queued == 0)
						source.in = false;
				} else {
					return Failure{from_side, errno};
				}
			}
			if (queued > 0 && sink.out) {
				ssize_t n = ::splice(pipe.out.get(), nullptr, to, nullptr, queued,
						     SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
				if (n > 0) {
					queued -= static_cast<std::size_t>(n);
					moved += static_cast<std::uint64_t>(n);
					progress = active = true;
				} else if (n < 0 && errno == EINTR) {
					continue;
				} else if (n < 0 && errno == EAGAIN) {
					sink.out = false;
				} else if (n < 0) {
					return Failure{to_side, errno};
				}
			}
			if (eof && queued == 0 && !shut) {
				/* ENOTCONN: @to's connection is gone already, most likely reset. */
				if (!ends_by_close && ::shutdown(to, SHUT_WR) < 0)
					return Failure{to_side, errno == ENOTCONN ? pending_error(to, ENOTCONN) : errno};
				shut = true;
			}
			if (!progress)
				return std::nullopt;
		}
	}

	/*
	 * The framer's look at what waits at @from, without taking it: sets
	 * how many octets may pass, or clears @source's readiness until more
	 * arrives.
	 */
	std::optional<Failure> look(Side from_side, Ready &source, bool &progress)
	{
		static thread_local char waiting[http::max_head];
		ssize_t n = ::recv(from, waiting, sizeof(waiting), MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN) {
			source.in = false;
		} else if (n < 0 && errno == EINTR) {
			progress = true;
		} else if (n < 0) {
			return Failure{from_side, errno};
		} else if (n == 0) {
			eof = progress = true;
		} else {
			allowed = framer->next({waiting, static_cast<std::size_t>(n)}, source.ended);
			if (allowed == 0)
				source.in = false;
			else
				progress = true;
		}
		return std::nullopt;
	}
};

Result<Pipe> open_pipe()
{
	int fds[2];
	if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		int err = errno;
		return std::unexpected(Error{err, std::string("pipe2: ") + std::strerror(err)});
	}
	Pipe p{Fd(fds[0]), Fd(fds[1]), 0};
	int size = ::fcntl(fds[1], F_GETPIPE_SZ);
	p.capacity = size > 0 ? static_cast<std::size_t>(size) : 65536;
	return p;
}

} // namespace

void abort_connection(int fd)
{
	sockaddr unspec{};
	unspec.sa_family = AF_UNSPEC;
	(void)::connect(fd, &unspec, sizeof(unspec));
}

namespace {

void set_nonblocking(int fd)
{
	int on = 1;
	(void)::ioctl(fd, FIONBIO, &on);
}

} // namespace

std::vector<SocketOption> client_options()
{
	return {{IPPROTO_TCP, TCP_NODELAY, 1},
		{IPPROTO_TCP, TCP_KEEPIDLE, 60},
		{IPPROTO_TCP, TCP_KEEPINTVL, 10},
		{IPPROTO_TCP, TCP_KEEPCNT, 6},
		{SOL_SOCKET, SO_KEEPALIVE, 1}};
}

namespace {

/*
 * The client's options, on a socket that does not have them already: one
 * accepted from a listener that had them inherited them all (keepalives
 * last), one another node handed over has none.
 */
void set_client_options(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);
	if (::getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, &len) == 0 && on)
		return;
	for (const auto &o : client_options())
		(void)::setsockopt(fd, o.level, o.name, &o.value, sizeof(o.value));
}

void set_program_options(int fd)
{
	int one = 1;
	(void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

std::string milliseconds(std::chrono::milliseconds ms)
{
	return std::to_string(ms.count()) + " ms";
}

std::string describe(Side side, int err)
{
	const char *who = side == client_side ? "client" : "program";
	if (err == ECONNRESET || err == EPIPE)
		return std::string(who) + " reset";
	return std::string(who) + ": " + std::strerror(err);
}

bool v4_mapped(const in6_addr &a)
{
	static constexpr std::uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return std::memcmp(a.s6_addr, prefix, sizeof(prefix)) == 0;
}

} // namespace

std::vector<std::byte> proxy_header(const sockaddr_in6 &client, const sockaddr_in6 &local)
{
	static constexpr std::string_view signature("\r\n\r\n\0\r\nQUIT\n", 12);
	bool v4 = v4_mapped(client.sin6_addr) && v4_mapped(local.sin6_addr);
	std::size_t addr_len = v4 ? 4 : 16;
	std::vector<std::byte> h;
	auto put = [&h](const void *p, std::size_t n) {
		const auto *b = static_cast<const std::byte *>(p);
		h.insert(h.end(), b, b + n);
	};
	auto put16 = [&put](std::uint16_t host) {
		std::uint8_t be[2] = {static_cast<std::uint8_t>(host >> 8), static_cast<std::uint8_t>(host)};
		put(be, 2);
	};
	put(signature.data(), signature.size());
	/* Version 2, PROXY; TCP over IPv4 (0x11) or IPv6 (0x21); the length of what follows. */
	std::uint8_t command[2] = {0x21, static_cast<std::uint8_t>(v4 ? 0x11 : 0x21)};
	put(command, 2);
	put16(static_cast<std::uint16_t>(2 * addr_len + 4));
	put(client.sin6_addr.s6_addr + 16 - addr_len, addr_len);
	put(local.sin6_addr.s6_addr + 16 - addr_len, addr_len);
	put(&client.sin6_port, 2);	/* in network order already */
	put(&local.sin6_port, 2);
	return h;
}

struct Relay::Impl {
	struct Session {
		std::uint64_t id = 0;
		ClientEnd client;
		Fd program;
		bool connecting = true;
		std::size_t address = 0;	/* the program's address being tried */
		Direction up;	/* client to program */
		Direction down;	/* program to client */
		Ready ready[2];	/* by Side */
		Clock::time_point started = Clock::now();
		Clock::time_point connect_deadline;	/* of the address being tried */
		Clock::time_point active = started;	/* octets last moved, as the sweeps saw */
		/* HTTP mode: the framing of both ways; the client's connection is held except between requests. */
		struct Http {
			http::Pending pending;
			http::Framer requests{http::Framer::Stream::requests, pending};
			http::Framer responses{http::Framer::Stream::responses, pending};
		};
		std::unique_ptr<Http> http;
		bool held = true;

		/* Every request answered, whole, and nothing of the next one taken: the connection may move. */
		bool between_requests() const
		{
			return http && !connecting && http->pending.empty() && http->requests.idle() &&
			       http->responses.idle() && up.allowed == 0 && down.allowed == 0 && up.queued == 0 &&
			       down.queued == 0 && !up.eof && !down.eof;
		}
	};

	RelayOptions options;
	Fd epoll;
	Fd timer;	/* the sweeps for timeouts */
	std::uint64_t next_id = 1;
	std::map<std::uint64_t, std::unique_ptr<Session>> sessions;
	std::vector<Pipe> spare_pipes;
	std::vector<std::function<void()>> watched;	/* Relay::watch(), by index */
	std::vector<SessionEnd> ended;	/* this turn's, for options.ended */
	bool in_turn = false;		/* within Relay::run(): ended waits for the turn's end */

	void report_ended()
	{
		if (!ended.empty() && options.ended)
			options.ended(ended);
		ended.clear();
	}

	Result<Pipe> take_pipe()
	{
		if (spare_pipes.empty())
			return open_pipe();
		auto p = std::move(spare_pipes.back());
		spare_pipes.pop_back();
		return p;
	}

	void watch(Session &s, int fd, Side side)
	{
		epoll_event ev{};
		ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
		ev.data.u64 = s.id << 1 | side;
		(void)::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &ev);
	}

	/* Starts a connection to the program's next address; false when none is left. */
	bool connect_program(Session &s, int &last_err)
	{
		while (s.address < options.program.size()) {
			const auto &to = options.program[s.address++];
			Fd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
			if (!fd) {
				last_err = errno;
				return false;
			}
			set_program_options(fd.get());
			if (::connect(fd.get(), reinterpret_cast<const sockaddr *>(&to), sizeof(to)) < 0 &&
			    errno != EINPROGRESS) {
				last_err = errno;
				continue;
			}
			if (s.program)
				(void)::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, s.program.get(), nullptr);
			s.program = std::move(fd);
			/* Nothing can be read before the program has the request: epoll tells when it answers. */
			s.ready[program_side] = Ready{.in = false};
			s.connect_deadline = Clock::now() + options.connect_timeout;
			watch(s, s.program.get(), program_side);
			return true;
		}
		return false;
	}

	/* A session just added: its pipes, its client watched, the program called. */
	void start(Session &s)
	{
		for (auto *dir : {&s.up, &s.down}) {
			auto pipe = take_pipe();
			if (!pipe)
				return end(s, pipe.error().describe(), true);
			dir->pipe = std::move(*pipe);
		}
		watch(s, s.client.fd, client_side);
		int err = 0;
		if (!connect_program(s, err))
			refused(s, std::string("program refused: ") + std::strerror(err));
	}

	/* The program cannot take @s: its client goes elsewhere if it can, else is reset. */
	void refused(Session &s, std::string how)
	{
		if (!s.client.elsewhere)
			return end(s, std::move(how), true);
		auto elsewhere = std::move(s.client.elsewhere);
		s.client.close = nullptr;
		end(s, how + "; sent to another member", false);
		elsewhere();
	}

	void end(Session &s, std::string how, bool reset)
	{
		/*
		 * The client's socket may stay open elsewhere (the agent holds a
		 * copy): out of the set now. The program's, this process's alone,
		 * leaves it as it closes.
		 */
		(void)::epoll_ctl(epoll.get(), EPOLL_CTL_DEL, s.client.fd, nullptr);
		if (reset) {
			abort_connection(s.client.fd);
			if (s.program)
				abort_connection(s.program.get());
		}
		SessionEnd e;
		e.client = s.client.peer;
		e.from_client = s.up.moved;
		e.to_client = s.down.moved;
		e.duration = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - s.started);
		e.how = std::move(how);
		if (s.client.close)
			s.client.close();
		ended.push_back(std::move(e));
		for (auto *dir : {&s.up, &s.down})
			if (dir->pipe.in && dir->queued == 0 && spare_pipes.size() < options.spare_pipes)
				spare_pipes.push_back(std::move(dir->pipe));
		auto id = s.id;
		sessions.erase(id);
	}

	/*
	 * A session let go between requests: takes its client's connection
	 * back (waiting out a handoff under way), or ends if it moved to
	 * another member meanwhile: its next request goes to that member's
	 * program.
	 */
	bool claim(Session &s)
	{
		if (s.held)
			return true;
		if (s.client.hold(true)) {
			s.held = true;
			return true;
		}
		end(s, "handed off between requests", false);
		return false;
	}

	/*
	 * The program's connection is established, or failed: writable
	 * without an error or a hang-up is established, without asking.
	 */
	void connected(Session &s, std::uint32_t events)
	{
		int err = events & (EPOLLERR | EPOLLHUP) ? pending_error(s.program.get(), 0) : 0;
		if (err == 0) {
			if (options.proxy_protocol && !send_proxy_header(s))
				return;
			s.connecting = false;
			s.up.to = s.program.get();
			s.down.from = s.program.get();
			return;
		}
		if (!connect_program(s, err))
			refused(s, std::string("program refused: ") + std::strerror(err));
	}

	/* The header goes first, whole: a new connection's send buffer has room for it. */
	bool send_proxy_header(Session &s)
	{
		sockaddr_in6 local{};
		socklen_t len = sizeof(local);
		if (::getsockname(s.client.fd, reinterpret_cast<sockaddr *>(&local), &len) < 0) {
			end(s, std::string("client: ") + std::strerror(errno), true);
			return false;
		}
		auto header = proxy_header(s.client.peer, local);
		ssize_t n = ::send(s.program.get(), header.data(), header.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == static_cast<ssize_t>(header.size()))
			return true;
		end(s, n < 0 ? describe(program_side, errno) : "program: the PROXY header did not fit", true);
		return false;
	}

	/* Timeouts: an address of the program that does not answer, a session where nothing moves. */
	void sweep()
	{
		daemon::drain_timer(timer.get());
		auto now = Clock::now();
		std::vector<std::uint64_t> late, idle;
		for (auto &[id, s] : sessions) {
			if (s->connecting) {
				if (now >= s->connect_deadline)
					late.push_back(id);
				continue;
			}
			if (s->up.active || s->down.active)
				s->active = now;
			s->up.active = s->down.active = false;
			if (options.idle_timeout.count() > 0 && now - s->active >= options.idle_timeout)
				idle.push_back(id);
		}
		for (auto id : late) {
			auto &s = *sessions.at(id);
			int err = ETIMEDOUT;
			if (!connect_program(s, err))
				refused(s, "program did not answer within " + milliseconds(options.connect_timeout));
		}
		for (auto id : idle)
			if (auto &s = *sessions.at(id); claim(s))
				end(s, "idle for " + milliseconds(options.idle_timeout), true);
	}

	Result<void> start_timer()
	{
		timer = Fd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
		epoll_event ev{};
		ev.events = EPOLLIN;
		ev.data.u64 = timer_event;
		if (!timer || ::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, timer.get(), &ev) < 0) {
			int err = errno;
			return std::unexpected(Error{err, std::string("timerfd: ") + std::strerror(err)});
		}
		arm_timer();
		return {};
	}

	/* Sweeps often enough to keep each timeout within a tenth of itself (10 ms to 1 s). */
	void arm_timer()
	{
		auto shortest = options.connect_timeout;
		if (options.idle_timeout.count() > 0)
			shortest = std::min(shortest, options.idle_timeout);
		auto tick = std::clamp<std::chrono::milliseconds>(shortest / 10, std::chrono::milliseconds(10),
								  std::chrono::seconds(1));
		itimerspec spec{};
		spec.it_interval.tv_sec = tick.count() / 1000;
		spec.it_interval.tv_nsec = tick.count() % 1000 * 1000000;
		spec.it_value = spec.it_interval;
		(void)::timerfd_settime(timer.get(), 0, &spec, nullptr);	/* fails only on bad arguments */
	}

	/* A socket that reported an error: its pending error, if any, ends the session. */
	bool failed(Session &s, int fd, Side side)
	{
		int err = pending_error(fd, 0);
		if (err == 0)
			return false;
		end(s, describe(side, err), true);
		return true;
	}

	void serve(Session &s, Side side, std::uint32_t events)
	{
		if (!claim(s))
			return;
		if (events & (EPOLLRDHUP | EPOLLHUP))
			s.ready[side].ended = true;
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			s.ready[side].in = true;
		if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
			s.ready[side].out = true;
		if (s.connecting) {
			if (side != program_side)
				return;
			auto id = s.id;
			connected(s, events);
			if (!sessions.contains(id) || s.connecting)
				return;
		} else if (events & EPOLLERR) {
			/* A hang-up alone is both streams ended: an error (a reset) comes with EPOLLERR. */
			if (failed(s, side == client_side ? s.client.fd : s.program.get(), side))
				return;
		}
		/* The program's stream ended and passed on: the session ends with the client's, and closes its socket. */
		s.up.ends_by_close = s.down.shut;
		for (auto [dir, from] : {std::pair{&s.up, client_side}, std::pair{&s.down, program_side}}) {
			Side to = from == client_side ? program_side : client_side;
			if (auto failure = dir->pump(from, s.ready[from], s.ready[to])) {
				end(s, describe(failure->side, failure->err), true);
				return;
			}
		}
		if (s.up.shut && s.down.shut)
			end(s, "closed", false);
		else if (s.between_requests() && s.client.hold(false))
			s.held = false;
	}
};

namespace {

Result<void> check(const RelayOptions &options)
{
	if (options.program.empty())
		return std::unexpected(Error{EINVAL, "no address of the local program"});
	if (options.connect_timeout.count() <= 0 || options.idle_timeout.count() < 0)
		return std::unexpected(Error{EINVAL, "the connect timeout must be positive, the idle timeout not negative"});
	return {};
}

} // namespace

Result<void> Relay::configure(RelayOptions options)
{
	if (auto ok = check(options); !ok)
		return ok;
	options.ended = std::move(impl_->options.ended);
	impl_->options = std::move(options);
	impl_->arm_timer();
	return {};
}

Result<Relay> Relay::create(RelayOptions options)
{
	if (auto ok = check(options); !ok)
		return std::unexpected(ok.error());
	/* splice() into a socket that was reset raises SIGPIPE, and no flag asks it not to. */
	std::signal(SIGPIPE, SIG_IGN);
	auto impl = std::make_unique<Impl>();
	impl->options = std::move(options);
	impl->epoll = Fd(::epoll_create1(EPOLL_CLOEXEC));
	if (!impl->epoll) {
		int err = errno;
		return std::unexpected(Error{err, std::string("epoll_create1: ") + std::strerror(err)});
	}
	if (auto ok = impl->start_timer(); !ok)
		return std::unexpected(ok.error());
	return Relay(std::move(impl));
}

Relay::Relay(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Relay::Relay(Relay &&) noexcept = default;
Relay &Relay::operator=(Relay &&) noexcept = default;

Relay::~Relay()
{
	if (!impl_)
		return;
	while (!impl_->sessions.empty())
		if (auto &s = *impl_->sessions.begin()->second; impl_->claim(s))
			impl_->end(s, "stopped", true);
	impl_->report_ended();
}

int Relay::fd() const
{
	return impl_->epoll.get();
}

Result<void> Relay::watch(int fd, std::function<void()> readable)
{
	auto &impl = *impl_;
	epoll_event ev{};
	/* Of the threads waiting on @fd, one wakes: it takes all, or asks another. */
	ev.events = EPOLLIN | EPOLLET | EPOLLEXCLUSIVE;
	ev.data.u64 = watched_event | impl.watched.size();
	if (::epoll_ctl(impl.epoll.get(), EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = errno;
		return std::unexpected(Error{err, std::string("epoll_ctl: ") + std::strerror(err)});
	}
	impl.watched.push_back(std::move(readable));
	return {};
}

std::size_t Relay::sessions() const
{
	return impl_->sessions.size();
}

void Relay::add(ClientEnd client)
{
	auto &impl = *impl_;
	auto s = std::make_unique<Impl::Session>();
	auto &session = *s;
	session.id = impl.next_id++;
	session.client = std::move(client);
	set_nonblocking(session.client.fd);
	set_client_options(session.client.fd);
	session.up.from = session.client.fd;
	session.down.to = session.client.fd;
	if (impl.options.http && session.client.hold) {
		session.http = std::make_unique<Impl::Session::Http>();
		session.up.framer = &session.http->requests;
		session.down.framer = &session.http->responses;
		session.up.allowed = session.down.allowed = 0;
	}
	impl.sessions.emplace(session.id, std::move(s));
	impl.start(session);
	if (!impl.in_turn)
		impl.report_ended();
}

void Relay::refuse(ClientEnd client, std::string how)
{
	abort_connection(client.fd);
	SessionEnd e;
	e.client = client.peer;
	e.how = std::move(how);
	if (client.close)
		client.close();
	impl_->ended.push_back(std::move(e));
	if (!impl_->in_turn)
		impl_->report_ended();
}

void Relay::run(int timeout_ms)
{
	auto &impl = *impl_;
	epoll_event events[256];
	impl.in_turn = true;
	for (;;) {
		int n = ::epoll_wait(impl.epoll.get(), events, 256, timeout_ms);
		timeout_ms = 0;
		for (int i = 0; i < n; i++) {
			if (events[i].data.u64 == timer_event) {
				impl.sweep();
				continue;
			}
			if (events[i].data.u64 & watched_event) {
				impl.watched.at(events[i].data.u64 & ~watched_event)();
				continue;
			}
			auto it = impl.sessions.find(events[i].data.u64 >> 1);
			if (it == impl.sessions.end())
				continue;	/* ended by an earlier event of this batch */
			impl.serve(*it->second, static_cast<Side>(events[i].data.u64 & 1), events[i].events);
		}
		if (n < 256)
			break;
	}
	impl.in_turn = false;
	impl.report_ended();
}

struct RelayThreads::Impl {
	struct Worker {
		std::optional<Relay> relay;
		/* What the thread is to do with its relay: take new options, take clients, stop. */
		Mailbox<std::function<void(Relay &)>> mail;
		std::atomic<std::size_t> sessions{0};	/* taken and not ended */
		std::thread thread;

		explicit Worker(Mailbox<std::function<void(Relay &)>> m) : mail(std::move(m)) {}
	};

	/*
	 * A thread takes clients while it has at most this many sessions more
	 * than the one with the fewest: a burst spreads, and a client that
	 * arrives alone goes to the first thread free.
	 */
	static constexpr std::size_t spread = 8;

	ClientSource source;
	std::atomic<std::size_t> limit{0};
	std::atomic<std::size_t> total{0};	/* sessions on every thread, and clients being taken */
	/* A thread found the limit reached: the one whose session ends next takes the clients waiting. */
	std::atomic<bool> starved{false};
	std::atomic<bool> stopping{false};	/* the threads end their sessions and return */
	std::vector<std::unique_ptr<Worker>> workers;

	void run(Worker &w)
	{
		while (!stopping) {
			w.relay->run(-1);
			if (starved && total < limit && starved.exchange(false))
				take(w);
		}
		w.relay.reset();
	}

	/* On @w's thread: clients from the source, while there is room and @w is not far ahead of the others. */
	void take(Worker &w)
	{
		while (!stopping) {
			if (total.fetch_add(1) >= limit) {
				total--;
				starved = true;
				/* A session that ended before the flag was set did not see it. */
				if (total < limit && starved.exchange(false))
					continue;
				return;
			}
			auto &least = least_busy();
			if (&least != &w && w.sessions > least.sessions + spread) {
				total--;
				least.mail.post([this, &least](Relay &) { take(least); });
				return;
			}
			auto client = source.take();
			if (!client) {
				total--;
				return;
			}
			w.sessions++;
			if (client->refused)
				w.relay->refuse(std::move(client->client), std::move(*client->refused));
			else
				w.relay->add(std::move(client->client));
		}
	}

	Worker &least_busy()
	{
		return **std::ranges::min_element(workers, {}, [](const auto &w) { return w->sessions.load(); });
	}

	void stop()
	{
		stopping = true;
		for (auto &w : workers)
			w->mail.post([](Relay &) {});	/* wakes it */
		for (auto &w : workers)
			if (w->thread.joinable())
				w->thread.join();
		workers.clear();
	}
};

namespace {

/* One thread's options among @threads: the process keeps as many spare pipes as one relay would. */
RelayOptions share(RelayOptions options, std::size_t threads)
{
	options.spare_pipes = std::max<std::size_t>(options.spare_pipes / threads, 1);
	return options;
}

} // namespace

Result<RelayThreads> RelayThreads::create(RelayOptions options, unsigned threads, ClientSource source,
					  std::size_t limit)
{
	auto impl = std::make_unique<Impl>();
	impl->source = std::move(source);
	impl->limit = limit;
	auto ended = std::move(options.ended);
	unsigned n = std::max(threads, 1U);
	for (unsigned i = 0; i < n; i++) {
		auto mail = Mailbox<std::function<void(Relay &)>>::create();
		if (!mail)
			return std::unexpected(mail.error());
		auto w = std::make_unique<Impl::Worker>(std::move(*mail));
		auto ro = share(options, n);
		ro.ended = [w = w.get(), owner = impl.get(), ended](std::span<const SessionEnd> ends) {
			w->sessions -= ends.size();
			owner->total -= ends.size();
			if (ended)
				ended(ends);
		};
		auto relay = Relay::create(std::move(ro));
		if (!relay)
			return std::unexpected(relay.error());
		w->relay.emplace(std::move(*relay));
		/* Edge-triggered, both: the mailbox is emptied and the source taken from until it is empty. */
		auto *worker = w.get();
		if (auto ok = w->relay->watch(w->mail.fd(),
					      [worker] {
						      for (auto &task : worker->mail.take())
							      task(*worker->relay);
					      });
		    !ok)
			return std::unexpected(ok.error());
		for (int fd : impl->source.fds)
			if (auto ok = w->relay->watch(fd, [owner = impl.get(), worker] { owner->take(*worker); }); !ok)
				return std::unexpected(ok.error());
		impl->workers.push_back(std::move(w));
	}
	/* Once each has its relay: one that fails above leaves none running. */
	for (auto &w : impl->workers)
		w->thread = std::thread([owner = impl.get(), w = w.get()] { owner->run(*w); });
	return RelayThreads(std::move(impl));
}

Result<void> RelayThreads::configure(RelayOptions options)
{
	if (auto ok = check(options); !ok)
		return ok;
	options = share(options, impl_->workers.size());
	for (auto &w : impl_->workers)
		w->mail.post([options](Relay &relay) { (void)relay.configure(options); });
	return {};
}

void RelayThreads::set_limit(std::size_t limit)
{
	auto &impl = *impl_;
	bool more = limit > impl.limit.exchange(limit);
	/* Room now for clients that waited: the thread with the fewest takes them. */
	if (more && impl.starved.exchange(false)) {
		auto &w = impl.least_busy();
		w.mail.post([&impl, &w](Relay &) { impl.take(w); });
	}
}

RelayThreads::RelayThreads(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RelayThreads::RelayThreads(RelayThreads &&) noexcept = default;
RelayThreads &RelayThreads::operator=(RelayThreads &&) noexcept = default;

RelayThreads::~RelayThreads()
{
	if (impl_)
		impl_->stop();
}

std::size_t RelayThreads::sessions() const
{
	/* With the clients being taken: a drain does not end before they are. */
	return impl_->total;
}

unsigned RelayThreads::threads() const
{
	return static_cast<unsigned>(impl_->workers.size());
}

} // namespace gecko::proxy
