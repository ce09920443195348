/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_CND_AGENT_H
#define GECKO_CND_AGENT_H

/*
 * The daemon itself: answers Home and Care-of Test Init messages, asks the
 * correspondent about Binding Updates, keeps the kernel's data path in
 * step with the binding cache, answers, asks for refreshes, expires
 * bindings, answers a Home Address option no binding covers with a
 * Binding Error, and on SIGTERM or SIGINT removes everything it installed.
 * SIGUSR1 logs the counters.
 */

#include "config.h"
#include "correspondent.h"
#include "datapath.h"
#include "hao_reports.h"

#include <signals.h>

#include <gecko/mh_socket.h>

#include <memory>
#include <optional>

namespace gecko::cnd {

/* What came in and what became of it; every drop has its reason. */
struct Counters {
	unsigned long received = 0;
	unsigned long home_tests = 0;		/* HoTI answered */
	unsigned long care_of_tests = 0;	/* CoTI answered */
	unsigned long accepted = 0;		/* Binding Updates */
	unsigned long rejected = 0;		/* with a BA error status */
	unsigned long expired = 0;
	unsigned long refresh_requests = 0;
	unsigned long unbound_hao = 0;		/* the kernel dropped an HAO no binding covers: BE status 1 */
	/* Dropped: */
	unsigned long malformed = 0;		/* the codec refused it */
	unsigned long bad_checksum = 0;
	unsigned long unknown_type = 0;		/* answered with a Binding Error */
	unsigned long unexpected = 0;		/* valid, but not for a correspondent (BA, HoT...) */
	unsigned long test_with_hao = 0;	/* a HoTI or CoTI must come without a Home Address option */
	unsigned long not_routable = 0;		/* home address not unicast routable */
	unsigned long missing_options = 0;	/* BU without Nonce Indices or authorization data */
	unsigned long bad_authenticator = 0;
	unsigned long errors = 0;		/* the kernel refused something */
};

class Agent {
public:
	/* Sets the host up for @config; fails with a message for the log. */
	static Result<std::unique_ptr<Agent>> start(const Config &config);

	/* Serves until SIGTERM or SIGINT; returns the exit status. */
	int run();

private:
	Agent(const Config &config, mh::Socket mh, HaoReports reports, daemon::SignalFd signals,
	      std::unique_ptr<DataPath> path)
		: config_(config), mh_(std::move(mh)), reports_(std::move(reports)), signals_(std::move(signals)),
		  path_(std::move(path)), cn_(config.limits) {}

	void receive();
	void on_message(const mh::Received &msg);
	void on_binding_update(const mh::Received &msg, const mh::Bu &bu);
	void on_reports();
	void send(std::span<const std::byte> reply, const in6_addr &src, const in6_addr &dst,
		  const std::optional<in6_addr> &via = std::nullopt);
	void expire();
	void log_counters() const;

	Config config_;
	mh::Socket mh_;
	HaoReports reports_;
	daemon::SignalFd signals_;
	std::unique_ptr<DataPath> path_;
	Correspondent cn_;
	Counters counters_;
};

} // namespace gecko::cnd

#endif /* GECKO_CND_AGENT_H */
