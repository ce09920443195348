// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The node agent's event loop: one thread, poll() over the transport's
 * sockets, the Mobility Header socket and the application's commands,
 * with every part's deadlines checked on each turn. See gecko/agent.h.
 */

#include <gecko/cluster.h>

#include "agent/impl.h"
#include "agent/tls.h"
#include "fail.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

namespace gecko::agent {

namespace {

/*
 * One turn of the loop, timed part by part: a turn longer than a
 * heartbeat period keeps this node's heartbeats back, and its peers may
 * take it for dead, so it is logged with the part that took longest.
 */
class Turn {
public:
	void part(const char *name)
	{
		auto now = Clock::now();
		if (now - mark_ > longest_) {
			longest_ = now - mark_;
			name_ = name;
		}
		mark_ = now;
	}

	std::optional<std::string> over(Clock::duration bound) const
	{
		auto took = Clock::now() - start_;
		if (took <= bound)
			return std::nullopt;
		auto ms = [](Clock::duration d) {
			return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
		};
		return "busy for " + ms(took) + " ms in one turn of the loop, " + ms(longest_) + " ms of it in " + name_;
	}

private:
	Clock::time_point start_ = Clock::now(), mark_ = start_;
	Clock::duration longest_{};
	const char *name_ = "nothing";
};

/* The care-of addresses of the module's services, each once. */
std::vector<in6_addr> service_addresses(Client &kernel)
{
	std::vector<in6_addr> out;
	auto services = kernel.services();

	if (services)
		for (const auto &svc : *services)
			if (std::ranges::none_of(out, [&](const in6_addr &a) { return same(a, svc.coa); }))
				out.push_back(svc.coa);
	return out;
}

} // namespace

Result<std::string> generate_key()
{
	return tls::generate_key();
}

Agent::Agent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Agent::~Agent() = default;

Result<std::unique_ptr<Agent>> Agent::open(Config config)
{
	auto kernel = Client::open();
	if (!kernel)
		return std::unexpected(kernel.error());
	auto impl = std::make_unique<Impl>(std::move(config), std::move(*kernel));
	auto &d = *impl;

	Transport::Settings settings{d.config.control, d.config.port, d.config.addresses, d.config.security};
	if (settings.addresses.empty())
		settings.addresses = service_addresses(d.kernel);
	const Member *self = nullptr;
	if (const auto &cluster = d.config.cluster) {
		auto at = std::ranges::find_if(settings.addresses, [&](const in6_addr &a) { return cluster->member(a); });
		if (at == settings.addresses.end()) {
			std::string here;
			for (const auto &a : settings.addresses)
				here += " " + text(a);
			return fail(EINVAL, cluster->file + ": this node is none of its members (its care-of addresses:" +
						    (here.empty() ? " none" : here) + ")");
		}
		self = cluster->member(*at);
		settings.port = d.config.port = cluster->port;
		if (settings.security.key_file.empty() && settings.security.cert_file.empty())
			settings.security = cluster->security;
	}
	auto log = [&d](const std::string &line) { d.log(line); };
	auto transport = Transport::open(settings, d, d.counters, log);
	if (!transport)
		return std::unexpected(transport.error());
	d.transport = std::move(*transport);
	auto signalling = Signalling::open(d.kernel, *d.transport, d.counters, log, d);
	if (!signalling)
		return std::unexpected(signalling.error());
	d.signalling = std::move(*signalling);
	if (self) {
		d.membership = std::make_unique<Membership>(d.config.cluster, *self, *d.transport, d.counters, log);
		d.mirrors = std::make_unique<Mirrors>(d.kernel, *d.transport, d.config.cluster, *self, log);
		d.recoveries = std::make_unique<Recoveries>(d.kernel, *d.signalling, d.counters, log,
							    [&d] { return d.contact_ready(); });
	}
	d.attach(nullptr);
	/*
	 * The module remembers which services this node is the contact node
	 * of. In a cluster, the registration waits until every member was
	 * heard (one may have taken this node's place meanwhile), or for the
	 * failure bound and a node channel handshake's 5 s if some never are.
	 */
	if (self) {
		d.self = self;
		d.resume_at = Clock::now() + d.config.cluster->failure_bound() + std::chrono::seconds(5);
	} else {
		d.signalling->resume_registrations();
	}
	return std::unique_ptr<Agent>(new Agent(std::move(impl)));
}

void Agent::Impl::attach(std::shared_ptr<AppLink> link)
{
	app = std::move(link);
	if (recoveries)
		recoveries->attach(app);
	handoffs.reset();
	handoffs = std::make_unique<Handoffs>(kernel, *transport, *signalling, counters,
					      [this](const std::string &line) { log(line); }, app);
}

Result<void> Agent::run(int stop_fd)
{
	return impl_->run(stop_fd);
}

Result<void> Agent::Impl::run(int stop_fd)
{
	/*
	 * OpenSSL writes to the node channel without MSG_NOSIGNAL: a member
	 * killed mid-connection would end this process with SIGPIPE at the
	 * next heartbeat. Blocked in this thread, a write fails with EPIPE.
	 */
	sigset_t pipe;
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
	if (auto *mode = transport->channel())
		log(std::string("node agent: control @") + config.control + ", node channel on port " +
		    std::to_string(config.port) + " (TLS 1.3, " + mode + ")");
	else
		log("node agent: control @" + config.control + ", no node channel");
	/* Once stopped: the binding clears under way, and how long they may take. */
	std::vector<Key> parting;
	std::optional<Clock::time_point> parted_by;
	for (;;) {
		std::vector<pollfd> fds{{parted_by ? -1 : stop_fd, POLLIN, 0},
					{signalling->fd(), POLLIN, 0},
					{app ? app->commands_fd.get() : -1, POLLIN, 0}};
		transport->watch(fds);
		/* Deadlines are a tenth of a second or more apart; a Binding Update held back leaves on time. */
		int timeout = 100;
		if (auto at = handoffs->next_update()) {
			auto left = std::chrono::ceil<std::chrono::milliseconds>(*at - Clock::now()).count();
			timeout = static_cast<int>(std::clamp<std::int64_t>(left, 0, timeout));
		}
		if (poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR)
			return fail(errno, std::string("poll: ") + std::strerror(errno));
		if (fds[0].revents) {
			parting = part();
			if (parting.empty())
				return {};
			/* The contact node relays 64 at once: the rest ask again every 0.2 s. */
			parted_by = Clock::now() + std::chrono::seconds(5);
		}
		Turn turn;
		if (fds[1].revents)
			signalling->receive();
		turn.part("Mobility Header");
		if (fds[2].revents)
			handoffs->app_commands();
		turn.part("the programs' commands");
		transport->ready(std::span(fds).subspan(3));
		turn.part("the node channel's input");
		auto now = Clock::now();
		transport->tick(now);
		signalling->tick(now);
		handoffs->tick(now);
		transport->flush_queued();
		turn.part("deadlines");
		if (membership) {
			measure(now);
			for (const auto &death : membership->tick(now, connections(), mode(), registered()))
				take_over(death, now);
			follow_contact(now);
			recoveries->tick(now);
			turn.part("membership and takeovers");
			mirror(now);
			turn.part("mirrors");
			/* For gecko::Node::members(): a tenth of a second old at most, not remade at every wake-up. */
			if (app && now >= members_published + std::chrono::milliseconds(100)) {
				auto members = membership->status(now);
				std::lock_guard guard(app->lock);
				app->members = std::move(members);
				members_published = now;
			}
		}
		if (auto busy = turn.over(config.cluster ? config.cluster->heartbeat_period : std::chrono::seconds(1)))
			log(*busy);
		if (parted_by && (now >= *parted_by || std::ranges::none_of(parting, [&](const Key &key) {
					  return signalling->busy(key);
				  })))
			return {};
	}
}

std::vector<Key> Agent::Impl::part()
{
	std::vector<Key> asked;
	if (!membership)
		return asked;
	auto bindings = kernel.bindings(config.cluster->service);
	if (!bindings) {
		log("stopping: the clients bound here stay so: " + bindings.error().describe());
		return asked;
	}
	std::set<in6_addr, AddrLess> served;
	if (app) {
		std::lock_guard guard(app->lock);
		for (const auto &[fd, c] : app->conns)
			served.insert(c.client);
	}
	for (const auto &b : *bindings) {
		Key key{b.home, b.peer};
		/* A handoff's job runs to its end; a client still served here stays. */
		if (b.state != BindingState::bound || served.contains(b.peer) || signalling->busy(key))
			continue;
		if (auto ok = signalling->clear(key); ok)
			asked.push_back(key);
		else
			log("stopping: " + text(b.peer) + " stays bound here: " + ok.error().describe());
	}
	if (!asked.empty())
		log("stopping: " + std::to_string(asked.size()) +
		    " client(s) bound here sent back to the contact node (binding clear)");
	return asked;
}

void Agent::Impl::measure(Clock::time_point now)
{
	if (!app || now < next_measure)
		return;
	next_measure = now + config.cluster->heartbeat_period;
	auto &proximity = membership->proximity();
	proximity.begin_round();
	std::lock_guard guard(app->lock);
	for (const auto &[fd, c] : app->conns)
		if (auto rtt = min_rtt(fd))
			proximity.measured(c.client, *rtt, now);
}

void Agent::Impl::mirror(Clock::time_point now)
{
	/*
	 * At most one look a twentieth of a second, not one per wake-up: a
	 * backup wakes for every mirror it is sent, which made the work grow
	 * as the square of the connections.
	 */
	if (now < next_mirror)
		return;
	next_mirror = now + std::chrono::milliseconds(50);
	mirrors->registrations(now, signalling->registrations());
	/*
	 * The connections are gone through when they changed (added, ended,
	 * a new application state, another backup), and for their renewals
	 * twice a period: not at every look, which with thousands of them
	 * kept the thread busy.
	 */
	bool renew = now >= next_renewal;
	Seen seen{.backup = membership->backup()};
	std::vector<Mirrors::Serving> conns;
	if (app) {
		std::lock_guard guard(app->lock);
		seen.conns = app->conns.size();
		seen.added = app->conns_added;
		seen.versions = app->mirror_versions;
		if (!renew && seen == mirrored)
			return;
		for (const auto &[fd, c] : app->conns) {
			/* Another address's, or one whose socket could not say its ports: nothing to mirror. */
			if (!same(c.home, config.cluster->service) || !c.port)
				continue;
			auto state = app->mirror_states.find(fd);
			conns.push_back({fd, {c.client, c.client_port, c.port},
					 state == app->mirror_states.end() ? 0 : state->second.version});
		}
	} else if (!renew && seen == mirrored) {
		return;
	}
	auto state_of = [this](int fd) {
		std::lock_guard guard(app->lock);
		auto state = app->mirror_states.find(fd);
		return state == app->mirror_states.end() ? std::vector<std::byte>{} : state->second.state;
	};
	mirrored = mirrors->tick(now, conns, state_of, seen.backup, renew) ? std::optional(seen) : std::nullopt;
	if (renew)
		next_renewal = now + config.cluster->mirror_period / 2;
}

void Agent::Impl::take_over(const Membership::Death &death, Clock::time_point now)
{
	transport->forget(death.member->address, "the member is dead");
	/* The contact node's place goes to the first of its backups alive. */
	auto next = std::ranges::find_if(config.cluster->backups, [&](const std::string &name) {
		return name == self->name || membership->alive(name);
	});
	if (death.contact && next != config.cluster->backups.end() && *next == self->name) {
		auto seq = mirrors->store().registration_seq();
		log("member " + death.member->name + " was the contact node: this node takes its place (" +
		    (seq ? "its registration's sequence number was " + std::to_string(*seq) : "no registration mirrored") +
		    ")");
		mirrors->store().contact(self->name);
		if (auto ok = signalling->take_registration(config.cluster->service, seq); !ok)
			log("cannot register " + text(config.cluster->service) + ": " + ok.error().describe());
	}
	/*
	 * A mirror is renewed every mirror-period until its member dies; one
	 * older than that before the member fell silent is not the last word
	 * on its connection.
	 */
	auto since = now - death.silent - 2 * config.cluster->mirror_period;
	recoveries->take_over(death.member->name, death.silent, mirrors->store().take(death.member->name, since), now);
}

bool Agent::Impl::registered() const
{
	return std::ranges::any_of(signalling->registrations(),
				   [&](const auto &r) { return same(r.home, config.cluster->service); });
}

bool Agent::Impl::contact_ready() const
{
	const auto &contact = mirrors->store().contact();
	return registered() || (contact != self->name && membership->alive(contact));
}

void Agent::Impl::follow_contact(Clock::time_point now)
{
	const Member *claims = registered() ? self : membership->contact();
	if (claims && claims->name != mirrors->store().contact()) {
		mirrors->store().contact(claims->name);
		if (claims != self) {
			log("the contact node is " + claims->name + " (" + text(claims->address) + ")");
			if (auto ok = signalling->follow_contact(config.cluster->service, claims->address); !ok)
				log("cannot follow the contact node: " + ok.error().describe());
		}
	}
	if (resume_at && (now >= *resume_at || membership->heard_all())) {
		resume_at.reset();
		if (!claims || claims == self)
			signalling->resume_registrations();
	}
}

void Agent::Impl::control_message(std::uint64_t conn, const wire::Message &msg)
{
	switch (msg.type()) {
	case wire::Type::counters: {
		wire::Message reply(wire::Type::reply);
		reply.put_u32(wire::Attr::error, 0);
		for (std::size_t i = 0; i < std::size(counter_fields); i++)
			reply.put_u64(static_cast<wire::Attr>(static_cast<std::size_t>(wire::Attr::counter_base) + i),
				      counters.*counter_fields[i].first);
		transport->send(conn, reply);
		return;
	}
	case wire::Type::register_home:
	case wire::Type::deregister_home:
	case wire::Type::rr:
	case wire::Type::bu:
	case wire::Type::clear:
		return signalling->control(conn, msg);
	case wire::Type::handoff:
	case wire::Type::handoffs:
	case wire::Type::fault:
		return handoffs->control(conn, msg);
	case wire::Type::programs: {
		std::string lines;
		/*
		 * pid name ports (comma-separated, - for none) connections
		 * counters (name=value,..., - for none), then what it says of itself
		 */
		for (const auto &p : programs()) {
			std::string ports;
			for (auto port : p.ports)
				ports += (ports.empty() ? "" : ",") + std::to_string(port);
			auto name = p.name.empty() ? std::string("-") : p.name;
			std::ranges::replace_if(name, [](char c) { return c <= ' '; }, '_');
			std::string counters;
			for (const auto &[key, value] : p.counters)
				counters += (counters.empty() ? "" : ",") + key + '=' + std::to_string(value);
			auto detail = p.detail;
			std::ranges::replace(detail, '\n', ' ');
			lines += std::to_string(p.pid) + ' ' + name + ' ' + (ports.empty() ? "-" : ports) + ' ' +
				 std::to_string(p.connections) + ' ' + (counters.empty() ? "-" : counters) + ' ' + detail +
				 '\n';
		}
		wire::Message reply(wire::Type::reply);
		reply.put_u32(wire::Attr::error, 0).put(wire::Attr::records, lines);
		transport->send(conn, reply);
		return;
	}
	case wire::Type::members:
	case wire::Type::join:
	case wire::Type::leave:
	case wire::Type::proximity:
	case wire::Type::drain:
	case wire::Type::backups:
		if (!membership) {
			Error error{EOPNOTSUPP, "this agent runs without a cluster configuration (--cluster)"};
			transport->send(conn, control_reply(&error));
			return;
		}
		if (msg.type() == wire::Type::backups)
			return backups(conn, msg);
		if (msg.type() != wire::Type::drain)
			return membership->control(conn, msg);
		return handoffs->control(conn, msg);
	default: {
		Error error{EOPNOTSUPP, "unknown request " + std::to_string(int(msg.type()))};
		transport->send(conn, control_reply(&error));
	}
	}
}

void Agent::Impl::peer_message(std::uint64_t conn, const in6_addr &node, const wire::Message &msg)
{
	switch (msg.type()) {
	case wire::Type::home_test:
	case wire::Type::home_test_reply:
		return signalling->peer(conn, node, msg);
	case wire::Type::handoff_prepare:
	case wire::Type::handoff_data:
	case wire::Type::handoff_commit:
	case wire::Type::handoff_reply:
	case wire::Type::handoff_abort:
	case wire::Type::handoff_query:
		return handoffs->peer(conn, node, msg);
	case wire::Type::heartbeat:
		if (membership) {
			/*
			 * At once: what the member sends next may be the registration of a
			 * contact node's place it just took, kept only from the contact node.
			 */
			membership->heartbeat(node, msg, Clock::now());
			follow_contact(Clock::now());
		}
		/* A node that is not in a cluster ignores heartbeats. */
		return;
	case wire::Type::mirror:
	case wire::Type::mirror_still:
	case wire::Type::mirror_gone:
	case wire::Type::mirror_wanted:
	case wire::Type::registration: {
		const Member *member = membership ? membership->member_at(node) : nullptr;
		if (!member) {
			counters.peer_errors++;
			return;
		}
		if (msg.type() == wire::Type::mirror_wanted) {
			if (auto ok = mirrors->wanted(member->name, msg); !ok) {
				counters.peer_errors++;
				log("member " + member->name + ": " + ok.error().describe());
			}
			/* Sent at the next look. */
			mirrored.reset();
			return;
		}
		auto kept = mirrors->store().heard(member->name, msg, Clock::now());
		if (!kept) {
			counters.peer_errors++;
			log("member " + member->name + ": " + kept.error().describe());
			return;
		}
		for (const auto &wanted : conns_messages(wire::Type::mirror_wanted, *kept))
			transport->send(conn, wanted);
		return;
	}
	default:
		/* gecko-ctl's requests are not a peer's to make. */
		counters.peer_errors++;
	}
}

void Agent::Impl::backups(std::uint64_t conn, const wire::Message &msg)
{
	std::optional<in6_addr> client;
	if (msg.has(wire::Attr::client)) {
		auto address = msg.address(wire::Attr::client);
		if (!address) {
			transport->send(conn, control_reply(&address.error()));
			return;
		}
		client = *address;
	}
	auto status = mirrors->status(Clock::now(), client);
	/*
	 * backup NAME|- MIRRORED, then members MEMBER CONNECTIONS OLDEST_MS
	 * for each member whose mirrors are held, and held MEMBER CLIENT
	 * CLIENT_PORT PORT AGE_MS STATE_LEN for each listed
	 */
	std::string lines = "backup " + status.backup.value_or("-") + ' ' + std::to_string(status.mirrored) + '\n';
	for (const auto &m : status.members)
		lines += "member " + m.member + ' ' + std::to_string(m.connections) + ' ' +
			 std::to_string(m.oldest.count()) + '\n';
	/* registration MEMBER HOME SEQ LEFT_S AGE_MS: the contact node's, if this node is one of its backups */
	for (const auto &r : status.registrations)
		lines += "registration " + r.member + ' ' + text(r.home) + ' ' + std::to_string(r.seq) + ' ' +
			 std::to_string(r.left.count()) + ' ' + std::to_string(r.age.count()) + '\n';
	/* recovery MEMBER CLIENT CONNS RECOVERED SILENT_MS SIGNALLING_US PROBE_US TOTAL_US [ERROR] */
	for (const auto &r : recoveries->records())
		lines += "recovery " + r.member + ' ' + text(r.client) + ' ' + std::to_string(r.conns) + ' ' +
			 std::to_string(r.recovered) + ' ' + std::to_string(r.silent.count()) + ' ' +
			 std::to_string(r.signalling.count()) + ' ' + std::to_string(r.probe.count()) + ' ' +
			 std::to_string(r.total.count()) + (r.error.empty() ? "" : ' ' + r.error) + '\n';
	for (const auto &h : status.held)
		lines += "held " + h.member + ' ' + text(h.client) + ' ' + std::to_string(h.client_port) + ' ' +
			 std::to_string(h.port) + ' ' + std::to_string(h.age.count()) + ' ' + std::to_string(h.state_len) +
			 '\n';
	wire::Message reply(wire::Type::reply);
	reply.put_u32(wire::Attr::error, 0).put(wire::Attr::records, lines);
	transport->send(conn, reply);
}

wire::Mode Agent::Impl::mode()
{
	if (!app)
		return wire::Mode::serving;
	std::lock_guard guard(app->lock);
	auto mode = static_cast<wire::Mode>(app->mode);
	return mode == wire::Mode::serving && app->unavailable ? wire::Mode::unavailable : mode;
}

std::vector<ProgramStatus> Agent::Impl::programs()
{
	if (!app)
		return {};
	std::lock_guard guard(app->lock);
	if (app->programs)
		return *app->programs;
	ProgramStatus self{getpid(), program_invocation_short_name, {app->ports.begin(), app->ports.end()},
			   static_cast<std::uint32_t>(app->conns.size()), app->description, app->counters};
	return {self};
}

std::uint32_t Agent::Impl::connections()
{
	if (!app)
		return 0;
	std::lock_guard guard(app->lock);
	return static_cast<std::uint32_t>(app->conns.size());
}

void Agent::Impl::closed(std::uint64_t conn, const std::optional<in6_addr> &node, const std::string &why)
{
	signalling->closed(conn, node, why);
	handoffs->closed(conn);
}

void Agent::Impl::job_done(const Key &key, Signalling::Kind kind, const Error *error)
{
	if (recoveries && recoveries->owns(key))
		return recoveries->job_done(key, kind, error);
	handoffs->job_done(key, kind, error);
}

} // namespace gecko::agent
