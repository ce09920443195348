// SPDX-License-Identifier: GPL-2.0-only
/*
 * A TCP echo server whose connections can be handed off at the socket
 * level: the application side of the module's freeze / capture / restore /
 * thaw / drop, driven by a scenario through a control socket, one command
 * per line, one answer per line ("ok [detail]" or "error <message>").
 *
 *   gecko-handoff-echo PORT CONTROL-PATH
 *
 * Commands: "give FILE [MS]" freezes the connection (for MS milliseconds at
 * most, else the module's default) and writes its state to FILE ("ok SIZE SND_UNA SND_NXT RCV_NXT TS_VAL": its length, then its
 * numbers, TS_VAL 0 without timestamps); "commit MS" commits it (its state left: the module drops it MS
 * milliseconds later, never thaws it); "drop" drops it (handed off);
 * "thaw" thaws it (rolled back); "take FILE" restores a connection from
 * FILE, frozen; "resume" thaws the connection taken and echoes on it;
 * "abort" drops the connection taken; "snap FILE" gives the running
 * connection a 32 MB send buffer and writes a snapshot of it to FILE ("ok
 * SIZE SND_UNA SND_NXT RCV_NXT TS_VAL", as give); "recover FILE" restores the connection from the
 * snapshot in FILE at the numbers of its probe's answer and resumes it
 * ("ok ACKED RECEIVED RESENT": what the client has, what it sent, and
 * the octets echoed again from the server's own record), or resets it
 * when the octets the client sent are not all the ones the server read
 * ("error cannot resume: ..."); "stats" tells the octets echoed;
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
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <string_view>
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

std::vector<std::byte> read_file(const std::string &file)
{
	std::ifstream in(file, std::ios::binary);
	std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
	std::vector<std::byte> out(raw.size());

	std::memcpy(out.data(), raw.data(), raw.size());
	return out;
}

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

/* TCP states as tcpi_state has them (the kernel's net/tcp_states.h). */
constexpr int tcp_established = 1;
constexpr int tcp_close = 7;

/* tcpi_bytes_acked and tcpi_bytes_received of @fd. */
bool counts(int fd, unsigned long long &acked, unsigned long long &received)
{
	tcp_info info{};
	socklen_t len = sizeof(info);

	if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len))
		return false;
	acked = info.tcpi_bytes_acked;
	received = info.tcpi_bytes_received;
	return true;
}

/* @state written to @file, and the answer: "ok SIZE SND_UNA SND_NXT RCV_NXT TS_VAL". */
std::string written(const std::string &file, const std::vector<std::byte> &state)
{
	std::ofstream out(file, std::ios::binary | std::ios::trunc);
	out.write(reinterpret_cast<const char *>(state.data()), static_cast<std::streamsize>(state.size()));
	if (!out.flush())
		return "error cannot write " + file;
	auto st = gecko::parse_tcp_state(state);
	if (!st)
		return "error " + st.error().describe();
	return "ok " + std::to_string(state.size()) + ' ' + std::to_string(st->write_seq - st->outq_len) + ' ' +
	       std::to_string(st->write_seq - st->unsq_len) + ' ' + std::to_string(st->rcv_nxt) + ' ' +
	       std::to_string(st->flags & gecko::TcpState::timestamps ? st->ts_val : 0);
}

/*
 * What the application wrote and read, by offset from the connection's
 * start: its own record, which a recovery resumes from.
 */
struct Record {
	static constexpr std::size_t keep = 64 << 20;

	std::string written;		/* the last octets written, up to keep */
	unsigned long long written_from = 0;	/* the offset of written's first */
	unsigned long long read_to = 0;		/* the octets read */

	void wrote(const char *data, std::size_t len)
	{
		written.append(data, len);
		if (written.size() > keep) {
			written_from += written.size() - keep / 2;
			written.erase(0, written.size() - keep / 2);
		}
	}
};

struct Server {
	explicit Server(gecko::Client client) : gecko(std::move(client)) {}

	gecko::Client gecko;
	Fd conn;		/* the connection echoed on */
	bool frozen = false;
	Fd taken;		/* restored, frozen, not resumed yet */
	std::vector<std::byte> taken_state;
	Record record, taken_record;
	unsigned long long echoed = 0;

	void accepted(Fd fd)
	{
		unsigned long long acked = 0, received = 0;

		counts(fd.get(), acked, received);
		record = Record{{}, acked, received};
		conn = std::move(fd);
	}

	std::string give(const std::string &arg)
	{
		if (!conn || frozen)
			return "error no connection to give";
		auto sp = arg.find(' ');
		auto file = arg.substr(0, sp);
		std::optional<std::chrono::milliseconds> timeout;
		if (sp != std::string::npos)
			timeout = std::chrono::milliseconds(std::stoul(arg.substr(sp + 1)));
		if (auto r = gecko.freeze_socket(conn.get(), timeout); !r)
			return "error freeze: " + r.error().describe();
		frozen = true;
		auto state = gecko.capture_socket(conn.get());
		if (!state)
			return "error capture: " + state.error().describe();
		return written(file, *state);
	}

	std::string snap(const std::string &file)
	{
		sockaddr_in6 local{}, remote{};
		socklen_t len = sizeof(local), rlen = sizeof(remote);

		if (!conn || frozen)
			return "error no running connection";
		/*
		 * The snapshot restores only while this server has read all the
		 * client sent; a send blocked on echoes that are never
		 * acknowledged (lost with the crash) would stop it reading. Room
		 * for them from here on: what ran before had Linux's defaults.
		 */
		int room = 16 << 20;
		if (::setsockopt(conn.get(), SOL_SOCKET, SO_SNDBUFFORCE, &room, sizeof(room)))
			return std::string("error send buffer: ") + std::strerror(errno);
		if (::getsockname(conn.get(), reinterpret_cast<sockaddr *>(&local), &len) ||
		    ::getpeername(conn.get(), reinterpret_cast<sockaddr *>(&remote), &rlen))
			return std::string("error ") + std::strerror(errno);
		auto state = gecko.snapshot_socket(local.sin6_addr, ntohs(local.sin6_port), remote.sin6_addr,
						   ntohs(remote.sin6_port));
		if (!state)
			return "error snapshot: " + state.error().describe();
		return written(file, *state);
	}

	/* A crash's other side: the connection, gone from here, restored from a snapshot. */
	std::string recover(const std::string &file)
	{
		if (conn || taken)
			return "error a connection is here already";
		auto snapshot = read_file(file);
		Fd fd(::socket(AF_INET6, SOCK_STREAM, 0));
		unsigned long long acked = 0, received = 0;

		if (!fd)
			return std::string("error socket: ") + std::strerror(errno);
		if (auto r = gecko.restore_socket(fd.get(), snapshot); !r)
			return "error restore: " + r.error().describe();
		counts(fd.get(), acked, received);
		std::string why;
		if (received != record.read_to)
			why = "the client sent " + std::to_string(received) + " octets, " + std::to_string(record.read_to) +
			      " were read";
		else if (acked < record.written_from || acked > record.written_from + record.written.size())
			why = "the client has " + std::to_string(acked) + " octets, the record " +
			      std::to_string(record.written_from) + " to " +
			      std::to_string(record.written_from + record.written.size());
		if (auto r = gecko.thaw_socket(fd.get()); !r)
			return "error thaw: " + r.error().describe();
		if (!why.empty()) {
			linger reset{1, 0};
			::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
			return "error cannot resume: " + why;
		}
		auto again = std::string_view(record.written).substr(acked - record.written_from);
		if (!send_all(fd.get(), again.data(), again.size()))
			return std::string("error resend: ") + std::strerror(errno);
		conn = std::move(fd);
		return "ok " + std::to_string(acked) + ' ' + std::to_string(received) + ' ' + std::to_string(again.size());
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
		return std::string("ok ") + (info.tcpi_state == tcp_established ? "established" :
					    info.tcpi_state == tcp_close	  ? "close" :
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
		taken_state = read_file(file);
		Fd fd(::socket(AF_INET6, SOCK_STREAM, 0));
		if (!fd)
			return std::string("error socket: ") + std::strerror(errno);
		if (auto r = gecko.restore_socket(fd.get(), taken_state); !r)
			return "error restore: " + r.error().describe();
		/* The donor's record starts with what its send queue held; the receive queue is read after the thaw. */
		auto st = gecko::parse_tcp_state(taken_state);
		if (!st)
			return "error " + st.error().describe();
		auto sent = gecko::sent_queue(*st, taken_state), unsent = gecko::unsent_queue(*st, taken_state);
		taken_record = Record{{}, st->bytes_sent - st->outq_len, st->bytes_received - st->inq_len};
		taken_record.wrote(reinterpret_cast<const char *>(sent.data()), sent.size());
		taken_record.wrote(reinterpret_cast<const char *>(unsent.data()), unsent.size());
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
		record = std::move(taken_record);
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
		if (verb == "snap")
			return snap(arg);
		if (verb == "recover")
			return recover(arg);
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
		record.read_to += n;
		record.wrote(buf, n);
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
				srv.accepted(std::move(fd));
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
