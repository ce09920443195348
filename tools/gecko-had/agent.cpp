// SPDX-License-Identifier: GPL-2.0-only

#include "agent.h"

#include <log.h>

#include <net/if.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <system_error>

namespace gecko::had {

namespace {

using daemon::log;

/* Installed by every MIPv6 daemon of the namespace, removed by the last one to stop. */
constexpr const char *lock_name = "xfrm-mip6-receive";

std::unexpected<Error> sys_fail(int err, const std::string &what)
{
	return std::unexpected(Error{err, what + ": " + std::generic_category().message(err)});
}

} // namespace

Agent::Agent(const Config &config, mh::Socket mh, xfrm::Xfrm xfrm, daemon::SharedLock lock, route::Rtnl rtnl,
	     int home_ifindex, daemon::SignalFd signals)
	: config_(config), mh_(std::move(mh)), xfrm_(std::move(xfrm)), lock_(std::move(lock)),
	  forwarding_(std::move(rtnl), config.address, home_ifindex), registrar_(config.policy),
	  signals_(std::move(signals))
{
}

Result<std::unique_ptr<Agent>> Agent::start(const Config &config)
{
	int ifindex = static_cast<int>(if_nametoindex(config.interface.c_str()));
	if (!ifindex)
		return sys_fail(errno, "home link " + config.interface);
	if (auto ok = enable_sysctls(config.interface); !ok)
		return std::unexpected(ok.error());

	auto mh_socket = mh::Socket::open();
	if (!mh_socket)
		return std::unexpected(mh_socket.error());
	auto lock = daemon::SharedLock::acquire(lock_name, config.lock_dir);
	if (!lock)
		return std::unexpected(lock.error());
	auto xfrm_socket = xfrm::Xfrm::open();
	if (!xfrm_socket)
		return std::unexpected(xfrm_socket.error());
	auto rtnl_socket = route::Rtnl::open();
	if (!rtnl_socket)
		return std::unexpected(rtnl_socket.error());
	auto signals = daemon::SignalFd::open({SIGTERM, SIGINT});
	if (!signals)
		return std::unexpected(signals.error());

	auto agent = std::make_unique<Agent>(config, std::move(*mh_socket), std::move(*xfrm_socket),
					     std::move(*lock), std::move(*rtnl_socket), ifindex, std::move(*signals));
	/*
	 * A home registration arrives from the care-of address with a Home
	 * Address option; without these the kernel drops it.
	 * If this fails half-way, the destructor removes the other half.
	 */
	if (auto ok = agent->xfrm_.apply({xfrm::install(xfrm::hao_receive_state()),
					  xfrm::install(xfrm::mh_receive_policy(xfrm::Kind::hao))});
	    !ok)
		return std::unexpected(ok.error());
	return agent;
}

int Agent::run()
{
	int status = exit_ok;

	log("serving home prefix ", config_.policy.home_prefix.str(), " on ", config_.interface, " as ",
	    to_string(config_.address));
	for (;;) {
		pollfd fds[] = {{mh_.fd(), POLLIN, 0}, {signals_.fd(), POLLIN, 0}};
		int timeout = -1;

		if (auto next = registrar_.cache().next_expiry()) {
			auto left = std::chrono::ceil<std::chrono::milliseconds>(*next - Clock::now());
			timeout = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 60'000));
		}
		if (poll(fds, std::size(fds), timeout) < 0 && errno != EINTR) {
			log("poll: ", std::generic_category().message(errno));
			status = exit_failure;
			break;
		}
		if (fds[1].revents) {
			log("stopping on signal ", signals_.take());
			break;
		}
		if (fds[0].revents)
			receive();
		expire();
	}
	auto ok = shutdown();
	const auto &c = counters_;
	log("received ", c.received, ", malformed ", c.malformed, " (bad checksum ", c.bad_checksum, "), ignored ",
	    c.ignored, ", accepted ", c.accepted, ", rejected ", c.rejected, ", expired ", c.expired, ", errors ",
	    c.errors);
	if (!ok) {
		log("shutdown: ", ok.error().describe());
		status = exit_failure;
	}
	return status;
}

void Agent::receive()
{
	for (;;) {
		auto msg = mh_.receive();
		if (!msg && msg.error().code == EAGAIN)
			return;
		/* Oversized, or no destination: that message is lost, the socket is fine. */
		if (!msg && (msg.error().code == EMSGSIZE || msg.error().code == EPROTO)) {
			counters_.received++;
			counters_.malformed++;
			log("dropped: ", msg.error().describe());
			continue;
		}
		if (!msg) {
			counters_.errors++;
			log(msg.error().describe());
			return;
		}
		counters_.received++;
		if (!msg->checksum_ok) {
			counters_.malformed++;
			counters_.bad_checksum++;
			log("dropped a Mobility Header from ", to_string(msg->src), ": bad checksum");
			continue;
		}

		auto parsed = mh::parse(msg->bytes);
		if (!parsed && parsed.error().code == mh::unknown_mh_type) {
			/* §9.2: tell the sender, at the address the packet came from. */
			counters_.malformed++;
			log("unknown MH Type from ", to_string(msg->src), ": answering with a Binding Error");
			send(mh::Be{mh::be_unrecognized_mh_type, msg->hao ? msg->src : in6addr_any}, msg->dst,
			     msg->hao.value_or(msg->src), std::nullopt);
		} else if (!parsed) {
			counters_.malformed++;
			log("dropped a malformed Mobility Header from ", to_string(msg->src), ": ",
			    parsed.error().describe());
		} else if (auto *bu = std::get_if<mh::Bu>(&*parsed)) {
			on_binding_update(*msg, *bu);
		} else {
			counters_.ignored++;
			log("ignored a ", mh::type_name(mh::type_of(*parsed)), " from ", to_string(msg->src));
		}
	}
}

void Agent::on_binding_update(const mh::Received &msg, const mh::Bu &bu)
{
	/* §9.5.1: the care-of address is the Alternate CoA, else the packet's source. */
	Request req{msg.src, bu.options.alt_coa.value_or(msg.hao.value_or(msg.src)), bu};
	auto verdict = registrar_.decide(req);
	auto who = to_string(req.home) + " at " + to_string(req.coa) + " seq " + std::to_string(bu.seq);

	if (verdict.action != Action::none) {
		auto ok = verdict.action == Action::bind ? forwarding_.bind(req.home, req.coa)
							  : forwarding_.unbind(req.home);
		if (!ok) {
			counters_.errors++;
			log("cannot forward for ", who, ": ", ok.error().describe());
			/* Half-installed forwarding is worse than none. */
			(void)forwarding_.unbind(req.home);
			registrar_.cache().erase(req.home);
			verdict = {mh::ba_reason_unspecified, bu.seq, 0, Action::none};
		}
	}
	registrar_.commit(req, verdict, Clock::now());

	if (verdict.status < 128) {
		counters_.accepted++;
		if (verdict.action == Action::bind)
			log("registered ", who, " for ", verdict.lifetime_units * mh::time_unit.count(), " s");
		else
			log("deregistered ", who);
	} else {
		counters_.rejected++;
		log("rejected ", who, ": ", int(verdict.status), " (", mh::ba_status_text(verdict.status), ")");
	}
	/* §9.5.4: a rejection is always answered, an acceptance when asked. */
	if (bu.a || verdict.status >= 128) {
		std::optional<in6_addr> via;
		/* Back to where the packet came from, with the home address in a type 2 routing header. */
		if (msg.hao && !(*msg.hao == msg.src))
			via = msg.hao;
		send(mh::Ba{verdict.status, false, verdict.seq, verdict.lifetime_units, {}}, msg.dst, msg.src, via);
	}
}

void Agent::send(const mh::Message &reply, const in6_addr &src, const in6_addr &dst,
		 const std::optional<in6_addr> &via)
{
	if (auto ok = mh_.send(mh::encode(reply), src, dst, via); !ok) {
		counters_.errors++;
		log(ok.error().describe());
	}
}

void Agent::expire()
{
	for (const auto &b : registrar_.cache().expire(Clock::now())) {
		counters_.expired++;
		log("binding of ", to_string(b.home), " at ", to_string(b.coa), " expired");
		if (auto ok = forwarding_.unbind(b.home); !ok) {
			counters_.errors++;
			log(ok.error().describe());
		}
	}
}

Result<void> Agent::shutdown()
{
	auto first = forwarding_.clear();

	/* Another daemon of this namespace may still need them. */
	if (lock_ && lock_->last_holder()) {
		auto ok = xfrm_.apply({xfrm::remove(xfrm::mh_receive_policy(xfrm::Kind::hao)),
				       xfrm::remove(xfrm::hao_receive_state())});
		if (!ok && first)
			first = ok;
	}
	lock_.reset();
	return first;
}

Agent::~Agent()
{
	/* After run() this finds nothing left; after a failed start() it cleans up. */
	(void)shutdown();
}

} // namespace gecko::had
