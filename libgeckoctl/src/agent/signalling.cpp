// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The node agent's MIPv6 signalling (agent/signalling.h): jobs for a
 * client (return routability, Binding Update, binding clear), the contact
 * node's home registration, the Home Test relay, Mobility Header input.
 */

#include "agent/signalling.h"

#include "fail.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <sstream>
#include <variant>

namespace gecko::agent {

namespace {

using std::chrono::seconds;
using Kind = Signalling::Kind;

constexpr auto first_timeout = std::chrono::milliseconds(1000);
constexpr int max_tries = 4;
/* Tokens younger than this are used for a Binding Update without a new test (RFC 6275 §5.2.7). */
constexpr auto token_reuse = rr::max_token_lifetime - seconds(10);
constexpr auto relay_lifetime = seconds(30);
/* Home Tests one peer may have this contact node relay at once. */
constexpr std::size_t max_relays_per_conn = 64;
/* A peer refused for that asks again after busy_wait, up to max_busy_waits times per job. */
constexpr auto busy_wait = std::chrono::milliseconds(200);
constexpr int max_busy_waits = 50;
constexpr std::uint32_t default_home_lifetime = 420;
/* Seconds a contact node taking a client back holds a pending binding for the answer. */
constexpr std::uint32_t take_back_lifetime = 60;
/* Mobility Header messages taken in one turn of the agent's loop. */
constexpr unsigned max_receive_batch = 32;

Result<mh::Cookie> new_cookie()
{
	mh::Cookie cookie;

	if (RAND_bytes(cookie.data(), static_cast<int>(cookie.size())) != 1)
		return fail(EIO, "no randomness for a cookie");
	return cookie;
}

std::string status_text(std::uint8_t status)
{
	return "status " + std::to_string(status) + " (" + std::string(mh::ba_status_text(status)) + ")";
}

/* A Home Test request or its answer between agents, for @key's test with @cookie. */
wire::Message home_test_message(wire::Type type, const Key &key, const mh::Cookie &cookie)
{
	wire::Message msg(type);
	msg.put(wire::Attr::home, key.home).put(wire::Attr::client, key.client);
	msg.put(wire::Attr::cookie, std::as_bytes(std::span(cookie)));
	return msg;
}

/* "gecko" and 32 bits of FNV-1a over all of G: interface names hold 15 characters. */
std::string tunnel_name(const in6_addr &home)
{
	std::uint32_t hash = 2166136261u;
	char name[16];

	for (auto b : home.s6_addr)
		hash = (hash ^ b) * 16777619u;
	std::snprintf(name, sizeof(name), "gecko%08x", hash);
	return name;
}

/* Keygen tokens make Kbm: they go the way of other key material. */
void wipe_tokens(std::optional<mh::Hot> &hot, std::optional<mh::Cot> &cot)
{
	if (hot)
		rr::wipe(hot->token);
	if (cot)
		rr::wipe(cot->token);
}

/* One request of gecko-ctl (or of the handoff) for a client. */
struct Job {
	Kind kind = Kind::rr;
	Key key{};
	Service svc;
	std::uint64_t waiter = 0;	/* the control connection to answer, 0 for none */
	Clock::time_point started;
	bool testing = true;	/* return routability, then the Binding Update */
	int tries = 0;
	Clock::time_point next;
	/* Times the contact node had too many Home Tests of this node under way. */
	int contact_busy = 0;

	mh::Cookie home_cookie{};
	mh::Cookie care_of_cookie{};
	std::optional<mh::Hot> hot;
	std::optional<mh::Cot> cot;

	std::optional<std::uint16_t> asked_seq;
	std::uint16_t seq = 0;
	std::uint32_t lifetime = 0;
	bool resynced = false;
	bool retested = false;
	bool update_sent = false;
	/* asked_seq is the donor's + 1, a floor: the client's own last number may be higher. */
	bool seq_hint = false;
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

/* A Home Test Init this contact node sent for another node's agent. */
struct Relay {
	Key key;
	mh::Cookie cookie;
	std::uint64_t conn;
	Clock::time_point expires;
};

} // namespace

struct Signalling::Impl {
	Client &kernel;
	Transport &transport;
	Counters &counters;
	Log log_fn;
	Listener &listener;
	route::Rtnl rtnl;
	mh::Socket mh;
	std::map<Key, Job> jobs;
	std::map<Key, Tokens> tokens;
	std::map<in6_addr, Registration, AddrLess> regs;
	std::vector<Relay> relays;
	std::map<Key, Clock::time_point> last_bu;	/* for RFC 6275's rate limit */

	Impl(Client &k, Transport &t, Counters &c, Log l, Listener &li, route::Rtnl r, mh::Socket m)
		: kernel(k), transport(t), counters(c), log_fn(std::move(l)), listener(li), rtnl(std::move(r)),
		  mh(std::move(m))
	{
	}

	template <class... Args>
	void log(const Args &...args)
	{
		log_line(log_fn, args...);
	}

	void answer(std::uint64_t waiter, const Error *error, const Outcome &outcome = {})
	{
		if (waiter)
			transport.send(waiter, control_reply(error, outcome));
	}

	Result<void> start(Job job);
	void send_tests(Job &job);
	void tested(Job &job);
	void send_bu(Job &job);
	void finish(const Key &key, const Error *error, const Outcome &outcome = {});
	void fail_job(const Key &key, int code, const std::string &why);
	void restore(const Job &job);

	Result<void> start_registration(const in6_addr &home, std::optional<std::uint32_t> lifetime, bool deregister,
					std::uint64_t waiter);
	void send_registration(Registration &reg);
	void registered(Registration &reg, const mh::Ba &ba);
	void end_registration(const in6_addr &home, const Error *error, const Outcome &outcome = {});
	Result<void> reverse_tunnel(const Service &svc, bool up);

	void receive();
	void on_hot(const mh::Received &msg, const mh::Hot &hot);
	void on_cot(const mh::Received &msg, const mh::Cot &cot);
	void on_ba(const mh::Received &msg, const mh::Ba &ba);
	void on_brr(const mh::Received &msg);
	void got_hot(const Key &key, const mh::Hot &hot);
	void tick(Clock::time_point now);

	void control(std::uint64_t waiter, const wire::Message &msg);
	void peer(std::uint64_t conn, const in6_addr &node, const wire::Message &msg);
};

/* --- jobs --- */

Result<void> Signalling::Impl::start(Job job)
{
	const auto key = job.key;

	if (jobs.contains(key))
		return fail(EBUSY, "an operation for " + who(key) + " is already running");
	/* What the module holds now is what a failed update puts back. */
	if (job.kind != Kind::rr) {
		auto b = kernel.binding(key.home, key.client);
		if (b)
			job.previous = *b;
		else if (job.kind == Kind::clear && !job.previous)	/* a handoff's take-back may know it */
			return fail(ENOENT, "no binding for " + who(key) +
						    " here: clear it on the node that serves the client");
	}
	auto home_cookie = new_cookie();
	auto care_of_cookie = new_cookie();
	if (!home_cookie || !care_of_cookie)
		return std::unexpected(home_cookie ? care_of_cookie.error() : home_cookie.error());
	job.home_cookie = *home_cookie;
	job.care_of_cookie = *care_of_cookie;

	auto &j = jobs.emplace(key, std::move(job)).first->second;
	/* RR ahead: a Binding Update uses the tokens of a recent test. */
	auto t = tokens.find(key);
	if (j.kind == Kind::bu && t != tokens.end() && t->second.cot && same(t->second.coa, j.svc.coa) &&
	    Clock::now() - t->second.at < token_reuse) {
		j.hot = t->second.hot;
		j.cot = t->second.cot;
		tested(j);
		return {};
	}
	send_tests(j);
	return {};
}

void Signalling::Impl::send_tests(Job &job)
{
	const auto key = job.key;

	if (job.tries++ == max_tries)
		return fail_job(key, ETIMEDOUT,
				std::string(job.hot ? "no Care-of Test" : "no Home Test") + " from " + text(key.client));
	job.next = Clock::now() + first_timeout * (1 << (job.tries - 1));

	if (!job.hot) {
		auto svc = kernel.service(key.home);
		if (svc && svc->contact) {
			if (auto ok = mh.send(mh::encode(mh::Hoti{job.home_cookie}), key.home, key.client); !ok)
				return fail_job(key, ok.error().code, "cannot send a Home Test Init: " + ok.error().describe());
		} else {
			auto conn = transport.peer(job.svc.coa, job.svc.contact_coa);
			if (!conn)
				return fail_job(key, conn.error().code,
						"cannot reach the contact node's agent at " + text(job.svc.contact_coa) + ": " +
							conn.error().describe());
			transport.send(*conn, home_test_message(wire::Type::home_test, key, job.home_cookie));
		}
	}
	if (!job.home_only() && !job.cot) {
		if (auto ok = mh.send(mh::encode(mh::Coti{job.care_of_cookie}), job.svc.coa, key.client); !ok)
			return fail_job(key, ok.error().code, "cannot send a Care-of Test Init: " + ok.error().describe());
	}
}

void Signalling::Impl::got_hot(const Key &key, const mh::Hot &hot)
{
	auto &job = jobs.at(key);
	job.hot = hot;
	if (job.home_only() || job.cot)
		tested(job);
}

void Signalling::Impl::tested(Job &job)
{
	const auto key = job.key;

	if (!job.home_only()) {
		auto &t = tokens[key];
		t.hot = job.hot;
		t.cot = job.cot;
		t.coa = job.svc.coa;
		t.at = Clock::now();
	}
	if (job.kind == Kind::rr)
		return finish(key, nullptr);

	job.testing = false;
	job.tries = 0;
	if (job.kind == Kind::clear) {
		job.lifetime = 0;
		job.seq = static_cast<std::uint16_t>(job.previous->seq + 1);
	} else {
		if (!job.lifetime)
			job.lifetime = default_ro_lifetime;
		job.seq = job.asked_seq.value_or(job.previous ? job.previous->seq + 1 : 1);
		/* The client may use the binding as soon as it accepts the update, before its BA arrives. */
		auto state = job.previous ? job.previous->state : BindingState::pending;
		if (auto ok = kernel.set_binding({key.home, key.client, state, job.seq, job.lifetime}); !ok)
			return fail_job(key, ok.error().code, "cannot record the binding: " + ok.error().describe());
	}
	send_bu(job);
}

void Signalling::Impl::send_bu(Job &job)
{
	const auto key = job.key;

	if (job.tries++ == max_tries) {
		restore(job);
		return fail_job(key, ETIMEDOUT, "no Binding Acknowledgement from " + text(key.client));
	}
	job.next = Clock::now() + first_timeout * (1 << (job.tries - 1));

	bool dereg = job.kind == Kind::clear;
	mh::Bu bu{job.seq, true, false, false, false, static_cast<std::uint16_t>(job.lifetime / mh::time_unit.count()),
		  {}};
	bu.options.nonce_indices = mh::NonceIndices{job.hot->nonce_index, job.cot ? job.cot->nonce_index : std::uint16_t(0)};
	bu.options.auth = mh::Authenticator{};
	auto bytes = mh::encode(bu);
	auto kbm = dereg ? rr::kbm(job.hot->token) : rr::kbm(job.hot->token, job.cot->token);
	if (auto ok = rr::sign(bytes, kbm, {dereg ? key.home : job.svc.coa, key.client}); !ok) {
		restore(job);
		return fail_job(key, ok.error().code, "cannot sign the Binding Update: " + ok.error().describe());
	}
	/* From G: the checksum is G's; gecko.ko adds the Home Address option and the care-of source. */
	if (auto ok = mh.send(bytes, key.home, key.client); !ok) {
		restore(job);
		return fail_job(key, ok.error().code, "cannot send the Binding Update: " + ok.error().describe());
	}
	counters.bu_sent++;
	job.update_sent = true;
	last_bu[key] = Clock::now();
}

void Signalling::Impl::restore(const Job &job)
{
	if (job.kind == Kind::clear)
		return;	/* nothing was changed */
	auto previous = job.previous;
	/* An update that left may have been taken, BA lost: its number is spent, whatever else goes back. */
	if (previous && job.update_sent && static_cast<std::int16_t>(job.seq - previous->seq) > 0)
		previous->seq = job.seq;
	auto ok = previous ? kernel.set_binding(*previous) : kernel.del_binding(job.key.home, job.key.client);
	if (!ok && ok.error().code != ENOENT)
		log("cannot put back the binding of ", who(job.key), ": ", ok.error().describe());
}

void Signalling::Impl::finish(const Key &key, const Error *error, const Outcome &outcome)
{
	auto it = jobs.find(key);
	if (it == jobs.end())
		return;
	Outcome out = outcome;
	out.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - it->second.started);
	answer(it->second.waiter, error, out);
	auto kind = it->second.kind;
	jobs.erase(it);
	listener.job_done(key, kind, error);
}

void Signalling::Impl::fail_job(const Key &key, int code, const std::string &why)
{
	log(who(key), ": ", why);
	Error error{code, why};
	finish(key, &error);
}

/* --- home registration --- */

Result<void> Signalling::Impl::start_registration(const in6_addr &home, std::optional<std::uint32_t> lifetime,
					     bool deregister, std::uint64_t waiter)
{
	auto svc = kernel.service(home);
	if (!svc)
		return fail(svc.error().code, text(home) + " is not a service of this node");
	if (!svc->ha)
		return fail(EINVAL, "service " + text(home) + " has no home agent");
	if (lifetime && (*lifetime < mh::time_unit.count() || *lifetime > 0xffff * mh::time_unit.count()))
		return fail(ERANGE, "a home registration lasts 4 to 262140 seconds");

	auto &reg = regs[home];
	if (reg.in_flight && reg.waiter)
		return fail(EBUSY, "a registration of " + text(home) + " is already on its way");
	if (deregister && !reg.expires && !svc->contact)
		return fail(ENOENT, "this node is not registered as the contact node of " + text(home));
	reg.svc = *svc;
	if (lifetime)
		reg.lifetime = *lifetime;
	reg.deregistering = deregister;
	reg.waiter = waiter;
	reg.started = Clock::now();
	reg.tries = 0;
	reg.resynced = false;
	reg.seq++;
	reg.in_flight = true;
	send_registration(reg);
	return {};
}

std::vector<Signalling::HomeRegistration> Signalling::registrations() const
{
	std::vector<HomeRegistration> out;
	for (const auto &[home, reg] : impl_->regs)
		if (reg.expires && !reg.deregistering)
			out.push_back({home, reg.seq, *reg.expires});
	return out;
}

Result<void> Signalling::take_registration(const in6_addr &home, std::optional<std::uint16_t> last_seq)
{
	auto &d = *impl_;
	if (d.regs.contains(home) && d.regs[home].expires)
		return {};
	if (last_seq)
		d.regs[home].seq = *last_seq;
	return d.start_registration(home, std::nullopt, false, 0);
}

Result<void> Signalling::follow_contact(const in6_addr &home, const in6_addr &contact_coa)
{
	auto &d = *impl_;
	auto svc = d.kernel.service(home);
	if (!svc)
		return std::unexpected(svc.error());
	if (svc->contact) {
		d.log(text(home), ": no longer the contact node: the member at ", text(contact_coa), " is");
		Error error{ECANCELED, "the member at " + text(contact_coa) + " is the contact node of " + text(home)};
		d.end_registration(home, &error);
		d.regs.erase(home);
		if (auto down = d.reverse_tunnel(*svc, false); !down)
			d.log(text(home), ": ", down.error().describe());
		svc->contact = false;
	}
	svc->contact_coa = contact_coa;
	return d.kernel.set_service(*svc);
}

void Signalling::Impl::send_registration(Registration &reg)
{
	const auto home = reg.svc.home;

	if (reg.tries++ == max_tries) {
		reg.in_flight = false;
		Error error{ETIMEDOUT, "no Binding Acknowledgement from the home agent " + text(*reg.svc.ha)};
		log(text(home), ": ", error.message);
		/* A refresh keeps trying while the registration lasts; a de-registration is not retried behind the caller's back. */
		reg.deregistering = false;
		if (reg.expires && Clock::now() < *reg.expires)
			reg.refresh_at = Clock::now() + seconds(2);
		return end_registration(home, &error);
	}
	reg.next = Clock::now() + first_timeout * (1 << (reg.tries - 1));
	auto units = reg.deregistering ? 0 : reg.lifetime / mh::time_unit.count();
	mh::Bu bu{reg.seq, true, true, false, false, static_cast<std::uint16_t>(units), {}};
	if (auto ok = mh.send(mh::encode(bu), home, *reg.svc.ha); !ok)
		log(text(home), ": cannot send the home registration: ", ok.error().describe());
}

void Signalling::Impl::registered(Registration &reg, const mh::Ba &ba)
{
	const auto home = reg.svc.home;
	auto now = Clock::now();

	if (ba.status >= 128) {
		if (ba.status == mh::ba_sequence_number_out_of_window && !reg.resynced) {
			reg.resynced = true;
			reg.seq = static_cast<std::uint16_t>(ba.seq + 1);
			reg.tries = 0;
			return send_registration(reg);
		}
		reg.in_flight = false;
		Error error{EACCES, "the home agent refused: " + status_text(ba.status)};
		log(text(home), ": ", error.message);
		return end_registration(home, &error);
	}
	reg.in_flight = false;
	counters.registrations++;
	Outcome out{ba.seq, ba.lifetime_units * static_cast<std::uint32_t>(mh::time_unit.count()),
		    std::chrono::duration_cast<std::chrono::microseconds>(now - reg.started)};

	if (reg.deregistering || !ba.lifetime_units) {
		auto svc = reg.svc;
		Result<void> ok;
		if (auto current = kernel.service(home)) {
			svc = *current;
			svc.contact = false;
			ok = kernel.set_service(svc);
		}
		auto down = reverse_tunnel(svc, false);
		log(text(home), ": deregistered from ", text(*svc.ha));
		auto waiter = reg.waiter;
		regs.erase(home);
		const Error *error = !ok ? &ok.error() : !down ? &down.error() : nullptr;
		answer(waiter, error, out);
		return;
	}

	auto granted = seconds(out.lifetime);
	auto refresh = ba.options.refresh_units ? std::min(granted, *ba.options.refresh_units * mh::time_unit) : granted;
	reg.expires = now + granted;
	reg.refresh_at = now + refresh * 4 / 5;
	/* The module's service as it is now: only the contact flag is the agent's to change. */
	auto current = kernel.service(home);
	if (!current) {
		log(text(home), ": registered, but the service is gone");
		regs.erase(home);
		return;
	}
	auto svc = *current;
	Result<void> ok;
	if (!svc.contact || !same(svc.contact_coa, svc.coa)) {
		if (!svc.contact)
			ok = reverse_tunnel(svc, true);
		svc.contact = true;
		svc.contact_coa = svc.coa;
		if (ok)
			ok = kernel.set_service(svc);
	}
	if (!ok) {
		log(text(home), ": registered, but ", ok.error().describe());
		return end_registration(home, &ok.error());
	}
	reg.svc = svc;
	log(text(home), ": registered with ", text(*svc.ha), " for ", out.lifetime, " s, seq ", ba.seq);
	end_registration(home, nullptr, out);
}

void Signalling::Impl::end_registration(const in6_addr &home, const Error *error, const Outcome &outcome)
{
	auto it = regs.find(home);
	if (it == regs.end())
		return;
	answer(it->second.waiter, error, outcome);
	it->second.waiter = 0;
}

Result<void> Signalling::Impl::reverse_tunnel(const Service &svc, bool up)
{
	auto name = tunnel_name(svc.home);

	if (!up) {
		auto rule = rtnl.remove_source_rule(svc.home, reverse_table_base + if_index(name), reverse_rule_priority);
		auto tunnel = rtnl.remove_tunnel(name);
		return rule ? tunnel : rule;
	}
	auto ifindex = rtnl.add_tunnel(name, svc.coa, *svc.ha);
	if (!ifindex)
		return std::unexpected(ifindex.error());
	return rtnl.add_source_route(svc.home, reverse_table_base + static_cast<std::uint32_t>(*ifindex),
				     reverse_rule_priority, *ifindex);
}

/* --- Mobility Header input --- */

void Signalling::Impl::receive()
{
	/*
	 * A batch at a time: hundreds of clients' messages at once took the
	 * loop seconds, its heartbeats with it, and its peers took it for
	 * dead. The socket stays readable, so the loop comes back at once.
	 */
	for (unsigned n = 0; n < max_receive_batch; n++) {
		auto msg = mh.receive();
		if (!msg && msg.error().code != EMSGSIZE && msg.error().code != EPROTO) {
			if (msg.error().code != EAGAIN)
				log("cannot receive: ", msg.error().describe());
			return;
		}
		if (!msg) {
			/* Too long for the buffer, or its ancillary data cut short: consumed, so count it. */
			counters.mh_received++;
			counters.mh_malformed++;
			log("dropped a Mobility Header message: ", msg.error().describe());
			continue;
		}
		counters.mh_received++;
		if (!msg->checksum_ok) {
			counters.mh_bad_checksum++;
			log("dropped a Mobility Header message from ", text(msg->src), ": bad checksum");
			continue;
		}
		auto parsed = mh::parse(msg->bytes);
		if (!parsed) {
			counters.mh_malformed++;
			log("dropped a Mobility Header message from ", text(msg->src), ": ", parsed.error().describe());
			continue;
		}
		if (auto *hot = std::get_if<mh::Hot>(&*parsed))
			on_hot(*msg, *hot);
		else if (auto *cot = std::get_if<mh::Cot>(&*parsed))
			on_cot(*msg, *cot);
		else if (auto *ba = std::get_if<mh::Ba>(&*parsed))
			on_ba(*msg, *ba);
		else if (std::holds_alternative<mh::Brr>(*parsed))
			on_brr(*msg);
		else
			counters.mh_unexpected++;
	}
}

void Signalling::Impl::on_hot(const mh::Received &msg, const mh::Hot &hot)
{
	Key key{msg.dst, msg.src};

	/* §9.4.3: a Home Test comes to the home address, never with a Home Address option. */
	if (!msg.hao) {
		if (auto it = jobs.find(key); it != jobs.end() && it->second.testing && !it->second.hot &&
					      hot.cookie == it->second.home_cookie)
			return got_hot(key, hot);
		for (auto r = relays.begin(); r != relays.end(); ++r) {
			if (!same(r->key.home, key.home) || !same(r->key.client, key.client) || r->cookie != hot.cookie)
				continue;
			auto reply = home_test_message(wire::Type::home_test_reply, key, hot.cookie);
			reply.put_u32(wire::Attr::error, 0).put_u16(wire::Attr::nonce_index, hot.nonce_index);
			reply.put(wire::Attr::token, std::as_bytes(std::span(hot.token)));
			transport.send(r->conn, reply);
			relays.erase(r);
			counters.hot_relayed++;
			return;
		}
	}
	counters.mh_unexpected++;
}

void Signalling::Impl::on_cot(const mh::Received &msg, const mh::Cot &cot)
{
	for (auto &[key, job] : jobs) {
		if (!job.testing || job.cot || job.home_only() || !same(key.client, msg.src) ||
		    !same(job.svc.coa, msg.dst) || cot.cookie != job.care_of_cookie || msg.hao)
			continue;
		job.cot = cot;
		if (job.hot)
			tested(job);
		return;
	}
	counters.mh_unexpected++;
}

void Signalling::Impl::on_ba(const mh::Received &msg, const mh::Ba &ba)
{
	if (auto r = regs.find(msg.dst); r != regs.end() && r->second.in_flight && same(msg.src, *r->second.svc.ha)) {
		if (ba.seq == r->second.seq || ba.status == mh::ba_sequence_number_out_of_window)
			return registered(r->second, ba);
	}

	Key key{msg.dst, msg.src};
	auto it = jobs.find(key);
	if (it == jobs.end() || it->second.testing) {
		counters.mh_unexpected++;
		return;
	}
	auto &job = it->second;
	bool dereg = job.kind == Kind::clear;
	auto kbm = dereg ? rr::kbm(job.hot->token) : rr::kbm(job.hot->token, job.cot->token);
	bool authentic = rr::verify(msg.bytes, kbm, {dereg ? key.home : job.svc.coa, key.client});

	/*
	 * Only the expired-nonce statuses cannot carry the client's
	 * authenticator; any other answer must, or anyone who can reach the
	 * care-of address could accept or abort the update.
	 */
	bool nonces_expired = ba.status >= mh::ba_expired_home_nonce_index && ba.status <= mh::ba_expired_nonces;
	if (!authentic && !nonces_expired) {
		counters.mh_unexpected++;
		return;
	}
	auto accepted = [&](std::uint32_t lifetime) {
		counters.bu_accepted++;
		Outcome out{job.seq, lifetime};
		Result<void> ok = dereg ? kernel.del_binding(key.home, key.client)
					: kernel.set_binding({key.home, key.client, BindingState::bound, job.seq,
							      std::clamp<std::uint32_t>(lifetime, 1, default_ro_lifetime)});
		/* A handoff's take-back clears a binding this node never held. */
		if (!ok && !(dereg && ok.error().code == ENOENT))
			return fail_job(key, ok.error().code, "accepted, but the module: " + ok.error().describe());
		log(who(key), dereg ? ": binding cleared, seq " : ": bound here, seq ", job.seq);
		finish(key, nullptr, out);
	};
	if (ba.status < 128) {
		if (ba.seq == job.seq)
			accepted(ba.lifetime_units * static_cast<std::uint32_t>(mh::time_unit.count()));
		else
			counters.mh_unexpected++;
		return;
	}
	/* A retransmission of an update the client took, whose BA was lost: it is bound already. */
	if (ba.status == mh::ba_sequence_number_out_of_window && ba.seq == job.seq && job.tries > 1)
		return accepted(job.lifetime);

	counters.bu_rejected++;
	/* §9.5.1: the client names its last accepted sequence number. */
	if (ba.status == mh::ba_sequence_number_out_of_window && (!job.asked_seq || job.seq_hint) && !job.resynced) {
		job.resynced = true;
		job.seq = static_cast<std::uint16_t>(ba.seq + 1);
		job.tries = 0;
		if (job.kind == Kind::bu)
			(void)kernel.set_binding({key.home, key.client, job.previous ? job.previous->state : BindingState::pending,
						  job.seq, job.lifetime});
		return send_bu(job);
	}
	/* §9.5.1 again: expired nonces mean one more test. */
	if (ba.status >= mh::ba_expired_home_nonce_index && ba.status <= mh::ba_expired_nonces && !job.retested) {
		job.retested = true;
		job.testing = true;
		job.tries = 0;
		job.hot.reset();
		job.cot.reset();
		tokens.erase(key);
		return send_tests(job);
	}
	restore(job);
	std::string why = "the client refused the Binding Update: " + status_text(ba.status);
	if (ba.status == mh::ba_sequence_number_out_of_window)
		why += ", its last accepted sequence number is " + std::to_string(ba.seq);
	fail_job(key, EACCES, why);
}

void Signalling::Impl::on_brr(const mh::Received &msg)
{
	Key key{msg.dst, msg.src};
	auto b = kernel.binding(key.home, key.client);
	auto svc = kernel.service(key.home);

	/* §11.7.4: a Binding Refresh Request for a binding this node holds is answered with a BU. */
	if (msg.hao || !b || b->state != BindingState::bound || !svc || jobs.contains(key)) {
		counters.mh_unexpected++;
		return;
	}
	log(who(key), ": refreshing the binding on the client's request");
	Job job;
	job.kind = Kind::bu;
	job.key = key;
	job.svc = *svc;
	job.started = Clock::now();
	if (auto ok = start(std::move(job)); !ok)
		log(who(key), ": cannot refresh: ", ok.error().describe());
}

void Signalling::Impl::tick(Clock::time_point now)
{
	std::vector<Key> due;
	for (auto &[key, job] : jobs)
		if (now >= job.next)
			due.push_back(key);
	for (const auto &key : due) {
		auto it = jobs.find(key);
		if (it == jobs.end())
			continue;
		if (it->second.testing)
			send_tests(it->second);
		else
			send_bu(it->second);
	}

	for (auto &[home, reg] : regs) {
		if (reg.in_flight && now >= reg.next) {
			send_registration(reg);
		} else if (!reg.in_flight && reg.refresh_at && now >= *reg.refresh_at) {
			reg.refresh_at.reset();
			auto svc = kernel.service(home);
			if (!svc || !svc->ha) {
				log(text(home), ": the service is gone or has no home agent: no more refreshes");
				reg.expires.reset();
				continue;
			}
			reg.svc = *svc;
			reg.seq++;
			reg.tries = 0;
			reg.resynced = false;
			reg.in_flight = true;
			reg.started = now;
			send_registration(reg);
		}
		if (reg.expires && now >= *reg.expires && !reg.in_flight) {
			log(text(home), ": the home registration expired");
			reg.expires.reset();
		}
	}

	std::erase_if(relays, [&](const Relay &r) { return now >= r.expires; });
	std::erase_if(tokens, [&](const auto &t) { return now - t.second.at >= rr::max_token_lifetime; });
	/* Older than the rate limit's interval, an update constrains nothing. */
	std::erase_if(last_bu, [now](const auto &last) { return now - last.second >= bu_interval; });
}


/* --- requests --- */

void Signalling::Impl::control(std::uint64_t waiter, const wire::Message &msg)
{
	auto done = [&](Result<void> ok) {
		if (!ok)
			answer(waiter, &ok.error());
	};
	auto home = msg.address(wire::Attr::home);
	if (!home)
		return done(std::unexpected(home.error()));

	switch (msg.type()) {
	case wire::Type::register_home:
	case wire::Type::deregister_home: {
		std::optional<std::uint32_t> lifetime;
		if (msg.has(wire::Attr::lifetime))
			lifetime = msg.u32(wire::Attr::lifetime).value_or(default_home_lifetime);
		return done(start_registration(*home, lifetime, msg.type() == wire::Type::deregister_home, waiter));
	}
	case wire::Type::rr:
	case wire::Type::bu:
	case wire::Type::clear: {
		auto client = msg.address(wire::Attr::client);
		if (!client)
			return done(std::unexpected(client.error()));
		auto svc = kernel.service(*home);
		if (!svc)
			return done(fail(svc.error().code, text(*home) + " is not a service of this node"));
		Job job;
		job.kind = msg.type() == wire::Type::rr ? Kind::rr : msg.type() == wire::Type::bu ? Kind::bu : Kind::clear;
		job.key = {*home, *client};
		job.svc = *svc;
		job.waiter = waiter;
		job.started = Clock::now();
		if (msg.has(wire::Attr::seq)) {
			auto seq = msg.u16(wire::Attr::seq);
			if (!seq)
				return done(std::unexpected(seq.error()));
			job.asked_seq = *seq;
		}
		if (msg.has(wire::Attr::lifetime)) {
			auto lifetime = msg.u32(wire::Attr::lifetime);
			if (!lifetime)
				return done(std::unexpected(lifetime.error()));
			/* Less than one 4-second unit would be a lifetime of 0: a de-registration. */
			if (*lifetime < mh::time_unit.count() || *lifetime > default_ro_lifetime)
				return done(fail(ERANGE, "a binding lifetime is 4 to " + std::to_string(default_ro_lifetime) +
								 " seconds"));
			job.lifetime = *lifetime;
		}
		return done(start(std::move(job)));
	}
	default:
		return done(fail(EOPNOTSUPP, "unknown request " + std::to_string(int(msg.type()))));
	}
}

void Signalling::Impl::peer(std::uint64_t conn, const in6_addr &node, const wire::Message &msg)
{
	auto home = msg.address(wire::Attr::home);
	auto client = msg.address(wire::Attr::client);
	auto cookie = msg.octets<8>(wire::Attr::cookie);
	if (!home || !client || !cookie) {
		counters.peer_errors++;
		return;
	}
	Key key{*home, *client};

	if (msg.type() == wire::Type::home_test_reply) {
		auto it = jobs.find(key);
		/* Only the contact node this test asked answers it. */
		if (it == jobs.end() || it->second.hot || *cookie != it->second.home_cookie ||
		    !same(node, it->second.svc.contact_coa))
			return;	/* an answer to a test we gave up or already have */
		if (auto code = msg.u32(wire::Attr::error); code && *code) {
			/*
			 * It relays a bounded number at once (a node that stops clears
			 * all its clients together): asked again soon, without using a
			 * try, as long as it frees some within max_busy_waits.
			 */
			if (*code == EBUSY && it->second.contact_busy++ < max_busy_waits) {
				it->second.tries--;
				it->second.next = Clock::now() + busy_wait;
				return;
			}
			return fail_job(key, static_cast<int>(*code),
					"contact node: " + msg.text(wire::Attr::text).value_or("no reason given"));
		}
		auto index = msg.u16(wire::Attr::nonce_index);
		auto token = msg.octets<8>(wire::Attr::token);
		if (!index || !token) {
			counters.peer_errors++;
			return;
		}
		return got_hot(key, mh::Hot{*index, *cookie, *token});
	}

	auto refuse = [&](int code, const std::string &why) {
		auto reply = home_test_message(wire::Type::home_test_reply, key, *cookie);
		reply.put_u32(wire::Attr::error, static_cast<std::uint32_t>(code)).put(wire::Attr::text, why);
		transport.send(conn, reply);
	};
	auto svc = kernel.service(*home);
	if (!svc)
		return refuse(ENOENT, text(*home) + " is not a service of the contact node");
	if (!svc->contact)
		return refuse(ENOTCONN, "this node (" + text(svc->coa) + ") is not the contact node of " + text(*home));
	std::erase_if(relays, [&](const Relay &r) { return r.conn == conn && r.cookie == *cookie; });
	if (std::ranges::count(relays, conn, &Relay::conn) >= static_cast<std::ptrdiff_t>(max_relays_per_conn))
		return refuse(EBUSY, "too many Home Tests under way for this node");
	if (auto ok = mh.send(mh::encode(mh::Hoti{*cookie}), *home, *client); !ok)
		return refuse(ok.error().code, "cannot send a Home Test Init: " + ok.error().describe());
	relays.push_back({key, *cookie, conn, Clock::now() + relay_lifetime});
}

/* --- the public face --- */

Signalling::Signalling(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Signalling::~Signalling()
{
	/* An update still travelling when the agent stops leaves the module as it was. */
	for (const auto &[key, job] : impl_->jobs)
		if (!job.testing)
			impl_->restore(job);
}

Result<std::unique_ptr<Signalling>> Signalling::open(Client &kernel, Transport &transport, Counters &counters,
						     Log log, Listener &listener)
{
	auto rtnl = route::Rtnl::open();
	if (!rtnl)
		return std::unexpected(rtnl.error());
	auto mh = mh::Socket::open();
	if (!mh)
		return std::unexpected(mh.error());
	return std::unique_ptr<Signalling>(new Signalling(std::make_unique<Impl>(
		kernel, transport, counters, std::move(log), listener, std::move(*rtnl), std::move(*mh))));
}

int Signalling::fd() const
{
	return impl_->mh.fd();
}

void Signalling::receive()
{
	impl_->receive();
}

void Signalling::tick(Clock::time_point now)
{
	impl_->tick(now);
}

void Signalling::resume_registrations()
{
	auto &d = *impl_;
	auto services = d.kernel.services();

	if (!services)
		return;
	for (const auto &svc : *services)
		if (svc.contact && svc.ha)
			if (auto ok = d.start_registration(svc.home, std::nullopt, false, 0); !ok)
				d.log("cannot resume the home registration of ", text(svc.home), ": ", ok.error().describe());
}

void Signalling::control(std::uint64_t waiter, const wire::Message &msg)
{
	impl_->control(waiter, msg);
}

void Signalling::peer(std::uint64_t conn, const in6_addr &node, const wire::Message &msg)
{
	impl_->peer(conn, node, msg);
}

void Signalling::closed(std::uint64_t conn, const std::optional<in6_addr> &node, const std::string &why)
{
	auto &d = *impl_;

	std::erase_if(d.relays, [&](const Relay &r) { return r.conn == conn; });
	/* Jobs waiting for this connection's answer: their waiter is gone, or their contact node is. */
	std::vector<Key> broken;
	for (auto &[key, job] : d.jobs) {
		if (job.waiter == conn)
			job.waiter = 0;
		if (node && job.testing && !job.hot && same(job.svc.contact_coa, *node))
			broken.push_back(key);
	}
	for (const auto &key : broken)
		d.fail_job(key, ECONNRESET, "the contact node's agent at " + text(*node) + ": " + why);
	for (auto &[home, reg] : d.regs)
		if (reg.waiter == conn)
			reg.waiter = 0;
}

namespace {

/* A job of the handoff's for @key, with the service this node has for G. */
Result<Job> handoff_job(Client &kernel, Kind kind, const Key &key)
{
	auto svc = kernel.service(key.home);
	if (!svc)
		return fail(svc.error().code, text(key.home) + " is not a service of this node");
	Job job;
	job.kind = kind;
	job.key = key;
	job.svc = *svc;
	job.started = Clock::now();
	return job;
}

} // namespace

Result<void> Signalling::rr(const Key &key)
{
	auto job = handoff_job(impl_->kernel, Kind::rr, key);
	return job ? impl_->start(std::move(*job)) : std::unexpected(job.error());
}

Result<void> Signalling::bu(const Key &key, std::optional<std::uint16_t> seq)
{
	auto job = handoff_job(impl_->kernel, Kind::bu, key);
	if (!job)
		return std::unexpected(job.error());
	job->asked_seq = seq;
	job->seq_hint = true;
	return impl_->start(std::move(*job));
}

Result<void> Signalling::clear(const Key &key)
{
	auto job = handoff_job(impl_->kernel, Kind::clear, key);
	return job ? impl_->start(std::move(*job)) : std::unexpected(job.error());
}

void Signalling::take_back(const Key &key, std::uint16_t acceptor_seq, bool had_binding)
{
	auto &d = *impl_;
	auto job = handoff_job(d.kernel, had_binding ? Kind::bu : Kind::clear, key);

	if (!job)
		return d.log(who(key), ": cannot take the client back: ", job.error().describe());
	if (had_binding) {
		job->asked_seq = static_cast<std::uint16_t>(acceptor_seq + 1);
		job->seq_hint = true;
	} else {
		/*
		 * The client answers a de-registration at this node's care-of
		 * address, through a routing header the module takes only from
		 * a client with a binding: a pending one, for a minute at most.
		 */
		Binding pending{key.home, key.client, BindingState::pending, acceptor_seq, take_back_lifetime};
		if (auto ok = d.kernel.set_binding(pending); !ok)
			d.log(who(key), ": cannot record the binding to take the client back: ", ok.error().describe());
		job->previous = pending;
	}
	if (auto ok = d.start(std::move(*job)); !ok)
		d.log(who(key), ": cannot take the client back: ", ok.error().describe());
}

void Signalling::cancel(const Key &key)
{
	auto &d = *impl_;
	auto it = d.jobs.find(key);

	if (it == d.jobs.end())
		return;
	if (!it->second.testing)
		d.restore(it->second);
	Error error{ECANCELED, "the handoff ended it"};
	d.answer(it->second.waiter, &error);
	d.jobs.erase(it);
}

bool Signalling::busy(const Key &key) const
{
	return impl_->jobs.contains(key);
}

bool Signalling::tested(const Key &key, const in6_addr &coa) const
{
	auto t = impl_->tokens.find(key);
	return t != impl_->tokens.end() && t->second.cot && same(t->second.coa, coa) &&
	       Clock::now() - t->second.at < token_reuse;
}

bool Signalling::update_sent(const Key &key) const
{
	auto it = impl_->jobs.find(key);
	return it != impl_->jobs.end() && it->second.update_sent;
}

std::optional<Clock::time_point> Signalling::last_update(const Key &key) const
{
	auto it = impl_->last_bu.find(key);
	if (it == impl_->last_bu.end())
		return std::nullopt;
	return it->second;
}

} // namespace gecko::agent
