// SPDX-License-Identifier: GPL-2.0-only
/*
 * A TCP echo server whose connections can be handed off at the socket
 * level: the application side of the module's freeze / capture / restore /
 * thaw / drop, driven by a scenario through a control socket, one command
 * per line, one answer per line ("ok [detail]" or "error <message>").
 *
 *   gecko-handoff-echo PORT CONTROL-PATH
 *
 * Commands: "give FILE" freezes the connection and writes its state to
 * FILE ("ok SIZE SND_UNA SND_NXT RCV_NXT TS_VAL": its length, then its
 * numbers, TS_VAL 0 without timestamps); "commit MS" commits it (its state left: the module drops it MS
 * milliseconds later, never thaws it); "drop" drops it (handed off);
 * "thaw" thaws it (rolled back); "take FILE" restores a connection from
 * FILE, frozen; "resume" thaws the connection taken and echoes on it;
 * "abort" drops the connection taken; "stats" tells the octets echoed;
 * "state" tells the connection's TCP state and the error its socket
 * reports ("ok established 0", "ok close 103"); "unfrozen" echoes on a
 * connection the module thawed by itself (its timeout, or its unload);
 * "close" closes the connection, so that the next one is taken; "reopen"
 * opens a new netlink client (the module was loaded again). One
 * connection at a time.
 */

#include <gecko/client.h>
#include <gecko/tcp_state.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

class Fd {
public:
	explicit Fd(int fd = -1) : fd_(fd) {}
	Fd(Fd &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
	Fd &operator=(Fd &&other) noexcept
	{
		reset(std::exchange(other.fd_, -1));
		return *this;
	}
	Fd(const Fd &) = delete;
	~Fd() { reset(); }
	int get() const { return fd_; }
	explicit operator bool() const { return fd_ >= 0; }
	void reset(int fd = -1)
	{
		if (fd_ >= 0)
			::close(fd_);
		fd_ = fd;
	}

private:
	int fd_;
};

[[noreturn]] void die(const char *what)
{
	std::fprintf(stderr, "gecko-handoff-echo: %s: %s\n", what, std::strerror(errno));
	std::exit(1);
}

bool send_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		len -= n;
	}
	return true;
}

struct Server {
	explicit Server(gecko::Client client) : gecko(std::move(client)) {}

	gecko::Client gecko;
	Fd conn;		/* the connection echoed on */
	bool frozen = false;
	Fd taken;		/* restored, frozen, not resumed yet */
	std::vector<std::byte> taken_state;
	unsigned long long echoed = 0;

	std::string give(const std::string &file)
	{
		if (!conn || frozen)
			return "error no connection to give";
		if (auto r = gecko.freeze_socket(conn.get()); !r)
			return "error freeze: " + r.error().describe();
		frozen = true;
		auto state = gecko.capture_socket(conn.get());
		if (!state)
			return "error capture: " + state.error().describe();
		std::ofstream out(file, std::ios::binary | std::ios::trunc);
		out.write(reinterpret_cast<const char *>(state->data()), state->size());
		if (!out.flush())
			return "error cannot write " + file;
		auto st = gecko::parse_tcp_state(*state);
		if (!st)
			return "error " + st.error().describe();
		return "ok " + std::to_string(state->size()) + ' ' + std::to_string(st->write_seq - st->outq_len) + ' ' +
		       std::to_string(st->write_seq - st->unsq_len) + ' ' + std::to_string(st->rcv_nxt) + ' ' +
		       std::to_string(st->flags & gecko::TcpState::timestamps ? st->ts_val : 0);
	}

	std::string commit(const std::string &ms)
	{
		if (!frozen)
			return "error nothing frozen";
		auto r = gecko.commit_socket(conn.get(), std::chrono::milliseconds(std::atol(ms.c_str())));
		return r ? "ok" : "error commit: " + r.error().describe();
	}

	std::string state()
	{
		tcp_info info{};
		socklen_t len = sizeof(info);
		int err = 0;
		socklen_t err_len = sizeof(err);

		if (!conn)
			return "error no connection";
		if (::getsockopt(conn.get(), IPPROTO_TCP, TCP_INFO, &info, &len) ||
		    ::getsockopt(conn.get(), SOL_SOCKET, SO_ERROR, &err, &err_len))
			return std::string("error getsockopt: ") + std::strerror(errno);
		return std::string("ok ") + (info.tcpi_state == TCP_ESTABLISHED ? "established" :
					    info.tcpi_state == TCP_CLOSE	  ? "close" :
										    "other") +
		       " " + std::to_string(err);
	}

	std::string drop()
	{
		if (!frozen)
			return "error nothing frozen";
		auto r = gecko.drop_socket(conn.get());
		conn.reset();
		frozen = false;
		return r ? "ok" : "error drop: " + r.error().describe();
	}

	std::string thaw()
	{
		if (!frozen)
			return "error nothing frozen";
		auto r = gecko.thaw_socket(conn.get());
		if (!r)
			return "error thaw: " + r.error().describe();
		frozen = false;
		return "ok";
	}

	std::string take(const std::string &file)
	{
		if (conn || taken)
			return "error a connection is here already";
		std::ifstream in(file, std::ios::binary);
		std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
		if (!in && !in.eof())
			return "error cannot read " + file;
		taken_state.resize(raw.size());
		std::memcpy(taken_state.data(), raw.data(), raw.size());
		Fd fd(::socket(AF_INET6, SOCK_STREAM, 0));
		if (!fd)
			return std::string("error socket: ") + std::strerror(errno);
		if (auto r = gecko.restore_socket(fd.get(), taken_state); !r)
			return "error restore: " + r.error().describe();
		taken = std::move(fd);
		return "ok";
	}

	std::string resume()
	{
		if (!taken)
			return "error nothing taken";
		if (auto r = gecko.thaw_socket(taken.get()); !r)
			return "error resume: " + r.error().describe();
		conn = std::move(taken);
		return "ok";
	}

	std::string abort()
	{
		if (!taken)
			return "error nothing taken";
		auto r = gecko.drop_socket(taken.get());
		taken.reset();
		return r ? "ok" : "error drop: " + r.error().describe();
	}

	std::string command(const std::string &line)
	{
		auto sp = line.find(' ');
		std::string verb = line.substr(0, sp);
		std::string arg = sp == std::string::npos ? "" : line.substr(sp + 1);

		if (verb == "give")
			return give(arg);
		if (verb == "commit")
			return commit(arg);
		if (verb == "state")
			return state();
		if (verb == "unfrozen") {
			frozen = false;
			return "ok";
		}
		if (verb == "close") {
			conn.reset();
			frozen = false;
			return "ok";
		}
		if (verb == "reopen") {
			auto client = gecko::Client::open();
			if (!client)
				return "error " + client.error().describe();
			gecko = std::move(*client);
			return "ok";
		}
		if (verb == "drop")
			return drop();
		if (verb == "thaw")
			return thaw();
		if (verb == "take")
			return take(arg);
		if (verb == "resume")
			return resume();
		if (verb == "abort")
			return abort();
		if (verb == "stats")
			return "ok " + std::to_string(echoed);
		return "error unknown command";
	}

	/* Echoes what is there; false when the connection is over (errno 0 at its end). */
	bool echo()
	{
		char buf[65536];
		ssize_t n = ::recv(conn.get(), buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if (n == 0) {
			::shutdown(conn.get(), SHUT_WR);
			errno = 0;
			return false;
		}
		echoed += n;
		return send_all(conn.get(), buf, n);
	}
};

Fd listen_tcp(int port)
{
	Fd fd(::socket(AF_INET6, SOCK_STREAM, 0));
	sockaddr_in6 sa{};
	int one = 1;

	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons(port);
	if (!fd || ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    ::bind(fd.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) ||
	    ::listen(fd.get(), 16))
		die("listen");
	return fd;
}

Fd listen_unix(const char *path)
{
	Fd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
	sockaddr_un sa{};

	sa.sun_family = AF_UNIX;
	std::snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	::unlink(path);
	if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) ||
	    ::listen(fd.get(), 4))
		die("control socket");
	return fd;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 3) {
		std::fprintf(stderr, "usage: gecko-handoff-echo PORT CONTROL-PATH\n");
		return 2;
	}
	auto gecko = gecko::Client::open();
	if (!gecko) {
		std::fprintf(stderr, "gecko-handoff-echo: %s\n", gecko.error().describe().c_str());
		return 1;
	}
	Server srv(std::move(*gecko));
	Fd tcp = listen_tcp(std::atoi(argv[1]));
	Fd ctl = listen_unix(argv[2]);
	std::printf("handoff echo on port %s\n", argv[1]);
	std::fflush(stdout);

	for (;;) {
		pollfd pfd[3] = {{tcp.get(), POLLIN, 0}, {ctl.get(), POLLIN, 0},
				 {srv.conn && !srv.frozen ? srv.conn.get() : -1, POLLIN, 0}};

		if (::poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pfd[0].revents & POLLIN) {
			Fd fd(::accept(tcp.get(), nullptr, nullptr));
			if (fd && !srv.conn && !srv.taken)
				srv.conn = std::move(fd);
		}
		if (pfd[1].revents & POLLIN) {
			Fd peer(::accept(ctl.get(), nullptr, nullptr));
			char line[4096];
			ssize_t n = peer ? ::recv(peer.get(), line, sizeof(line) - 1, 0) : -1;

			if (n > 0) {
				line[n] = 0;
				line[std::strcspn(line, "\n")] = 0;
				std::string answer = srv.command(line) + "\n";
				std::printf("%s -> %s", line, answer.c_str());
				std::fflush(stdout);
				send_all(peer.get(), answer.data(), answer.size());
			}
		}
		/* A command may have frozen or replaced the connection polled. */
		if (pfd[2].revents && pfd[2].fd == srv.conn.get() && !srv.frozen && !srv.echo()) {
			std::printf("connection over: %s\n", errno ? std::strerror(errno) : "end of stream");
			std::fflush(stdout);
			srv.conn.reset();
		}
	}
}
