// SPDX-License-Identifier: LGPL-2.1-or-later

#include <gecko/address.h>
#include <gecko/agent.h>

#include "agent/common.h"
#include "agent/wire.h"
#include "fail.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <utility>

namespace gecko::agent {

namespace {

/* Sends @req on @fd and waits for the reply; a failed operation becomes an error. */
Result<wire::Message> exchange(int fd, const wire::Message &req)
{
	auto bytes = req.encode();
	for (std::size_t off = 0; off < bytes.size();) {
		auto n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(errno, std::string("cannot talk to the node agent: ") + std::strerror(errno));
		off += static_cast<std::size_t>(n);
	}

	wire::Reader reader;
	for (;;) {
		auto msg = reader.next();
		if (!msg)
			return std::unexpected(msg.error());
		if (*msg) {
			if ((*msg)->type() != wire::Type::reply)
				return fail(EPROTO, "the node agent answered with message " + std::to_string(int((*msg)->type())));
			auto code = (*msg)->u32(wire::Attr::error);
			if (!code)
				return std::unexpected(code.error());
			if (*code)
				return fail(static_cast<int>(*code), (*msg)->text(wire::Attr::text).value_or(""));
			return std::move(**msg);
		}
		std::byte buf[4096];
		auto n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail(n ? errno : ECONNRESET, "the node agent went away without an answer");
		reader.feed(std::span(buf, static_cast<std::size_t>(n)));
	}
}

Result<Outcome> outcome(Result<wire::Message> reply)
{
	if (!reply)
		return std::unexpected(reply.error());
	Outcome out;
	out.seq = reply->u16(wire::Attr::seq).value_or(0);
	out.lifetime = reply->u32(wire::Attr::lifetime).value_or(0);
	out.elapsed = std::chrono::microseconds(reply->u64(wire::Attr::elapsed_us).value_or(0));
	return out;
}

wire::Message for_client(wire::Type type, const in6_addr &home, const in6_addr &client)
{
	wire::Message req(type);
	req.put(wire::Attr::home, home).put(wire::Attr::client, client);
	return req;
}

} // namespace

Result<Control> Control::connect(const std::string &name)
{
	auto fd = connect_unix(name);
	if (!fd)
		return std::unexpected(fd.error());
	return Control(*fd);
}

Control::Control(Control &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

Control &Control::operator=(Control &&other) noexcept
{
	std::swap(fd_, other.fd_);
	return *this;
}

Control::~Control()
{
	if (fd_ >= 0)
		close(fd_);
}

Result<Outcome> Control::register_home(const in6_addr &home, std::optional<std::uint32_t> lifetime)
{
	wire::Message req(wire::Type::register_home);
	req.put(wire::Attr::home, home);
	if (lifetime)
		req.put_u32(wire::Attr::lifetime, *lifetime);
	return outcome(exchange(fd_, req));
}

Result<Outcome> Control::deregister_home(const in6_addr &home)
{
	wire::Message req(wire::Type::deregister_home);
	req.put(wire::Attr::home, home);
	return outcome(exchange(fd_, req));
}

Result<Outcome> Control::rr(const in6_addr &home, const in6_addr &client)
{
	return outcome(exchange(fd_, for_client(wire::Type::rr, home, client)));
}

Result<Outcome> Control::bu(const in6_addr &home, const in6_addr &client, std::optional<std::uint16_t> seq,
			    std::optional<std::uint32_t> lifetime)
{
	auto req = for_client(wire::Type::bu, home, client);
	if (seq)
		req.put_u16(wire::Attr::seq, *seq);
	if (lifetime)
		req.put_u32(wire::Attr::lifetime, *lifetime);
	return outcome(exchange(fd_, req));
}

Result<Outcome> Control::clear(const in6_addr &home, const in6_addr &client)
{
	return outcome(exchange(fd_, for_client(wire::Type::clear, home, client)));
}

Result<Counters> Control::counters()
{
	auto reply = exchange(fd_, wire::Message(wire::Type::counters));
	if (!reply)
		return std::unexpected(reply.error());
	Counters c;
	for (std::size_t i = 0; i < std::size(counter_fields); i++) {
		auto attr = static_cast<wire::Attr>(static_cast<std::size_t>(wire::Attr::counter_base) + i);
		c.*counter_fields[i].first = reply->u64(attr).value_or(0);
	}
	return c;
}

Result<std::string> Control::drain()
{
	auto reply = exchange(fd_, wire::Message(wire::Type::drain));
	if (!reply)
		return std::unexpected(reply.error());
	return reply->text(wire::Attr::text).value_or("");
}

Result<Outcome> Control::handoff(const in6_addr &client, const in6_addr &node)
{
	wire::Message req(wire::Type::handoff);
	req.put(wire::Attr::client, client).put(wire::Attr::node, node);
	return outcome(exchange(fd_, req));
}

/* EPROTO: @what, and the @line the agent sent (its beginning). */
static std::unexpected<Error> malformed_line(const char *what, const std::string &line)
{
	constexpr std::size_t shown = 120;
	return fail(EPROTO, std::string(what) + ": '" + line.substr(0, shown) + (line.size() > shown ? "...'" : "'"));
}

/* A reply's records, one per line, each read by @parse; EPROTO with @malformed if one cannot be. */
template <class T>
static Result<std::vector<T>> records(Result<wire::Message> reply, std::optional<T> (*parse)(const std::string &),
				      const char *malformed)
{
	if (!reply)
		return std::unexpected(reply.error());
	std::istringstream lines(reply->text(wire::Attr::records).value_or(""));
	std::vector<T> out;
	for (std::string line; std::getline(lines, line);) {
		auto record = parse(line);
		if (!record)
			return malformed_line(malformed, line);
		out.push_back(std::move(*record));
	}
	return out;
}

/*
 * One line of the agent's records: id (hex), out|in, client, node, conns,
 * moved|stayed|lost, prepare, frozen, total (µs), error.
 */
static std::optional<HandoffRecord> parse_record(const std::string &line)
{
	std::istringstream in(line);
	std::string dir, client, node, fate;
	HandoffRecord r;
	long long prepare, frozen, total;

	if (!(in >> std::hex >> r.id >> std::dec >> dir >> client >> node >> r.conns >> fate >> prepare >> frozen >>
	      total))
		return std::nullopt;
	auto c = parse_address(client);
	auto n = parse_address(node);
	if (!c || !n)
		return std::nullopt;
	r.outbound = dir == "out";
	r.client = *c;
	r.node = *n;
	r.moved = fate == "moved";
	r.lost = fate == "lost";
	r.prepare = std::chrono::microseconds(prepare);
	r.frozen = std::chrono::microseconds(frozen);
	r.total = std::chrono::microseconds(total);
	std::getline(in >> std::ws, r.error);
	return r;
}

Result<std::vector<HandoffRecord>> Control::handoffs()
{
	return records(exchange(fd_, wire::Message(wire::Type::handoffs)), parse_record,
		       "the node agent sent a malformed handoff record");
}

/*
 * One line of the agent's programs: pid, name, ports (comma-separated, -
 * for none), connections, counters (name=value,..., - for none), detail.
 */
static std::optional<ProgramStatus> parse_program(const std::string &line)
{
	std::istringstream in(line);
	std::string ports, counters;
	ProgramStatus p;

	if (!(in >> p.pid >> p.name >> ports >> p.connections >> counters))
		return std::nullopt;
	if (counters != "-") {
		std::istringstream list(counters);
		std::string item;
		while (std::getline(list, item, ',')) {
			auto eq = item.find('=');
			if (eq == std::string::npos || !valid_counter_name(item.substr(0, eq)) || eq + 1 == item.size() ||
			    item.find_first_not_of("0123456789", eq + 1) != std::string::npos)
				return std::nullopt;
			p.counters.emplace_back(item.substr(0, eq), std::strtoull(item.c_str() + eq + 1, nullptr, 10));
		}
	}
	if (ports != "-") {
		std::istringstream list(ports);
		std::string port;
		while (std::getline(list, port, ',')) {
			auto n = port.empty() ? -1L : std::strtol(port.c_str(), nullptr, 10);
			if (n <= 0 || n > 65535)
				return std::nullopt;
			p.ports.push_back(static_cast<std::uint16_t>(n));
		}
	}
	std::getline(in >> std::ws, p.detail);
	return p;
}

Result<std::vector<ProgramStatus>> Control::programs()
{
	return records(exchange(fd_, wire::Message(wire::Type::programs)), parse_program,
		       "the node agent sent a malformed program line");
}

/* One line of the agent's members: name, address, state, silent_ms (-1: never), connections, file|joined, weight. */
static std::optional<MemberStatus> parse_member(const std::string &line)
{
	std::istringstream in(line);
	std::string address, state;
	long long silent;
	MemberStatus m;

	std::string origin;
	if (!(in >> m.name >> address >> state >> silent >> m.connections >> origin >> m.weight) ||
	    (origin != "file" && origin != "joined"))
		return std::nullopt;
	m.joined = origin == "joined";
	auto a = parse_address(address);
	auto s = std::ranges::find(member_states, state, &std::pair<MemberStatus::State, std::string_view>::second);
	if (!a || s == std::end(member_states))
		return std::nullopt;
	m.address = *a;
	m.state = s->first;
	if (silent >= 0)
		m.silent = std::chrono::milliseconds(silent);
	return m;
}

Result<std::vector<MemberStatus>> Control::members()
{
	return records(exchange(fd_, wire::Message(wire::Type::members)), parse_member,
		       "the node agent sent a malformed member line");
}

/* One line of the agent's distances: member, rtt_us. */
static std::optional<Distance> parse_distance(const std::string &line)
{
	std::istringstream in(line);
	Distance d;
	long long us;

	if (!(in >> d.member >> us) || us <= 0)
		return std::nullopt;
	d.rtt = std::chrono::microseconds(us);
	return d;
}

Result<std::vector<Distance>> Control::proximity(const in6_addr &client)
{
	wire::Message req(wire::Type::proximity);
	req.put(wire::Attr::client, client);
	return records(exchange(fd_, req), parse_distance, "the node agent sent a malformed distance line");
}

Result<Backups> Control::backups(std::optional<in6_addr> client)
{
	wire::Message req(wire::Type::backups);
	if (client)
		req.put(wire::Attr::client, *client);
	auto reply = exchange(fd_, req);
	if (!reply)
		return std::unexpected(reply.error());
	std::istringstream lines(reply->text(wire::Attr::records).value_or(""));
	Backups out;
	for (std::string line; std::getline(lines, line);) {
		std::istringstream in(line);
		std::string kind, name, client;
		long long e = -1;
		long long a = -1, b = -1, c = -1, d = -1;
		bool ok = false;

		in >> kind >> name;
		if (kind == "backup" && in >> a && a >= 0) {
			if (name != "-")
				out.backup = name;
			out.mirrored = static_cast<std::uint32_t>(a);
			ok = true;
		} else if (kind == "member" && in >> a >> b && a >= 0 && b >= 0) {
			out.members.push_back({name, static_cast<std::uint32_t>(a), std::chrono::milliseconds(b)});
			ok = true;
		} else if (kind == "registration" && in >> client >> a >> b >> e && a >= 0 && a <= 0xffff && b >= 0 &&
			   e >= 0) {
			auto home = parse_address(client);
			if ((ok = home.has_value()))
				out.registrations.push_back({name, *home, static_cast<std::uint16_t>(a), std::chrono::seconds(b),
							     std::chrono::milliseconds(e)});
		} else if (kind == "recovery") {
			RecoveryRecord r;
			long long f = -1;
			if (in >> client >> a >> b >> c >> d >> e >> f && a >= 0 && b >= 0 && b <= a && c >= 0 && d >= 0 &&
			    e >= 0 && f >= 0) {
				auto address = parse_address(client);
				if ((ok = address.has_value())) {
					std::getline(in >> std::ws, r.error);
					r.member = name;
					r.client = *address;
					r.conns = static_cast<std::uint32_t>(a);
					r.recovered = static_cast<std::uint32_t>(b);
					r.silent = std::chrono::milliseconds(c);
					r.signalling = std::chrono::microseconds(d);
					r.probe = std::chrono::microseconds(e);
					r.total = std::chrono::microseconds(f);
					out.recoveries.push_back(std::move(r));
				}
			}
		} else if (kind == "held" && in >> client >> a >> b >> c >> d && a > 0 && a <= 0xffff && b > 0 &&
			   b <= 0xffff && c >= 0 && d >= 0 && d <= 0xffffffff) {
			auto address = parse_address(client);
			if ((ok = address.has_value()))
				out.held.push_back({name, *address, static_cast<std::uint16_t>(a),
						    static_cast<std::uint16_t>(b), std::chrono::milliseconds(c),
						    static_cast<std::uint32_t>(d)});
		}
		if (!ok)
			return malformed_line("the node agent sent a malformed backups line", line);
	}
	return out;
}

/* A request whose reply says only whether it was done. */
static Result<void> done(Result<wire::Message> reply)
{
	if (!reply)
		return std::unexpected(reply.error());
	return {};
}

Result<void> Control::join(const std::string &name, const in6_addr &address, unsigned weight)
{
	wire::Message req(wire::Type::join);
	req.put(wire::Attr::text, name).put(wire::Attr::node, address).put_u32(wire::Attr::length, weight);
	return done(exchange(fd_, req));
}

Result<void> Control::leave(const std::string &name)
{
	wire::Message req(wire::Type::leave);
	req.put(wire::Attr::text, name);
	return done(exchange(fd_, req));
}

Result<void> Control::inject_fault(const std::string &phase)
{
	wire::Message req(wire::Type::fault);
	req.put(wire::Attr::text, phase);
	return done(exchange(fd_, req));
}

} // namespace gecko::agent
