// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The handoff of TCP connections between node agents: the protocol of
 * agent/handoff.h, run on the agent's thread. The donor's side answers to
 * the application (Departure), the acceptor's gives it the connections
 * (Arrival). Sockets are the application's: the agent freezes, captures,
 * restores, thaws and drops them through gecko.ko, nothing else.
 */

#include <gecko/tcp_state.h>

#include "agent/impl.h"
#include "fail.h"

#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace gecko::agent {

namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

microseconds since(Clock::time_point t)
{
	return duration_cast<microseconds>(Clock::now() - t);
}

void put_u32(std::vector<std::byte> &out, std::uint32_t v)
{
	for (int shift = 24; shift >= 0; shift -= 8)
		out.push_back(static_cast<std::byte>(v >> shift));
}

void put_bytes(std::vector<std::byte> &out, std::span<const std::byte> bytes)
{
	put_u32(out, static_cast<std::uint32_t>(bytes.size()));
	out.insert(out.end(), bytes.begin(), bytes.end());
}

/* The next length-prefixed piece of @in, which moves past it. */
std::optional<std::span<const std::byte>> take_bytes(std::span<const std::byte> &in)
{
	if (in.size() < 4)
		return std::nullopt;
	std::uint32_t len = 0;
	for (int i = 0; i < 4; i++)
		len = len << 8 | std::to_integer<std::uint32_t>(in[i]);
	if (in.size() - 4 < len)
		return std::nullopt;
	auto piece = in.subspan(4, len);
	in = in.subspan(4 + len);
	return piece;
}

/* Connection states and application states hold the application's data. */
void wipe(std::vector<std::byte> &bytes)
{
	explicit_bzero(bytes.data(), bytes.size());
	bytes.clear();
}

void wake(int fd)
{
	std::uint64_t one = 1;
	if (write(fd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow at one per event. */
	}
}

} // namespace

std::optional<std::pair<in6_addr, in6_addr>> connection_ends(int fd)
{
	sockaddr_in6 local{}, remote{};
	socklen_t llen = sizeof(local), rlen = sizeof(remote);

	if (getsockname(fd, reinterpret_cast<sockaddr *>(&local), &llen) ||
	    getpeername(fd, reinterpret_cast<sockaddr *>(&remote), &rlen) || local.sin6_family != AF_INET6)
		return std::nullopt;
	return std::pair{local.sin6_addr, remote.sin6_addr};
}

void AppLink::post(NodeEvent event)
{
	{
		std::lock_guard guard(lock);
		if (auto *arrival = std::get_if<Arrival>(&event))
			conns.insert(arrival->fd);
		if (auto *departure = std::get_if<Departure>(&event); departure && departure->moved)
			for (int fd : departure->fds)
				conns.erase(fd);
		events.push_back(std::move(event));
	}
	wake(events_fd.get());
}

/* --- the donor --- */

void Agent::Impl::app_commands()
{
	std::uint64_t count;
	if (::read(app->commands_fd.get(), &count, sizeof(count)) < 0 && errno != EAGAIN)
		log("cannot read the application's wake-up: ", std::strerror(errno));
	for (;;) {
		std::variant<AppLink::HandOff, AppLink::Decline> command;
		{
			std::lock_guard guard(app->lock);
			if (app->commands.empty())
				return;
			command = std::move(app->commands.front());
			app->commands.pop_front();
		}
		if (auto *h = std::get_if<AppLink::HandOff>(&command)) {
			hand_off(h->node, std::move(h->conns));
			continue;
		}
		auto &d = std::get<AppLink::Decline>(command);
		auto it = std::ranges::find_if(asked, [&](const Asked &a) { return same(a.client, d.client); });
		if (it != asked.end()) {
			answer(it->waiter, &d.error);
			asked.erase(it);
		}
	}
}

void Agent::Impl::hand_off(const in6_addr &node, std::vector<Outgoing> conns)
{
	Outbound out;
	out.id = ++next_handoff;
	out.node = node;
	out.conns = std::move(conns);
	out.started = out.deadline = Clock::now();
	const auto id = out.id;
	auto ends = connection_ends(out.conns.front().fd);
	if (ends) {
		out.home = ends->first;
		out.client = ends->second;
	}
	for (auto it = asked.begin(); it != asked.end(); ++it)
		if (same(it->client, out.client)) {
			out.waiter = it->waiter;
			asked.erase(it);
			break;
		}
	const Key key{out.home, out.client};
	outbound.emplace(id, std::move(out));

	auto stop = [&](int code, const std::string &why) {
		Error error{code, why};
		end_outbound(id, &error, false);
	};
	if (!ends)
		return stop(ENOTCONN, "the connection is gone");
	for (const auto &[other, o] : outbound)
		if (other != id && same(o.home, key.home) && same(o.client, key.client))
			return stop(EBUSY, "a handoff of " + who(key) + " is under way");
	if (inbound.contains(key))
		return stop(EBUSY, who(key) + " is being handed to this node");
	auto svc = kernel.service(key.home);
	if (!svc)
		return stop(svc.error().code, text(key.home) + " is not a service of this node");
	if (same(node, svc->coa))
		return stop(EINVAL, who(key) + " is served by this node already");
	auto peer = peer_conn(svc->coa, node);
	if (!peer)
		return stop(peer.error().code, "cannot reach the agent at " + text(node) + ": " + peer.error().describe());

	auto &o = outbound.at(id);
	o.peer = *peer;
	o.deadline = Clock::now() + prepare_timeout;
	wire::Message msg(wire::Type::handoff_prepare);
	msg.put_u64(wire::Attr::handoff, id).put(wire::Attr::home, key.home).put(wire::Attr::client, key.client);
	send(o.peer, msg);
	log(who(key), ": handing ", o.conns.size(), " connection(s) to ", text(node));
}

void Agent::Impl::commit(Outbound &out)
{
	const auto id = out.id;
	const Key key{out.home, out.client};
	std::vector<std::byte> bundle;
	auto stop = [&](const Error &error) {
		wipe(bundle);
		end_outbound(id, &error, false);
	};

	out.frozen = true;
	out.frozen_at = Clock::now();
	for (const auto &c : out.conns)
		if (auto ok = kernel.freeze_socket(c.fd, freeze_timeout); !ok)
			return stop(Error{ok.error().code, "cannot freeze a connection: " + ok.error().describe()});
	for (const auto &c : out.conns) {
		auto state = kernel.capture_socket(c.fd);
		if (!state)
			return stop(Error{state.error().code, "cannot capture a connection: " + state.error().describe()});
		auto hdr = parse_tcp_state(*state);
		if (!hdr) {
			wipe(*state);
			return stop(Error{hdr.error().code, "cannot read a connection's state: " + hdr.error().describe()});
		}
		out.acked.push_back(hdr->bytes_sent - hdr->outq_len);
		put_bytes(bundle, *state);
		put_bytes(bundle, c.app_state);
		wipe(*state);
	}
	if (bundle.size() > max_bundle)
		return stop(Error{E2BIG, "the connections' state is too large to hand off"});
	auto binding = kernel.binding(key.home, key.client);
	out.seq = binding ? binding->seq : 0;

	for (std::size_t off = 0; off < bundle.size(); off += chunk_size) {
		wire::Message data(wire::Type::handoff_data);
		data.put_u64(wire::Attr::handoff, id);
		data.put(wire::Attr::data, std::span(bundle).subspan(off, std::min(chunk_size, bundle.size() - off)));
		send(out.peer, data);
	}
	wire::Message msg(wire::Type::handoff_commit);
	msg.put_u64(wire::Attr::handoff, id).put_u32(wire::Attr::length, static_cast<std::uint32_t>(bundle.size()));
	if (out.seq)
		msg.put_u16(wire::Attr::seq, out.seq);
	if (auto last = last_bu.find(key); last != last_bu.end())
		msg.put_u32(wire::Attr::bu_age_ms,
			    static_cast<std::uint32_t>(std::min<std::int64_t>(
				    duration_cast<milliseconds>(Clock::now() - last->second).count(), UINT32_MAX)));
	send(out.peer, msg);
	wipe(bundle);
	out.committed = true;
	out.deadline = Clock::now() + commit_timeout;
}

void Agent::Impl::on_handoff_reply(const wire::Message &msg)
{
	auto id = msg.u64(wire::Attr::handoff);
	auto code = msg.u32(wire::Attr::error);
	if (!id || !code) {
		counters.peer_errors++;
		return;
	}
	auto it = outbound.find(*id);
	if (it == outbound.end())
		return;	/* one we gave up on */
	if (*code) {
		Error error{static_cast<int>(*code), "the acceptor: " + msg.text(wire::Attr::text).value_or("no reason given")};
		return end_outbound(*id, &error, it->second.committed && msg.u8(wire::Attr::bu_sent).value_or(1));
	}
	if (it->second.committed)
		return end_outbound(*id, nullptr, false);
	it->second.prepared = Clock::now();
	commit(it->second);
}

void Agent::Impl::end_outbound(std::uint64_t id, const Error *error, bool bu_maybe_sent)
{
	auto it = outbound.find(id);
	if (it == outbound.end())
		return;
	Outbound out = std::move(it->second);
	outbound.erase(it);
	const Key key{out.home, out.client};

	Departure departure;
	departure.client = out.client;
	departure.node = out.node;
	departure.moved = !error;
	for (const auto &c : out.conns)
		departure.fds.push_back(c.fd);
	if (!error)
		departure.bytes_acked = std::move(out.acked);
	if (out.frozen)
		departure.frozen = since(out.frozen_at);

	if (error) {
		/* The acceptor, if it waits for more, lets go of what it holds. */
		if (out.peer && out.prepared != Clock::time_point{}) {
			wire::Message abort(wire::Type::handoff_abort);
			send(out.peer, abort.put_u64(wire::Attr::handoff, out.id));
		}
		/* Rollback: the donor serves on. Not frozen yet is not an error. */
		if (out.frozen)
			for (const auto &c : out.conns)
				if (auto ok = kernel.thaw_socket(c.fd); !ok && ok.error().code != ENOENT)
					log(who(key), ": cannot thaw a connection: ", ok.error().describe());
		if (bu_maybe_sent)
			take_back(key, static_cast<std::uint16_t>(out.seq + 1), out.seq != 0);
		departure.error = *error;
		if (out.frozen)
			counters.rollbacks++;
		log(who(key), ": handoff to ", text(out.node), " rolled back: ", error->describe());
	} else {
		for (const auto &c : out.conns)
			/* What the client still sends here goes on to the acceptor. */
			if (auto ok = kernel.drop_socket(c.fd, out.node); !ok)
				log(who(key), ": cannot drop a connection handed off: ", ok.error().describe());
		if (out.seq)
			if (auto ok = kernel.del_binding(key.home, key.client); !ok && ok.error().code != ENOENT)
				log(who(key), ": cannot remove the binding: ", ok.error().describe());
		counters.handoffs_out++;
		log(who(key), ": handed to ", text(out.node), ", frozen ", departure.frozen.count() / 1000, " ms");
	}

	HandoffRecord record;
	record.id = out.id;
	record.outbound = true;
	record.client = out.client;
	record.node = out.node;
	record.conns = static_cast<std::uint32_t>(out.conns.size());
	record.moved = !error;
	record.error = error ? error->describe() : "";
	if (out.prepared != Clock::time_point{})
		record.prepare = duration_cast<microseconds>(out.prepared - out.started);
	record.frozen = departure.frozen;
	record.total = since(out.started);
	remember(record);
	Outcome outcome;
	outcome.elapsed = record.total;
	answer(out.waiter, error, outcome);
	if (app)
		app->post(std::move(departure));
}

/*
 * The acceptor may have sent its Binding Update (with @acceptor_seq):
 * this node takes the client back with the next one, or with a binding
 * clear when it serves the client through the home agent.
 */
void Agent::Impl::take_back(const Key &key, std::uint16_t acceptor_seq, bool had_binding)
{
	auto svc = kernel.service(key.home);
	if (!svc)
		return;
	Job job;
	job.key = key;
	job.svc = *svc;
	job.started = Clock::now();
	if (had_binding) {
		job.kind = Job::Kind::bu;
		job.asked_seq = static_cast<std::uint16_t>(acceptor_seq + 1);
	} else {
		/*
		 * The client answers a de-registration at this node's care-of
		 * address, through a routing header the module takes only from
		 * a client with a binding: a pending one, for a minute at most.
		 */
		Binding pending{key.home, key.client, BindingState::pending, acceptor_seq, take_back_lifetime};
		if (auto ok = kernel.set_binding(pending); !ok)
			log(who(key), ": cannot record the binding to take the client back: ", ok.error().describe());
		job.kind = Job::Kind::clear;
		job.previous = pending;
	}
	if (auto ok = start(std::move(job)); !ok)
		log(who(key), ": cannot take the client back: ", ok.error().describe());
}

/* --- the acceptor --- */

void Agent::Impl::reply_handoff(std::uint64_t peer, std::uint64_t handoff, const Error *error, bool bu_sent)
{
	wire::Message reply(wire::Type::handoff_reply);
	reply.put_u64(wire::Attr::handoff, handoff);
	reply.put_u32(wire::Attr::error, error ? static_cast<std::uint32_t>(error->code) : 0);
	if (error)
		reply.put(wire::Attr::text, error->describe().substr(0, max_text)).put_u8(wire::Attr::bu_sent, bu_sent);
	send(peer, reply);
}

void Agent::Impl::on_prepare(std::uint64_t id, const wire::Message &msg)
{
	auto handoff = msg.u64(wire::Attr::handoff);
	auto home = msg.address(wire::Attr::home);
	auto client = msg.address(wire::Attr::client);
	if (!handoff || !home || !client) {
		counters.peer_errors++;
		return;
	}
	const Key key{*home, *client};
	auto refuse = [&](int code, const std::string &why) {
		Error error{code, why};
		log(who(key), ": refused a handoff: ", why);
		reply_handoff(id, *handoff, &error);
	};
	if (!app)
		return refuse(EOPNOTSUPP, "no application takes connections on this node");
	if (fault == "refuse")
		return refuse(ECONNREFUSED, "refused (fault injection)");
	auto svc = kernel.service(key.home);
	if (!svc)
		return refuse(ENOENT, text(key.home) + " is not a service of this node");
	if (inbound.contains(key) || jobs.contains(key))
		return refuse(EBUSY, "a handoff or signalling for " + who(key) + " is under way here");
	for (const auto &[other, o] : outbound)
		if (same(o.home, key.home) && same(o.client, key.client))
			return refuse(EBUSY, "this node is handing " + who(key) + " off");

	Inbound in;
	in.id = *handoff;
	in.peer = id;
	in.home = key.home;
	in.client = key.client;
	in.started = Clock::now();
	auto t = tokens.find(key);
	bool fresh = t != tokens.end() && t->second.cot && same(t->second.coa, svc->coa) &&
		     Clock::now() - t->second.at < token_reuse;
	in.phase = fresh ? Inbound::Phase::prepared : Inbound::Phase::testing;
	inbound.emplace(key, std::move(in));
	if (fresh)
		return reply_handoff(id, *handoff, nullptr);

	/* Return routability now, so that only the Binding Update remains once the state is here. */
	Job job;
	job.kind = Job::Kind::rr;
	job.key = key;
	job.svc = *svc;
	job.started = Clock::now();
	if (auto ok = start(std::move(job)); !ok) {
		inbound.erase(key);
		refuse(ok.error().code, ok.error().describe());
	}
}

/* The inbound handoff @handoff on the peer connection @peer. */
static Inbound *find_inbound(std::map<Key, Inbound> &inbound, std::uint64_t peer, std::uint64_t handoff)
{
	for (auto &[key, in] : inbound)
		if (in.peer == peer && in.id == handoff)
			return &in;
	return nullptr;
}

void Agent::Impl::on_data(std::uint64_t id, const wire::Message &msg)
{
	auto handoff = msg.u64(wire::Attr::handoff);
	Inbound *in = handoff ? find_inbound(inbound, id, *handoff) : nullptr;
	if (!in || in->phase != Inbound::Phase::prepared) {
		counters.peer_errors++;
		return;
	}
	auto data = msg.bytes(wire::Attr::data);
	if (!data || in->bundle.size() + data->size() > max_bundle) {
		Error error{data ? E2BIG : EBADMSG, data ? "the connections' state is too large" : data.error().describe()};
		return end_inbound(Key{in->home, in->client}, &error, false);
	}
	in->bundle.insert(in->bundle.end(), data->begin(), data->end());
}

void Agent::Impl::on_commit(std::uint64_t id, const wire::Message &msg)
{
	auto handoff = msg.u64(wire::Attr::handoff);
	Inbound *in = handoff ? find_inbound(inbound, id, *handoff) : nullptr;
	if (!in || in->phase != Inbound::Phase::prepared) {
		counters.peer_errors++;
		return;
	}
	const Key key{in->home, in->client};
	auto stop = [&](int code, const std::string &why) {
		Error error{code, why};
		end_inbound(key, &error, false);
	};
	if (msg.u32(wire::Attr::length).value_or(0) != in->bundle.size())
		return stop(EPROTO, "the connections' state arrived incomplete");
	if (fault == "die") {
		log(who(key), ": dying with the state here (fault injection)");
		kill(getpid(), SIGKILL);
	}

	std::span<const std::byte> rest(in->bundle);
	while (!rest.empty()) {
		auto state = take_bytes(rest);
		auto app_state = state ? take_bytes(rest) : std::nullopt;
		if (!app_state)
			return stop(EBADMSG, "malformed connections' state");
		UniqueFd fd(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
		if (fd.get() < 0)
			return stop(errno, std::string("cannot open a socket: ") + std::strerror(errno));
		if (auto ok = kernel.restore_socket(fd.get(), *state, freeze_timeout); !ok)
			return stop(ok.error().code, "cannot restore a connection: " + ok.error().describe());
		in->restored.push_back({std::move(fd), {state->begin(), state->end()}, {app_state->begin(), app_state->end()}});
	}
	wipe(in->bundle);
	if (fault == "stall") {
		log(who(key), ": restored, never answering (fault injection)");
		in->phase = Inbound::Phase::stalled;
		return;
	}
	if (fault == "bu-reject")
		return stop(EACCES, "the client refused the Binding Update (fault injection)");

	if (auto seq = msg.u16(wire::Attr::seq))
		in->seq = static_cast<std::uint16_t>(*seq + 1);
	/* RFC 6275's rate limit, counting the donor's last update too. */
	auto earliest = Clock::now();
	if (auto age = msg.u32(wire::Attr::bu_age_ms))
		earliest = std::max(earliest, Clock::now() - milliseconds(*age) + bu_interval);
	if (auto last = last_bu.find(key); last != last_bu.end())
		earliest = std::max(earliest, last->second + bu_interval);
	in->phase = Inbound::Phase::updating;
	if (earliest > Clock::now())
		in->bu_at = earliest;
	else
		start_update(*in);
}

void Agent::Impl::start_update(Inbound &in)
{
	const Key key{in.home, in.client};
	in.bu_at.reset();
	auto svc = kernel.service(key.home);
	if (!svc) {
		Error error{svc.error().code, text(key.home) + " is not a service of this node any more"};
		return end_inbound(key, &error, false);
	}
	Job job;
	job.kind = Job::Kind::bu;
	job.key = key;
	job.svc = *svc;
	job.started = Clock::now();
	job.asked_seq = in.seq;
	/* May finish at once, and end the handoff: nothing of @in is used after. */
	if (auto ok = start(std::move(job)); !ok)
		end_inbound(key, &ok.error(), false);
}

void Agent::Impl::job_done(const Key &key, Job::Kind kind, const Error *error)
{
	auto it = inbound.find(key);
	if (it == inbound.end())
		return;
	auto &in = it->second;
	if (kind == Job::Kind::rr && in.phase == Inbound::Phase::testing) {
		in.phase = Inbound::Phase::prepared;
		reply_handoff(in.peer, in.id, error);
		if (error)
			inbound.erase(it);
	} else if (kind == Job::Kind::bu && in.phase == Inbound::Phase::updating) {
		end_inbound(key, error, true);
	}
}

void Agent::Impl::end_inbound(const Key &key, const Error *error, bool bu_sent)
{
	auto it = inbound.find(key);
	if (it == inbound.end())
		return;
	Inbound in = std::move(it->second);
	inbound.erase(it);

	HandoffRecord record;
	record.id = in.id;
	record.client = in.client;
	record.conns = static_cast<std::uint32_t>(in.restored.size());
	if (auto conn = conns.find(in.peer); conn != conns.end())
		if (auto ends = connection_ends(conn->second.fd.get()))
			record.node = ends->second;
	record.moved = !error;
	record.error = error ? error->describe() : "";
	record.total = since(in.started);

	if (error) {
		for (auto &r : in.restored)
			if (auto ok = kernel.drop_socket(r.fd.get()); !ok)
				log(who(key), ": cannot drop a restored connection: ", ok.error().describe());
		counters.rollbacks++;
		log(who(key), ": handoff from ", text(record.node), " failed: ", error->describe());
	} else {
		for (auto &r : in.restored) {
			/* Restored from it: it parses. */
			auto state = parse_tcp_state(r.state);
			auto ok = state ? kernel.thaw_socket(r.fd.get()) : Result<void>(std::unexpected(state.error()));
			if (!ok) {
				/* Still in repair mode, or reset: closing it says nothing more to the client. */
				log(who(key), ": cannot resume a connection: ", ok.error().describe());
				continue;
			}
			Arrival arrival;
			arrival.home = in.home;
			arrival.client = in.client;
			arrival.app_state = std::move(r.app_state);
			arrival.bytes_sent = state->bytes_sent;
			arrival.bytes_acked = state->bytes_sent - state->outq_len;
			arrival.bytes_received = state->bytes_received;
			arrival.fd = r.fd.release();
			app->post(std::move(arrival));
		}
		counters.handoffs_in++;
		log(who(key), ": taken from ", text(record.node), " in ", record.total.count() / 1000, " ms");
	}
	for (auto &r : in.restored)
		wipe(r.state);
	remember(record);
	reply_handoff(in.peer, in.id, error, bu_sent);
}

/* --- both --- */

void Agent::Impl::handoff_peer(std::uint64_t id, const wire::Message &msg)
{
	switch (msg.type()) {
	case wire::Type::handoff_prepare:
		return on_prepare(id, msg);
	case wire::Type::handoff_data:
		return on_data(id, msg);
	case wire::Type::handoff_commit:
		return on_commit(id, msg);
	case wire::Type::handoff_abort: {
		auto handoff = msg.u64(wire::Attr::handoff);
		/* Unknown: it ended here already. */
		if (Inbound *in = handoff ? find_inbound(inbound, id, *handoff) : nullptr) {
			Error error{ECANCELED, "the donor gave up"};
			end_inbound(Key{in->home, in->client}, &error, false);
		}
		return;
	}
	default:
		return on_handoff_reply(msg);
	}
}

void Agent::Impl::handoff_conn_closed(std::uint64_t id)
{
	std::vector<std::uint64_t> out;
	for (const auto &[oid, o] : outbound)
		if (o.peer == id)
			out.push_back(oid);
	for (auto oid : out) {
		Error error{ECONNRESET, "the acceptor's agent went away"};
		/* Once the state left, the acceptor may have sent its update before it died. */
		end_outbound(oid, &error, outbound.at(oid).committed);
	}
	std::vector<Key> in;
	for (const auto &[key, i] : inbound)
		if (i.peer == id && (i.phase == Inbound::Phase::testing || i.phase == Inbound::Phase::prepared))
			in.push_back(key);
	for (const auto &key : in) {
		/* The donor went before it sent the state: nothing to finish. */
		Error error{ECONNRESET, "the donor's agent went away"};
		end_inbound(key, &error, false);
	}
	/* A gecko-ctl that gave up waiting is answered by no later handoff. */
	std::erase_if(asked, [id](const Asked &a) { return a.waiter == id; });
}

void Agent::Impl::handoff_tick(Clock::time_point now)
{
	std::vector<std::uint64_t> late;
	for (const auto &[id, o] : outbound)
		if (o.peer && now >= o.deadline)
			late.push_back(id);
	for (auto id : late) {
		Error error{ETIMEDOUT, "the acceptor did not answer in time"};
		end_outbound(id, &error, outbound.at(id).committed);
	}
	std::vector<Key> due, stale;
	for (const auto &[key, in] : inbound) {
		if (in.bu_at && now >= *in.bu_at)
			due.push_back(key);
		if ((in.phase == Inbound::Phase::prepared && now - in.started > prepare_timeout + commit_timeout) ||
		    (in.phase == Inbound::Phase::stalled && now - in.started > freeze_timeout))
			stale.push_back(key);
	}
	for (const auto &key : due)
		start_update(inbound.at(key));
	/* Older than the rate limit's interval, an update constrains nothing. */
	std::erase_if(last_bu, [now](const auto &last) { return now - last.second >= bu_interval; });
	for (const auto &key : stale) {
		Error error{ETIMEDOUT, inbound.at(key).phase == Inbound::Phase::stalled ? "stalled (fault injection)"
											 : "the donor never sent the state"};
		end_inbound(key, &error, false);
	}
	for (auto it = asked.begin(); it != asked.end();) {
		if (now < it->deadline) {
			++it;
			continue;
		}
		Error error{ETIMEDOUT, "the application did not hand the client off"};
		answer(it->waiter, &error);
		it = asked.erase(it);
	}
}

void Agent::Impl::remember(HandoffRecord record)
{
	records.push_back(std::move(record));
	if (records.size() > max_records)
		records.pop_front();
}

void Agent::Impl::handoff_control(std::uint64_t id, const wire::Message &msg)
{
	if (msg.type() == wire::Type::handoffs) {
		std::string lines;
		for (const auto &r : records)
			lines += std::to_string(r.id) + ' ' + (r.outbound ? "out " : "in ") + text(r.client) + ' ' +
				 text(r.node) + ' ' + std::to_string(r.conns) + ' ' + (r.moved ? '1' : '0') + ' ' +
				 std::to_string(r.prepare.count()) + ' ' + std::to_string(r.frozen.count()) + ' ' +
				 std::to_string(r.total.count()) + ' ' + r.error.substr(0, 120) + '\n';
		wire::Message reply(wire::Type::reply);
		reply.put_u32(wire::Attr::error, 0).put(wire::Attr::records, lines);
		return send(id, reply);
	}
	if (msg.type() == wire::Type::fault) {
		auto phase = msg.text(wire::Attr::text);
		static const std::string phases[] = {"", "refuse", "die", "bu-reject", "stall"};
		if (!phase || std::ranges::find(phases, *phase) == std::end(phases)) {
			Error error{EINVAL, "fault phases: refuse, die, bu-reject, stall, or none"};
			return answer(id, &error);
		}
		fault = *phase;
		log(fault.empty() ? "no fault injection" : "fault injection: " + fault);
		return answer(id, nullptr);
	}
	auto client = msg.address(wire::Attr::client);
	auto node = msg.address(wire::Attr::node);
	if (!client || !node) {
		Error error = client ? node.error() : client.error();
		return answer(id, &error);
	}
	if (!app) {
		Error error{EOPNOTSUPP, "this agent runs no application: ask the server's own agent"};
		return answer(id, &error);
	}
	bool serves = false;
	{
		std::lock_guard guard(app->lock);
		for (int fd : app->conns)
			if (auto ends = connection_ends(fd); ends && same(ends->second, *client))
				serves = true;
	}
	if (!serves) {
		Error error{ENOENT, "the application has no connection of " + text(*client) + " here"};
		return answer(id, &error);
	}
	asked.push_back({*client, id, Clock::now() + commit_timeout + prepare_timeout});
	app->post(Request{*client, *node});
}

void Agent::Impl::abandon_handoffs()
{
	while (!outbound.empty()) {
		/* No take-back: the agent that would run it is going too. */
		Error error{ECANCELED, "the node agent stopped"};
		end_outbound(outbound.begin()->first, &error, false);
	}
	while (!inbound.empty()) {
		Error error{ECANCELED, "the node agent stopped"};
		end_inbound(inbound.begin()->first, &error, false);
	}
}

} // namespace gecko::agent
