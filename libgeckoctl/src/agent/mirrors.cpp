// SPDX-License-Identifier: LGPL-2.1-or-later

#include "agent/mirrors.h"

#include <gecko/tcp_state.h>

#include "fail.h"

#include <sys/socket.h>

#include <cstring>
#include <tuple>

namespace gecko::agent {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

bool MirroredConn::operator<(const MirroredConn &o) const
{
	int c = std::memcmp(&client, &o.client, sizeof(client));
	return c ? c < 0 : std::tie(client_port, port) < std::tie(o.client_port, o.port);
}

Mirrors::Mirrors(Client &kernel, Transport &transport, std::shared_ptr<const Cluster> cluster, const Member &self,
		 Log log)
	: kernel_(kernel), transport_(transport), cluster_(std::move(cluster)), self_(self), log_(std::move(log)),
	  store_(cluster_->service)
{
}

std::optional<MirroredConn> Mirrors::conn_of(int fd) const
{
	sockaddr_in6 local{}, remote{};
	socklen_t llen = sizeof(local), rlen = sizeof(remote);

	if (getsockname(fd, reinterpret_cast<sockaddr *>(&local), &llen) ||
	    getpeername(fd, reinterpret_cast<sockaddr *>(&remote), &rlen) || local.sin6_family != AF_INET6 ||
	    !same(local.sin6_addr, cluster_->service))
		return std::nullopt;
	return MirroredConn{remote.sin6_addr, ntohs(remote.sin6_port), ntohs(local.sin6_port)};
}

void Mirrors::send_gone(std::uint64_t peer, const MirroredConn &conn)
{
	wire::Message gone(wire::Type::mirror_gone);
	gone.put(wire::Attr::client, conn.client).put_u32(wire::Attr::ports, std::uint32_t{conn.port} << 16 | conn.client_port);
	transport_.send(peer, gone);
}

void Mirrors::tick(Clock::time_point now, const std::vector<int> &conns, const Member *backup)
{
	std::map<MirroredConn, int> serving;
	for (int fd : conns)
		if (auto conn = conn_of(fd))
			serving.emplace(*conn, fd);

	if (!backup) {
		if (!backup_.empty())
			log_line(log_, "mirroring stopped: no other member is alive");
		backup_.clear();
		mirrored_.clear();
		return;
	}
	auto peer = transport_.peer(self_.address, backup->address);
	if (!peer)
		return;
	if (backup->name != backup_) {
		/* The one before, if it still listens (it drains, say), forgets what it will no longer hear of. */
		if (!backup_.empty())
			if (auto old = transport_.peer(self_.address, backup_address_))
				for (const auto &[conn, at] : mirrored_)
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
	for (const auto &[conn, fd] : serving) {
		auto at = mirrored_.find(conn);
		if (at != mirrored_.end() && now - at->second < cluster_->mirror_period)
			continue;
		/* Tried once a period at most, whether or not the module had it (it may have just ended). */
		mirrored_[conn] = now;
		auto snapshot = kernel_.snapshot_socket(cluster_->service, conn.port, conn.client, conn.client_port);
		if (!snapshot)
			continue;
		wire::Message mirror(wire::Type::mirror);
		mirror.put(wire::Attr::data, *snapshot);
		transport_.send(*peer, mirror);
	}
}

Result<void> MirrorStore::heard(const std::string &member, const wire::Message &msg, Clock::time_point now)
{
	if (msg.type() == wire::Type::mirror_gone) {
		auto client = msg.address(wire::Attr::client);
		auto ports = msg.u32(wire::Attr::ports);
		if (!client || !ports)
			return std::unexpected(!client ? client.error() : ports.error());
		if (auto table = held_.find(member); table != held_.end())
			table->second.erase(MirroredConn{*client, static_cast<std::uint16_t>(*ports),
							 static_cast<std::uint16_t>(*ports >> 16)});
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
	auto &table = held_[member];
	MirroredConn conn{st->remote, st->remote_port, st->local_port};
	if (!table.contains(conn) && table.size() >= max_per_member)
		return fail(ENOSPC, member + " has " + std::to_string(max_per_member) +
					    " connections mirrored here already");
	table[conn] = Held{{data->begin(), data->end()}, now};
	return {};
}

void MirrorStore::status(Backups &out, Clock::time_point now) const
{
	for (const auto &[member, table] : held_) {
		if (table.empty())
			continue;
		MirrorsOf of{member, static_cast<std::uint32_t>(table.size()), {}};
		for (const auto &[conn, held] : table) {
			auto age = duration_cast<milliseconds>(now - held.at);
			of.oldest = std::max(of.oldest, age);
			if (out.held.size() < Backups::max_listed)
				out.held.push_back({member, conn.client, conn.client_port, conn.port, age});
		}
		out.members.push_back(of);
	}
}

std::vector<std::byte> MirrorStore::mirror(const std::string &member, const MirroredConn &conn) const
{
	auto table = held_.find(member);
	if (table == held_.end())
		return {};
	auto held = table->second.find(conn);
	return held == table->second.end() ? std::vector<std::byte>{} : held->second.snapshot;
}

Backups Mirrors::status(Clock::time_point now) const
{
	Backups out;

	if (!backup_.empty()) {
		out.backup = backup_;
		out.mirrored = static_cast<std::uint32_t>(mirrored_.size());
	}
	store_.status(out, now);
	return out;
}

} // namespace gecko::agent
