/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_HAD_AGENT_H
#define GECKO_HAD_AGENT_H

/*
 * The daemon itself: receives Binding Updates, asks the registrar, keeps
 * forwarding in step with the binding cache, answers, expires bindings,
 * and on SIGTERM or SIGINT removes everything it installed.
 */

#include "config.h"
#include "forwarding.h"

#include <gecko/mh_socket.h>
#include <gecko/xfrm.h>

#include <shared_lock.h>
#include <signals.h>

#include <memory>
#include <optional>

namespace gecko::had {

struct Counters {
	unsigned long received = 0;
	unsigned long malformed = 0;	/* includes bad checksums */
	unsigned long bad_checksum = 0;
	unsigned long ignored = 0;	/* valid, but not for a home agent */
	unsigned long accepted = 0;
	unsigned long rejected = 0;
	unsigned long expired = 0;
	unsigned long errors = 0;	/* the kernel refused something */
};

class Agent {
public:
	/* Sets the host up for @config; fails with a message for the log. */
	static Result<std::unique_ptr<Agent>> start(const Config &config);

	/* Takes what start() opened. */
	Agent(const Config &config, mh::Socket mh, xfrm::Xfrm xfrm, daemon::SharedLock lock, route::Rtnl rtnl,
	      int home_ifindex, daemon::SignalFd signals);
	Agent(const Agent &) = delete;
	Agent &operator=(const Agent &) = delete;
	~Agent();

	/* Serves until SIGTERM or SIGINT; returns the exit status. */
	int run();

private:

	void receive();
	void on_binding_update(const mh::Received &msg, const mh::Bu &bu);
	void send(const mh::Message &reply, const in6_addr &src, const in6_addr &dst,
		  const std::optional<in6_addr> &via);
	void expire();
	Result<void> shutdown();

	Config config_;
	mh::Socket mh_;
	xfrm::Xfrm xfrm_;
	/* Held while the shared xfrm objects may be in use (shared_lock.h). */
	std::optional<daemon::SharedLock> lock_;
	Forwarding forwarding_;
	Registrar registrar_;
	daemon::SignalFd signals_;
	Counters counters_;
};

} // namespace gecko::had

#endif /* GECKO_HAD_AGENT_H */
