// SPDX-License-Identifier: GPL-2.0-only
/*
 * gecko-policy-echo: the original design's example, on the high-level API
 * (gecko/framework.h). A TCP echo run on every node of a distributed
 * server from one configuration file: the contact node places each new
 * client by the policy, and a connection moves on to the member the
 * policy picks each time what it read holds an 'H'. One thread per
 * connection, blocking calls, as the API's simplest use. See
 * gecko-policy-echo(8) and Documentation/framework.md.
 */

#include "server.h"

#include <options.h>
#include <signals.h>

#include <gecko/address.h>
#include <gecko/framework.h>

#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <csignal>
#include <atomic>
#include <cstring>
#include <iostream>
#include <list>
#include <mutex>
#include <thread>

namespace po = boost::program_options;

namespace gecko::examples {

namespace {

struct EchoOptions {
	std::string cluster;
	std::uint16_t port = 7;
	std::optional<std::string> policy;
};

/* The connections being served, so that a stop can end their threads. */
class Sessions {
public:
	/* Serves @socket on a thread of its own until the client is done or the connection moves. */
	void start(GeckoSocket socket)
	{
		std::lock_guard guard(lock_);
		std::erase_if(threads_, [](const Entry &e) { return e.session->done.load(); });
		auto session = std::make_shared<Session>();
		session->socket = std::move(socket);
		threads_.push_back({session, std::jthread([session] {
					    serve(session->socket);
					    /* Closed at once: a connection that ended counts nowhere any more. */
					    std::lock_guard closing(session->lock);
					    session->socket.Close();
					    session->done = true;
				    })});
	}

	/* Ends every connection still served here, and waits for their threads. */
	void stop()
	{
		std::lock_guard guard(lock_);
		for (auto &e : threads_) {
			std::lock_guard closing(e.session->lock);
			if (e.session->socket.fd() >= 0)
				::shutdown(e.session->socket.fd(), SHUT_RDWR);
		}
		threads_.clear();
	}

private:
	struct Session {
		std::mutex lock;	/* the socket's closing, against stop()'s shutdown() */
		GeckoSocket socket;
		std::atomic<bool> done = false;
	};
	struct Entry {
		std::shared_ptr<Session> session;
		std::jthread thread;
	};

	static void serve(GeckoSocket &socket)
	{
		auto client = format_address(socket.GetPeerName().sin6_addr);
		say("serving ", client, " port ", ntohs(socket.GetPeerName().sin6_port), " (", socket.BytesReceived(),
		    " octets received and ", socket.BytesSent(), " sent so far)");
		std::byte buf[65536];
		for (;;) {
			auto n = socket.Read(buf);
			if (!n || *n == 0) {
				if (!n)
					say(client, ": ", n.error().describe());
				return;
			}
			std::span<const std::byte> got(buf, *n);
			if (auto w = socket.Write(got); !w) {
				say(client, ": ", w.error().describe());
				return;
			}
			if (std::ranges::find(got, std::byte{'H'}) == got.end())
				continue;
			/* Everything read went back: nothing to carry but the connection. */
			if (auto ok = socket.Handoff(); !ok) {
				say(client, ": stays here: ", ok.error().describe());
				continue;
			}
			say(client, ": handed off after ", socket.BytesReceived(), " octets");
			return;
		}
	}

	std::mutex lock_;
	std::list<Entry> threads_;
};

int run(const EchoOptions &options)
{
	/* Blocked before any thread starts, so that every thread inherits the mask. */
	auto sigs = daemon::SignalFd::open({SIGINT, SIGTERM});
	if (!sigs) {
		say("gecko-policy-echo: ", sigs.error().describe());
		return exit_failure;
	}
	/* Two descriptors per connection (the socket and its wake-up), and the agent's own copies during a handoff. */
	if (rlimit nofile; ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		if (::setrlimit(RLIMIT_NOFILE, &nofile) < 0)
			say("gecko-policy-echo: cannot raise the limit on open files: ", std::strerror(errno));
	}
	FrameworkOptions fo;
	fo.policy = options.policy;
	fo.log = say_line;
	auto framework = GeckoFramework::Create(options.cluster, fo);
	if (!framework) {
		say("gecko-policy-echo: ", framework.error().describe());
		return exit_failure;
	}
	auto server = GeckoServerSocket::Listen(*framework, options.port);
	if (!server) {
		say("gecko-policy-echo: ", server.error().describe());
		return exit_failure;
	}
	(void)server->SetNonBlocking();
	say("gecko-policy-echo: serving port ", options.port, " on ", framework->self().name);

	Sessions sessions;
	int status = 0;
	for (;;) {
		pollfd fds[] = {{sigs->fd(), POLLIN, 0}, {server->fd(), POLLIN, 0}};
		if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
			say("gecko-policy-echo: poll: ", std::strerror(errno));
			status = exit_failure;
			break;
		}
		if (fds[0].revents) {
			say("gecko-policy-echo: stopped on signal ", sigs->take());
			break;
		}
		for (;;) {
			auto socket = server->Accept();
			if (!socket)
				break;
			sessions.start(std::move(*socket));
		}
	}
	sessions.stop();
	return status;
}

} // namespace

} // namespace gecko::examples

int main(int argc, char *argv[])
{
	using namespace gecko;
	static constexpr daemon::Program program = {
		"gecko-policy-echo",
		"A TCP echo served by every node of a Gecko distributed server: the contact node\n"
		"places each new client by the configuration's policy, and a connection moves to\n"
		"another member each time what the server reads from it holds an 'H'.",
		"See gecko-policy-echo(8).",
	};
	po::options_description opts("Options");
	opts.add_options()
		("cluster", po::value<std::string>()->required(), "the distributed server's configuration (gecko.conf(5))")
		("port", po::value<std::uint16_t>()->default_value(7), "G's port to serve")
		("policy", po::value<std::string>(), "the redirection policy, instead of the file's");
	auto options = daemon::parse_options<examples::EchoOptions>(program, opts, {argv + 1, argv + argc}, std::cout,
								 std::cerr, [](const po::variables_map &vm) {
									 examples::EchoOptions o;
									 o.cluster = vm["cluster"].as<std::string>();
									 o.port = vm["port"].as<std::uint16_t>();
									 if (vm.count("policy"))
										 o.policy = vm["policy"].as<std::string>();
									 return o;
								 });
	if (auto *status = std::get_if<int>(&options))
		return *status;
	return examples::run(std::get<examples::EchoOptions>(options));
}
