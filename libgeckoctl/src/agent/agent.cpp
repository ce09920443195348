// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The node agent's event loop: one thread, poll() over the Mobility Header
 * socket, the control and peer listeners and their connections, with the
 * retransmission deadlines checked on every turn. See gecko/agent.h.
 */

#include "agent/impl.h"
#include "fail.h"

#include <openssl/rand.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>
#include <variant>
#include <vector>

namespace gecko::agent {

namespace {

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

} // namespace

Agent::Agent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Agent::~Agent() = default;

Result<std::unique_ptr<Agent>> Agent::open(Config config)
{
	auto kernel = Client::open();
	if (!kernel)
		return std::unexpected(kernel.error());
	auto rtnl = route::Rtnl::open();
	if (!rtnl)
		return std::unexpected(rtnl.error());
	auto mh = mh::Socket::open();
	if (!mh)
		return std::unexpected(mh.error());

	auto control = listen_unix(config.control);
	if (!control)
		return std::unexpected(control.error());
	auto peer = listen_tcp(config.port);
	if (!peer)
		return std::unexpected(peer.error());

	auto impl = std::make_unique<Impl>(std::move(config), std::move(*kernel), std::move(*rtnl), std::move(*mh),
					   std::move(*control), std::move(*peer));
	/* The module remembers which services this node is the contact node of. */
	if (auto services = impl->kernel.services()) {
		for (const auto &svc : *services)
			if (svc.contact && svc.ha)
				if (auto ok = impl->start_registration(svc.home, std::nullopt, false, 0); !ok)
					impl->log("cannot resume the home registration of ", text(svc.home), ": ",
						  ok.error().describe());
	}
	return std::unique_ptr<Agent>(new Agent(std::move(impl)));
}

Result<void> Agent::run(int stop_fd)
{
	auto &d = *impl_;

	d.log("node agent: control @", d.config.control, ", peers on port ", d.config.port);
	for (;;) {
		short listen = Clock::now() < d.listeners_paused ? 0 : POLLIN;
		std::vector<pollfd> fds{{stop_fd, POLLIN, 0}, {d.mh.fd(), POLLIN, 0}, {d.control_fd.get(), listen, 0},
					{d.peer_fd.get(), listen, 0},
					{d.app ? d.app->commands_fd.get() : -1, POLLIN, 0}};
		std::vector<std::uint64_t> ids;
		for (auto &[id, conn] : d.conns) {
			short events = POLLIN;
			if (conn.connecting || !conn.out.empty())
				events |= POLLOUT;
			fds.push_back({conn.fd.get(), events, 0});
			ids.push_back(id);
		}
		/* Deadlines are a second or more apart: a tenth of a second is precise enough. */
		if (poll(fds.data(), fds.size(), 100) < 0 && errno != EINTR)
			return fail(errno, std::string("poll: ") + std::strerror(errno));
		if (fds[0].revents)
			return {};
		if (fds[1].revents)
			d.receive();
		if (fds[2].revents)
			d.accept_on(d.control_fd.get(), false);
		if (fds[3].revents)
			d.accept_on(d.peer_fd.get(), true);
		if (fds[4].revents)
			d.app_commands();
		for (std::size_t i = 0; i < ids.size(); i++) {
			auto revents = fds[i + 5].revents;
			if (!revents || !d.conns.contains(ids[i]))
				continue;
			if (revents & (POLLIN | POLLHUP | POLLERR))
				d.read(ids[i]);
			if (d.conns.contains(ids[i]) && (revents & POLLOUT))
				d.flush(ids[i]);
		}
		d.tick(Clock::now());
	}
}

/* --- connections --- */

std::uint64_t Agent::Impl::add_conn(Conn conn)
{
	auto id = next_conn++;
	conns.emplace(id, std::move(conn));
	return id;
}

void Agent::Impl::close_conn(std::uint64_t id, const std::string &why)
{
	auto it = conns.find(id);
	if (it == conns.end())
		return;
	bool peer = it->second.peer;
	auto remote = it->second.remote;
	conns.erase(it);

	std::erase_if(relays, [&](const Relay &r) { return r.conn == id; });
	/* Jobs waiting for this connection's answer: their waiter is gone, or their relay is. */
	std::vector<Key> broken;
	for (auto &[key, job] : jobs) {
		if (job.waiter == id)
			job.waiter = 0;
		if (peer && remote && job.testing && !job.hot && same(job.svc.contact_coa, *remote))
			broken.push_back(key);
	}
	for (const auto &key : broken)
		fail_job(key, ECONNRESET, "the contact node's agent at " + text(*remote) + ": " + why);
	for (auto &[home, reg] : regs)
		if (reg.waiter == id)
			reg.waiter = 0;
	handoff_conn_closed(id);
}

void Agent::Impl::send(std::uint64_t id, const wire::Message &msg)
{
	auto it = conns.find(id);
	if (it == conns.end())
		return;
	auto bytes = msg.encode();
	it->second.out.insert(it->second.out.end(), bytes.begin(), bytes.end());
	/* Only queued: poll() flushes it, so no caller sees a connection (and its jobs) vanish under it. */
}

void Agent::Impl::flush(std::uint64_t id)
{
	auto &conn = conns.at(id);

	if (conn.connecting) {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(conn.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			close_conn(id, std::string("cannot connect: ") + std::strerror(err));
			return;
		}
		conn.connecting = false;
	}
	/* Erased once: a handoff's bundle is megabytes. */
	std::size_t sent = 0;
	while (sent < conn.out.size()) {
		auto n = ::send(conn.fd.get(), conn.out.data() + sent, conn.out.size() - sent, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			close_conn(id);
			return;
		}
		sent += static_cast<std::size_t>(n);
	}
	conn.out.erase(conn.out.begin(), conn.out.begin() + static_cast<std::ptrdiff_t>(sent));
}

void Agent::Impl::read(std::uint64_t id)
{
	/* Connections we opened carry our handoffs' bundles: theirs is a peer that stopped reading. */
	if (!conns.at(id).remote && conns.at(id).out.size() > max_queued) {
		counters.peer_errors++;
		return close_conn(id, "it does not read its answers");
	}
	static thread_local std::byte buf[64 * 1024];
	auto n = recv(conns.at(id).fd.get(), buf, sizeof(buf), 0);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_conn(id, n ? std::string("connection lost: ") + std::strerror(errno) : "closed the connection");
		return;
	}
	conns.at(id).in.feed(std::span(buf, static_cast<std::size_t>(n)));
	while (conns.contains(id)) {
		auto msg = conns.at(id).in.next();
		if (!msg) {
			counters.peer_errors++;
			log("closed a connection: ", msg.error().describe());
			close_conn(id);
			return;
		}
		if (!*msg)
			return;
		handle(id, **msg);
	}
}

void Agent::Impl::accept_on(int fd, bool peer)
{
	UniqueFd sk(accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));

	if (sk.get() < 0) {
		/* Out of descriptors: the listener stays readable, so stop polling it for a while. */
		if (errno == EMFILE || errno == ENFILE) {
			log("cannot accept a connection: ", std::strerror(errno));
			listeners_paused = Clock::now() + seconds(1);
		}
		return;
	}
	if (conns.size() >= max_conns) {
		log("refused a connection: ", max_conns, " are open");
		return;
	}
	if (!peer && !control_peer_allowed(sk.get())) {
		log("refused a control connection from another user");
		return;
	}
	Conn conn;
	conn.fd = std::move(sk);
	conn.peer = peer;
	add_conn(std::move(conn));
}

Result<std::uint64_t> Agent::Impl::peer_conn(const in6_addr &src, const in6_addr &dst)
{
	for (auto &[id, conn] : conns)
		if (conn.remote && same(*conn.remote, dst))
			return id;
	auto fd = connect_tcp(src, dst, config.port);
	if (!fd)
		return std::unexpected(fd.error());
	Conn conn;
	conn.fd = std::move(*fd);
	conn.peer = true;
	conn.connecting = true;
	conn.remote = dst;
	return add_conn(std::move(conn));
}

/* --- requests --- */

void Agent::Impl::handle(std::uint64_t id, const wire::Message &msg)
{
	bool handoff = msg.type() >= wire::Type::handoff_prepare && msg.type() <= wire::Type::handoff_abort;
	bool handoff_control_msg = msg.type() >= wire::Type::handoff && msg.type() <= wire::Type::fault;

	if (conns.at(id).peer)
		handoff ? handoff_peer(id, msg) : handle_peer(id, msg);
	else
		handoff_control_msg ? handoff_control(id, msg) : handle_control(id, msg);
}

void Agent::Impl::answer(std::uint64_t waiter, const Error *error, const Outcome &outcome)
{
	if (!waiter)
		return;
	wire::Message reply(wire::Type::reply);
	reply.put_u32(wire::Attr::error, error ? static_cast<std::uint32_t>(error->code) : 0);
	if (error) {
		reply.put(wire::Attr::text, error->describe().substr(0, max_text));
	} else {
		reply.put_u16(wire::Attr::seq, outcome.seq);
		reply.put_u32(wire::Attr::lifetime, outcome.lifetime);
		reply.put_u64(wire::Attr::elapsed_us, static_cast<std::uint64_t>(outcome.elapsed.count()));
	}
	send(waiter, reply);
}

void Agent::Impl::handle_control(std::uint64_t id, const wire::Message &msg)
{
	auto done = [&](Result<void> ok) {
		if (!ok)
			answer(id, &ok.error());
	};
	auto home = msg.address(wire::Attr::home);

	if (msg.type() == wire::Type::counters) {
		wire::Message reply(wire::Type::reply);
		reply.put_u32(wire::Attr::error, 0);
		for (std::size_t i = 0; i < std::size(counter_fields); i++)
			reply.put_u64(static_cast<wire::Attr>(static_cast<std::size_t>(wire::Attr::counter_base) + i),
				      counters.*counter_fields[i].first);
		send(id, reply);
		return;
	}
	if (!home)
		return done(std::unexpected(home.error()));

	switch (msg.type()) {
	case wire::Type::register_home:
	case wire::Type::deregister_home: {
		std::optional<std::uint32_t> lifetime;
		if (msg.has(wire::Attr::lifetime))
			lifetime = msg.u32(wire::Attr::lifetime).value_or(default_home_lifetime);
		return done(start_registration(*home, lifetime, msg.type() == wire::Type::deregister_home, id));
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
		job.kind = msg.type() == wire::Type::rr ? Job::Kind::rr
			   : msg.type() == wire::Type::bu ? Job::Kind::bu
							  : Job::Kind::clear;
		job.key = {*home, *client};
		job.svc = *svc;
		job.waiter = id;
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

void Agent::Impl::handle_peer(std::uint64_t id, const wire::Message &msg)
{
	if (msg.type() == wire::Type::home_test_reply) {
		auto home = msg.address(wire::Attr::home);
		auto client = msg.address(wire::Attr::client);
		auto cookie = msg.octets<8>(wire::Attr::cookie);
		if (!home || !client || !cookie) {
			counters.peer_errors++;
			return;
		}
		Key key{*home, *client};
		auto it = jobs.find(key);
		if (it == jobs.end() || it->second.hot || *cookie != it->second.home_cookie)
			return;	/* an answer to a test we gave up or already have */
		if (auto code = msg.u32(wire::Attr::error); code && *code)
			return fail_job(key, static_cast<int>(*code),
					"contact node: " + msg.text(wire::Attr::text).value_or("no reason given"));
		auto index = msg.u16(wire::Attr::nonce_index);
		auto token = msg.octets<8>(wire::Attr::token);
		if (!index || !token) {
			counters.peer_errors++;
			return;
		}
		return got_hot(key, mh::Hot{*index, *cookie, *token});
	}
	if (msg.type() != wire::Type::home_test) {
		counters.peer_errors++;
		return;
	}

	auto home = msg.address(wire::Attr::home);
	auto client = msg.address(wire::Attr::client);
	auto cookie = msg.octets<8>(wire::Attr::cookie);
	if (!home || !client || !cookie) {
		counters.peer_errors++;
		return;
	}
	Key key{*home, *client};
	auto refuse = [&](int code, const std::string &why) {
		auto reply = home_test_message(wire::Type::home_test_reply, key, *cookie);
		reply.put_u32(wire::Attr::error, static_cast<std::uint32_t>(code)).put(wire::Attr::text, why);
		send(id, reply);
	};
	auto svc = kernel.service(*home);
	if (!svc)
		return refuse(ENOENT, text(*home) + " is not a service of the contact node");
	if (!svc->contact)
		return refuse(ENOTCONN, "this node (" + text(svc->coa) + ") is not the contact node of " + text(*home));
	std::erase_if(relays, [&](const Relay &r) { return r.conn == id && r.cookie == *cookie; });
	if (std::ranges::count(relays, id, &Relay::conn) >= static_cast<std::ptrdiff_t>(max_relays_per_conn))
		return refuse(EBUSY, "too many Home Tests under way for this node");
	if (auto ok = mh.send(mh::encode(mh::Hoti{*cookie}), *home, *client); !ok)
		return refuse(ok.error().code, "cannot send a Home Test Init: " + ok.error().describe());
	relays.push_back({key, *cookie, id, Clock::now() + relay_lifetime});
}

/* --- jobs --- */

Result<void> Agent::Impl::start(Job job)
{
	const auto key = job.key;

	if (jobs.contains(key))
		return fail(EBUSY, "an operation for " + who(key) + " is already running");
	/* What the module holds now is what a failed update puts back. */
	if (job.kind != Job::Kind::rr) {
		auto b = kernel.binding(key.home, key.client);
		if (b)
			job.previous = *b;
		else if (job.kind == Job::Kind::clear && !job.previous)	/* a handoff's take-back may know it */
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
	if (j.kind == Job::Kind::bu && t != tokens.end() && t->second.cot && same(t->second.coa, j.svc.coa) &&
	    Clock::now() - t->second.at < token_reuse) {
		j.hot = t->second.hot;
		j.cot = t->second.cot;
		tested(j);
		return {};
	}
	send_tests(j);
	return {};
}

void Agent::Impl::send_tests(Job &job)
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
			auto conn = peer_conn(job.svc.coa, job.svc.contact_coa);
			if (!conn)
				return fail_job(key, conn.error().code,
						"cannot reach the contact node's agent at " + text(job.svc.contact_coa) + ": " +
							conn.error().describe());
			send(*conn, home_test_message(wire::Type::home_test, key, job.home_cookie));
		}
	}
	if (!job.home_only() && !job.cot) {
		if (auto ok = mh.send(mh::encode(mh::Coti{job.care_of_cookie}), job.svc.coa, key.client); !ok)
			return fail_job(key, ok.error().code, "cannot send a Care-of Test Init: " + ok.error().describe());
	}
}

void Agent::Impl::got_hot(const Key &key, const mh::Hot &hot)
{
	auto &job = jobs.at(key);
	job.hot = hot;
	if (job.home_only() || job.cot)
		tested(job);
}

void Agent::Impl::tested(Job &job)
{
	const auto key = job.key;

	if (!job.home_only()) {
		auto &t = tokens[key];
		t.hot = job.hot;
		t.cot = job.cot;
		t.coa = job.svc.coa;
		t.at = Clock::now();
	}
	if (job.kind == Job::Kind::rr)
		return finish(key, nullptr);

	job.testing = false;
	job.tries = 0;
	if (job.kind == Job::Kind::clear) {
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

void Agent::Impl::send_bu(Job &job)
{
	const auto key = job.key;

	if (job.tries++ == max_tries) {
		restore(job);
		return fail_job(key, ETIMEDOUT, "no Binding Acknowledgement from " + text(key.client));
	}
	job.next = Clock::now() + first_timeout * (1 << (job.tries - 1));

	bool dereg = job.kind == Job::Kind::clear;
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
	last_bu[key] = Clock::now();
}

void Agent::Impl::restore(const Job &job)
{
	if (job.kind == Job::Kind::clear)
		return;	/* nothing was changed */
	auto ok = job.previous ? kernel.set_binding(*job.previous) : kernel.del_binding(job.key.home, job.key.client);
	if (!ok && ok.error().code != ENOENT)
		log("cannot put back the binding of ", who(job.key), ": ", ok.error().describe());
}

void Agent::Impl::finish(const Key &key, const Error *error, const Outcome &outcome)
{
	auto it = jobs.find(key);
	if (it == jobs.end())
		return;
	Outcome out = outcome;
	out.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - it->second.started);
	answer(it->second.waiter, error, out);
	auto kind = it->second.kind;
	jobs.erase(it);
	job_done(key, kind, error);
}

void Agent::Impl::fail_job(const Key &key, int code, const std::string &why)
{
	log(who(key), ": ", why);
	Error error{code, why};
	finish(key, &error);
}

/* --- home registration --- */

Result<void> Agent::Impl::start_registration(const in6_addr &home, std::optional<std::uint32_t> lifetime,
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

void Agent::Impl::send_registration(Registration &reg)
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

void Agent::Impl::registered(Registration &reg, const mh::Ba &ba)
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
	if (!svc.contact) {
		svc.contact = true;
		ok = reverse_tunnel(svc, true);
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

void Agent::Impl::end_registration(const in6_addr &home, const Error *error, const Outcome &outcome)
{
	auto it = regs.find(home);
	if (it == regs.end())
		return;
	answer(it->second.waiter, error, outcome);
	it->second.waiter = 0;
}

Result<void> Agent::Impl::reverse_tunnel(const Service &svc, bool up)
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

void Agent::Impl::receive()
{
	for (;;) {
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

void Agent::Impl::on_hot(const mh::Received &msg, const mh::Hot &hot)
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
			send(r->conn, reply);
			relays.erase(r);
			counters.hot_relayed++;
			return;
		}
	}
	counters.mh_unexpected++;
}

void Agent::Impl::on_cot(const mh::Received &msg, const mh::Cot &cot)
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

void Agent::Impl::on_ba(const mh::Received &msg, const mh::Ba &ba)
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
	bool dereg = job.kind == Job::Kind::clear;
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
	if (ba.status == mh::ba_sequence_number_out_of_window && !job.asked_seq && !job.resynced) {
		job.resynced = true;
		job.seq = static_cast<std::uint16_t>(ba.seq + 1);
		job.tries = 0;
		if (job.kind == Job::Kind::bu)
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

void Agent::Impl::on_brr(const mh::Received &msg)
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
	job.kind = Job::Kind::bu;
	job.key = key;
	job.svc = *svc;
	job.started = Clock::now();
	if (auto ok = start(std::move(job)); !ok)
		log(who(key), ": cannot refresh: ", ok.error().describe());
}

void Agent::Impl::tick(Clock::time_point now)
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
	handoff_tick(now);
}

} // namespace gecko::agent
