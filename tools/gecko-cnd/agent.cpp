// SPDX-License-Identifier: GPL-2.0-only

#include "agent.h"

#include <address.h>
#include <gecko/rr.h>
#include <log.h>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <system_error>

namespace gecko::cnd {

using daemon::log;
using daemon::to_string;

Result<std::unique_ptr<Agent>> Agent::start(const Config &config)
{
	if (auto ready = rr::prepare(); !ready)
		return std::unexpected(ready.error());
	auto mh = mh::Socket::open();
	if (!mh)
		return std::unexpected(mh.error());
	auto reports = HaoReports::open();
	if (!reports)
		return std::unexpected(reports.error());
	auto signals = daemon::SignalFd::open({SIGTERM, SIGINT, SIGUSR1});
	if (!signals)
		return std::unexpected(signals.error());
	auto path = DataPath::open(config.lock_dir);
	if (!path)
		return std::unexpected(path.error());
	return std::unique_ptr<Agent>(
		new Agent(config, std::move(*mh), std::move(*reports), std::move(*signals), std::move(*path)));
}

int Agent::run()
{
	if (auto n = path_->recovered())
		log("removed ", n, " binding", n == 1 ? "" : "s", " a previous run left in the kernel");
	log("correspondent node: bindings for up to ", config_.limits.max_lifetime.count(), " s, nonces for ",
	    config_.limits.nonces.lifetime.count(), " s");
	for (;;) {
		pollfd fds[] = {{mh_.fd(), POLLIN, 0}, {signals_.fd(), POLLIN, 0}, {reports_.fd(), POLLIN, 0}};
		int timeout = -1;

		if (auto next = cn_.cache().next_event(config_.refresh_advance)) {
			auto left = std::chrono::ceil<std::chrono::milliseconds>(*next - Clock::now());
			timeout = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 60'000));
		}
		if (poll(fds, std::size(fds), timeout) < 0 && errno != EINTR) {
			log("poll: ", std::generic_category().message(errno));
			break;
		}
		if (fds[1].revents) {
			int sig = signals_.take();
			if (sig == SIGUSR1) {
				log_counters();
			} else if (sig) {
				log("stopping on signal ", sig);
				break;
			}
		}
		if (fds[0].revents)
			receive();
		if (fds[2].revents)
			on_reports();
		expire();
	}

	auto ok = path_->close();
	log_counters();
	if (!ok) {
		log("shutdown: ", ok.error().describe());
		return exit_failure;
	}
	return exit_ok;
}

void Agent::receive()
{
	for (;;) {
		auto msg = mh_.receive();
		if (!msg) {
			if (msg.error().code == EAGAIN)
				return;
			counters_.received++;
			counters_.malformed++;
			log("dropped: ", msg.error().describe());
			continue;
		}
		counters_.received++;
		if (!msg->checksum_ok) {
			counters_.bad_checksum++;
			log("dropped a Mobility Header from ", to_string(msg->src), ": bad checksum");
			continue;
		}
		on_message(*msg);
	}
}

void Agent::on_message(const mh::Received &msg)
{
	auto parsed = mh::parse(msg.bytes);
	auto now = Clock::now();

	if (!parsed && parsed.error().code == mh::unknown_mh_type) {
		/* §9.2: tell the sender, at the address the packet came from. */
		counters_.unknown_type++;
		log("unknown MH Type from ", to_string(msg.src), ": answering with a Binding Error");
		send(mh::encode(mh::Be{mh::be_unrecognized_mh_type, msg.hao ? msg.src : in6addr_any}), msg.dst,
		     msg.hao.value_or(msg.src));
		return;
	}
	if (!parsed) {
		counters_.malformed++;
		log("dropped a malformed Mobility Header from ", to_string(msg.src), ": ", parsed.error().describe());
		return;
	}
	auto type = mh::type_of(*parsed);
	/* §9.4.1, §9.4.2: the tests must take the paths they test, never through a binding. */
	if ((type == mh::Type::hoti || type == mh::Type::coti) && msg.hao) {
		counters_.test_with_hao++;
		log("dropped a ", mh::type_name(type), " from ", to_string(*msg.hao), " with a Home Address option");
		return;
	}

	if (auto *hoti = std::get_if<mh::Hoti>(&*parsed)) {
		auto hot = cn_.answer(*hoti, msg.src, now);
		if (!hot) {
			counters_.errors++;
			log(hot.error().describe());
			return;
		}
		counters_.home_tests++;
		send(mh::encode(*hot), msg.dst, msg.src);
	} else if (auto *coti = std::get_if<mh::Coti>(&*parsed)) {
		auto cot = cn_.answer(*coti, msg.src, now);
		if (!cot) {
			counters_.errors++;
			log(cot.error().describe());
			return;
		}
		counters_.care_of_tests++;
		send(mh::encode(*cot), msg.dst, msg.src);
	} else if (auto *bu = std::get_if<mh::Bu>(&*parsed)) {
		on_binding_update(msg, *bu);
	} else {
		counters_.unexpected++;
		log("ignored a ", mh::type_name(type), " from ", to_string(msg.src));
	}
}

void Agent::on_binding_update(const mh::Received &msg, const mh::Bu &bu)
{
	/* §9.5.1: the care-of address is the Alternate CoA, else the packet's source. */
	Request req{msg.src, msg.dst, bu.options.alt_coa.value_or(msg.hao.value_or(msg.src)), bu, msg.bytes};
	auto now = Clock::now();
	auto verdict = cn_.decide(req, now);
	auto who = to_string(req.home) + " at " + to_string(req.coa) + " seq " + std::to_string(bu.seq);

	switch (verdict.action) {
	case Action::discard:
		switch (*verdict.why) {
		case Discard::not_routable:
			counters_.not_routable++;
			log("discarded the BU of ", who, ": the home address is not unicast routable");
			break;
		case Discard::missing_options:
			counters_.missing_options++;
			log("discarded the BU of ", who, ": no Nonce Indices or Binding Authorization Data");
			break;
		case Discard::bad_authenticator:
			counters_.bad_authenticator++;
			log("discarded the BU of ", who, ": wrong authenticator");
			break;
		}
		return;
	case Action::bind:
		if (auto ok = path_->bind({req.cn, req.home, req.coa}); !ok) {
			counters_.errors++;
			log("cannot install the binding of ", who, ": ", ok.error().describe());
			/* Half a binding is worse than none: the mobile node keeps the home path. */
			(void)path_->unbind(req.cn, req.home);
			cn_.cache().erase(req.cn, req.home);
			verdict.action = Action::reject;
			verdict.status = mh::ba_insufficient_resources;
			verdict.lifetime_units = 0;
		}
		break;
	case Action::unbind:
		if (auto ok = path_->unbind(req.cn, req.home); !ok) {
			counters_.errors++;
			log("cannot remove the binding of ", who, ": ", ok.error().describe());
		}
		break;
	case Action::reject:
		break;
	}
	cn_.commit(req, verdict, now);

	/* The mobile node waits for the acknowledgement; the log line can wait for it. */
	if (auto ba = cn_.acknowledgement(req, verdict)) {
		/* §9.5.4: to where the BU came from, with the home address in a type 2 routing header. */
		std::optional<in6_addr> via;
		if (msg.hao && !(*msg.hao == msg.src))
			via = msg.hao;
		send(*ba, msg.dst, msg.src, via);
	}
	if (verdict.status < 128) {
		counters_.accepted++;
		if (verdict.action == Action::bind)
			log("bound ", who, " for ", verdict.lifetime_units * mh::time_unit.count(), " s");
		else
			log("deregistered ", who);
	} else {
		counters_.rejected++;
		log("rejected the BU of ", who, ": ", int(verdict.status), " (", mh::ba_status_text(verdict.status),
		    ")");
	}
}

void Agent::on_reports()
{
	auto reports = reports_.receive();

	if (!reports) {
		counters_.errors++;
		log(reports.error().describe());
		return;
	}
	for (const auto &r : *reports) {
		/* §9.3.3: to where the packet came from, naming the home address it claimed. */
		counters_.unbound_hao++;
		log("a packet from ", to_string(r.coa), " claimed home address ", to_string(r.home),
		    " without a binding: answering with a Binding Error");
		send(mh::encode(mh::Be{mh::be_unknown_binding_for_hao, r.home}), r.cn, r.coa);
	}
}

void Agent::send(std::span<const std::byte> reply, const in6_addr &src, const in6_addr &dst,
		 const std::optional<in6_addr> &via)
{
	if (auto ok = mh_.send(reply, src, dst, via); !ok) {
		counters_.errors++;
		log(ok.error().describe());
	}
}

void Agent::expire()
{
	auto now = Clock::now();

	/* §9.5.5: the mobile node may not know its binding runs out; it answers with a BU. */
	for (const auto &b : cn_.cache().refresh_due(now, config_.refresh_advance)) {
		counters_.refresh_requests++;
		log("asking ", to_string(b.home), " at ", to_string(b.coa), " to refresh its binding");
		send(mh::encode(mh::Brr{}), b.cn, b.home, b.coa);
	}
	for (const auto &b : cn_.cache().expire(now)) {
		counters_.expired++;
		log("binding of ", to_string(b.home), " at ", to_string(b.coa), " expired");
		if (auto ok = path_->unbind(b.cn, b.home); !ok) {
			counters_.errors++;
			log(ok.error().describe());
		}
	}
}

void Agent::log_counters() const
{
	const auto &c = counters_;

	log("bindings ", cn_.cache().size(), ", received ", c.received, ", home tests ", c.home_tests,
	    ", care-of tests ", c.care_of_tests, ", accepted ", c.accepted, ", rejected ", c.rejected, ", expired ",
	    c.expired, ", refresh requests ", c.refresh_requests, ", unbound HAO ", c.unbound_hao, "; dropped: malformed ", c.malformed,
	    ", bad checksum ", c.bad_checksum, ", unknown type ", c.unknown_type, ", unexpected ", c.unexpected,
	    ", test with HAO ", c.test_with_hao, ", not routable ", c.not_routable, ", missing options ",
	    c.missing_options, ", bad authenticator ", c.bad_authenticator, "; errors ", c.errors);
}

} // namespace gecko::cnd
