// SPDX-License-Identifier: GPL-2.0-only
/*
 * gecko-file-server: a minimal HTTP/1.1 file server whose downloads move
 * between the nodes of a Gecko service in mid-stream, on gecko::Node.
 * Every node serves the same files. See gecko-file-server(8).
 */

#include "http.h"
#include "server.h"

#include <options.h>

#include <gecko/address.h>

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace po = boost::program_options;

namespace gecko::examples {

namespace {

/* What the sessions share. */
struct Site {
	std::string root;
	std::uint64_t served = 0;	/* octets of file bodies written by this node */
	std::uint64_t delivered = 0;	/* of file bodies acknowledged while this node had the connection */
};

/* One connection: a request read, then its response streamed, then the client's close awaited. */
class Download : public Session {
public:
	Download(Site &site, std::string client) : site_(site), client_(std::move(client)) {}

	/* A response a donor started, continued where @arrival says; null if it cannot be. */
	static std::unique_ptr<Download> resume(Site &site, std::string client, http::Progress progress,
						const Arrival &arrival)
	{
		auto d = std::make_unique<Download>(site, std::move(client));
		auto sent = arrival.bytes_sent;

		d->path_ = std::move(progress.path);
		d->head_ = std::move(progress.head);
		d->pos_ = sent;
		d->acked_ = arrival.bytes_acked;
		if (!d->path_.empty() && !d->open_file()) {
			say(d->client_, ": cannot continue ", d->path_, ": ", std::strerror(errno));
			return nullptr;
		}
		/* The same head for the same size: this node has the donor's file. */
		if ((!d->path_.empty() && d->head_ != http::response_head(200, d->size_)) || sent > d->total()) {
			say(d->client_, ": cannot continue ", d->path_, ": the file here is not the donor's");
			return nullptr;
		}
		d->phase_ = sent == d->total() ? Phase::done : Phase::sending;
		say(d->client_, ": continuing ", d->path_.empty() ? "an error response" : d->path_, " at octet ",
		    sent, " of ", d->total());
		return d;
	}

	short events() const override { return phase_ == Phase::sending ? POLLOUT : POLLIN; }

	bool serve(int fd, short) override
	{
		switch (phase_) {
		case Phase::reading:
			return read_request(fd);
		case Phase::sending:
			return send_some(fd);
		case Phase::done:
			break;
		}
		/*
		 * The whole response is queued, but closing now would leave its
		 * end in the kernel, where no handoff can take it: the acceptor
		 * would answer the client's acknowledgements with a reset. The
		 * client closes once it has everything (Content-Length).
		 */
		char buf[512];
		auto n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
			return true;
		if (n < 0)
			say(client_, ": ", std::strerror(errno), " while awaiting the close");
		return false;
	}

	std::optional<std::vector<std::byte>> state() const override
	{
		if (phase_ != Phase::reading)
			return http::encode({path_, head_});
		/* Nothing read yet: the request is still in the socket, which moves. */
		if (request_.empty())
			return std::vector<std::byte>{};
		return std::nullopt;
	}

	void ended(std::uint64_t acked) override
	{
		if (acked > acked_)
			site_.delivered += body(acked) - body(acked_);
	}

private:
	enum class Phase { reading, sending, done };

	std::uint64_t total() const { return head_.size() + size_; }
	/* The octets of the file among the first @octets of the response. */
	std::uint64_t body(std::uint64_t octets) const
	{
		return std::min(std::max(octets, head_.size()), total()) - head_.size();
	}

	bool open_file()
	{
		struct stat st;

		file_ = Fd(::open((site_.root + path_).c_str(), O_RDONLY | O_CLOEXEC));
		if (!file_ || ::fstat(file_.get(), &st))
			return false;
		if (!S_ISREG(st.st_mode)) {
			file_ = Fd();
			errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
			return false;
		}
		size_ = static_cast<std::uint64_t>(st.st_size);
		return true;
	}

	bool read_request(int fd)
	{
		char buf[http::max_request + 1];
		auto n = ::recv(fd, buf, sizeof(buf) - request_.size(), 0);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if (n == 0)
			return false;
		request_.append(buf, static_cast<std::size_t>(n));

		auto length = http::head_length(request_);
		if (!length && request_.size() <= http::max_request)
			return true;
		auto target = length ? http::parse_request(request_.substr(0, *length)) : http::Target{400, {}};
		path_ = std::move(target.path);
		if (target.status == 200 && !open_file())
			target.status = 404;
		if (target.status == 200) {
			head_ = http::response_head(200, size_);
		} else {
			path_.clear();
			head_ = http::error_response(target.status);
		}
		say(client_, ": ", request_.substr(0, request_.find_first_of("\r\n")), ": ", target.status, ", ",
		    size_, " octets");
		phase_ = Phase::sending;
		return true;
	}

	bool send_some(int fd)
	{
		ssize_t n;

		if (pos_ < head_.size()) {
			n = ::send(fd, head_.data() + pos_, head_.size() - pos_, MSG_NOSIGNAL | MSG_DONTWAIT);
		} else {
			auto offset = static_cast<off_t>(pos_ - head_.size());
			n = ::sendfile(fd, file_.get(), &offset, total() - pos_);
			if (n == 0) {
				say(client_, ": ", path_, " ended early, at octet ", offset);
				return false;
			}
			if (n > 0)
				site_.served += static_cast<std::uint64_t>(n);
		}
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		pos_ += static_cast<std::uint64_t>(n);
		if (pos_ == total()) {
			file_ = Fd();
			phase_ = Phase::done;
		}
		return true;
	}

	Site &site_;
	std::string client_;
	Phase phase_ = Phase::reading;
	std::string request_;	/* read so far, while reading */
	std::string path_;	/* the file served, none for an error */
	std::string head_;	/* status line and headers; the whole response for an error */
	Fd file_;
	std::uint64_t size_ = 0;
	std::uint64_t pos_ = 0;	/* octets of head + file written */
	std::uint64_t acked_ = 0;	/* of the response, acknowledged before this node had the connection */
};

class FileServer : public Server {
public:
	explicit FileServer(std::string root) : Server("gecko-file-server"), site_{std::move(root)} {}

protected:
	std::unique_ptr<Session> accepted(const in6_addr &client) override
	{
		return std::make_unique<Download>(site_, format_address(client));
	}

	std::unique_ptr<Session> arrived(const Arrival &arrival) override
	{
		auto client = format_address(arrival.client);

		if (arrival.app_state.empty() && arrival.recovered && arrival.bytes_received) {
			/* The request was read on the dead node, and is gone with it. */
			say(client, ": cannot continue: recovered without the request");
			return nullptr;
		}
		if (arrival.app_state.empty())
			return std::make_unique<Download>(site_, client);
		auto progress = http::decode(arrival.app_state);
		if (!progress) {
			say(client, ": cannot continue: not a gecko-file-server response");
			return nullptr;
		}
		return Download::resume(site_, client, std::move(*progress), arrival);
	}

	std::string status() const override
	{
		return "served " + std::to_string(site_.served) + " delivered " + std::to_string(site_.delivered);
	}

private:
	Site site_;
};

struct Config {
	Options server;
	std::string root;
};

Config to_config(const po::variables_map &vm)
{
	Config c{to_options(vm), vm["root"].as<std::string>()};

	if (!std::filesystem::is_directory(c.root))
		throw daemon::Usage{"--root: not a directory: " + c.root};
	/* Request paths start with '/'. */
	while (c.root.size() > 1 && c.root.ends_with('/'))
		c.root.pop_back();
	if (c.root == "/")
		c.root.clear();
	return c;
}

} // namespace

} // namespace gecko::examples

int main(int argc, char *argv[])
{
	using namespace gecko;
	static constexpr daemon::Program program = {
		"gecko-file-server",
		"A minimal HTTP/1.1 file server whose downloads can be handed to another node of a\n"
		"Gecko service in mid-stream (gecko-ctl handoff), with the node agent inside.",
		"See gecko-file-server(8).",
	};
	po::options_description opts("Options");

	examples::add_options(opts, 80);
	opts.add_options()
		("root", po::value<std::string>()->default_value("."), "the folder served (the same on every node)");
	auto config = daemon::parse_options<examples::Config>(program, opts, {argv + 1, argv + argc}, std::cout,
							       std::cerr, examples::to_config);
	if (auto *status = std::get_if<int>(&config))
		return *status;

	auto &c = std::get<examples::Config>(config);
	examples::FileServer server(c.root);
	return server.run(c.server);
}
