// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The node agent's connections (agent/transport.h): listeners, TLS on the
 * node channel, framing, what may wait and for how long.
 */

#include "agent/transport.h"

#include "fail.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace gecko::agent {

namespace {

using std::chrono::seconds;

/* A peer has this long to complete its handshake. */
constexpr auto handshake_timeout = seconds(5);
/* How often a refused address is logged at most. */
constexpr auto refusal_log_interval = seconds(60);
constexpr std::size_t max_control_conns = 64;
constexpr std::size_t max_peer_conns = 256;
/* Handshakes under way: all of them, and from one address. */
constexpr std::size_t max_handshakes = 64;
constexpr std::size_t max_handshakes_per_address = 4;
/* gecko-ctl reads what it asked for; a peer takes bundles of connections' state. */
constexpr std::size_t max_control_output = 64 * 1024;
constexpr std::size_t max_peer_output = 512u << 20;
constexpr std::size_t max_logged = 4096;

} // namespace

Transport::Transport(const Settings &settings, Handler &handler, Counters &counters, Log log)
	: settings_(settings), handler_(handler), counters_(counters), log_(std::move(log))
{
}

Transport::~Transport() = default;

Result<std::unique_ptr<Transport>> Transport::open(const Settings &settings, Handler &handler, Counters &counters,
						   Log log)
{
	std::unique_ptr<Transport> t(new Transport(settings, handler, counters, std::move(log)));

	auto control = listen_unix(settings.control);
	if (!control)
		return std::unexpected(control.error());
	t->control_fd_ = std::move(*control);

	auto tls = tls::Context::load(settings.security);
	if (!tls) {
		if (tls.error().code != ENOKEY)
			return std::unexpected(tls.error());
		t->log("no cluster key nor certificates: the node channel is off, this node works alone");
		return t;
	}
	t->tls_ = std::move(*tls);
	if (settings.addresses.empty())
		return fail(EDESTADDRREQ, "no care-of address for the node channel: add the service first, or name it");
	for (const auto &addr : settings.addresses) {
		auto fd = listen_tcp(addr, settings.port);
		if (!fd)
			return std::unexpected(fd.error());
		t->peer_fds_.push_back(std::move(*fd));
	}
	return t;
}

const char *Transport::channel() const
{
	return tls_ ? tls_->mode() : nullptr;
}

void Transport::log(const std::string &line)
{
	if (log_)
		log_(line);
}

void Transport::refuse(const in6_addr &from, const std::string &why)
{
	auto now = Clock::now();
	auto it = logged_.find(from);

	counters_.peer_refused++;
	if (it != logged_.end() && now - it->second < refusal_log_interval)
		return;
	if (it == logged_.end() && logged_.size() >= max_logged)
		return;
	logged_[from] = now;
	log("node channel: refused " + text(from) + ": " + why + " (logged once a minute per address)");
}

std::uint64_t Transport::add(Conn conn)
{
	auto id = next_++;
	conns_.emplace(id, std::move(conn));
	return id;
}

void Transport::watch(std::vector<pollfd> &fds)
{
	short listen = Clock::now() < paused_until_ ? 0 : POLLIN;
	std::vector<std::pair<std::uint64_t, std::string>> doomed;

	for (const auto &[id, conn] : conns_)
		if (!conn.doomed.empty())
			doomed.emplace_back(id, conn.doomed);
	for (const auto &[id, why] : doomed)
		close(id, why);

	slots_.clear();
	fds.push_back({control_fd_.get(), listen, 0});
	slots_.push_back({control_fd_.get(), false, 0});
	for (const auto &fd : peer_fds_) {
		fds.push_back({fd.get(), listen, 0});
		slots_.push_back({fd.get(), true, 0});
	}
	for (const auto &[id, conn] : conns_) {
		short events = POLLIN;
		if (conn.connecting || conn.want_write || (!conn.out.empty() && conn.established))
			events |= POLLOUT;
		fds.push_back({conn.fd.get(), events, 0});
		slots_.push_back({-1, conn.peer, id});
	}
}

void Transport::ready(std::span<const pollfd> fds)
{
	auto slots = std::move(slots_);

	for (std::size_t i = 0; i < fds.size() && i < slots.size(); i++) {
		auto revents = fds[i].revents;
		const auto &slot = slots[i];

		if (!revents)
			continue;
		if (slot.listener >= 0) {
			accept_on(slot.listener, slot.peer);
			continue;
		}
		auto it = conns_.find(slot.conn);
		if (it == conns_.end())
			continue;
		auto &conn = it->second;
		if (conn.connecting) {
			int err = 0;
			socklen_t len = sizeof(err);
			getsockopt(conn.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
			if (err) {
				close(slot.conn, std::string("cannot connect: ") + std::strerror(err));
				continue;
			}
			if (!(revents & POLLOUT))
				continue;
			conn.connecting = false;
		}
		if (conn.peer && !conn.established) {
			handshake(slot.conn);
			continue;
		}
		if (revents & (POLLIN | POLLHUP | POLLERR))
			read(slot.conn);
		if (conns_.contains(slot.conn) && (revents & POLLOUT))
			flush(slot.conn);
	}
}

void Transport::tick(Clock::time_point now)
{
	std::vector<std::uint64_t> late;

	for (const auto &[id, conn] : conns_)
		if (conn.peer && !conn.established && now >= conn.deadline)
			late.push_back(id);
	for (auto id : late) {
		auto &conn = conns_.at(id);
		if (!conn.outgoing)
			refuse(conn.node, "no handshake within 5 s");
		close(id, "no TLS handshake within 5 s");
	}
	std::erase_if(logged_, [now](const auto &l) { return now - l.second >= refusal_log_interval; });
}

void Transport::accept_on(int fd, bool peer)
{
	sockaddr_in6 from{};
	socklen_t len = sizeof(from);
	UniqueFd sk(accept4(fd, reinterpret_cast<sockaddr *>(&from), &len, SOCK_NONBLOCK | SOCK_CLOEXEC));

	if (sk.get() < 0) {
		/* Out of descriptors: the listener stays readable, so stop polling it for a while. */
		if (errno == EMFILE || errno == ENFILE) {
			log(std::string("cannot accept a connection: ") + std::strerror(errno));
			paused_until_ = Clock::now() + seconds(1);
		}
		return;
	}
	if (!peer) {
		auto controls = std::ranges::count_if(conns_, [](const auto &c) { return !c.second.peer; });
		if (static_cast<std::size_t>(controls) >= max_control_conns)
			return log("refused a control connection: " + std::to_string(max_control_conns) + " are open");
		if (!control_peer_allowed(sk.get()))
			return log("refused a control connection from another user");
		Conn conn;
		conn.fd = std::move(sk);
		conn.established = true;
		add(std::move(conn));
		return;
	}

	std::size_t handshakes = 0, from_there = 0, peers = 0;
	for (const auto &[id, c] : conns_) {
		if (!c.peer)
			continue;
		peers++;
		if (!c.established) {
			handshakes++;
			from_there += same(c.node, from.sin6_addr);
		}
	}
	if (peers >= max_peer_conns || handshakes >= max_handshakes)
		return refuse(from.sin6_addr, "too many connections");
	if (from_there >= max_handshakes_per_address)
		return refuse(from.sin6_addr, "too many handshakes from this address");
	/* Requests and answers: none may wait behind Nagle for an acknowledgement delayed 40 ms. */
	int one = 1;
	setsockopt(sk.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	auto session = tls_->accept(sk.get(), from.sin6_addr);
	if (!session)
		return log("node channel: " + session.error().describe());
	Conn conn;
	conn.fd = std::move(sk);
	conn.peer = true;
	conn.node = from.sin6_addr;
	conn.tls = std::move(*session);
	conn.deadline = Clock::now() + handshake_timeout;
	handshake(add(std::move(conn)));
}

void Transport::handshake(std::uint64_t id)
{
	auto &conn = conns_.at(id);

	conn.want_write = false;
	switch (conn.tls->handshake()) {
	case tls::Session::Status::ok:
		conn.established = true;
		/* Messages queued while it was on its way leave now. */
		flush(id);
		if (conns_.contains(id))
			read(id);
		return;
	case tls::Session::Status::want_write:
		conn.want_write = true;
		return;
	case tls::Session::Status::want_read:
		return;
	default: {
		std::string why = "TLS handshake failed: " + conn.tls->why();
		if (!conn.outgoing)
			refuse(conn.node, why);
		close(id, why);
	}
	}
}

void Transport::read(std::uint64_t id)
{
	static thread_local std::byte buf[64 * 1024];

	for (;;) {
		auto it = conns_.find(id);
		if (it == conns_.end())
			return;
		auto &conn = it->second;
		/* gecko-ctl reads its answers; a connection that lets them pile up goes. */
		if (!conn.peer && conn.out.size() > max_control_output) {
			counters_.peer_errors++;
			return close(id, "it does not read its answers");
		}
		std::size_t n = 0;
		if (conn.tls) {
			conn.want_write = false;
			auto st = conn.tls->read(buf, n);
			if (st == tls::Session::Status::want_read)
				return;
			if (st == tls::Session::Status::want_write) {
				conn.want_write = true;
				return;
			}
			if (st != tls::Session::Status::ok)
				return close(id, st == tls::Session::Status::closed ? "closed the connection"
										     : "TLS: " + conn.tls->why());
		} else {
			auto got = recv(conn.fd.get(), buf, sizeof(buf), 0);
			if (got < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			if (got <= 0)
				return close(id, got ? std::string("connection lost: ") + std::strerror(errno)
						     : "closed the connection");
			n = static_cast<std::size_t>(got);
		}
		conn.in.feed(std::span(buf, n));
		deliver(id);
		/* A plain socket is read again when poll() says so; TLS may hold decrypted octets poll() cannot see. */
		if (!conns_.contains(id) || !conns_.at(id).tls)
			return;
	}
}

void Transport::deliver(std::uint64_t id)
{
	while (conns_.contains(id)) {
		auto &conn = conns_.at(id);
		auto msg = conn.in.next();
		if (!msg) {
			counters_.peer_errors++;
			return close(id, "malformed frame: " + msg.error().describe());
		}
		if (!*msg)
			return;
		if (conn.peer)
			handler_.peer_message(id, conn.node, **msg);
		else
			handler_.control_message(id, **msg);
	}
}

void Transport::flush_queued()
{
	std::vector<std::uint64_t> ids;

	for (const auto &[id, conn] : conns_)
		if (!conn.out.empty() && conn.established && !conn.want_write && conn.doomed.empty())
			ids.push_back(id);
	/* flush() may close one, and closing may close others. */
	for (auto id : ids)
		if (conns_.contains(id))
			flush(id);
}

void Transport::flush(std::uint64_t id)
{
	auto &conn = conns_.at(id);
	std::size_t sent = 0;

	conn.want_write = false;
	while (sent < conn.out.size()) {
		auto rest = std::span(conn.out).subspan(sent);
		std::size_t n = 0;
		if (conn.tls) {
			auto st = conn.tls->write(rest, n);
			if (st == tls::Session::Status::want_write || st == tls::Session::Status::want_read) {
				conn.want_write = st == tls::Session::Status::want_write;
				break;
			}
			if (st != tls::Session::Status::ok)
				return close(id, "TLS: " + conn.tls->why());
		} else {
			auto got = ::send(conn.fd.get(), rest.data(), rest.size(), MSG_NOSIGNAL);
			if (got < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (got < 0)
				return close(id, std::string("connection lost: ") + std::strerror(errno));
			n = static_cast<std::size_t>(got);
		}
		sent += n;
	}
	/* Erased once: a handoff's bundle is megabytes. */
	conn.out.erase(conn.out.begin(), conn.out.begin() + static_cast<std::ptrdiff_t>(sent));
}

bool Transport::send(std::uint64_t id, const wire::Message &msg)
{
	auto it = conns_.find(id);
	if (it == conns_.end())
		return false;
	auto &conn = it->second;
	auto bytes = msg.encode();
	if (!conn.doomed.empty())
		return false;
	if (conn.peer && conn.out.size() + bytes.size() > max_peer_output) {
		counters_.peer_errors++;
		/* Closed on the next turn of the loop: the caller may be walking what closing changes. */
		conn.doomed = "it does not read what it is sent";
		return false;
	}
	conn.out.insert(conn.out.end(), bytes.begin(), bytes.end());
	/* Only queued: poll() flushes it, so no caller sees a connection (and its handoffs) vanish under it. */
	return true;
}

Result<std::uint64_t> Transport::peer(const in6_addr &self, const in6_addr &node)
{
	if (!tls_)
		return fail(ENOKEY, "the node channel is off: this agent has no cluster key nor certificates");
	for (const auto &[id, conn] : conns_)
		if (conn.peer && same(conn.node, node) && (conn.established || conn.outgoing))
			return id;
	auto fd = connect_tcp(self, node, settings_.port);
	if (!fd)
		return std::unexpected(fd.error());
	auto session = tls_->connect(fd->get(), self, node);
	if (!session)
		return std::unexpected(session.error());
	Conn conn;
	conn.fd = std::move(*fd);
	conn.peer = true;
	conn.outgoing = true;
	conn.connecting = true;
	conn.node = node;
	conn.tls = std::move(*session);
	conn.deadline = Clock::now() + handshake_timeout;
	return add(std::move(conn));
}

bool Transport::handshaking(std::uint64_t conn) const
{
	auto it = conns_.find(conn);
	return it != conns_.end() && !it->second.established && it->second.doomed.empty();
}

void Transport::forget(const in6_addr &node, const std::string &why)
{
	std::vector<std::uint64_t> ids;
	for (const auto &[id, conn] : conns_)
		if (conn.peer && same(conn.node, node))
			ids.push_back(id);
	for (auto id : ids)
		close(id, why);
}

void Transport::close(std::uint64_t id, const std::string &why)
{
	auto it = conns_.find(id);
	if (it == conns_.end())
		return;
	std::optional<in6_addr> node;
	if (it->second.peer)
		node = it->second.node;
	conns_.erase(it);
	handler_.closed(id, node, why);
}

} // namespace gecko::agent
