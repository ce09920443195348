/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_IMPL_H
#define GECKO_AGENT_IMPL_H

/*
 * The node agent's state, shared by its parts: the event loop and the
 * MIPv6 signalling (agent.cpp), the handoff of TCP connections between
 * agents (handoff.cpp) and the link to an application in the same process
 * (node.cpp).
 */

#include <gecko/address.h>
#include <gecko/agent.h>
#include <gecko/client.h>
#include <gecko/ha_route.h>
#include <gecko/mh.h>
#include <gecko/mh_socket.h>
#include <gecko/rr.h>

#include "agent/common.h"
#include "agent/handoff.h"
#include "agent/wire.h"

#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace gecko::agent {

namespace detail {

using Clock = std::chrono::steady_clock;
using std::chrono::seconds;

inline constexpr auto first_timeout = std::chrono::milliseconds(1000);
inline constexpr int max_tries = 4;
/* Tokens younger than this are used for a Binding Update without a new test (RFC 6275 §5.2.7). */
inline constexpr auto token_reuse = rr::max_token_lifetime - seconds(10);
inline constexpr auto relay_lifetime = seconds(30);
/* Limits on what other hosts can make the agent hold. */
inline constexpr std::size_t max_conns = 256;
inline constexpr std::size_t max_relays_per_conn = 64;
inline constexpr std::size_t max_queued = 64 * 1024;
inline constexpr std::size_t max_text = 1024;
inline constexpr std::uint32_t default_home_lifetime = 420;
inline constexpr std::uint32_t default_ro_lifetime = rr::max_rr_binding_lifetime.count();

struct Key {
	in6_addr home;
	in6_addr client;

	bool operator<(const Key &o) const { return std::memcmp(this, &o, sizeof(*this)) < 0; }
};

struct AddrLess {
	bool operator()(const in6_addr &a, const in6_addr &b) const { return std::memcmp(&a, &b, sizeof(a)) < 0; }
};

inline bool same(const in6_addr &a, const in6_addr &b)
{
	return std::memcmp(&a, &b, sizeof(a)) == 0;
}

inline std::string text(const in6_addr &addr)
{
	return format_address(addr);
}

inline std::string who(const Key &key)
{
	return text(key.client) + " of " + text(key.home);
}

/* Keygen tokens make Kbm: they go the way of other key material. */
inline void wipe_tokens(std::optional<mh::Hot> &hot, std::optional<mh::Cot> &cot)
{
	if (hot)
		rr::wipe(hot->token);
	if (cot)
		rr::wipe(cot->token);
}

/* A nonblocking stream socket with its partial input and pending output. */
struct Conn {
	UniqueFd fd;
	bool peer = false;		/* another agent, else gecko-ctl */
	bool connecting = false;	/* our nonblocking connect() has not finished */
	std::optional<in6_addr> remote;	/* set on connections we opened to a contact node */
	wire::Reader in;
	std::vector<std::byte> out;
};

/* One request of gecko-ctl (or of the agent itself) for a client. */
struct Job {
	enum class Kind { rr, bu, clear } kind = Kind::rr;
	Key key{};
	Service svc;
	std::uint64_t waiter = 0;	/* the control connection to answer, 0 for none */
	Clock::time_point started;
	bool testing = true;	/* return routability, then the Binding Update */
	int tries = 0;
	Clock::time_point next;

	mh::Cookie home_cookie{};
	mh::Cookie care_of_cookie{};
	std::optional<mh::Hot> hot;
	std::optional<mh::Cot> cot;

	std::optional<std::uint16_t> asked_seq;
	std::uint16_t seq = 0;
	std::uint32_t lifetime = 0;
	bool resynced = false;
	bool retested = false;
	std::optional<Binding> previous;

	bool home_only() const { return kind == Kind::clear; }

	Job() = default;
	Job(const Job &) = default;
	Job(Job &&) = default;
	Job &operator=(const Job &) = default;
	Job &operator=(Job &&) = default;
	~Job() { wipe_tokens(hot, cot); }
};

/* What a return routability test left for later Binding Updates. */
struct Tokens {
	std::optional<mh::Hot> hot;
	std::optional<mh::Cot> cot;
	in6_addr coa;
	Clock::time_point at;

	Tokens() = default;
	Tokens(const Tokens &) = default;
	Tokens &operator=(const Tokens &) = default;
	~Tokens() { wipe_tokens(hot, cot); }
};

struct Registration {
	Service svc;
	std::uint16_t seq = 0;
	std::uint32_t lifetime = default_home_lifetime;
	bool in_flight = false;
	bool deregistering = false;
	bool resynced = false;
	int tries = 0;
	Clock::time_point next;
	std::optional<Clock::time_point> refresh_at;
	std::optional<Clock::time_point> expires;
	std::uint64_t waiter = 0;
	Clock::time_point started;
};

/* A Home Test Init this contact node sent for another node. */
struct Relay {
	Key key;
	mh::Cookie cookie;
	std::uint64_t conn;
	Clock::time_point expires;
};

} // namespace detail

using namespace detail;

struct Agent::Impl {
	Config config;
	Client kernel;
	route::Rtnl rtnl;
	mh::Socket mh;
	UniqueFd control_fd;
	UniqueFd peer_fd;
	Counters counters;
	std::map<std::uint64_t, Conn> conns;
	std::uint64_t next_conn = 1;
	std::map<Key, Job> jobs;
	std::map<Key, Tokens> tokens;
	std::map<in6_addr, Registration, AddrLess> regs;
	std::vector<Relay> relays;
	Clock::time_point listeners_paused;

	/* Handoffs (handoff.cpp). */
	std::shared_ptr<AppLink> app;		/* the application in this process, if any */
	std::map<std::uint64_t, Outbound> outbound;
	std::map<Key, Inbound> inbound;
	std::uint64_t next_handoff = 0;
	std::deque<HandoffRecord> records;
	std::map<Key, Clock::time_point> last_bu;	/* for RFC 6275's rate limit */
	std::string fault;
	/* gecko-ctl handoff requests waiting for the application's handoff. */
	struct Asked {
		in6_addr client;
		std::uint64_t waiter;
		Clock::time_point deadline;
	};
	std::vector<Asked> asked;

	Impl(Config c, Client k, route::Rtnl r, mh::Socket m, UniqueFd cfd, UniqueFd pfd)
		: config(std::move(c)), kernel(std::move(k)), rtnl(std::move(r)), mh(std::move(m)),
		  control_fd(std::move(cfd)), peer_fd(std::move(pfd))
	{
	}

	~Impl()
	{
		abandon_handoffs();
		/* An update still travelling when the agent stops leaves the module as it was. */
		for (const auto &[key, job] : jobs)
			if (!job.testing)
				restore(job);
	}

	template <class... Args>
	void log(const Args &...args)
	{
		if (!config.log)
			return;
		std::ostringstream line;
		(line << ... << args);
		config.log(line.str());
	}

	/* Connections. */
	std::uint64_t add_conn(Conn conn);
	/* @why: what to tell the jobs that waited on it, when it was a contact node's agent. */
	void close_conn(std::uint64_t id, const std::string &why = "closed the connection");
	void send(std::uint64_t id, const wire::Message &msg);
	void flush(std::uint64_t id);
	void read(std::uint64_t id);
	void accept_on(int fd, bool peer);
	/* The connection to the agent at @dst (opened from @src if there is none). */
	Result<std::uint64_t> peer_conn(const in6_addr &src, const in6_addr &dst);

	/* Control requests and their answers. */
	void handle(std::uint64_t id, const wire::Message &msg);
	void handle_control(std::uint64_t id, const wire::Message &msg);
	void handle_peer(std::uint64_t id, const wire::Message &msg);
	void answer(std::uint64_t waiter, const Error *error, const Outcome &outcome = {});

	/* Jobs for a client. */
	Result<void> start(Job job);
	void send_tests(Job &job);
	void tested(Job &job);
	void send_bu(Job &job);
	void finish(const Key &key, const Error *error, const Outcome &outcome = {});
	void fail_job(const Key &key, int code, const std::string &why);
	void restore(const Job &job);

	/* Home registration. */
	Result<void> start_registration(const in6_addr &home, std::optional<std::uint32_t> lifetime, bool deregister,
					std::uint64_t waiter);
	void send_registration(Registration &reg);
	void registered(Registration &reg, const mh::Ba &ba);
	void end_registration(const in6_addr &home, const Error *error, const Outcome &outcome = {});
	Result<void> reverse_tunnel(const Service &svc, bool up);

	/* Mobility Header input. */
	void receive();
	void on_hot(const mh::Received &msg, const mh::Hot &hot);
	void on_cot(const mh::Received &msg, const mh::Cot &cot);
	void on_ba(const mh::Received &msg, const mh::Ba &ba);
	void on_brr(const mh::Received &msg);
	void got_hot(const Key &key, const mh::Hot &hot);

	void tick(Clock::time_point now);

	/* Handoffs. */
	void app_commands();
	void hand_off(const in6_addr &node, std::vector<Outgoing> conns);
	void handoff_peer(std::uint64_t id, const wire::Message &msg);
	void handoff_control(std::uint64_t id, const wire::Message &msg);
	void on_prepare(std::uint64_t id, const wire::Message &msg);
	void on_data(std::uint64_t id, const wire::Message &msg);
	void on_commit(std::uint64_t id, const wire::Message &msg);
	void on_handoff_reply(const wire::Message &msg);
	void commit(Outbound &out);
	void end_outbound(std::uint64_t id, const Error *error, bool bu_maybe_sent);
	void end_inbound(const Key &key, const Error *error, bool bu_sent);
	void start_update(Inbound &in);
	void job_done(const Key &key, Job::Kind kind, const Error *error);
	void handoff_conn_closed(std::uint64_t id);
	void handoff_tick(Clock::time_point now);
	void take_back(const Key &key, std::uint16_t acceptor_seq, bool had_binding);
	void reply_handoff(std::uint64_t peer, std::uint64_t handoff, const Error *error, bool bu_sent = false);
	void remember(HandoffRecord record);
	void abandon_handoffs();
};

} // namespace gecko::agent

#endif /* GECKO_AGENT_IMPL_H */
