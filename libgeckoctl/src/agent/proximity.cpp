// SPDX-License-Identifier: LGPL-2.1-or-later

#include "agent/proximity.h"

#include "agent/handoff.h"
#include "fail.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace gecko::agent {

Proximity::Proximity(std::string self, unsigned prefix) : self_(std::move(self)), prefix_(std::clamp(prefix, 16u, 128u))
{
}

std::optional<std::chrono::microseconds> min_rtt(int fd)
{
	tcp_info info{};
	socklen_t len = sizeof(info);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) ||
	    len < offsetof(tcp_info, tcpi_min_rtt) + sizeof(info.tcpi_min_rtt))
		return std::nullopt;
	/* ~0 until the first sample: a connection handed here has not measured this node's path yet. */
	if (info.tcpi_min_rtt == 0 || info.tcpi_min_rtt > Proximity::max_rtt_us)
		return std::nullopt;
	return std::chrono::microseconds(info.tcpi_min_rtt);
}

in6_addr network(const in6_addr &client, unsigned prefix)
{
	in6_addr out{};
	unsigned full = std::min(prefix, 128u) / 8, rest = std::min(prefix, 128u) % 8;

	std::memcpy(out.s6_addr, client.s6_addr, full);
	if (rest)
		out.s6_addr[full] = client.s6_addr[full] & static_cast<std::uint8_t>(0xff00 >> rest);
	return out;
}

in6_addr Proximity::network(const in6_addr &client) const
{
	return agent::network(client, prefix_);
}

void Proximity::begin_round()
{
	std::lock_guard guard(lock_);
	round_++;
}

void Proximity::measured(const in6_addr &client, std::chrono::microseconds rtt, Clock::time_point now)
{
	auto us = static_cast<std::uint32_t>(std::clamp<std::int64_t>(rtt.count(), 1, max_rtt_us));
	std::lock_guard guard(lock_);
	auto &table = tables_[self_];
	auto [at, added] = table.try_emplace(network(client));
	auto &e = at->second;

	if (added && table.size() > max_networks) {
		table.erase(at);
		return;
	}
	e.rtt_us = added || e.round != round_ ? us : std::min(e.rtt_us, us);
	e.round = round_;
	e.when = now;
	e.untold = true;
}

std::vector<std::byte> Proximity::report()
{
	std::vector<std::byte> out;
	std::lock_guard guard(lock_);
	auto it = tables_.find(self_);

	if (it == tables_.end() || it->second.empty())
		return out;
	auto &table = it->second;
	auto from = table.upper_bound(told_);
	std::size_t walked = 0;
	/* Once round the table from where the last report stopped. */
	for (auto e = from == table.end() ? table.begin() : from;
	     walked < table.size() && out.size() < max_per_beat * entry_size; walked++) {
		if (e->second.untold) {
			auto at = out.size();
			out.resize(at + entry_size);
			std::memcpy(out.data() + at, e->first.s6_addr, 16);
			for (int i = 0; i < 4; i++)
				out[at + 16 + i] = static_cast<std::byte>(e->second.rtt_us >> (24 - 8 * i));
			e->second.untold = false;
			told_ = e->first;
		}
		if (++e == table.end())
			e = table.begin();
	}
	return out;
}

Result<void> Proximity::heard(const std::string &member, std::span<const std::byte> report, Clock::time_point now)
{
	if (member == self_)
		return fail(EBADMSG, "a report under this node's own name");
	if (report.size() % entry_size || report.size() > max_per_beat * entry_size)
		return fail(EBADMSG, "a proximity report of " + std::to_string(report.size()) + " octets");
	std::vector<std::pair<in6_addr, std::uint32_t>> told;
	for (std::size_t at = 0; at < report.size(); at += entry_size) {
		in6_addr net;
		std::uint32_t us = 0;

		std::memcpy(net.s6_addr, report.data() + at, 16);
		for (int i = 0; i < 4; i++)
			us = us << 8 | static_cast<std::uint8_t>(report[at + 16 + i]);
		if (us == 0 || us > max_rtt_us)
			return fail(EBADMSG, "a round-trip time of " + std::to_string(us) + " µs");
		told.emplace_back(network(net), us);
	}
	std::lock_guard guard(lock_);
	auto &table = tables_[member];
	for (const auto &[net, us] : told) {
		auto [e, added] = table.try_emplace(net);
		if (added && table.size() > max_networks) {
			table.erase(e);
			continue;
		}
		e->second.rtt_us = us;
		e->second.when = now;
	}
	return {};
}

void Proximity::forget(const std::string &member)
{
	std::lock_guard guard(lock_);
	tables_.erase(member);
}

void Proximity::expire(Clock::time_point now)
{
	std::lock_guard guard(lock_);
	for (auto &[member, table] : tables_)
		std::erase_if(table, [&](const auto &e) { return now - e.second.when > max_age; });
}

std::vector<Distance> Proximity::lookup(const in6_addr &client) const
{
	std::vector<Distance> out;
	auto net = network(client);
	std::lock_guard guard(lock_);

	for (const auto &[member, table] : tables_)
		if (auto e = table.find(net); e != table.end())
			out.push_back({member, std::chrono::microseconds(e->second.rtt_us)});
	return out;
}

} // namespace gecko::agent
