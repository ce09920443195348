// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The handoffs of TCP connections between node agents (agent/handoffs.h),
 * on the agent's thread: each side's state machine (agent/handoff.h) fed
 * with what arrives and what times out, and its actions carried out on the
 * sockets through gecko.ko, towards the client through the signalling,
 * and on the node channel. Sockets are the application's: the agent
 * freezes, captures, commits, restores, thaws and drops them, on its own
 * descriptors of them, and nothing else.
 */

#include "agent/handoffs.h"

#include <gecko/address.h>
#include <gecko/tcp_state.h>

#include "fail.h"

#include <linux/gecko.h>

#include <openssl/rand.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>

namespace gecko::agent {

namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;

/* The most octets one handoff may carry: the queues of a few connections. */
constexpr std::uint64_t max_bundle = 256u << 20;
/* How long gecko-ctl's handoff request waits for the application to act. */
constexpr auto asked_timeout = std::chrono::seconds(15);
/* How long it waits for the node channel to the acceptor before the application is asked. */
constexpr auto channel_wait = std::chrono::seconds(1);
constexpr std::size_t max_text = 1024;

microseconds since(Clock::time_point t)
{
	return duration_cast<microseconds>(Clock::now() - t);
}

void put_u32(std::vector<std::byte> &out, std::uint32_t v)
{
	for (int shift = 24; shift >= 0; shift -= 8)
		out.push_back(static_cast<std::byte>(v >> shift));
}

std::uint32_t get_u32(std::span<const std::byte> in)
{
	std::uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = v << 8 | std::to_integer<std::uint32_t>(in[i]);
	return v;
}

void put_bytes(std::vector<std::byte> &out, std::span<const std::byte> bytes)
{
	put_u32(out, static_cast<std::uint32_t>(bytes.size()));
	out.insert(out.end(), bytes.begin(), bytes.end());
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

Result<std::uint64_t> new_id()
{
	std::uint64_t id = 0;
	while (!id)
		if (RAND_bytes(reinterpret_cast<unsigned char *>(&id), sizeof(id)) != 1)
			return fail(EIO, "no randomness for a handoff's id");
	return id;
}

/* A span of the handoff's timeline, "1.5 ms"; "-" when one end never happened. */
std::string span_ms(Clock::time_point from, Clock::time_point to)
{
	if (from == Clock::time_point{} || to == Clock::time_point{})
		return "-";
	char buf[32];
	snprintf(buf, sizeof(buf), "%.1f ms", duration_cast<microseconds>(to - from).count() / 1000.0);
	return buf;
}

std::string hex(std::uint64_t id)
{
	char buf[17];
	std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(id));
	return buf;
}

/* A handoff as the acceptor names it: the donor's care-of address and its id. */
struct Name {
	in6_addr node;
	std::uint64_t id;

	bool operator<(const Name &o) const
	{
		if (int c = std::memcmp(&node, &o.node, sizeof(node)))
			return c < 0;
		return id < o.id;
	}
};

/* Fault injection for tests (Control::inject_fault): where, and how long a hold lasts. */
struct Fault {
	std::string phase;
	milliseconds hold{0};
};

} // namespace

std::optional<ConnEnds> connection_ends(int fd)
{
	sockaddr_in6 local{}, remote{};
	socklen_t llen = sizeof(local), rlen = sizeof(remote);

	if (getsockname(fd, reinterpret_cast<sockaddr *>(&local), &llen) ||
	    getpeername(fd, reinterpret_cast<sockaddr *>(&remote), &rlen) || local.sin6_family != AF_INET6)
		return std::nullopt;
	return ConnEnds{local.sin6_addr, remote.sin6_addr, ntohs(local.sin6_port), ntohs(remote.sin6_port)};
}

void AppLink::add(int fd, const ConnEnds &ends)
{
	std::lock_guard guard(lock);
	conns.insert_or_assign(fd, Conn{ends, ++conns_added});
}

void AppLink::post(NodeEvent event)
{
	/* An arrival's ports, asked of its socket: the mirrors file the connection under them. */
	std::optional<ConnEnds> arrived;
	if (auto *arrival = std::get_if<Arrival>(&event))
		arrived = connection_ends(arrival->fd).value_or(ConnEnds{arrival->home, arrival->client});
	{
		std::lock_guard guard(lock);
		if (arrived)
			conns.insert_or_assign(std::get<Arrival>(event).fd, Conn{*arrived, ++conns_added});
		if (auto *departure = std::get_if<Departure>(&event); departure && departure->fate != Fate::stayed)
			for (int fd : departure->fds) {
				conns.erase(fd);
				mirror_states.erase(fd);
			}
		events.push_back(std::move(event));
	}
	wake(events_fd.get());
}

namespace {

/* A handoff this node makes. */
struct Outbound {
	std::uint64_t id = 0;
	Key key{};
	in6_addr node{};			/* the acceptor's care-of address */
	in6_addr self{};			/* ours */
	std::vector<Outgoing> conns;		/* the application's descriptors and states */
	std::vector<UniqueFd> fds;		/* the agent's own descriptors of the same sockets */
	std::vector<std::uint64_t> acked;	/* each connection's Departure::bytes_acked, once captured */
	std::optional<Binding> binding;		/* this node's, when the handoff began */
	donor::Phase phase = donor::Phase::preparing;
	Clock::time_point deadline, next_query;
	std::uint64_t conn = 0;			/* on the node channel */
	std::uint64_t waiter = 0;		/* gecko-ctl, when it asked for this handoff */
	Clock::time_point started, prepared, frozen_at, sent_at;
	bool frozen = false;
	std::optional<Error> error;		/* why it stayed or was lost */
};

/* One connection arriving, restored as its octets come. */
struct Arriving {
	UniqueFd fd;
	TcpState state;
	std::vector<std::byte> app_state;
};

/* A handoff this node takes. */
struct Inbound {
	std::uint64_t id = 0;
	in6_addr donor{};
	std::uint64_t conn = 0;
	Key key{};
	acceptor::Phase phase = acceptor::Phase::testing;
	Clock::time_point started, deadline;
	std::vector<Arriving> conns;
	/* Reading the bundle: the field being read, and what is left of the current connection. */
	enum class Stage { state_len, header, queues, app_len, app } stage = Stage::state_len;
	std::vector<std::byte> field;
	std::uint32_t state_len = 0;
	std::uint64_t queue_left = 0;
	std::uint32_t app_len = 0;
	std::uint64_t received = 0;
	std::optional<std::uint16_t> seq;	/* for the Binding Update */
	std::optional<Clock::time_point> donor_bu;	/* when the donor last sent the client a Binding Update */
	std::optional<Clock::time_point> bu_at;	/* when it may leave */
	Clock::time_point bu_left;
	/* The timeline the log line shows: the state's first piece, its commit, the client's answer. */
	Clock::time_point state_began, state_in, accepted;
	/* An answer of the client's held back by fault injection, and until when. */
	std::optional<std::pair<acceptor::Event, Clock::time_point>> deferred;
	std::optional<Clock::time_point> done_at;	/* send_done held back by fault injection */
	std::optional<Error> error;
	std::size_t restored = 0;		/* connections restored here, thawed or not */
	bool refused = false;			/* this node found the state wanting */
	bool held = false;			/* fault injection held the Binding Update back once */
};

/* How an inbound handoff ended, for a donor that asks. */
struct Outcome_ {
	bool thawed = false;
	bool bu_sent = false;
	Clock::time_point expires;
};

} // namespace

struct Handoffs::Impl {
	Client &kernel;
	Transport &transport;
	Signalling &signalling;
	Counters &counters;
	Log log_fn;
	std::shared_ptr<AppLink> app;

	std::map<std::uint64_t, Outbound> outbound;
	std::map<Name, Inbound> inbound;
	std::map<Name, Outcome_> outcomes;
	std::deque<HandoffRecord> records;
	Fault fault;
	/* gecko-ctl handoff requests waiting for the application's hand_off(). */
	struct Asked {
		in6_addr client;
		std::uint64_t waiter;
		Clock::time_point deadline;
	};
	std::vector<Asked> asked;
	/*
	 * gecko-ctl's requests whose node channel to the acceptor is still
	 * being set up: the application is asked once it is (or after
	 * channel_wait), so that it stops serving the client no sooner.
	 */
	struct ChannelWait {
		Request request;
		std::uint64_t conn;
		Clock::time_point until;
	};
	std::vector<ChannelWait> channel_waits;
	/* gecko-ctl drain, waiting for the application's drained(). */
	std::optional<std::uint64_t> drain_waiter;

	template <class... Args>
	void log(const Args &...args)
	{
		log_line(log_fn, args...);
	}

	void answer(std::uint64_t waiter, const Error *error, const gecko::agent::Outcome &outcome = {})
	{
		if (waiter)
			transport.send(waiter, control_reply(error, outcome));
	}

	/* The application's answer to a Drain: the node leaves if all went, else it still drains. */
	void drained(const Result<std::string> &result)
	{
		{
			std::lock_guard guard(app->lock);
			auto refused = !result && (result.error().code == EBUSY || result.error().code == EOPNOTSUPP);
			app->mode = static_cast<std::uint8_t>(result	 ? wire::Mode::left :
							      refused ? wire::Mode::serving :
									wire::Mode::draining);
		}
		log(result ? "drained: " + *result + "; this node leaves" : "drain: " + result.error().describe());
		if (!drain_waiter)
			return;
		if (result) {
			wire::Message reply(wire::Type::reply);
			reply.put_u32(wire::Attr::error, 0).put(wire::Attr::text, *result);
			transport.send(*drain_waiter, reply);
		} else {
			answer(*drain_waiter, &result.error());
		}
		drain_waiter.reset();
	}

	void remember(HandoffRecord record)
	{
		records.push_back(std::move(record));
		if (records.size() > max_records)
			records.pop_front();
	}

	/* The donor. */
	void hand_off(AppLink::HandOff h);
	void donor_event(std::uint64_t id, donor::Event event, const Error *why = nullptr);
	bool freeze(Outbound &out);
	void send_abort(Outbound &out);
	void send_query(Outbound &out);
	void end_outbound(Outbound &out);
	void on_reply(const in6_addr &node, const wire::Message &msg);

	/* The acceptor. */
	void on_prepare(std::uint64_t conn, const in6_addr &node, const wire::Message &msg);
	void on_data(Inbound &in, const wire::Message &msg);
	void on_commit(Inbound &in, const wire::Message &msg);
	void on_query(std::uint64_t conn, const in6_addr &node, std::uint64_t id);
	/* Reads a piece of the bundle; an error says why the state is refused. */
	Result<void> read_bundle(Inbound &in, std::span<const std::byte> data);
	Result<void> begin_connection(Inbound &in);
	void acceptor_event(const Name &name, acceptor::Event event, const Error *why = nullptr);
	void start_update(Inbound &in);
	void thaw(Inbound &in);
	void drop_restored(Inbound &in);
	void reply(std::uint64_t conn, std::uint64_t id, wire::Answer answer,
		   const Error *error = nullptr, bool bu_sent = false);
	void end_inbound(const Name &name);
	Inbound *find_inbound(const Key &key);
};

/* --- the donor --- */

void Handoffs::Impl::hand_off(AppLink::HandOff h)
{
	auto id = new_id();
	Outbound out;
	out.id = id ? *id : 0;
	out.node = h.node;
	/* As the call found them: whoever asked gets an answer even if the connection is gone since. */
	out.key = {h.ends.home, h.ends.client};
	out.conns = std::move(h.conns);
	out.fds = std::move(h.dups);
	out.started = Clock::now();
	for (auto it = asked.begin(); it != asked.end(); ++it)
		if (same(it->client, out.key.client)) {
			out.waiter = it->waiter;
			asked.erase(it);
			break;
		}

	auto stop = [&](int code, const std::string &why) {
		out.phase = donor::Phase::stayed;
		out.error = Error{code, why};
		end_outbound(out);
	};
	if (!id)
		return stop(id.error().code, id.error().describe());
	if (out.fds.empty() || !connection_ends(out.fds.front().get()))
		return stop(ENOTCONN, "the connection is gone");
	for (const auto &[other, o] : outbound)
		if (o.key == out.key)
			return stop(EBUSY, "a handoff of " + who(out.key) + " is under way");
	if (find_inbound(out.key))
		return stop(EBUSY, who(out.key) + " is being handed to this node");
	auto svc = kernel.service(out.key.home);
	if (!svc)
		return stop(svc.error().code, text(out.key.home) + " is not a service of this node");
	if (same(out.node, svc->coa))
		return stop(EINVAL, who(out.key) + " is served by this node already");
	out.self = svc->coa;
	auto conn = transport.peer(out.self, out.node);
	if (!conn)
		return stop(conn.error().code, "cannot reach the agent at " + text(out.node) + ": " + conn.error().describe());
	out.conn = *conn;
	if (auto b = kernel.binding(out.key.home, out.key.client))
		out.binding = *b;
	out.deadline = Clock::now() + donor::deadline(out.phase);

	wire::Message msg(wire::Type::handoff_prepare);
	msg.put_u64(wire::Attr::handoff, out.id).put(wire::Attr::home, out.key.home).put(wire::Attr::client, out.key.client);
	transport.send(out.conn, msg);
	log(who(out.key), ": handing ", out.conns.size(), " connection(s) to ", text(out.node), " (handoff ", hex(out.id), ")");
	outbound.emplace(out.id, std::move(out));
}

void Handoffs::Impl::donor_event(std::uint64_t id, donor::Event event, const Error *why)
{
	auto it = outbound.find(id);
	if (it == outbound.end())
		return;
	auto &out = it->second;
	auto [next, actions] = donor::step(out.phase, event);

	if (next == out.phase && !actions)
		return;
	/* The last word is the reason: a connection that went away, then an answer, ends on the answer. */
	if (why)
		out.error = *why;
	if (next != out.phase) {
		out.phase = next;
		out.deadline = Clock::now() + donor::deadline(next);
		out.next_query = Clock::now() + donor::query_interval;
	}
	const Key key = out.key;
	if (actions & donor::thaw)
		for (const auto &fd : out.fds)
			if (auto ok = kernel.thaw_socket(fd.get()); !ok && ok.error().code != ENOENT)
				log(who(key), ": cannot thaw a connection: ", ok.error().describe());
	if (actions & donor::drop) {
		for (const auto &fd : out.fds)
			if (auto ok = kernel.drop_socket(fd.get(), (actions & donor::forward) ? std::optional(out.node)
											   : std::nullopt);
			    !ok)
				log(who(key), ": cannot drop a connection: ", ok.error().describe());
		/* The client sends to the acceptor now: this node's binding is over. */
		if ((actions & donor::forward) && out.binding)
			if (auto ok = kernel.del_binding(key.home, key.client); !ok && ok.error().code != ENOENT)
				log(who(key), ": cannot remove the binding: ", ok.error().describe());
	}
	if (actions & donor::pass_on) {
		/* Committed again: the module's deadline stays where the first commit put it. */
		auto left = std::max(milliseconds(100),
				     commit_timeout - duration_cast<milliseconds>(Clock::now() - out.sent_at));
		for (const auto &fd : out.fds)
			if (auto ok = kernel.commit_socket(fd.get(), left, out.node); !ok)
				log(who(key), ": cannot pass a connection's packets on: ", ok.error().describe());
	}
	if (actions & donor::take_back)
		signalling.take_back(key, static_cast<std::uint16_t>((out.binding ? out.binding->seq : 0) + 1),
				     out.binding.has_value());
	if (actions & donor::send_abort)
		send_abort(out);
	if (actions & donor::send_query)
		send_query(out);
	if (actions & donor::freeze) {
		out.prepared = Clock::now();
		/* Synchronous: the next event is sent or fault. */
		if (freeze(out))
			return donor_event(id, donor::Event::sent);
		return donor_event(id, donor::Event::fault);
	}
	if (donor::finished(out.phase)) {
		Outbound done = std::move(out);
		outbound.erase(it);
		end_outbound(done);
	}
}

/* Freezes, captures and commits every connection, then sends the state; false (out.error set) if it could not. */
bool Handoffs::Impl::freeze(Outbound &out)
{
	std::vector<std::byte> bundle;
	auto stop = [&](const Error &error) {
		wipe(bundle);
		out.error = error;
		return false;
	};

	out.frozen = true;
	out.frozen_at = Clock::now();
	for (const auto &fd : out.fds)
		if (auto ok = kernel.freeze_socket(fd.get(), freeze_timeout); !ok)
			return stop(Error{ok.error().code, "cannot freeze a connection: " + ok.error().describe()});
	for (std::size_t i = 0; i < out.fds.size(); i++) {
		auto state = kernel.capture_socket(out.fds[i].get());
		if (!state)
			return stop(Error{state.error().code, "cannot capture a connection: " + state.error().describe()});
		auto hdr = parse_tcp_state(*state);
		if (!hdr) {
			wipe(*state);
			return stop(Error{hdr.error().code, "cannot read a connection's state: " + hdr.error().describe()});
		}
		out.acked.push_back(hdr->bytes_sent - hdr->outq_len);
		put_bytes(bundle, *state);
		put_bytes(bundle, out.conns[i].app_state);
		wipe(*state);
	}
	if (bundle.size() > max_bundle)
		return stop(Error{E2BIG, "the connections' state is too large to hand off"});
	/* From here on only the acceptor's word lets these sockets thaw: the module must not either. */
	for (const auto &fd : out.fds)
		if (auto ok = kernel.commit_socket(fd.get(), commit_timeout); !ok)
			return stop(Error{ok.error().code, "cannot commit a connection: " + ok.error().describe()});

	for (std::size_t off = 0; off < bundle.size(); off += chunk_size) {
		wire::Message data(wire::Type::handoff_data);
		data.put_u64(wire::Attr::handoff, out.id);
		data.put(wire::Attr::data, std::span(bundle).subspan(off, std::min(chunk_size, bundle.size() - off)));
		transport.send(out.conn, data);
	}
	wire::Message msg(wire::Type::handoff_commit);
	msg.put_u64(wire::Attr::handoff, out.id).put_u32(wire::Attr::length, static_cast<std::uint32_t>(bundle.size()));
	if (out.binding)
		msg.put_u16(wire::Attr::seq, out.binding->seq);
	if (auto last = signalling.last_update(out.key))
		msg.put_u32(wire::Attr::bu_age_ms,
			    static_cast<std::uint32_t>(std::min<std::int64_t>(
				    duration_cast<milliseconds>(Clock::now() - *last).count(), UINT32_MAX)));
	transport.send(out.conn, msg);
	wipe(bundle);
	out.sent_at = Clock::now();
	return true;
}

void Handoffs::Impl::send_abort(Outbound &out)
{
	wire::Message msg(wire::Type::handoff_abort);
	transport.send(out.conn, msg.put_u64(wire::Attr::handoff, out.id));
}

void Handoffs::Impl::send_query(Outbound &out)
{
	/* The connection the state left on may be gone: any authenticated one to the acceptor will do. */
	auto conn = transport.peer(out.self, out.node);
	if (!conn)
		return log(who(out.key), ": cannot ask ", text(out.node), " how handoff ", hex(out.id),
			   " ended: ", conn.error().describe());
	out.conn = *conn;
	wire::Message msg(wire::Type::handoff_query);
	transport.send(out.conn, msg.put_u64(wire::Attr::handoff, out.id));
}

void Handoffs::Impl::end_outbound(Outbound &out)
{
	Departure departure;
	departure.client = out.key.client;
	departure.node = out.node;
	departure.fate = out.phase == donor::Phase::moved  ? Fate::moved
			 : out.phase == donor::Phase::lost ? Fate::lost
							   : Fate::stayed;
	for (const auto &c : out.conns)
		departure.fds.push_back(c.fd);
	if (out.frozen)
		departure.frozen = since(out.frozen_at);
	if (departure.fate != Fate::stayed)
		departure.bytes_acked = out.acked;
	if (departure.fate != Fate::moved)
		departure.error = out.error.value_or(Error{EIO, "no reason given"});

	switch (departure.fate) {
	case Fate::moved:
		counters.handoffs_out++;
		log(who(out.key), ": handed to ", text(out.node), ", frozen ", departure.frozen.count() / 1000,
		    " ms; captured and sent in ", span_ms(out.frozen_at, out.sent_at));
		break;
	case Fate::lost:
		counters.handoffs_lost++;
		log(who(out.key), ": handoff to ", text(out.node), " lost: ", departure.error->describe(),
		    "; the connections were dropped here");
		break;
	case Fate::stayed:
		if (out.frozen)
			counters.rollbacks++;
		log(who(out.key), ": handoff to ", text(out.node), " rolled back: ", departure.error->describe());
		break;
	}

	HandoffRecord record;
	record.id = out.id;
	record.outbound = true;
	record.client = out.key.client;
	record.node = out.node;
	record.conns = static_cast<std::uint32_t>(out.conns.size());
	record.moved = departure.fate == Fate::moved;
	record.lost = departure.fate == Fate::lost;
	record.error = departure.error ? departure.error->describe() : "";
	if (out.prepared != Clock::time_point{})
		record.prepare = duration_cast<microseconds>(out.prepared - out.started);
	record.frozen = departure.frozen;
	record.total = since(out.started);
	remember(record);

	gecko::agent::Outcome outcome;
	outcome.elapsed = record.total;
	answer(out.waiter, departure.error ? &*departure.error : nullptr, outcome);
	/* Its descriptors close with it; the application's stay the application's. */
	if (app)
		app->post(std::move(departure));
}

void Handoffs::Impl::on_reply(const in6_addr &node, const wire::Message &msg)
{
	auto id = msg.u64(wire::Attr::handoff);
	auto answer = msg.u8(wire::Attr::answer);
	if (!id || !answer) {
		counters.peer_errors++;
		return;
	}
	auto it = outbound.find(*id);
	/* Only the acceptor this handoff was agreed with answers it; a late answer to one that ended counts too. */
	if (it == outbound.end() || !same(it->second.node, node)) {
		counters.peer_errors++;
		return;
	}
	Error why{static_cast<int>(msg.u32(wire::Attr::error).value_or(EIO)),
		  "the acceptor: " + msg.text(wire::Attr::text).value_or("no reason given")};
	switch (static_cast<wire::Answer>(*answer)) {
	case wire::Answer::ready:
		return donor_event(*id, donor::Event::ready);
	case wire::Answer::refused:
		return donor_event(*id, donor::Event::refused, &why);
	case wire::Answer::done:
		return donor_event(*id, donor::Event::done);
	case wire::Answer::aborted:
		return donor_event(*id, msg.u8(wire::Attr::bu_sent).value_or(1) ? donor::Event::aborted_bu
										 : donor::Event::aborted,
				   &why);
	case wire::Answer::pending:
		return donor_event(*id, donor::Event::pending);
	case wire::Answer::restored:
		return donor_event(*id, donor::Event::restored);
	default:
		counters.peer_errors++;
	}
}

/* --- the acceptor --- */

Inbound *Handoffs::Impl::find_inbound(const Key &key)
{
	for (auto &[name, in] : inbound)
		if (in.key == key)
			return &in;
	return nullptr;
}

void Handoffs::Impl::reply(std::uint64_t conn, std::uint64_t id, wire::Answer answer,
			   const Error *error, bool bu_sent)
{
	wire::Message msg(wire::Type::handoff_reply);
	msg.put_u64(wire::Attr::handoff, id).put_u8(wire::Attr::answer, static_cast<std::uint8_t>(answer));
	if (error)
		msg.put_u32(wire::Attr::error, static_cast<std::uint32_t>(error->code))
			.put(wire::Attr::text, error->describe().substr(0, max_text));
	if (answer == wire::Answer::aborted)
		msg.put_u8(wire::Attr::bu_sent, bu_sent);
	/* Sent on the connection it came on; if that is gone, the donor asks again on another. */
	transport.send(conn, msg);
}

void Handoffs::Impl::on_prepare(std::uint64_t conn, const in6_addr &node, const wire::Message &msg)
{
	auto id = msg.u64(wire::Attr::handoff);
	auto home = msg.address(wire::Attr::home);
	auto client = msg.address(wire::Attr::client);
	if (!id || !home || !client || !*id) {
		counters.peer_errors++;
		return;
	}
	const Key key{*home, *client};
	const Name name{node, *id};
	auto refuse = [&](int code, const std::string &why) {
		Error error{code, why};
		counters.handoffs_refused++;
		log(who(key), ": refused a handoff from ", text(node), ": ", why);
		reply(conn, *id, wire::Answer::refused, &error);
	};
	if (inbound.contains(name) || outcomes.contains(name))
		return refuse(EEXIST, "handoff " + hex(*id) + " is known here already");
	if (!app)
		return refuse(EOPNOTSUPP, "no application takes connections on this node");
	if (fault.phase == "refuse")
		return refuse(ECONNREFUSED, "refused (fault injection)");
	auto svc = kernel.service(key.home);
	if (!svc)
		return refuse(ENOENT, text(key.home) + " is not a service of this node");
	if (same(node, svc->coa))
		return refuse(EINVAL, "a handoff from this node's own care-of address");
	if (find_inbound(key) || signalling.busy(key))
		return refuse(EBUSY, "a handoff or signalling for " + who(key) + " is under way here");
	for (const auto &[other, o] : outbound)
		if (o.key == key)
			return refuse(EBUSY, "this node is handing " + who(key) + " off");
	if (inbound.size() >= max_inbound)
		return refuse(EBUSY, "this node takes " + std::to_string(max_inbound) + " handoffs at a time");
	if (outcomes.size() >= max_outcomes)
		return refuse(EBUSY, "too many recent handoffs to remember another");

	Inbound in;
	in.id = *id;
	in.donor = node;
	in.conn = conn;
	in.key = key;
	in.started = Clock::now();
	in.deadline = in.started + acceptor::deadline(in.phase);
	inbound.emplace(name, std::move(in));
	/* Return routability now, so that only the Binding Update remains once the state is here. */
	if (signalling.tested(key, svc->coa))
		return acceptor_event(name, acceptor::Event::tested);
	if (auto ok = signalling.rr(key); !ok)
		acceptor_event(name, acceptor::Event::test_failed, &ok.error());
}

Result<void> Handoffs::Impl::begin_connection(Inbound &in)
{
	auto st = parse_tcp_state_header(in.field);
	if (!st)
		return std::unexpected(st.error());
	if (std::uint64_t{st->hdr_len} + st->inq_len + st->outq_len != in.state_len)
		return fail(EBADMSG, "a connection's state is not its header and queues");
	/* The state must be a connection of the client and service this handoff is about, on a port served here. */
	if (!same(st->local, in.key.home) || !same(st->remote, in.key.client))
		return fail(EACCES, "a connection of " + text(st->remote) + " to " + text(st->local) +
					    " in a handoff of " + who(in.key));
	if (std::lock_guard guard(app->lock); !app->ports.contains(st->local_port))
		return fail(EACCES, "a connection to port " + std::to_string(st->local_port) +
					    ", which the application here does not serve");
	for (const auto &c : in.conns)
		if (c.state.local_port == st->local_port && c.state.remote_port == st->remote_port)
			return fail(EBADMSG, "the same connection twice");
	if (in.conns.size() >= max_conns_per_handoff)
		return fail(E2BIG, "more than " + std::to_string(max_conns_per_handoff) + " connections in a handoff");

	UniqueFd fd(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
	int one = 1;
	/*
	 * As a listener's accepted socket: once its program dies, what is left
	 * of it (FIN_WAIT, TIME_WAIT) must not keep the program, started
	 * again, from binding its port.
	 */
	if (fd.get() < 0 || setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		return sys_fail(errno, "cannot open a socket");
	if (auto ok = kernel.restore_socket_begin(fd.get(), in.field, restore_timeout, in.donor); !ok)
		return fail(ok.error().code, "cannot restore a connection: " + ok.error().describe());
	in.conns.push_back({std::move(fd), *st, {}});
	in.restored++;
	in.queue_left = std::uint64_t{st->inq_len} + st->outq_len;
	return {};
}

Result<void> Handoffs::Impl::read_bundle(Inbound &in, std::span<const std::byte> data)
{
	using Stage = Inbound::Stage;

	in.received += data.size();
	if (in.received > max_bundle)
		return fail(E2BIG, "the connections' state is too large");
	while (!data.empty()) {
		/* Fixed-size fields and the header are gathered; queues go to the kernel as they come. */
		auto gather = [&](std::size_t want) {
			auto n = std::min(want - in.field.size(), data.size());
			in.field.insert(in.field.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
			data = data.subspan(n);
			return in.field.size() == want;
		};
		switch (in.stage) {
		case Stage::state_len:
			if (!gather(4))
				return {};
			in.state_len = get_u32(in.field);
			in.field.clear();
			if (in.state_len < GECKO_TCP_STATE_HDR_LEN)
				return fail(EBADMSG, "a connection's state is shorter than a header");
			in.stage = Stage::header;
			break;
		case Stage::header: {
			if (in.field.size() < 4 && !gather(4))
				return {};
			/* The header says how long it is, in its second 16 bits. */
			std::size_t want = std::to_integer<std::size_t>(in.field[2]) << 8 |
					   std::to_integer<std::size_t>(in.field[3]);
			if (want < GECKO_TCP_STATE_HDR_LEN || want > in.state_len)
				return fail(EBADMSG, "a connection's state has a header of " + std::to_string(want) +
							     " octets in " + std::to_string(in.state_len));
			if (!gather(want))
				return {};
			auto ok = begin_connection(in);
			wipe(in.field);
			if (!ok)
				return ok;
			in.stage = in.queue_left ? Stage::queues : Stage::app_len;
			break;
		}
		case Stage::queues: {
			auto n = static_cast<std::size_t>(std::min<std::uint64_t>(in.queue_left, data.size()));
			if (auto ok = kernel.restore_socket_data(in.conns.back().fd.get(), data.first(n)); !ok)
				return fail(ok.error().code, "cannot restore a connection's queues: " + ok.error().describe());
			data = data.subspan(n);
			in.queue_left -= n;
			if (!in.queue_left)
				in.stage = Stage::app_len;
			break;
		}
		case Stage::app_len:
			if (!gather(4))
				return {};
			in.app_len = get_u32(in.field);
			in.field.clear();
			if (in.app_len > max_app_state)
				return fail(E2BIG, "an application state of " + std::to_string(in.app_len) +
							   " octets: at most " + std::to_string(max_app_state));
			in.stage = in.app_len ? Stage::app : Stage::state_len;
			break;
		case Stage::app:
			if (!gather(in.app_len))
				return {};
			in.conns.back().app_state = std::move(in.field);
			in.field.clear();
			in.stage = Stage::state_len;
			break;
		}
	}
	return {};
}

void Handoffs::Impl::on_data(Inbound &in, const wire::Message &msg)
{
	const Name name{in.donor, in.id};
	auto data = msg.bytes(wire::Attr::data);

	if (in.phase != acceptor::Phase::prepared) {
		Error error{EPROTO, "state before the acceptor was ready"};
		return acceptor_event(name, acceptor::Event::state_bad, &error);
	}
	if (!data) {
		counters.peer_errors++;
		return acceptor_event(name, acceptor::Event::state_bad, &data.error());
	}
	if (in.state_began == Clock::time_point{})
		in.state_began = Clock::now();
	if (auto ok = read_bundle(in, *data); !ok)
		acceptor_event(name, acceptor::Event::state_bad, &ok.error());
}

void Handoffs::Impl::on_commit(Inbound &in, const wire::Message &msg)
{
	const Name name{in.donor, in.id};
	auto length = msg.u32(wire::Attr::length);
	auto bad = [&](int code, const std::string &why) {
		Error error{code, why};
		acceptor_event(name, acceptor::Event::state_bad, &error);
	};

	if (in.phase != acceptor::Phase::prepared)
		return bad(EPROTO, "state before the acceptor was ready");
	if (!length || *length != in.received || in.stage != Inbound::Stage::state_len)
		return bad(EPROTO, "the connections' state arrived incomplete");
	/* A handoff moves connections; one with none would only take the client away from them. */
	if (in.conns.empty())
		return bad(EBADMSG, "a handoff without connections");
	if (fault.phase == "die") {
		log(who(in.key), ": dying with the state here (fault injection)");
		kill(getpid(), SIGKILL);
	}
	if (auto seq = msg.u16(wire::Attr::seq))
		in.seq = static_cast<std::uint16_t>(*seq + 1);
	in.state_in = Clock::now();
	/* An age, made a time here once: start_update() may run again later. */
	if (auto age = msg.u32(wire::Attr::bu_age_ms))
		in.donor_bu = in.state_in - milliseconds(*age);
	acceptor_event(name, acceptor::Event::state_in);
}

void Handoffs::Impl::on_query(std::uint64_t conn, const in6_addr &node, std::uint64_t id)
{
	const Name name{node, id};

	if (auto o = outcomes.find(name); o != outcomes.end())
		return reply(conn, id, o->second.thawed ? wire::Answer::done : wire::Answer::aborted, nullptr,
			     o->second.bu_sent);
	if (inbound.contains(name))
		return reply(conn, id, wire::Answer::pending);
	/* Never heard of: fenced, so that its state is refused if it comes after all. */
	if (outcomes.size() < max_outcomes)
		outcomes[name] = {false, false, Clock::now() + acceptor::record_lifetime};
	Error error{ENOENT, "no such handoff here"};
	reply(conn, id, wire::Answer::aborted, &error, false);
}

void Handoffs::Impl::start_update(Inbound &in)
{
	const Name name{in.donor, in.id};
	auto now = Clock::now();

	/* RFC 6275's rate limit, counting the donor's last update too. */
	auto earliest = now;
	if (in.donor_bu)
		earliest = std::max(earliest, *in.donor_bu + bu_interval);
	if (auto last = signalling.last_update(in.key))
		earliest = std::max(earliest, *last + bu_interval);
	if (fault.phase == "hold-before-bu" && !in.held) {
		in.held = true;
		log(who(in.key), ": fault injection: holding ", fault.hold.count(), " ms before the Binding Update");
		earliest = std::max(earliest, now + fault.hold);
	}
	if (earliest > now) {
		in.bu_at = earliest;
		return;
	}
	in.bu_at.reset();
	in.bu_left = now;
	if (auto ok = signalling.bu(in.key, in.seq); !ok)
		return acceptor_event(name, acceptor::Event::rejected, &ok.error());
	if (fault.phase == "hold-after-bu")
		log(who(in.key), ": fault injection: holding ", fault.hold.count(), " ms after the Binding Update");
}

void Handoffs::Impl::thaw(Inbound &in)
{
	for (auto &c : in.conns) {
		if (auto ok = kernel.thaw_socket(c.fd.get()); !ok) {
			/* Still in repair mode, or reset: closing it says nothing more to the client. */
			log(who(in.key), ": cannot resume a connection: ", ok.error().describe());
			continue;
		}
		Arrival arrival;
		arrival.home = in.key.home;
		arrival.client = in.key.client;
		arrival.app_state = std::move(c.app_state);
		arrival.bytes_sent = c.state.bytes_sent;
		arrival.bytes_acked = c.state.bytes_sent - c.state.outq_len;
		arrival.bytes_received = c.state.bytes_received;
		arrival.fd = c.fd.release();
		app->post(std::move(arrival));
	}
	in.conns.clear();
}

void Handoffs::Impl::drop_restored(Inbound &in)
{
	for (auto &c : in.conns)
		if (auto ok = kernel.drop_socket(c.fd.get()); !ok && ok.error().code != ENOENT)
			log(who(in.key), ": cannot drop a restored connection: ", ok.error().describe());
	for (auto &c : in.conns)
		wipe(c.app_state);
	in.conns.clear();
}

void Handoffs::Impl::acceptor_event(const Name &name, acceptor::Event event, const Error *why)
{
	auto it = inbound.find(name);
	if (it == inbound.end())
		return;
	auto &in = it->second;
	auto [next, actions] = acceptor::step(in.phase, event);

	if (next == in.phase && !actions)
		return;
	if (why && !in.error)
		in.error = *why;
	if (event == acceptor::Event::accepted)
		in.accepted = Clock::now();
	in.refused |= event == acceptor::Event::state_bad;
	/* Whether the client may have taken our Binding Update: read before the job is cancelled. */
	bool bu_sent = in.phase == acceptor::Phase::updating && in.bu_left != Clock::time_point{};
	if (next != in.phase) {
		in.phase = next;
		in.deadline = Clock::now() + acceptor::deadline(next);
	}
	if (actions & acceptor::cancel_update)
		signalling.cancel(in.key);
	if (actions & acceptor::drop)
		drop_restored(in);
	if (actions & acceptor::thaw)
		thaw(in);
	Error unknown{EIO, "no reason given"};
	const Error *error = in.error ? &*in.error : &unknown;
	if (actions & acceptor::send_ready)
		reply(in.conn, in.id, wire::Answer::ready);
	if (actions & acceptor::send_refused)
		reply(in.conn, in.id, wire::Answer::refused, error);
	if (actions & acceptor::send_aborted)
		reply(in.conn, in.id, wire::Answer::aborted, error, bu_sent);
	if (actions & acceptor::send_done) {
		if (fault.phase == "hold-after-thaw") {
			log(who(in.key), ": fault injection: holding ", fault.hold.count(), " ms after the thaw");
			in.done_at = Clock::now() + fault.hold;
		} else {
			reply(in.conn, in.id, wire::Answer::done);
		}
	}
	if (actions & acceptor::start_update)
		start_update(in);
	/* start_update() may have ended it. */
	auto again = inbound.find(name);
	if (again == inbound.end())
		return;
	/* After the update left: the donor's copies need not come before it. */
	if ((actions & acceptor::send_restored) && again->second.phase == acceptor::Phase::updating)
		reply(again->second.conn, again->second.id, wire::Answer::restored);
	if (acceptor::finished(again->second.phase) && !again->second.done_at)
		end_inbound(name);
}

void Handoffs::Impl::end_inbound(const Name &name)
{
	auto it = inbound.find(name);
	if (it == inbound.end())
		return;
	Inbound in = std::move(it->second);
	inbound.erase(it);
	bool thawed = in.phase == acceptor::Phase::thawed;

	outcomes[name] = {thawed, in.bu_left != Clock::time_point{}, Clock::now() + acceptor::record_lifetime};
	HandoffRecord record;
	record.id = in.id;
	record.client = in.key.client;
	record.node = in.donor;
	record.conns = static_cast<std::uint32_t>(in.restored);
	record.moved = thawed;
	record.error = in.error && !thawed ? in.error->describe() : "";
	record.total = since(in.started);
	remember(record);
	if (thawed) {
		counters.handoffs_in++;
		log(who(in.key), ": taken from ", text(in.donor), " in ", record.total.count() / 1000,
		    " ms; the state (", in.received, " octets) came in ", span_ms(in.state_began, in.state_in),
		    ", the Binding Update left ", span_ms(in.state_in, in.bu_left), " later, was accepted ",
		    span_ms(in.bu_left, in.accepted), " later, the thaw took ", span_ms(in.accepted, Clock::now()));
	} else {
		if (in.refused)
			counters.handoffs_refused++;
		else if (in.restored)
			counters.rollbacks++;
		log(who(in.key), ": handoff from ", text(in.donor), " failed: ", record.error);
	}
	drop_restored(in);
}

/* --- both --- */

Handoffs::Handoffs(Client &kernel, Transport &transport, Signalling &signalling, Counters &counters, Log log,
		   std::shared_ptr<AppLink> app)
	: impl_(new Impl{kernel, transport, signalling, counters, std::move(log), std::move(app), {},
			 {}, {}, {}, {}, {}, {}, {}})
{
}

Handoffs::~Handoffs()
{
	auto &d = *impl_;

	/* An agent that stops is a fault to both machines: what they may still do, they do now. */
	while (!d.outbound.empty()) {
		auto id = d.outbound.begin()->first;
		Error error{ECANCELED, "the node agent stopped"};
		d.donor_event(id, donor::Event::fault, &error);
		/* A phase that ignores a fault (none today) must not spin here. */
		if (d.outbound.contains(id)) {
			auto out = std::move(d.outbound.at(id));
			d.outbound.erase(id);
			out.phase = donor::Phase::lost;
			d.end_outbound(out);
		}
	}
	while (!d.inbound.empty()) {
		auto name = d.inbound.begin()->first;
		Error error{ECANCELED, "the node agent stopped"};
		d.acceptor_event(name, acceptor::Event::fault, &error);
		d.end_inbound(name);
	}
}

void Handoffs::app_commands()
{
	auto &d = *impl_;
	std::uint64_t count;

	if (::read(d.app->commands_fd.get(), &count, sizeof(count)) < 0 && errno != EAGAIN)
		d.log("cannot read the application's wake-up: ", std::strerror(errno));
	for (;;) {
		decltype(d.app->commands)::value_type command;
		{
			std::lock_guard guard(d.app->lock);
			if (d.app->commands.empty())
				return;
			command = std::move(d.app->commands.front());
			d.app->commands.pop_front();
		}
		if (auto *h = std::get_if<AppLink::HandOff>(&command)) {
			d.hand_off(std::move(*h));
			continue;
		}
		if (auto *drained = std::get_if<AppLink::Drained>(&command)) {
			d.drained(drained->result);
			continue;
		}
		auto &decline = std::get<AppLink::Decline>(command);
		auto it = std::ranges::find_if(d.asked, [&](const Impl::Asked &a) { return same(a.client, decline.client); });
		if (it != d.asked.end()) {
			d.answer(it->waiter, &decline.error);
			d.asked.erase(it);
		}
	}
}

void Handoffs::peer(std::uint64_t conn, const in6_addr &node, const wire::Message &msg)
{
	auto &d = *impl_;

	if (msg.type() == wire::Type::handoff_reply)
		return d.on_reply(node, msg);
	if (msg.type() == wire::Type::handoff_prepare)
		return d.on_prepare(conn, node, msg);
	auto id = msg.u64(wire::Attr::handoff);
	if (!id) {
		d.counters.peer_errors++;
		return;
	}
	if (msg.type() == wire::Type::handoff_query)
		return d.on_query(conn, node, *id);

	/* The rest belongs to a handoff this peer prepared with this node. */
	const Name name{node, *id};
	auto it = d.inbound.find(name);
	if (it == d.inbound.end()) {
		/* Fenced or ended: whoever sends its state now hears it was aborted. */
		if (msg.type() == wire::Type::handoff_commit && d.outcomes.contains(name)) {
			const auto &o = d.outcomes.at(name);
			d.reply(conn, *id, o.thawed ? wire::Answer::done : wire::Answer::aborted, nullptr, o.bu_sent);
		} else if (!d.outcomes.contains(name)) {
			d.counters.peer_errors++;
		}
		return;
	}
	it->second.conn = conn;
	switch (msg.type()) {
	case wire::Type::handoff_data:
		return d.on_data(it->second, msg);
	case wire::Type::handoff_commit:
		return d.on_commit(it->second, msg);
	case wire::Type::handoff_abort:
		return d.acceptor_event(name, acceptor::Event::abort, nullptr);
	default:
		d.counters.peer_errors++;
	}
}

void Handoffs::job_done(const Key &key, Signalling::Kind kind, const Error *error)
{
	auto &d = *impl_;
	Inbound *in = d.find_inbound(key);

	if (!in)
		return;
	const Name name{in->donor, in->id};
	if (kind == Signalling::Kind::rr && in->phase == acceptor::Phase::testing)
		return d.acceptor_event(name, error ? acceptor::Event::test_failed : acceptor::Event::tested, error);
	if (kind != Signalling::Kind::bu || in->phase != acceptor::Phase::updating)
		return;
	auto event = error ? acceptor::Event::rejected : acceptor::Event::accepted;
	if (!error && d.fault.phase == "bu-reject") {
		Error refused{EACCES, "the client refused the Binding Update (fault injection)"};
		return d.acceptor_event(name, acceptor::Event::rejected, &refused);
	}
	/* Fault injection holds the client's answer back, as a slow node would. */
	if (d.fault.phase == "hold-after-bu") {
		in->deferred = {event, in->bu_left + d.fault.hold};
		if (error)
			in->error = *error;
		return;
	}
	if (d.fault.phase == "hold-after-ba" && !error) {
		d.log(who(key), ": fault injection: holding ", d.fault.hold.count(), " ms after the client accepted");
		in->deferred = {event, Clock::now() + d.fault.hold};
		return;
	}
	d.acceptor_event(name, event, error);
}

void Handoffs::closed(std::uint64_t conn)
{
	auto &d = *impl_;
	std::vector<std::uint64_t> out;
	std::vector<Name> in;

	for (auto &[id, o] : d.outbound)
		if (o.conn == conn) {
			o.conn = 0;
			out.push_back(id);
		}
	Error gone{ECONNRESET, "the acceptor's agent went away"};
	for (auto id : out)
		d.donor_event(id, donor::Event::peer_closed, &gone);
	for (auto &[name, i] : d.inbound)
		if (i.conn == conn) {
			i.conn = 0;
			in.push_back(name);
		}
	Error left{ECONNRESET, "the donor's agent went away"};
	for (const auto &name : in)
		d.acceptor_event(name, acceptor::Event::peer_closed, &left);
	/* A gecko-ctl that gave up waiting is answered by no later handoff. */
	std::erase_if(d.asked, [conn](const Impl::Asked &a) { return a.waiter == conn; });
	if (d.drain_waiter == conn)
		d.drain_waiter.reset();
}

void Handoffs::tick(Clock::time_point now)
{
	auto &d = *impl_;

	std::erase_if(d.channel_waits, [&](const Impl::ChannelWait &w) {
		if (d.transport.handshaking(w.conn) && now < w.until)
			return false;
		d.app->post(w.request);
		return true;
	});

	std::vector<std::pair<std::uint64_t, donor::Event>> donors;
	for (const auto &[id, o] : d.outbound) {
		if (now >= o.deadline)
			donors.emplace_back(id, donor::Event::timeout);
		else if (o.phase == donor::Phase::resolving && now >= o.next_query)
			donors.emplace_back(id, donor::Event::retry);
	}
	for (auto [id, event] : donors) {
		if (event == donor::Event::retry && d.outbound.contains(id))
			d.outbound.at(id).next_query = now + donor::query_interval;
		Error late{ETIMEDOUT, "the acceptor did not answer in time"};
		d.donor_event(id, event, event == donor::Event::timeout ? &late : nullptr);
	}

	std::vector<std::pair<Name, acceptor::Event>> acceptors;
	std::vector<Name> updates, done, finished;
	for (auto &[name, in] : d.inbound) {
		if (in.done_at) {
			if (now >= *in.done_at)
				done.push_back(name);
			continue;
		}
		if (now >= in.deadline)
			acceptors.emplace_back(name, acceptor::Event::timeout);
		else if (in.deferred && now >= in.deferred->second)
			acceptors.emplace_back(name, in.deferred->first);
		else if (in.bu_at && now >= *in.bu_at)
			updates.push_back(name);
	}
	for (const auto &name : updates)
		if (auto it = d.inbound.find(name); it != d.inbound.end())
			d.start_update(it->second);
	for (const auto &[name, event] : acceptors) {
		auto it = d.inbound.find(name);
		if (it == d.inbound.end())
			continue;
		auto &in = it->second;
		in.deferred.reset();
		Error late{ETIMEDOUT, in.phase == acceptor::Phase::testing	 ? "return routability did not end in time"
				      : in.phase == acceptor::Phase::prepared	 ? "the donor did not send the state in time"
				      : in.bu_left == Clock::time_point{} ? "the Binding Update was held past the deadline"
									  : "the client did not accept the Binding Update in time"};
		d.acceptor_event(name, event, event == acceptor::Event::timeout ? &late : nullptr);
	}
	for (const auto &name : done) {
		auto &in = d.inbound.at(name);
		d.reply(in.conn, in.id, wire::Answer::done);
		in.done_at.reset();
		d.end_inbound(name);
	}
	std::erase_if(d.outcomes, [now](const auto &o) { return now >= o.second.expires; });

	for (auto it = d.asked.begin(); it != d.asked.end();) {
		if (now < it->deadline) {
			++it;
			continue;
		}
		Error error{ETIMEDOUT, "the application did not hand the client off"};
		d.answer(it->waiter, &error);
		it = d.asked.erase(it);
	}
}

std::optional<Clock::time_point> Handoffs::next_update() const
{
	std::optional<Clock::time_point> first;
	for (const auto &[name, in] : impl_->inbound)
		if (in.bu_at && !in.done_at && (!first || *in.bu_at < *first))
			first = in.bu_at;
	return first;
}

void Handoffs::control(std::uint64_t waiter, const wire::Message &msg)
{
	auto &d = *impl_;

	if (msg.type() == wire::Type::handoffs) {
		std::string lines;
		for (const auto &r : d.records)
			lines += hex(r.id) + ' ' + (r.outbound ? "out " : "in ") + text(r.client) + ' ' + text(r.node) + ' ' +
				 std::to_string(r.conns) + ' ' + (r.moved ? "moved" : r.lost ? "lost" : "stayed") + ' ' +
				 std::to_string(r.prepare.count()) + ' ' + std::to_string(r.frozen.count()) + ' ' +
				 std::to_string(r.total.count()) + ' ' + r.error.substr(0, 120) + '\n';
		wire::Message reply(wire::Type::reply);
		reply.put_u32(wire::Attr::error, 0).put(wire::Attr::records, lines);
		d.transport.send(waiter, reply);
		return;
	}
	if (msg.type() == wire::Type::drain) {
		if (!d.app) {
			Error error{EOPNOTSUPP, "this agent runs no application: ask the server's own agent"};
			return d.answer(waiter, &error);
		}
		if (d.drain_waiter) {
			Error error{EBUSY, "a drain is under way"};
			return d.answer(waiter, &error);
		}
		d.drain_waiter = waiter;
		{
			std::lock_guard guard(d.app->lock);
			d.app->mode = static_cast<std::uint8_t>(wire::Mode::draining);
		}
		d.log("draining: the application hands its clients to other members");
		d.app->post(Drain{});
		return;
	}
	if (msg.type() == wire::Type::fault) {
		static const std::string phases[] = {"",	     "refuse",	       "die",	       "bu-reject",
						     "stall",	     "hold-before-bu", "hold-after-bu", "hold-after-ba",
						     "hold-after-thaw"};
		auto spec = msg.text(wire::Attr::text).value_or("?");
		auto colon = spec.find(':');
		Fault f{spec.substr(0, colon), milliseconds(0)};
		bool hold = f.phase.starts_with("hold-");
		if (colon != std::string::npos) {
			auto ms = spec.substr(colon + 1);
			if (!hold || ms.empty() || ms.size() > 6 || !std::ranges::all_of(ms, ::isdigit)) {
				Error error{EINVAL, "only the hold-* phases take a time: hold-after-bu:MS"};
				return d.answer(waiter, &error);
			}
			f.hold = milliseconds(std::stol(ms));
		}
		/* "stall" never answers: a hold until the acceptor's own deadline. */
		if (f.phase == "stall")
			f = {"hold-before-bu", acceptor::deadline(acceptor::Phase::updating) * 2};
		if (std::ranges::find(phases, spec.substr(0, colon)) == std::end(phases) || (hold && colon == std::string::npos)) {
			Error error{EINVAL, "fault phases: refuse, die, bu-reject, stall, hold-before-bu:MS, "
					    "hold-after-bu:MS, hold-after-ba:MS, hold-after-thaw:MS, or none"};
			return d.answer(waiter, &error);
		}
		d.fault = f;
		d.log(f.phase.empty() ? std::string("no fault injection") : "fault injection: " + spec);
		return d.answer(waiter, nullptr);
	}
	auto client = msg.address(wire::Attr::client);
	auto node = msg.address(wire::Attr::node);
	if (!client || !node) {
		Error error = client ? node.error() : client.error();
		return d.answer(waiter, &error);
	}
	if (!d.app) {
		Error error{EOPNOTSUPP, "this agent runs no application: ask the server's own agent"};
		return d.answer(waiter, &error);
	}
	std::optional<in6_addr> home;
	{
		std::lock_guard guard(d.app->lock);
		for (const auto &[fd, c] : d.app->conns)
			if (same(c.client, *client) && connection_ends(fd)) {
				home = c.home;
				break;
			}
	}
	if (!home) {
		Error error{ENOENT, "the application has no connection of " + text(*client) + " here"};
		return d.answer(waiter, &error);
	}
	d.asked.push_back({*client, waiter, Clock::now() + asked_timeout});
	/*
	 * The node channel to the acceptor first: a first contact's handshake
	 * is not spent with the client's stream stopped. start() reports what
	 * fails.
	 */
	if (auto svc = d.kernel.service(*home); svc && !same(*node, svc->coa))
		if (auto conn = d.transport.peer(svc->coa, *node); conn && d.transport.handshaking(*conn)) {
			d.channel_waits.push_back({{*client, *node}, *conn, Clock::now() + channel_wait});
			return;
		}
	d.app->post(Request{*client, *node});
}

} // namespace gecko::agent
