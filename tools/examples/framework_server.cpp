// SPDX-License-Identifier: GPL-2.0-only

#include "framework_server.h"
#include "server.h"

#include <signals.h>

#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

namespace po = boost::program_options;

namespace gecko::examples {

namespace {

/* The connections being served, so that a stop can end their threads. */
class Sessions {
public:
	explicit Sessions(std::function<void(GeckoSocket &)> serve) : serve_(std::move(serve)) {}

	/* Serves @socket on a thread of its own until the client is done or the connection moves. */
	void start(GeckoSocket socket)
	{
		std::lock_guard guard(lock_);
		std::erase_if(threads_, [](const Entry &e) { return e.session->done.load(); });
		auto session = std::make_shared<Session>();
		session->socket = std::move(socket);
		threads_.push_back({session, std::jthread([session, this] {
					    serve_(session->socket);
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

	std::function<void(GeckoSocket &)> serve_;
	std::mutex lock_;
	std::list<Entry> threads_;
};

} // namespace

void add_framework_options(po::options_description &opts, std::uint16_t port)
{
	opts.add_options()
		("cluster", po::value<std::string>()->required(), "the distributed server's configuration (gecko.conf(5))")
		("port", po::value<std::uint16_t>()->default_value(port), "G's port to serve")
		("policy", po::value<std::string>(), "the redirection policy, instead of the file's");
}

FrameworkServerOptions framework_options(const po::variables_map &vm)
{
	FrameworkServerOptions o;
	o.cluster = vm["cluster"].as<std::string>();
	o.port = vm["port"].as<std::uint16_t>();
	if (vm.count("policy"))
		o.policy = vm["policy"].as<std::string>();
	return o;
}

int run_framework_server(std::string_view name, const FrameworkServerOptions &options,
			 std::function<void(GeckoSocket &)> serve)
{
	/* Blocked before any thread starts, so that every thread inherits the mask. */
	auto sigs = daemon::SignalFd::open({SIGINT, SIGTERM});
	if (!sigs) {
		say(name, ": ", sigs.error().describe());
		return exit_failure;
	}
	/* Two descriptors per connection (the socket and its wake-up), and the agent's own copies during a handoff. */
	if (rlimit nofile; ::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		if (::setrlimit(RLIMIT_NOFILE, &nofile) < 0)
			say(name, ": cannot raise the limit on open files: ", std::strerror(errno));
	}
	FrameworkOptions fo;
	fo.policy = options.policy;
	fo.log = say_line;
	auto framework = GeckoFramework::Create(options.cluster, fo);
	if (!framework) {
		say(name, ": ", framework.error().describe());
		return exit_failure;
	}
	auto server = GeckoServerSocket::Listen(*framework, options.port);
	if (!server) {
		say(name, ": ", server.error().describe());
		return exit_failure;
	}
	(void)server->SetNonBlocking();
	say(name, ": serving port ", options.port, " on ", framework->self().name);

	Sessions sessions(std::move(serve));
	int status = 0;
	for (;;) {
		pollfd fds[] = {{sigs->fd(), POLLIN, 0}, {server->fd(), POLLIN, 0}};
		if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
			say(name, ": poll: ", std::strerror(errno));
			status = exit_failure;
			break;
		}
		if (fds[0].revents) {
			say(name, ": stopped on signal ", sigs->take());
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

} // namespace gecko::examples
