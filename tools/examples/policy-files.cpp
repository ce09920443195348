// SPDX-License-Identifier: GPL-2.0-only
/*
 * gecko-policy-files: gecko-file-server's downloads on the high-level API
 * (gecko/framework.h). Every node serves the same files from one
 * configuration file; the contact node places each new client by the
 * policy, and a download moves whenever the framework hands its
 * connection on (gecko-ctl handoff, a drain, another program's handoff of
 * the same client): the acceptor goes on from the octets the donor wrote,
 * which Accept() gives with the state the donor set. One thread per
 * connection, blocking calls. See gecko-policy-files(8).
 */

#include "framework_server.h"
#include "http.h"
#include "server.h"

#include <options.h>

#include <gecko/address.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <string_view>

namespace po = boost::program_options;

namespace gecko::examples {

namespace {

/*
 * A connection's state, for the node it moves to: the request read so far
 * ('R' and its octets), or the response under way ('S' and http::encode()).
 */
std::vector<std::byte> request_state(std::string_view request)
{
	std::vector<std::byte> s{std::byte{'R'}};
	auto b = std::as_bytes(std::span(request));
	s.insert(s.end(), b.begin(), b.end());
	return s;
}

std::vector<std::byte> response_state(const http::Progress &progress)
{
	std::vector<std::byte> s{std::byte{'S'}};
	auto b = http::encode(progress);
	s.insert(s.end(), b.begin(), b.end());
	return s;
}

/* The file @path under @root, open, and its size; none if it is not a regular file. */
std::optional<std::pair<Fd, std::uint64_t>> open_file(const std::string &root, const std::string &path)
{
	Fd fd(::open((root + path).c_str(), O_RDONLY | O_CLOEXEC));
	struct stat st;
	if (!fd || ::fstat(fd.get(), &st) || !S_ISREG(st.st_mode))
		return std::nullopt;
	return std::pair{std::move(fd), static_cast<std::uint64_t>(st.st_size)};
}

/* The response to the request head @head: a file's head, or a whole error response. */
http::Progress respond(const std::string &root, std::string_view head)
{
	auto target = http::parse_request(head);
	if (target.status != 200)
		return {"", http::error_response(target.status)};
	auto file = open_file(root, target.path);
	if (!file)
		return {"", http::error_response(404)};
	return {target.path, http::response_head(200, file->second)};
}

/* One connection: its request (or where the donor left it), the response from BytesSent() on, the client's close. */
void serve(const std::string &root, GeckoSocket &s)
{
	auto client = format_address(s.GetPeerName().sin6_addr);
	std::string request;
	std::optional<http::Progress> progress;
	const auto &state = s.State();

	if (!state.empty() && state[0] == std::byte{'R'})
		request.assign(reinterpret_cast<const char *>(state.data()) + 1, state.size() - 1);
	else if (!state.empty() && state[0] == std::byte{'S'} && !(progress = http::decode(std::span(state).subspan(1))))
		return say(client, ": cannot continue: the state is not this server's");
	else if (!state.empty() && state[0] != std::byte{'S'})
		return say(client, ": cannot continue: the state is not this server's");
	say("serving ", client, " port ", ntohs(s.GetPeerName().sin6_port), " (", s.BytesReceived(),
	    " octets received and ", s.BytesSent(), " sent so far)");

	std::byte buf[65536];
	while (!progress) {
		if (auto head = http::head_length(request)) {
			progress = respond(root, std::string_view(request).substr(0, *head));
			break;
		}
		if (request.size() >= http::max_request) {
			progress = http::Progress{"", http::error_response(400)};
			break;
		}
		auto n = s.Read(std::span(buf, std::min(sizeof(buf), http::max_request - request.size())));
		if (!n) {
			say(client, ": ", n.error().describe());
			return;
		}
		if (*n == 0)
			return;
		request.append(reinterpret_cast<const char *>(buf), *n);
		s.SetState(request_state(request));
	}
	s.SetState(response_state(*progress));

	std::optional<std::pair<Fd, std::uint64_t>> file;
	if (!progress->path.empty()) {
		file = open_file(root, progress->path);
		/* The same head for the same size: this node has the donor's file. */
		if (!file || progress->head != http::response_head(200, file->second))
			return say(client, ": cannot continue ", progress->path, ": the file here is not the donor's");
	}
	const auto &head = progress->head;
	auto total = head.size() + (file ? file->second : 0);
	for (auto at = s.BytesSent(); at < total; at = s.BytesSent()) {
		std::size_t n;
		if (at < head.size()) {
			n = head.size() - at;
			std::memcpy(buf, head.data() + at, n);
		} else {
			auto r = ::pread(file->first.get(), buf, std::min<std::uint64_t>(sizeof(buf), total - at),
					 static_cast<off_t>(at - head.size()));
			if (r <= 0)
				return say(client, ": cannot read ", progress->path, ": ",
					   r < 0 ? std::strerror(errno) : "it shrank");
			n = static_cast<std::size_t>(r);
		}
		if (auto w = s.Write(std::span(buf, n)); !w) {
			if (w.error().code == ENOTCONN)
				return say(client, ": moved on after octet ", s.BytesSent(), " of ", total);
			return say(client, ": ", w.error().describe());
		}
	}
	/*
	 * All written; closing now would leave the end of it in this kernel,
	 * where no handoff could take it. The client closes once it has all.
	 */
	for (;;) {
		auto n = s.Read(buf);
		if (!n && n.error().code == ENOTCONN)
			return say(client, ": moved on with the response written");
		if (!n)
			return say(client, ": ", n.error().describe(), " after the response, ", total, " octets");
		if (*n == 0)
			break;
	}
	say(client, ": sent ", total, " octets of ", progress->path.empty() ? "an error response" : progress->path);
}

} // namespace

} // namespace gecko::examples

int main(int argc, char *argv[])
{
	using namespace gecko;
	static constexpr daemon::Program program = {
		"gecko-policy-files",
		"An HTTP/1.1 file server run on every node of a Gecko distributed server, on the\n"
		"high-level API: the contact node places each new client by the configuration's\n"
		"policy, and a download goes on from the same octet on whichever node it moves to.",
		"See gecko-policy-files(8).",
	};
	po::options_description opts("Options");
	examples::add_framework_options(opts, 80);
	opts.add_options()("root", po::value<std::string>()->required(), "the directory served, the same on every node");
	std::string root;
	auto options = daemon::parse_options<examples::FrameworkServerOptions>(
		program, opts, {argv + 1, argv + argc}, std::cout, std::cerr, [&root](const po::variables_map &vm) {
			root = vm["root"].as<std::string>();
			return examples::framework_options(vm);
		});
	if (auto *status = std::get_if<int>(&options))
		return *status;
	return examples::run_framework_server("gecko-policy-files", std::get<examples::FrameworkServerOptions>(options),
					      [&root](GeckoSocket &s) { examples::serve(root, s); });
}
