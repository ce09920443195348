// SPDX-License-Identifier: GPL-2.0-only
/*
 * geckoproxy: a distributed server for a program that knows nothing of
 * Gecko. It runs on every node in front of the local program, on the high-level
 * API (gecko/framework.h): the contact node's proxy places each new client
 * by the configuration's policy, and the proxy of the node that serves it
 * relays the connection to the program's local port (relay.h). See
 * geckoproxy(8).
 */

#include "framing.h"
#include "health.h"
#include "mailbox.h"
#include "relay.h"

#include <coarse_clock.h>
#include <log.h>
#include <options.h>
#include <signals.h>

#include <gecko/address.h>
#include <gecko/framework.h>

#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <variant>

namespace po = boost::program_options;

namespace gecko::proxy {

namespace {

constexpr int exit_failure = 1;

struct Options {
	std::string cluster;
	std::uint16_t app_port = 0;
	std::uint16_t port = 0;	/* G's */
	std::vector<sockaddr_in6> program;
	std::optional<std::string> policy;
	std::size_t max_connections = 0;
	std::chrono::milliseconds check_interval{};	/* 0: no health check */
	unsigned fall = 0, rise = 0;
	std::chrono::milliseconds connect_timeout{}, idle_timeout{};
	bool proxy_protocol = false;
	bool http = false;	/* --mode http */
	std::chrono::milliseconds drain_timeout{};	/* 0: a stop signal resets at once */
	unsigned threads = 0;	/* the relay's */
};

po::options_description option_descriptions()
{
	po::options_description opts("Options");
	opts.add_options()
		("cluster,g", po::value<std::string>()->required(), "the distributed server's configuration (gecko.conf(5))")
		("app-port,a", po::value<std::uint16_t>()->required(), "the local program's port")
		("app-address", po::value<std::string>()->default_value("localhost"),
		 "the local program's address (localhost: ::1, then 127.0.0.1)")
		("port,p", po::value<std::uint16_t>(), "G's port to serve (default: the program's port)")
		("policy", po::value<std::string>(), "the redirection policy, instead of the file's")
		("max-connections", po::value<std::size_t>()->default_value(10000),
		 "connections relayed at once; more wait to be accepted")
		("threads", po::value<unsigned>()->default_value(0),
		 "threads that relay the connections (0: one per CPU the process may run on)")
		("mode", po::value<std::string>()->default_value("tcp"),
		 "tcp: relay the octets; http: frame HTTP/1.1, and let a connection move between two requests")
		("proxy-protocol", po::bool_switch(), "start each connection to the program with a PROXY protocol v2 header")
		("connect-timeout", po::value<std::string>()->default_value("5s"),
		 "give up an address of the program that has not answered by then")
		("idle-timeout", po::value<std::string>()->default_value("0"),
		 "reset a connection where nothing moved for that long (0: never)")
		("check-interval", po::value<std::string>()->default_value("2s"),
		 "health check of the program: a connection this often (0: none)")
		("check-fall", po::value<unsigned>()->default_value(3), "failed checks in a row that make the program down")
		("check-rise", po::value<unsigned>()->default_value(2), "good checks in a row that make it up again")
		("drain-timeout", po::value<std::string>()->default_value("30s"),
		 "on SIGTERM, how long the connections relayed have to end (0: reset them at once)");
	return opts;
}

/* A duration as gecko.conf(5) writes them: milliseconds, or with "ms" or "s". */
std::chrono::milliseconds duration(const po::variables_map &vm, const char *option)
{
	auto text = vm[option].as<std::string>();
	std::size_t end = 0;
	unsigned long long n = 0;
	try {
		n = std::stoull(text, &end);
	} catch (const std::exception &) {
		end = 0;
	}
	auto unit = text.substr(end);
	bool digits = end > 0 && std::isdigit(static_cast<unsigned char>(text[0]));
	if (!digits || (unit != "" && unit != "ms" && unit != "s") || n > 86400000)
		throw daemon::Usage{std::string("--") + option + ": '" + text +
				    "' is not a duration: a whole number of milliseconds, or with 'ms' or 's' (at most a day)"};
	return std::chrono::milliseconds(unit == "s" ? n * 1000 : n);
}

sockaddr_in6 endpoint(const in6_addr &addr, std::uint16_t port)
{
	sockaddr_in6 sa{};
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = addr;
	sa.sin6_port = htons(port);
	return sa;
}

/* --app-address: an IPv6 or IPv4 address; "localhost" is ::1, then 127.0.0.1. */
std::vector<sockaddr_in6> program_addresses(const std::string &text, std::uint16_t port)
{
	in6_addr addr{};
	if (text == "localhost")
		return {endpoint(in6addr_loopback, port), endpoint(*parse_address("::ffff:127.0.0.1"), port)};
	if (auto v6 = parse_address(text))
		return {endpoint(*v6, port)};
	in_addr v4{};
	if (::inet_pton(AF_INET, text.c_str(), &v4) != 1)
		throw daemon::Usage{"--app-address: '" + text + "' is not an IPv6 or IPv4 address"};
	addr.s6_addr[10] = addr.s6_addr[11] = 0xff;
	std::memcpy(&addr.s6_addr[12], &v4, 4);
	return {endpoint(addr, port)};
}

/* The CPUs this process may run on. */
unsigned cpus()
{
	cpu_set_t set;
	if (::sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return static_cast<unsigned>(CPU_COUNT(&set));
	return std::max(std::thread::hardware_concurrency(), 1U);
}

Options to_options(const po::variables_map &vm)
{
	Options o;
	o.cluster = vm["cluster"].as<std::string>();
	o.app_port = vm["app-port"].as<std::uint16_t>();
	o.port = vm.count("port") ? vm["port"].as<std::uint16_t>() : o.app_port;
	if (o.app_port == 0 || o.port == 0)
		throw daemon::Usage{"a port cannot be 0"};
	o.program = program_addresses(vm["app-address"].as<std::string>(), o.app_port);
	if (vm.count("policy"))
		o.policy = vm["policy"].as<std::string>();
	o.max_connections = vm["max-connections"].as<std::size_t>();
	if (o.max_connections == 0)
		throw daemon::Usage{"--max-connections must be at least 1"};
	o.check_interval = duration(vm, "check-interval");
	o.fall = vm["check-fall"].as<unsigned>();
	o.rise = vm["check-rise"].as<unsigned>();
	if (o.fall == 0 || o.rise == 0)
		throw daemon::Usage{"--check-fall and --check-rise must be at least 1"};
	o.connect_timeout = duration(vm, "connect-timeout");
	if (o.connect_timeout.count() == 0)
		throw daemon::Usage{"--connect-timeout cannot be 0"};
	o.idle_timeout = duration(vm, "idle-timeout");
	o.proxy_protocol = vm["proxy-protocol"].as<bool>();
	auto mode = vm["mode"].as<std::string>();
	if (mode != "tcp" && mode != "http")
		throw daemon::Usage{"--mode: '" + mode + "' is not tcp or http"};
	o.http = mode == "http";
	o.drain_timeout = duration(vm, "drain-timeout");
	o.threads = vm["threads"].as<unsigned>();
	if (o.threads == 0)
		o.threads = cpus();
	if (o.threads > 256)
		throw daemon::Usage{"--threads: at most 256"};
	return o;
}

std::string describe(const sockaddr_in6 &sa)
{
	return '[' + format_address(sa.sin6_addr) + "]:" + std::to_string(ntohs(sa.sin6_port));
}

/*
 * A relayed connection takes eight descriptors: its two sockets, two
 * pipes, the framework's eventfd and the node agent's copy of the
 * client's socket (when the agent runs in this process).
 */
constexpr std::size_t fds_per_connection = 8;
constexpr std::size_t fds_reserved = 256;

/*
 * Raises the limit on open files to what @max_connections need, past the
 * hard limit when the process may (CAP_SYS_RESOURCE), else to the hard
 * limit; returns how many connections fit in the limit it got.
 */
std::size_t raise_open_files(std::size_t max_connections)
{
	rlimit nofile{};
	if (::getrlimit(RLIMIT_NOFILE, &nofile) < 0)
		return max_connections;
	rlim_t want = max_connections * fds_per_connection + fds_reserved;
	if (want > nofile.rlim_cur) {
		rlimit more{want, std::max(want, nofile.rlim_max)};
		if (::setrlimit(RLIMIT_NOFILE, &more) == 0) {
			nofile = more;
		} else if (nofile.rlim_cur < nofile.rlim_max) {
			nofile.rlim_cur = nofile.rlim_max;
			(void)::setrlimit(RLIMIT_NOFILE, &nofile);
		}
	}
	std::size_t fit = nofile.rlim_cur > fds_reserved + fds_per_connection
				  ? (nofile.rlim_cur - fds_reserved) / fds_per_connection
				  : 1;
	if (fit >= max_connections)
		return max_connections;
	daemon::log("geckoproxy: the limit on open files (", nofile.rlim_cur, ") lets ", fit,
		    " connections be relayed at once, not --max-connections ", max_connections,
		    ": raise it (systemd: LimitNOFILE=)");
	return fit;
}

/*
 * The proxy of one node: the framework's server socket, the relay, the
 * health check, and what SIGHUP and SIGTERM ask of them. The relay's
 * threads take the new clients from the server socket themselves, end
 * sessions (their log lines and counters), and post here what only this
 * thread does: a client sent elsewhere.
 */
class Proxy {
public:
	Proxy(Options options, GeckoFramework framework, GeckoServerSocket server, Mailbox<std::function<void()>> inbox)
		: options_(std::move(options)), framework_(std::move(framework)), server_(std::move(server)),
		  node_(framework_.self().name), inbox_(std::move(inbox))
	{
	}

	/* The relay first: its threads end their sessions into the members below. */
	~Proxy() { relay_.reset(); }

	/* The relay and the health check, from the options. */
	Result<void> start()
	{
		auto ro = relay_options(options_);
		ro.ended = [this](std::span<const SessionEnd> ends) {
			daemon::LogLines lines;
			for (const auto &e : ends)
				lines.add("geckoproxy: client=", describe(e.client), " node=", node_, " in=", e.from_client,
					  " out=", e.to_client, " ms=", e.duration.count(), " end=\"", e.how, '"');
			lines.write();
			count(ends);
			/* A drain ends with the last session: this thread looks at once. */
			if (draining_)
				inbox_.post([] {});
		};
		http_ = options_.http;
		/* The relay threads accept new clients themselves: no wake-up of the framework's thread for each. */
		auto listening = server_.ShareListeningSocket();
		if (!listening)
			return std::unexpected(listening.error());
		auto relay = RelayThreads::create(std::move(ro), options_.threads,
						  {{server_.fd(), *listening}, [this] { return take(); }},
						  raise_open_files(options_.max_connections));
		if (!relay)
			return std::unexpected(relay.error());
		relay_.emplace(std::move(*relay));
		if (auto ok = start_health(true); !ok)
			return ok;
		daemon::log("geckoproxy: ", node_, " serves port ", options_.port, " of ",
			    format_address(framework_.cluster().service), " from ", describe(options_.program.front()),
			    options_.http ? ", HTTP mode" : "", options_.proxy_protocol ? ", with the PROXY protocol" : "",
			    ", ", relay_->threads(), relay_->threads() == 1 ? " relay thread" : " relay threads");
		return {};
	}

	/* Until a stop signal, or the end of the drain it starts. */
	int run(daemon::SignalFd &sigs, const std::function<std::variant<Options, int>(std::ostream &)> &reparse)
	{
		for (;;) {
			int timeout = publish();
			if (draining_) {
				if (relay_->sessions() == 0) {
					daemon::log("geckoproxy: stopped: every connection ended");
					return daemon::exit_ok;
				}
				auto left = std::chrono::duration_cast<std::chrono::milliseconds>(drain_end_ - Clock::now());
				if (left.count() <= 0) {
					daemon::log("geckoproxy: stopped: ", relay_->sessions(),
						    " connection(s) still open after the drain timeout were reset");
					return daemon::exit_ok;
				}
				int until_end = static_cast<int>(std::min<long long>(left.count() + 1, 1000));
				timeout = timeout < 0 ? until_end : std::min(timeout, until_end);
			}
			pollfd fds[] = {{sigs.fd(), POLLIN, 0},
					{inbox_.fd(), POLLIN, 0},
					{health_ ? health_->fd() : -1, POLLIN, 0}};
			if (::poll(fds, 3, timeout) < 0 && errno != EINTR) {
				daemon::log("geckoproxy: poll: ", std::strerror(errno));
				return exit_failure;
			}
			if (fds[0].revents) {
				int sig = sigs.take();
				if (sig == SIGHUP) {
					std::ostringstream why;
					auto options = reparse(why);
					if (auto *o = std::get_if<Options>(&options))
						reload(std::move(*o));
					else
						daemon::log("geckoproxy: reload refused, the options stay as they were: ",
							    trim(why.str()));
				} else if (draining_ || options_.drain_timeout.count() == 0) {
					daemon::log("geckoproxy: stopped on signal ", sig, ", ", relay_->sessions(),
						    " connection(s) reset");
					return daemon::exit_ok;
				} else {
					drain(sig);
				}
			}
			if (fds[1].revents)
				for (auto &task : inbox_.take())
					task();
			if (fds[2].revents)
				health_->run();
		}
	}

private:
	using Clock = daemon::CoarseClock;

	static RelayOptions relay_options(const Options &o)
	{
		RelayOptions ro;
		ro.program = o.program;
		ro.connect_timeout = o.connect_timeout;
		ro.idle_timeout = o.idle_timeout;
		ro.proxy_protocol = o.proxy_protocol;
		ro.http = o.http;
		return ro;
	}

	static std::string trim(std::string text)
	{
		while (!text.empty() && text.back() == '\n')
			text.pop_back();
		return text;
	}

	/* The health check as the options say, from the state @up. */
	Result<void> start_health(bool up)
	{
		health_.reset();
		if (options_.check_interval.count() == 0) {
			set_available(true);
			return {};
		}
		HealthOptions ho;
		ho.program = options_.program;
		ho.interval = options_.check_interval;
		ho.fall = options_.fall;
		ho.rise = options_.rise;
		ho.up = up;
		ho.changed = [this](bool up, const std::string &why) {
			if (up)
				daemon::log("geckoproxy: the program is up again", draining_ ? "" : ": this node takes new clients");
			else
				daemon::log("geckoproxy: the program is down (", why, ", ", options_.fall,
					    " checks in a row): new clients go to other members");
			{
				std::lock_guard guard(counts_lock_);
				counts_.program_down += up ? 0 : 1;
				counts_.dirty = true;
			}
			set_available(up);
		};
		auto h = HealthCheck::create(std::move(ho));
		if (!h)
			return std::unexpected(h.error());
		health_.emplace(std::move(*h));
		return {};
	}

	/* What gecko-ctl programs shows: the sessions by how they ended, the octets, the program's health. */
	struct Counts {
		std::uint64_t accepted = 0, closed = 0, client_errors = 0, program_errors = 0, program_refused = 0,
			      sent_elsewhere = 0, idle_timeouts = 0, taken_over = 0, handed_off = 0, recovered = 0,
			      in_octets = 0, out_octets = 0, program_down = 0;
		bool dirty = true;
		Clock::time_point published;
	};

	/* On a relay thread. */
	void count(std::span<const SessionEnd> ends)
	{
		std::lock_guard guard(counts_lock_);
		for (const auto &e : ends)
			count(e);
		/* The main thread sleeps until something happens: its next publish() is due. */
		if (!std::exchange(counts_.dirty, true))
			inbox_.post([] {});
	}

	/* Under counts_lock_. */
	void count(const SessionEnd &e)
	{
		auto starts = [&e](std::string_view prefix) { return e.how.starts_with(prefix); };
		if (e.how == "closed")
			counts_.closed++;
		else if (starts("client"))
			counts_.client_errors++;
		else if (e.how.ends_with("sent to another member"))
			return;	/* counted as sent_elsewhere */
		else if (starts("program refused") || starts("program did not answer"))
			counts_.program_refused++;
		else if (starts("program"))
			counts_.program_errors++;
		else if (starts("idle"))
			counts_.idle_timeouts++;
		else if (starts("reset: taken over"))
			counts_.taken_over++;
		else if (starts("handed off"))
			counts_.handed_off++;
		counts_.in_octets += e.from_client;
		counts_.out_octets += e.to_client;
	}

	/* Gives the counters to the framework at most once a second; the poll timeout until the next time, if due. */
	int publish()
	{
		std::unique_lock guard(counts_lock_);
		if (!counts_.dirty)
			return -1;
		auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(counts_.published +
										std::chrono::seconds(1) - Clock::now());
		if (wait.count() > 0)
			return static_cast<int>(wait.count());
		const auto c = counts_;
		counts_.dirty = false;
		counts_.published = Clock::now();
		guard.unlock();
		(void)framework_.SetCounters({{"sessions", relay_->sessions()},
					       {"accepted", c.accepted},
					       {"closed", c.closed},
					       {"client_errors", c.client_errors},
					       {"program_errors", c.program_errors},
					       {"program_refused", c.program_refused},
					       {"sent_elsewhere", c.sent_elsewhere},
					       {"idle_timeouts", c.idle_timeouts},
					       {"taken_over", c.taken_over},
					       {"handed_off", c.handed_off},
					       {"recovered", c.recovered},
					       {"in_octets", c.in_octets},
					       {"out_octets", c.out_octets},
					       {"program_up", health_ && !health_->up() ? 0U : 1U},
					       {"program_down", c.program_down}});
		return -1;
	}

	/* A draining proxy takes no new client, whatever its program's health. */
	void set_available(bool up)
	{
		framework_.SetAvailable(up && !draining_);
	}

	/*
	 * On a relay thread: the next client the framework gives this node,
	 * to relay or to refuse; nothing when none waits.
	 */
	std::optional<NewClient> take()
	{
		for (;;) {
			auto socket = server_.Accept();
			if (!socket)
				return std::nullopt;
			/* The proxy moves the octets itself: the connection is not to be taken mid-exchange. */
			if (!socket->Hold(true)) {
				daemon::log("geckoproxy: client=", describe(socket->GetPeerName()), " node=", node_,
					    " end=\"moved to another member before it was accepted\"");
				continue;
			}
			/*
			 * Taken over from a dead member: the program here never saw
			 * the exchange it is in, unless the connection was between
			 * two requests (HTTP mode): then the next request goes to
			 * the program here. Otherwise a clean reset rather than a
			 * stream that goes on wrong.
			 */
			bool resumed = socket->Recovered();
			bool between = resumed && http_ &&
				       http::resumes_at(socket->State(), socket->BytesReceived(), socket->BytesSent());
			if (between)
				daemon::log("geckoproxy: client=", describe(socket->GetPeerName()), " node=", node_,
					    " recovered between requests: its next request goes to the program here");
			{
				std::lock_guard guard(counts_lock_);
				counts_.accepted++;
				counts_.recovered += between ? 1 : 0;
				/* The main thread sleeps until something happens: its next publish() is due. */
				if (!std::exchange(counts_.dirty, true))
					inbox_.post([] {});
			}
			auto held = std::make_shared<GeckoSocket>(std::move(*socket));
			NewClient c{{held->fd(), held->GetPeerName(), [held] { held->Close(); },
				     [this, held] { inbox_.post([this, held] { elsewhere(held); }); },
				     [held](bool hold) {
					     /* The boundary first: a handoff may start once it is let go. */
					     if (!hold)
						     held->SetState(http::boundary(held->fd()));
					     return held->Hold(hold);
				     }},
				    std::nullopt};
			if (resumed && !between)
				c.refused = "reset: taken over mid-stream (at octet " + std::to_string(held->BytesSent()) +
					    " sent, " + std::to_string(held->BytesReceived()) + " received; " +
					    http::describe_boundary(held->State()) + "), the program cannot resume it";
			return c;
		}
	}

	/*
	 * The program refused a new client (it died since the last health
	 * check): the client goes to another member, untouched, on a thread
	 * of its own (a handoff takes a moment), one after another of the
	 * members alive until one takes it; it is reset if none does. The
	 * next health check comes at once.
	 */
	void elsewhere(const std::shared_ptr<GeckoSocket> &held)
	{
		{
			std::lock_guard guard(counts_lock_);
			counts_.sent_elsewhere++;
			counts_.dirty = true;
		}
		if (health_)
			health_->check_now();
		std::vector<in6_addr> others;
		for (const auto &m : framework_.Members())
			if (m.state == agent::MemberStatus::State::alive)
				others.push_back(m.address);
		if (*moving_ >= max_moving || others.empty()) {
			abort_connection(held->fd());
			held->Close();
			daemon::log("geckoproxy: client=", describe(held->GetPeerName()), " node=", node_,
				    " end=\"reset: the program refused it and ",
				    others.empty() ? "no other member is alive" : "too many clients go elsewhere already",
				    '"');
			return;
		}
		/* The members in turn: the clients of a program that died spread. */
		std::rotate(others.begin(), others.begin() + static_cast<std::ptrdiff_t>(turn_++ % others.size()),
			    others.end());
		++*moving_;
		std::thread([held, others = std::move(others), moving = moving_, node = node_] {
			held->Hold(false);
			std::optional<Error> why;
			for (const auto &to : others) {
				auto ok = held->Handoff(to);
				if (ok || ok.error().code == ENOTCONN) {
					why.reset();
					break;
				}
				why = ok.error();
			}
			if (why) {
				abort_connection(held->fd());
				daemon::log("geckoproxy: client=", describe(held->GetPeerName()), " node=", node,
					    " end=\"reset: the program refused it and no member took it: ", why->describe(),
					    '"');
			}
			held->Close();
			--*moving;
		}).detach();
	}

	/*
	 * SIGHUP: the options again, from the command line and the --config
	 * file. What the relay and the health check use applies at once (the
	 * program's address to the next connections); the connections relayed
	 * go on. The distributed server's file and G's port need a restart.
	 */
	void reload(Options o)
	{
		if (o.cluster != options_.cluster || o.port != options_.port || o.threads != options_.threads)
			daemon::log("geckoproxy: reload: --cluster, --port and --threads take effect at the next start only");
		o.cluster = options_.cluster;
		o.port = options_.port;
		o.threads = options_.threads;
		std::unique_ptr<GeckoPolicy> policy;
		if (o.policy != options_.policy) {
			auto made = make_policy(o.policy.value_or(framework_.cluster().policy));
			if (!made) {
				daemon::log("geckoproxy: reload refused: --policy: ", made.error().describe());
				return;
			}
			policy = std::move(*made);
		}
		if (auto ok = relay_->configure(relay_options(o)); !ok) {
			daemon::log("geckoproxy: reload refused: ", ok.error().describe());
			return;
		}
		if (policy)
			framework_.SetPolicy(std::move(policy));
		bool up = health_ ? health_->up() : true;
		options_ = std::move(o);
		http_ = options_.http;
		relay_->set_limit(raise_open_files(options_.max_connections));
		if (auto ok = start_health(up); !ok)
			daemon::log("geckoproxy: reload: the health check: ", ok.error().describe());
		daemon::log("geckoproxy: reloaded: program ", describe(options_.program.front()), ", ",
			    relay_->sessions(), " connection(s) go on");
	}

	/* SIGTERM or SIGINT: new clients to other members; the connections relayed end on their own. */
	void drain(int sig)
	{
		draining_ = true;
		drain_end_ = Clock::now() + options_.drain_timeout;
		set_available(false);
		daemon::log("geckoproxy: stopping on signal ", sig, ": new clients go to other members, ",
			    relay_->sessions(), " connection(s) to end within ", options_.drain_timeout.count(),
			    " ms (a second signal stops at once)");
	}

	Options options_;
	GeckoFramework framework_;
	GeckoServerSocket server_;
	std::string node_;
	Mailbox<std::function<void()>> inbox_;
	std::optional<RelayThreads> relay_;
	std::optional<HealthCheck> health_;
	/* Clients on their way elsewhere (shared with their threads, which may outlive the proxy). */
	static constexpr unsigned max_moving = 64;
	std::shared_ptr<std::atomic<unsigned>> moving_ = std::make_shared<std::atomic<unsigned>>(0);
	std::size_t turn_ = 0;
	std::atomic<bool> http_{false};	/* options_.http, for the relay's threads */
	std::mutex counts_lock_;
	Counts counts_;
	std::atomic<bool> draining_{false};
	Clock::time_point drain_end_;
};

int run(const Options &options, const std::function<std::variant<Options, int>(std::ostream &)> &reparse)
{
	/* Blocked before the framework's threads start, so that they inherit the mask. */
	auto sigs = daemon::SignalFd::open({SIGINT, SIGTERM, SIGHUP});
	if (!sigs) {
		daemon::log("geckoproxy: ", sigs.error().describe());
		return exit_failure;
	}
	FrameworkOptions fo;
	fo.policy = options.policy;
	fo.log = [](const std::string &line) { daemon::log(line); };
	auto framework = GeckoFramework::Create(options.cluster, fo);
	if (!framework) {
		daemon::log("geckoproxy: ", framework.error().describe());
		return exit_failure;
	}
	auto server = GeckoServerSocket::Listen(*framework, options.port);
	if (!server) {
		daemon::log("geckoproxy: port ", options.port, ": ", server.error().describe());
		return exit_failure;
	}
	(void)server->SetNonBlocking();
	for (const auto &o : client_options())
		(void)server->SetOption(o.level, o.name, o.value);
	auto inbox = Mailbox<std::function<void()>>::create();
	if (!inbox) {
		daemon::log("geckoproxy: ", inbox.error().describe());
		return exit_failure;
	}
	Proxy proxy(options, std::move(*framework), std::move(*server), std::move(*inbox));
	if (auto ok = proxy.start(); !ok) {
		daemon::log("geckoproxy: ", ok.error().describe());
		return exit_failure;
	}
	return proxy.run(*sigs, reparse);
}

} // namespace

} // namespace gecko::proxy

int main(int argc, char *argv[])
{
	using namespace gecko;
	static constexpr daemon::Program program = {
		"geckoproxy",
		"Makes a program that knows nothing of Gecko a distributed server: run on every\n"
		"node in front of the local program, the proxies place each new client on a node\n"
		"by the configuration's policy, and that node's proxy relays the connection to\n"
		"the program's local port.",
		"See geckoproxy(8).",
	};
	std::vector<std::string> args(argv + 1, argv + argc);
	auto parse = [&](std::ostream &out, std::ostream &err) {
		return daemon::parse_options<proxy::Options>(program, proxy::option_descriptions(), args, out, err,
							      proxy::to_options);
	};
	auto options = parse(std::cout, std::cerr);
	if (auto *status = std::get_if<int>(&options))
		return *status;
	return proxy::run(std::get<proxy::Options>(options), [&](std::ostream &why) { return parse(why, why); });
}
