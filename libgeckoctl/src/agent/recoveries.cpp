// SPDX-License-Identifier: LGPL-2.1-or-later

#include "agent/recoveries.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace gecko::agent {

namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;

} // namespace

Recoveries::Recoveries(Client &kernel, Signalling &signalling, Counters &counters, Log log,
		       std::function<bool()> contact_ready)
	: kernel_(kernel), signalling_(signalling), counters_(counters), log_(std::move(log)),
	  contact_ready_(std::move(contact_ready))
{
}

void Recoveries::take_over(const std::string &member, Clock::duration silent, MirrorStore::Taken taken,
			   Clock::time_point now)
{
	if (taken.stale)
		log_line(log_, "member ", member, ": ", taken.stale, " stale mirror(s) forgotten, not taken over");
	if (taken.fresh.empty())
		return;
	if (!app_) {
		log_line(log_, "member ", member, ": ", taken.fresh.size(),
			 " mirrored connection(s) not taken over: no program runs here");
		counters_.recovery_lost += taken.fresh.size();
		return;
	}
	log_line(log_, "member ", member, ": taking over ", taken.fresh.size(), " connection(s)");
	for (auto &[id, held] : taken.fresh) {
		auto st = parse_tcp_state(held.snapshot);
		/* The store took only snapshots of G. */
		if (!st)
			continue;
		Key key{st->local, id.client};
		auto [it, added] = jobs_.try_emplace(key);
		auto &job = it->second;
		if (added) {
			job.key = key;
			job.member = member;
			job.silent = silent;
			job.declared = now;
			counters_.recoveries++;
		} else if (job.phase != Phase::waiting) {
			/* Another member's connections of the same client, taken over while its job runs: lost. */
			log_line(log_, who(key), ": a connection of ", member, " comes during another takeover, lost");
			counters_.recovery_lost++;
			continue;
		}
		job.conns.push_back({id, std::move(held), *st, 0, std::nullopt});
		/*
		 * From now on, what the client sends the connection here is the
		 * module's: no reset answers it. No probe yet: the client would
		 * answer it to the dead member, and not again for its rate limit.
		 */
		if (!probe(job, job.conns.back(), false)) {
			job.conns.pop_back();
			job.lost++;
		}
	}
	for (auto it = jobs_.begin(); it != jobs_.end();) {
		auto next = std::next(it);
		if (it->second.phase == Phase::waiting) {
			if (it->second.conns.empty())
				end(it, now, 0, it->second.error);
			else
				start(it->second);
		}
		it = next;
	}
}

bool Recoveries::probe(Job &job, Conn &c, bool send)
{
	const auto &st = c.st;
	std::optional<ProbeSegment> seg;
	if (send) {
		seg.emplace();
		/* Out of the client's window, so that its stack must answer with its own numbers. */
		seg->seq = st.write_seq - st.outq_len - (1U << 30);
		seg->ack = st.rcv_nxt;
		seg->window = static_cast<std::uint16_t>(std::min<std::uint32_t>(st.rcv_wnd >> st.rcv_wscale, 0xffff));
		if (st.flags & TcpState::timestamps) {
			/* The mirror's clock: PAWS discards it, and the client still answers. */
			seg->tsval = st.ts_val;
			seg->tsecr = 0;
		}
		c.probes++;
	}
	auto ok = kernel_.probe_socket(st.local, st.local_port, st.remote, st.remote_port, seg, probing_timeout);
	if (!ok) {
		job.error = "port " + std::to_string(c.id.port) + (send ? ": cannot probe: " : ": ") + ok.error().describe();
		log_line(log_, who(job.key), ": ", job.error);
		return false;
	}
	return true;
}

void Recoveries::start(Job &job)
{
	if (!contact_ready_()) {
		job.waits = "no contact node relayed the Home Test";
		return;
	}
	if (signalling_.busy(job.key)) {
		job.waits = "the client's signalling stayed busy";
		return;
	}
	if (auto ok = signalling_.rr(job.key); !ok) {
		job.waits = "return routability: " + ok.error().describe();
		return;
	}
	job.phase = Phase::testing;
}

void Recoveries::job_done(const Key &key, Signalling::Kind kind, const Error *error)
{
	auto it = jobs_.find(key);
	if (it == jobs_.end())
		return;
	auto &job = it->second;
	auto now = Clock::now();
	if (error)
		return end(it, now, 0,
			   std::string(kind == Signalling::Kind::rr ? "return routability" : "Binding Update") + ": " +
				   error->describe());
	if (kind == Signalling::Kind::rr) {
		/* The dead member's sequence number is not known here: the client's answer says it. */
		if (auto ok = signalling_.bu(key, std::nullopt); !ok)
			return end(it, now, 0, "Binding Update: " + ok.error().describe());
		job.phase = Phase::updating;
		return;
	}
	job.phase = Phase::probing;
	job.bound = now;
	job.next_probe = now;
}

void Recoveries::tick(Clock::time_point now)
{
	bool probing = false;
	for (auto it = jobs_.begin(); it != jobs_.end();) {
		auto next = std::next(it);
		auto &job = it->second;
		if (job.phase == Phase::waiting && now - job.declared > milliseconds(20000))
			end(it, now, 0, job.waits + (job.error.empty() ? "" : ": " + job.error));
		else if (job.phase == Phase::waiting)
			start(job);
		probing |= job.phase == Phase::probing;
		it = next;
	}
	if (!probing)
		return;
	auto flows = kernel_.flows();
	if (!flows)
		log_line(log_, "takeover: cannot read the module's flows: ", flows.error().describe());
	for (auto it = jobs_.begin(); it != jobs_.end();) {
		auto next = std::next(it);
		auto &job = it->second;
		if (job.phase != Phase::probing) {
			it = next;
			continue;
		}
		bool due = now >= job.next_probe, waiting = false;
		for (auto &c : job.conns) {
			if (c.answer)
				continue;
			if (flows) {
				auto f = std::ranges::find_if(*flows, [&](const Flow &f) {
					return f.state == FlowState::probing && f.probe && f.probe->answer &&
					       same(f.remote, c.st.remote) && f.remote_port == c.st.remote_port &&
					       f.local_port == c.st.local_port && same(f.local, c.st.local);
				});
				if (f != flows->end()) {
					c.answer = f->probe->answer;
					continue;
				}
			}
			/* Its last probe had an interval to be answered in: lost. */
			if (due && c.probes >= max_probes)
				continue;
			if (due)
				probe(job, c, true);
			waiting = true;
		}
		if (due)
			job.next_probe = now + probe_interval;
		if (!waiting)
			finish(job, now);
		it = next;
	}
}

void Recoveries::finish(Job &job, Clock::time_point now)
{
	std::uint32_t recovered = 0;
	std::string why;
	auto lose = [&](const Conn &c, const std::string &what) {
		why = "port " + std::to_string(c.id.port) + ": " + what;
		log_line(log_, who(job.key), ": ", why);
	};
	for (auto &c : job.conns) {
		if (!c.answer) {
			lose(c, "the client never answered " + std::to_string(c.probes) + " probes");
			continue;
		}
		bool served;
		{
			std::lock_guard guard(app_->lock);
			served = app_->ports.contains(c.id.port);
		}
		if (!served) {
			lose(c, "no program serves the port here");
			continue;
		}
		UniqueFd fd(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
		int one = 1;
		/* As a listener's accepted socket: a program started again here binds its port beside it. */
		if (fd.get() < 0 || setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one))) {
			lose(c, std::string("socket: ") + std::strerror(errno));
			continue;
		}
		if (auto ok = kernel_.restore_socket(fd.get(), c.mirror.snapshot); !ok) {
			lose(c, "restore: " + ok.error().describe());
			continue;
		}
		if (auto ok = kernel_.thaw_socket(fd.get()); !ok) {
			lose(c, "thaw: " + ok.error().describe());
			continue;
		}
		/* Here, before the program has it: if this node dies too, the next backup takes it over. */
		if (auto ok = kernel_.guard_socket(fd.get()); !ok)
			log_line(log_, who(job.key), ": port ", c.id.port, ": not guarded: ", ok.error().describe());
		/* What the socket says it sent the client and got acknowledged, and received. */
		auto counts = progress(fd.get()).value_or(Progress{});
		Arrival arrival;
		arrival.home = job.key.home;
		arrival.client = job.key.client;
		arrival.app_state = std::move(c.mirror.state);
		arrival.bytes_sent = counts.acked;
		arrival.bytes_acked = counts.acked;
		arrival.bytes_received = counts.received;
		arrival.recovered = true;
		arrival.fd = fd.release();
		log_line(log_, who(job.key), ": port ", c.id.port, " recovered at octet ", counts.acked, " sent, ",
			 counts.received, " received");
		app_->post(std::move(arrival));
		recovered++;
	}
	end(jobs_.find(job.key), now, recovered, why);
}

void Recoveries::end(std::map<Key, Job>::iterator it, Clock::time_point now, std::uint32_t recovered,
		     const std::string &why)
{
	auto &job = it->second;
	auto conns = static_cast<std::uint32_t>(job.conns.size()) + job.lost;
	counters_.recovered += recovered;
	counters_.recovery_lost += conns - recovered;
	RecoveryRecord record;
	record.member = job.member;
	record.client = job.key.client;
	record.conns = conns;
	record.recovered = recovered;
	record.error = recovered == conns ? "" : why.empty() ? job.error : why;
	record.silent = duration_cast<milliseconds>(job.silent);
	if (job.bound != Clock::time_point{}) {
		record.signalling = duration_cast<microseconds>(job.bound - job.declared);
		record.probe = duration_cast<microseconds>(now - job.bound);
	}
	record.total = duration_cast<microseconds>(now - job.declared);
	log_line(log_, who(job.key), ": took over ", recovered, " of ", conns, " connection(s) of ", job.member, " in ",
		 record.total.count() / 1000, " ms", record.error.empty() ? "" : ": " + record.error);
	records_.push_back(std::move(record));
	if (records_.size() > max_records)
		records_.pop_front();
	jobs_.erase(it);
}

} // namespace gecko::agent
