// SPDX-License-Identifier: LGPL-2.1-or-later

#include "agent/membership.h"

#include <gecko/cluster.h>

#include "fail.h"

#include <algorithm>
#include <cstdio>

namespace gecko::agent {

namespace {

/* Members gecko-ctl join may add: the members' list must stay one small message. */
constexpr std::size_t max_joined = 256;

using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::string_view name(MemberStatus::State state)
{
	return std::ranges::find(member_states, state, &std::pair<MemberStatus::State, std::string_view>::first)->second;
}

std::string seconds(Clock::duration d)
{
	char buf[32];

	std::snprintf(buf, sizeof(buf), "%.1f s", duration_cast<milliseconds>(d).count() / 1000.0);
	return buf;
}

} // namespace

Membership::Membership(std::shared_ptr<const Cluster> cluster, const Member &self, Transport &transport,
		       Counters &counters, Log log)
	: cluster_(std::move(cluster)), self_(self), transport_(transport), counters_(counters), log_(std::move(log)),
	  proximity_(std::make_unique<Proximity>(self_.name, cluster_->proximity_prefix))
{
	for (const auto &m : cluster_->members)
		if (&m != &self_)
			peers_.push_back({&m, MemberStatus::State::unknown, std::nullopt, 0, 0});
}

void Membership::log(const std::string &line)
{
	if (log_)
		log_(line);
}

std::vector<Membership::Death> Membership::tick(Clock::time_point now, std::uint32_t connections, wire::Mode mode,
						bool contact)
{
	std::vector<Death> deaths;
	connections_ = connections;
	if (mode != mode_ || contact != contact_) {
		mode_ = mode;
		contact_ = contact;
		next_beat_.reset();
	}
	listened_ = listening(now);
	last_tick_ = now;
	for (auto &p : peers_)
		if (p.live() && listened_ - p.heard_listening > cluster_->failure_bound()) {
			p.state = MemberStatus::State::dead;
			log("member " + p.member->name + " (" + text(p.member->address) + ") is dead: silent for " +
			    seconds(now - *p.heard));
			deaths.push_back({p.member, now - *p.heard, p.contact});
		}

	if (next_beat_ && now < *next_beat_)
		return deaths;
	/* Keep the rhythm, but never send a burst after a stall. */
	next_beat_ = next_beat_ && now - *next_beat_ < cluster_->heartbeat_period ?
			     *next_beat_ + cluster_->heartbeat_period :
			     now + cluster_->heartbeat_period;
	proximity_->expire(now);
	wire::Message beat(wire::Type::heartbeat);
	beat.put_u32(wire::Attr::connections, connections_).put_u8(wire::Attr::mode, static_cast<std::uint8_t>(mode_));
	if (auto report = proximity_->report(); !report.empty())
		beat.put(wire::Attr::distances, report);
	if (contact_)
		beat.put(wire::Attr::home, cluster_->service);
	for (const auto &p : peers_) {
		auto conn = transport_.peer(self_.address, p.member->address);

		if (conn)
			transport_.send(*conn, beat);
	}
	return deaths;
}

void Membership::heartbeat(const in6_addr &node, const wire::Message &msg, Clock::time_point now)
{
	auto at = std::ranges::find_if(peers_, [&](const Peer &p) { return same(p.member->address, node); });
	auto connections = msg.u32(wire::Attr::connections);

	if (at == peers_.end() || !connections) {
		/* Holds the credentials, but is not in this node's configuration: a stale file somewhere. */
		counters_.peer_errors++;
		return;
	}
	auto state = MemberStatus::State::alive;
	switch (static_cast<wire::Mode>(msg.u8(wire::Attr::mode).value_or(0))) {
	case wire::Mode::serving:
		break;
	case wire::Mode::draining:
		state = MemberStatus::State::draining;
		break;
	case wire::Mode::left:
		state = MemberStatus::State::left;
		break;
	case wire::Mode::unavailable:
		state = MemberStatus::State::unavailable;
		break;
	default:
		counters_.peer_errors++;
		return;
	}
	if (at->state != state) {
		std::string was = at->state == MemberStatus::State::dead && at->heard ?
					  ", after " + seconds(now - *at->heard) + " of silence" :
					  std::string();
		log("member " + at->member->name + " (" + text(node) + ") is " + std::string(name(state)) + was);
	}
	if (msg.has(wire::Attr::distances)) {
		auto report = msg.bytes(wire::Attr::distances);
		if (auto ok = proximity_->heard(at->member->name, *report, now); !ok) {
			counters_.peer_errors++;
			log("member " + at->member->name + ": " + ok.error().describe());
		}
	}
	bool contact = false;
	if (msg.has(wire::Attr::home)) {
		auto home = msg.address(wire::Attr::home);
		if (!home || !same(*home, cluster_->service)) {
			counters_.peer_errors++;
			return;
		}
		contact = true;
	}
	if (contact != at->contact)
		log("member " + at->member->name + (contact ? " is" : " is no longer") + " the contact node");
	at->state = state;
	at->heard = now;
	at->heard_listening = listening(now);
	at->connections = *connections;
	at->heartbeats++;
	at->contact = contact;
}

Clock::duration Membership::listening(Clock::time_point now) const
{
	return last_tick_ ? listened_ + std::min<Clock::duration>(now - *last_tick_, cluster_->heartbeat_period) :
			    listened_;
}

bool Membership::Peer::live() const
{
	return state == MemberStatus::State::alive || state == MemberStatus::State::draining ||
	       state == MemberStatus::State::unavailable;
}

bool Membership::alive(const std::string &name) const
{
	auto at = std::ranges::find_if(peers_, [&](const Peer &p) { return p.member->name == name; });
	return at != peers_.end() && at->live();
}

bool Membership::heard_all() const
{
	return std::ranges::all_of(peers_, [](const Peer &p) { return p.heard.has_value(); });
}

const Member *Membership::contact() const
{
	auto at = std::ranges::find_if(peers_, [](const Peer &p) { return p.contact && p.live(); });
	return at == peers_.end() ? nullptr : at->member;
}

std::vector<MemberStatus> Membership::status(Clock::time_point now) const
{
	std::vector<MemberStatus> out;
	auto add = [&](const Member &m, bool joined) {
		if (&m == &self_) {
			out.push_back({m.name, m.address, MemberStatus::State::self, milliseconds(0), connections_, 0, joined,
				       m.weight});
			return;
		}
		const auto &p = *std::ranges::find(peers_, &m, &Peer::member);
		std::optional<milliseconds> silent;
		if (p.heard)
			silent = duration_cast<milliseconds>(now - *p.heard);
		out.push_back({m.name, m.address, p.state, silent, p.connections, p.heartbeats, joined, m.weight});
	};

	for (const auto &m : cluster_->members)
		add(m, false);
	for (const auto &m : joined_)
		add(m, true);
	return out;
}

Result<void> Membership::join(const std::string &name, const in6_addr &address, unsigned weight)
{
	if (!valid_member_name(name))
		return fail(EINVAL, "a member's name has 1 to 32 letters, digits, '-' or '_'");
	if (weight == 0)
		return fail(EINVAL, "a member's weight is at least 1");
	if (joined_.size() >= max_joined)
		return fail(ENOSPC, std::to_string(max_joined) + " members joined already");
	if (IN6_IS_ADDR_UNSPECIFIED(&address) || IN6_IS_ADDR_MULTICAST(&address) || IN6_IS_ADDR_LOOPBACK(&address))
		return fail(EINVAL, text(address) + " cannot be a care-of address");
	for (const auto *m : members())
		if (m->name == name || same(m->address, address))
			return fail(EEXIST, m->name == name ? name + " is a member already"
							    : text(address) + " is " + m->name + "'s address already");
	auto &m = joined_.emplace_back(Member{name, address, weight, {}});
	peers_.push_back({&m, MemberStatus::State::unknown, std::nullopt, 0, 0});
	/* It hears from this node at once, not a period later. */
	next_beat_.reset();
	log("member " + name + " (" + text(address) + ") joined");
	return {};
}

Result<void> Membership::leave(const std::string &name)
{
	auto it = std::ranges::find(joined_, name, &Member::name);
	if (it == joined_.end()) {
		if (cluster_->member(name))
			return fail(EPERM, name + " is a member in " + cluster_->file +
						   ": it leaves by draining (gecko-ctl drain on it), or from the file");
		return fail(ENOENT, "no member " + name + " joined this node's agent");
	}
	std::erase_if(peers_, [&](const Peer &p) { return p.member == &*it; });
	proximity_->forget(name);
	log("member " + name + " (" + text(it->address) + ") was told to leave");
	joined_.erase(it);
	return {};
}

const Member *Membership::backup() const
{
	auto all = members();
	auto self = std::ranges::find(all, &self_) - all.begin();
	auto named = self_.backup.empty() ? all.end() : std::ranges::find(all, self_.backup, &Member::name);
	std::size_t first = named != all.end() ? named - all.begin() : (self + 1) % all.size();

	for (std::size_t i = 0; i < all.size(); i++) {
		const auto *m = all[(first + i) % all.size()];
		if (m == &self_)
			continue;
		if (std::ranges::find(peers_, m, &Peer::member)->state == MemberStatus::State::alive)
			return m;
	}
	return nullptr;
}

const Member *Membership::member_at(const in6_addr &node) const
{
	auto at = std::ranges::find_if(peers_, [&](const Peer &p) { return same(p.member->address, node); });
	return at == peers_.end() ? nullptr : at->member;
}

std::vector<const Member *> Membership::members() const
{
	std::vector<const Member *> out;
	for (const auto &m : cluster_->members)
		out.push_back(&m);
	for (const auto &m : joined_)
		out.push_back(&m);
	return out;
}

void Membership::control(std::uint64_t conn, const wire::Message &msg)
{
	if (msg.type() == wire::Type::join || msg.type() == wire::Type::leave) {
		auto member = msg.text(wire::Attr::text);
		auto address = msg.type() == wire::Type::join ? msg.address(wire::Attr::node) : Result<in6_addr>(in6_addr{});
		auto weight = msg.has(wire::Attr::length) ? msg.u32(wire::Attr::length) : Result<std::uint32_t>(1);
		Result<void> ok = !member ? std::unexpected(member.error()) :
				  !address ? std::unexpected(address.error()) :
				  !weight ? std::unexpected(weight.error()) :
				  msg.type() == wire::Type::join ? join(*member, *address, *weight) :
								   leave(*member);
		transport_.send(conn, control_reply(ok ? nullptr : &ok.error()));
		return;
	}
	std::string lines;
	if (msg.type() == wire::Type::proximity) {
		auto client = msg.address(wire::Attr::client);
		if (!client) {
			transport_.send(conn, control_reply(&client.error()));
			return;
		}
		/* member rtt_us */
		for (const auto &d : proximity_->lookup(*client))
			lines += d.member + ' ' + std::to_string(d.rtt.count()) + '\n';
	} else {
		/* name address state silent_ms (-1: never heard) connections file|joined weight */
		for (const auto &s : status(Clock::now()))
			lines += s.name + ' ' + text(s.address) + ' ' + std::string(name(s.state)) + ' ' +
				 std::to_string(s.silent ? s.silent->count() : -1) + ' ' + std::to_string(s.connections) +
				 (s.joined ? " joined " : " file ") + std::to_string(s.weight) + '\n';
	}
	wire::Message reply(wire::Type::reply);
	reply.put_u32(wire::Attr::error, 0).put(wire::Attr::records, lines);
	transport_.send(conn, reply);
}

} // namespace gecko::agent
