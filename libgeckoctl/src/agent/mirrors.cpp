// SPDX-License-Identifier: LGPL-2.1-or-later

#include "agent/mirrors.h"

#include <gecko/tcp_state.h>

#include "agent/handoff.h"
#include "fail.h"

#include <linux/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <tuple>

namespace gecko::agent {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

bool MirroredConn::operator<(const MirroredConn &o) const
{
	int c = std::memcmp(&client, &o.client, sizeof(client));
	return c ? c < 0 : std::tie(client_port, port) < std::tie(o.client_port, o.port);
}

namespace {

constexpr std::size_t conn_size = 20;

void put_conn(std::byte *out, const MirroredConn &conn)
{
	std::memcpy(out, &conn.client, sizeof(conn.client));
	out[16] = std::byte(conn.port >> 8);
	out[17] = std::byte(conn.port & 0xff);
	out[18] = std::byte(conn.client_port >> 8);
	out[19] = std::byte(conn.client_port & 0xff);
}

std::uint16_t u16_at(const std::byte *p)
{
	return static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) << 8 | std::to_integer<unsigned>(p[1]));
}

/* The connections a mirror_still or mirror_wanted names: EBADMSG unless 1 to conns_per_message whole ones. */
Result<std::vector<MirroredConn>> conns_of(const wire::Message &msg)
{
	auto data = msg.bytes(wire::Attr::conns);
	if (!data)
		return std::unexpected(data.error());
	if (data->empty() || data->size() % conn_size || data->size() / conn_size > conns_per_message)
		return fail(EBADMSG, "a list of connections of " + std::to_string(data->size()) + " octets: 1 to " +
					     std::to_string(conns_per_message) + " of " + std::to_string(conn_size) +
					     " octets each");
	std::vector<MirroredConn> out(data->size() / conn_size);
	for (std::size_t i = 0; i < out.size(); i++) {
		const std::byte *p = data->data() + i * conn_size;
		std::memcpy(&out[i].client, p, sizeof(out[i].client));
		out[i].port = u16_at(p + 16);
		out[i].client_port = u16_at(p + 18);
	}
	return out;
}

} // namespace

std::vector<wire::Message> conns_messages(wire::Type type, const std::vector<MirroredConn> &conns)
{
	std::vector<wire::Message> out;
	for (std::size_t first = 0; first < conns.size(); first += conns_per_message) {
		std::size_t n = std::min(conns_per_message, conns.size() - first);
		std::vector<std::byte> data(n * conn_size);
		for (std::size_t i = 0; i < n; i++)
			put_conn(data.data() + i * conn_size, conns[first + i]);
		out.emplace_back(type).put(wire::Attr::conns, data);
	}
	return out;
}

Mirrors::Mirrors(Client &kernel, Transport &transport, std::shared_ptr<const Cluster> cluster, const Member &self,
		 Log log)
	: kernel_(kernel), transport_(transport), cluster_(std::move(cluster)), self_(self), log_(std::move(log)),
	  store_(cluster_->service, cluster_->contact)
{
}

std::optional<Progress> progress(int fd)
{
	tcp_info info{};
	socklen_t len = sizeof(info);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) ||
	    len < offsetof(tcp_info, tcpi_bytes_received) + sizeof(info.tcpi_bytes_received))
		return std::nullopt;
	return Progress{info.tcpi_bytes_acked, info.tcpi_bytes_received, info.tcpi_state};
}

void Mirrors::send_gone(std::uint64_t peer, const MirroredConn &conn)
{
	wire::Message gone(wire::Type::mirror_gone);
	gone.put(wire::Attr::client, conn.client).put_u32(wire::Attr::ports, std::uint32_t{conn.port} << 16 | conn.client_port);
	transport_.send(peer, gone);
}

bool Mirrors::tick(Clock::time_point now, const std::vector<Serving> &conns, const StateOf &state_of,
		   const Member *backup, bool renew)
{
	std::map<MirroredConn, Serving> serving;
	for (const auto &c : conns)
		serving.emplace(c.conn, c);
	std::erase_if(guarded_, [&](const auto &g) { return !serving.contains(g.first); });

	if (!backup) {
		if (!backup_.empty())
			log_line(log_, "mirroring stopped: no other member is alive");
		backup_.clear();
		mirrored_.clear();
		return true;
	}
	guard(serving);
	auto peer = transport_.peer(self_.address, backup->address);
	if (!peer)
		return false;
	if (backup->name != backup_) {
		/* The one before, if it still listens (it drains, say), forgets what it will no longer hear of. */
		if (!backup_.empty())
			if (auto old = transport_.peer(self_.address, backup_address_))
				for (const auto &[conn, m] : mirrored_)
					send_gone(*old, conn);
		log_line(log_, "mirroring ", serving.size(), " connection(s) to ", backup->name);
		backup_ = backup->name;
		backup_address_ = backup->address;
		mirrored_.clear();
	}
	for (auto it = mirrored_.begin(); it != mirrored_.end();) {
		if (serving.contains(it->first)) {
			++it;
			continue;
		}
		send_gone(*peer, it->first);
		it = mirrored_.erase(it);
	}
	std::vector<MirroredConn> still;
	for (const auto &[conn, c] : serving) {
		if (auto g = guarded_.find(conn); g == guarded_.end() || !g->second)
			continue;
		auto at = mirrored_.find(conn);
		bool fresh = at == mirrored_.end();
		std::uint64_t sent = fresh ? 0 : at->second.version;
		bool same_state = !fresh && c.version == sent;
		if (same_state && (!renew || now - at->second.at < cluster_->mirror_period / 2))
			continue;
		/* Read before the snapshot: a move in between only makes the next renewal a snapshot again. */
		auto moved = progress(c.fd);
		if (same_state && moved && at->second.progress == moved) {
			at->second.at = now;
			still.push_back(conn);
			continue;
		}
		/* Tried once a period at most, whether or not the module had it (it may have just ended). */
		auto snapshot = kernel_.snapshot_socket(cluster_->service, conn.port, conn.client, conn.client_port);
		mirrored_[conn] = {now, snapshot ? c.version : sent, snapshot ? moved : std::nullopt};
		if (!snapshot)
			continue;
		wire::Message mirror(wire::Type::mirror);
		mirror.put(wire::Attr::data, *snapshot);
		/* Always with the first: a mirror without one tells the backup it has the state already. */
		if (fresh || c.version != sent)
			mirror.put(wire::Attr::app_state, state_of(c.fd));
		transport_.send(*peer, mirror);
	}
	for (const auto &msg : conns_messages(wire::Type::mirror_still, still))
		transport_.send(*peer, msg);
	return true;
}

Result<void> Mirrors::wanted(const std::string &member, const wire::Message &msg)
{
	auto conns = conns_of(msg);
	if (!conns)
		return std::unexpected(conns.error());
	/* From a backup before this one: what it holds no longer matters. */
	if (member != backup_)
		return {};
	for (const auto &conn : *conns)
		mirrored_.erase(conn);
	return {};
}

void Mirrors::guard(const std::map<MirroredConn, Serving> &serving)
{
	for (const auto &[conn, c] : serving) {
		if (guarded_.contains(conn))
			continue;
		/* Tried once: a connection half-closed already ends as its program says. */
		auto ok = kernel_.guard_socket(c.fd);
		/* Closed meanwhile: if the connection is still served, by another descriptor at the next turn. */
		if (!ok && ok.error().code == EBADF)
			continue;
		if (!ok)
			log_line(log_, "port ", conn.port, " of ", text(conn.client), ": not guarded: ", ok.error().describe());
		guarded_[conn] = ok.has_value();
	}
}

void Mirrors::registrations(Clock::time_point now, const std::vector<Signalling::HomeRegistration> &regs)
{
	/* Only the contact node has one. */
	auto reg = std::ranges::find_if(regs, [&](const auto &r) { return same(r.home, cluster_->service); });
	if (reg == regs.end())
		return;
	bool changed = !registration_ || registration_->seq != reg->seq || registration_->expires != reg->expires;
	if (!changed && now - registration_at_ < cluster_->mirror_period)
		return;
	registration_ = *reg;
	registration_at_ = now;
	auto left = std::chrono::duration_cast<std::chrono::seconds>(reg->expires - now);
	wire::Message msg(wire::Type::registration);
	msg.put(wire::Attr::home, reg->home)
		.put_u16(wire::Attr::seq, reg->seq)
		.put_u32(wire::Attr::lifetime, static_cast<std::uint32_t>(std::max<std::int64_t>(left.count(), 0)));
	for (const auto &name : cluster_->backups)
		if (const auto *m = cluster_->member(name); m && m != &self_)
			if (auto peer = transport_.peer(self_.address, m->address))
				transport_.send(*peer, msg);
}

void MirrorStore::contact(std::string member)
{
	if (member != contact_)
		registration_.reset();
	contact_ = std::move(member);
}

std::optional<std::uint16_t> MirrorStore::registration_seq() const
{
	if (!registration_)
		return std::nullopt;
	return registration_->seq;
}

Result<std::vector<MirroredConn>> MirrorStore::heard(const std::string &member, const wire::Message &msg,
						     Clock::time_point now)
{
	std::vector<MirroredConn> wanted;
	if (msg.type() == wire::Type::mirror_still) {
		auto conns = conns_of(msg);
		if (!conns)
			return std::unexpected(conns.error());
		auto table = held_.find(member);
		for (const auto &conn : *conns) {
			if (table != held_.end())
				if (auto held = table->second.conns.find(conn); held != table->second.conns.end()) {
					held->second.at = now;
					continue;
				}
			wanted.push_back(conn);
		}
		return wanted;
	}
	if (msg.type() == wire::Type::registration) {
		auto home = msg.address(wire::Attr::home);
		auto seq = msg.u16(wire::Attr::seq);
		auto lifetime = msg.u32(wire::Attr::lifetime);
		if (!home || !seq || !lifetime)
			return std::unexpected(!home ? home.error() : !seq ? seq.error() : lifetime.error());
		if (member != contact_)
			return fail(EPERM, "a registration from " + member + ", not from the contact node " + contact_);
		if (!same(*home, service_))
			return fail(EINVAL, "a registration of " + text(*home) + ", not of G");
		registration_ = Registration{*seq, now + std::chrono::seconds(*lifetime), now};
		return {};
	}
	if (msg.type() == wire::Type::mirror_gone) {
		auto client = msg.address(wire::Attr::client);
		auto ports = msg.u32(wire::Attr::ports);
		if (!client || !ports)
			return std::unexpected(!client ? client.error() : ports.error());
		auto table = held_.find(member);
		if (table == held_.end())
			return {};
		auto held = table->second.conns.find(
			MirroredConn{*client, static_cast<std::uint16_t>(*ports), static_cast<std::uint16_t>(*ports >> 16)});
		if (held != table->second.conns.end()) {
			table->second.state_octets -= held->second.state.size();
			table->second.conns.erase(held);
		}
		return {};
	}
	auto data = msg.bytes(wire::Attr::data);
	if (!data)
		return std::unexpected(data.error());
	auto st = parse_tcp_state(*data);
	if (!st)
		return fail(EBADMSG, "a mirror: " + st.error().describe());
	if (!(st->flags & TcpState::snapshot))
		return fail(EBADMSG, "a mirror with queues: only a snapshot is mirrored");
	if (!same(st->local, service_))
		return fail(EINVAL, "a mirror of a connection of " + text(st->local) + ", not of G");
	std::optional<std::span<const std::byte>> state;
	if (msg.has(wire::Attr::app_state)) {
		state = *msg.bytes(wire::Attr::app_state);
		if (state->size() > max_mirror_state)
			return fail(EBADMSG, "a mirror's application state of " + std::to_string(state->size()) +
						     " octets: " + std::to_string(max_mirror_state) + " at most");
	}
	auto &table = held_[member];
	MirroredConn conn{st->remote, st->remote_port, st->local_port};
	auto held = table.conns.find(conn);
	std::size_t was = held == table.conns.end() ? 0 : held->second.state.size();
	if (held == table.conns.end() && table.conns.size() >= max_per_member)
		return fail(ENOSPC, member + " has " + std::to_string(max_per_member) +
					    " connections mirrored here already");
	if (state && table.state_octets - was + state->size() > max_state_per_member)
		return fail(ENOSPC, member + "'s mirrors hold " + std::to_string(table.state_octets) +
					    " octets of application state here already");
	if (held == table.conns.end() && !state)
		wanted.push_back(conn);
	auto &h = table.conns[conn];
	h.snapshot.assign(data->begin(), data->end());
	h.at = now;
	if (state) {
		table.state_octets = table.state_octets - was + state->size();
		h.state.assign(state->begin(), state->end());
	}
	return wanted;
}

void MirrorStore::status(Backups &out, Clock::time_point now, const std::optional<in6_addr> &client) const
{
	if (registration_)
		out.registrations.push_back(
			{contact_, service_, registration_->seq,
			 std::max(std::chrono::seconds(0),
				  std::chrono::duration_cast<std::chrono::seconds>(registration_->expires - now)),
			 duration_cast<milliseconds>(now - registration_->at)});
	for (const auto &[member, table] : held_) {
		if (table.conns.empty())
			continue;
		MirrorsOf of{member, static_cast<std::uint32_t>(table.conns.size()), {}};
		for (const auto &[conn, held] : table.conns) {
			auto age = duration_cast<milliseconds>(now - held.at);
			of.oldest = std::max(of.oldest, age);
			if (out.held.size() < Backups::max_listed && (!client || same(conn.client, *client)))
				out.held.push_back({member, conn.client, conn.client_port, conn.port, age,
						    static_cast<std::uint32_t>(held.state.size())});
		}
		out.members.push_back(of);
	}
}

const MirrorStore::Held *MirrorStore::mirror(const std::string &member, const MirroredConn &conn) const
{
	auto table = held_.find(member);
	if (table == held_.end())
		return nullptr;
	auto held = table->second.conns.find(conn);
	return held == table->second.conns.end() ? nullptr : &held->second;
}

MirrorStore::Taken MirrorStore::take(const std::string &member, Clock::time_point since)
{
	Taken out;
	auto table = held_.find(member);
	if (table == held_.end())
		return out;
	for (auto &[conn, held] : table->second.conns) {
		if (held.at < since)
			out.stale++;
		else
			out.fresh.emplace_back(conn, std::move(held));
	}
	held_.erase(table);
	return out;
}

Backups Mirrors::status(Clock::time_point now, const std::optional<in6_addr> &client) const
{
	Backups out;

	if (!backup_.empty()) {
		out.backup = backup_;
		out.mirrored = static_cast<std::uint32_t>(mirrored_.size());
	}
	store_.status(out, now, client);
	return out;
}

} // namespace gecko::agent
