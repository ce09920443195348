/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_SIGNALLING_H
#define GECKO_AGENT_SIGNALLING_H

/*
 * The node agent's MIPv6 signalling (gecko/agent.h): the contact node's
 * home registration, return routability with the Home Test relayed by the
 * contact node over the node channel, Binding Updates and clears for a
 * client, answers to Binding Refresh Requests. One job per client at a
 * time; gecko-ctl starts them, and so does the handoff, which hears how
 * each of its own ended through Listener.
 */

#include <gecko/agent.h>
#include <gecko/client.h>
#include <gecko/ha_route.h>
#include <gecko/mh.h>
#include <gecko/mh_socket.h>
#include <gecko/rr.h>

#include "agent/common.h"
#include "agent/transport.h"
#include "agent/wire.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gecko::agent {

inline constexpr std::uint32_t default_ro_lifetime = rr::max_rr_binding_lifetime.count();
/* RFC 6275 MAX_UPDATE_RATE: Binding Updates per second to one client. */
inline constexpr auto bu_interval = std::chrono::milliseconds(1000 / 3 + 1);

class Signalling {
public:
	enum class Kind { rr, bu, clear };

	class Listener {
	public:
		/* A job the handoff started ended; @error null on success. */
		virtual void job_done(const Key &key, Kind kind, const Error *error) = 0;

	protected:
		~Listener() = default;
	};

	static Result<std::unique_ptr<Signalling>> open(Client &kernel, Transport &transport, Counters &counters,
							Log log, Listener &listener);
	/* A Binding Update still travelling leaves the module's binding as it was. */
	~Signalling();

	/* The Mobility Header socket: receive() once it is readable. */
	int fd() const;
	void receive();
	/* Retransmissions, refreshes, expiries. */
	void tick(Clock::time_point now);
	/* The registrations of every service the module marks as this node's as contact node. */
	void resume_registrations();
	/* A home registration the home agent accepted from this node, for the contact node's backups. */
	struct HomeRegistration {
		in6_addr home;
		std::uint16_t seq;		/* the last sent */
		Clock::time_point expires;
	};
	std::vector<HomeRegistration> registrations() const;
	/*
	 * The contact node died and this node takes its place: registers
	 * @home with its home agent from this node's care-of address, with
	 * the sequence number after @last_seq, the dead contact node's last
	 * (a status 135 gives the right one if it is not). From the home
	 * agent's acceptance on, this node is @home's contact node as if
	 * gecko-ctl register had made it one.
	 */
	Result<void> take_registration(const in6_addr &home, std::optional<std::uint16_t> last_seq);
	/*
	 * The member at @contact_coa says it is @home's contact node: the
	 * module's service names it, and this node, if it was the contact
	 * node (restarted after its backup took its place), stops being one
	 * without deregistering (the home agent's binding is the other's).
	 */
	Result<void> follow_contact(const in6_addr &home, const in6_addr &contact_coa);

	/* gecko-ctl's register, deregister, rr, bu and clear: the answer goes to @waiter. */
	void control(std::uint64_t waiter, const wire::Message &msg);
	/* The Home Test relay between agents. */
	void peer(std::uint64_t conn, const in6_addr &node, const wire::Message &msg);
	void closed(std::uint64_t conn, const std::optional<in6_addr> &node, const std::string &why);

	/* For the handoff; Listener::job_done() tells the end. */
	Result<void> rr(const Key &key);
	Result<void> bu(const Key &key, std::optional<std::uint16_t> seq);
	/*
	 * The client may have accepted an acceptor's Binding Update with
	 * @acceptor_seq: a Binding Update with the next one brings it back
	 * here, or a binding clear when this node served it through the home
	 * agent (@had_binding false).
	 */
	void take_back(const Key &key, std::uint16_t acceptor_seq, bool had_binding);
	/* A binding clear of @key's client, which this node serves (its binding here is bound). */
	Result<void> clear(const Key &key);
	/* Ends @key's job without a word to its listener; the module's binding is put back. */
	void cancel(const Key &key);
	bool busy(const Key &key) const;
	/* Whether a recent test left tokens for a Binding Update from @coa. */
	bool tested(const Key &key, const in6_addr &coa) const;
	/* Whether @key's job has sent a Binding Update that the client may have taken. */
	bool update_sent(const Key &key) const;
	/* When this node last sent @key's client a Binding Update, for RFC 6275's rate limit. */
	std::optional<Clock::time_point> last_update(const Key &key) const;

	struct Impl;

private:
	explicit Signalling(std::unique_ptr<Impl> impl);
	std::unique_ptr<Impl> impl_;
};

} // namespace gecko::agent

#endif /* GECKO_AGENT_SIGNALLING_H */
