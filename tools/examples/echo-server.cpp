// SPDX-License-Identifier: GPL-2.0-only
/*
 * gecko-echo-server: a TCP echo whose connections move between the nodes
 * of a Gecko service, the seed's example on gecko::Node; with --sink, it
 * checksums what it reads instead, to check an upload that moves. See
 * gecko-echo-server(8).
 */

#include "server.h"

#include <options.h>

#include <gecko/address.h>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <iostream>
#include <span>
#include <string>

namespace po = boost::program_options;

namespace gecko::examples {

namespace {

class Echo : public Session {
public:
	/* What one read takes in, and so the most a connection can have to echo when it moves. */
	static constexpr std::size_t chunk = 65536;

	/* @unsent: what the donor had read and not echoed yet. */
	explicit Echo(std::uint64_t &echoed, std::vector<std::byte> unsent = {})
		: echoed_(echoed), unsent_(std::move(unsent))
	{
	}

	/* Reads only once all that was read went back: the client's pace is ours. */
	short events() const override { return unsent_.empty() ? POLLIN : POLLOUT; }

	bool serve(int fd, short) override
	{
		if (unsent_.empty()) {
			std::byte buf[chunk];
			auto n = ::recv(fd, buf, sizeof(buf), 0);

			if (n < 0)
				return errno == EAGAIN || errno == EINTR;
			/* The client is done and has everything back. */
			if (n == 0)
				return false;
			unsent_.assign(buf, buf + n);
		}
		auto n = ::send(fd, unsent_.data(), unsent_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		unsent_.erase(unsent_.begin(), unsent_.begin() + n);
		echoed_ += static_cast<std::uint64_t>(n);
		return true;
	}

	std::optional<std::vector<std::byte>> state() const override { return unsent_; }

private:
	std::uint64_t &echoed_;
	std::vector<std::byte> unsent_;
};

/*
 * The octets read so far and their Adler-32 (RFC 1950): a checksum a
 * reordered, lost or repeated piece changes, cheap enough for a client
 * to compute too (zlib.adler32).
 */
struct Fold {
	static constexpr std::uint32_t mod = 65521;
	/* The most octets whose sums fit in 32 bits before a reduction. */
	static constexpr std::size_t nmax = 5552;

	std::uint64_t count = 0;
	std::uint32_t a = 1, b = 0;

	void add(std::span<const std::byte> bytes)
	{
		count += bytes.size();
		while (!bytes.empty()) {
			auto n = std::min(bytes.size(), nmax);
			for (auto octet : bytes.first(n)) {
				a += std::to_integer<std::uint32_t>(octet);
				b += a;
			}
			a %= mod;
			b %= mod;
			bytes = bytes.subspan(n);
		}
	}

	std::uint32_t adler32() const { return b << 16 | a; }

	/* The application state of a handoff: a tag, then count, a and b, big-endian. */
	std::vector<std::byte> encode() const
	{
		std::vector<std::byte> out(tag.begin(), tag.end());
		auto put = [&out](std::uint64_t v, int octets) {
			for (int shift = 8 * (octets - 1); shift >= 0; shift -= 8)
				out.push_back(static_cast<std::byte>(v >> shift));
		};
		put(count, 8);
		put(a, 4);
		put(b, 4);
		return out;
	}

	static std::optional<Fold> decode(std::span<const std::byte> in)
	{
		if (in.size() != tag.size() + 16 || !std::equal(tag.begin(), tag.end(), in.begin()))
			return std::nullopt;
		in = in.subspan(tag.size());
		auto take = [&in](int octets) {
			std::uint64_t v = 0;
			for (int i = 0; i < octets; i++)
				v = v << 8 | std::to_integer<std::uint64_t>(in[i]);
			in = in.subspan(octets);
			return v;
		};
		Fold f;
		f.count = take(8);
		f.a = static_cast<std::uint32_t>(take(4));
		f.b = static_cast<std::uint32_t>(take(4));
		if (f.a >= mod || f.b >= mod)
			return std::nullopt;
		return f;
	}

	/* Marks a sink's state: a sink does not continue an echo's (what it had not echoed yet). */
	static constexpr std::array<std::byte, 4> tag = {std::byte{'s'}, std::byte{'i'}, std::byte{'n'}, std::byte{'k'}};
};

/* --sink: reads everything; once the client shut its side down, answers "COUNT ADLER32" and closes. */
class Sink : public Session {
public:
	Sink(std::uint64_t &received, std::string client, Fold fold = {})
		: received_(received), client_(std::move(client)), fold_(fold)
	{
	}

	short events() const override { return answer_.empty() ? POLLIN : POLLOUT; }

	bool serve(int fd, short) override
	{
		if (answer_.empty()) {
			std::byte buf[65536];
			auto n = ::recv(fd, buf, sizeof(buf), 0);

			if (n < 0)
				return errno == EAGAIN || errno == EINTR;
			if (n > 0) {
				fold_.add(std::span(buf, static_cast<std::size_t>(n)));
				received_ += static_cast<std::uint64_t>(n);
				return true;
			}
			char sum[9];
			std::snprintf(sum, sizeof(sum), "%08x", fold_.adler32());
			answer_ = std::to_string(fold_.count) + ' ' + sum + '\n';
			say(client_, ": the upload ended: ", fold_.count, " octets, Adler-32 ", sum);
		}
		/* Closed once the answer is written: it is in the kernel's hands then. */
		auto n = ::send(fd, answer_.data(), answer_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		answer_.erase(0, static_cast<std::size_t>(n));
		return !answer_.empty();
	}

	/* Once it answers, it stays: the answer is short, and the connection ends with it. */
	std::optional<std::vector<std::byte>> state() const override
	{
		if (!answer_.empty())
			return std::nullopt;
		return fold_.encode();
	}

private:
	std::uint64_t &received_;
	std::string client_;
	Fold fold_;
	std::string answer_;	/* not written yet, once the client is done */
};

class EchoServer : public Server {
public:
	explicit EchoServer(bool sink) : Server("gecko-echo-server"), sink_(sink) {}

protected:
	std::unique_ptr<Session> accepted(const in6_addr &client) override
	{
		if (sink_)
			return std::make_unique<Sink>(octets_, format_address(client));
		return std::make_unique<Echo>(octets_);
	}

	std::unique_ptr<Session> arrived(const Arrival &arrival) override
	{
		auto client = format_address(arrival.client);
		if (!sink_ && arrival.recovered) {
			/*
			 * At the client's numbers: if it got back all it sent, nothing
			 * was left to echo; else what the dead node read and did not
			 * echo died with it.
			 */
			if (arrival.bytes_received != arrival.bytes_acked) {
				say(client, ": cannot continue a recovered echo session: the client sent ",
				    arrival.bytes_received, " octets and got ", arrival.bytes_acked, " back");
				return nullptr;
			}
			say(client, ": continuing a recovered echo session at octet ", arrival.bytes_received);
			return std::make_unique<Echo>(octets_);
		}
		if (!sink_) {
			/* Another node's word for what to send this client: no more than a donor could have read. */
			if (arrival.app_state.size() > Echo::chunk) {
				say(client, ": cannot continue: ", arrival.app_state.size(), " octets to echo, at most ",
				    Echo::chunk);
				return nullptr;
			}
			return std::make_unique<Echo>(octets_, arrival.app_state);
		}
		auto fold = Fold::decode(arrival.app_state);
		if (!fold) {
			say(client, ": cannot continue: not the state of a --sink connection");
			return nullptr;
		}
		if (arrival.recovered && fold->count != arrival.bytes_received) {
			say(client, ": cannot continue: the client sent ", arrival.bytes_received, " octets, ", fold->count,
			    " were folded when the mirror was taken");
			return nullptr;
		}
		say(client, ": continuing an upload at octet ", fold->count, " (", arrival.bytes_received,
		    " received by the nodes so far)");
		return std::make_unique<Sink>(octets_, client, *fold);
	}

	std::string status() const override { return (sink_ ? "received " : "echoed ") + std::to_string(octets_); }

private:
	bool sink_;
	std::uint64_t octets_ = 0;	/* octets echoed (sent back), or received with --sink, by this node */
};

} // namespace

} // namespace gecko::examples

int main(int argc, char *argv[])
{
	using namespace gecko;
	static constexpr daemon::Program program = {
		"gecko-echo-server",
		"A TCP echo server whose connections can be handed to another node of a Gecko\n"
		"service (gecko-ctl handoff), with the node agent inside (no gecko-agent).",
		"See gecko-echo-server(8).",
	};
	po::options_description opts("Options");

	examples::add_options(opts, 7);
	opts.add_options()
		("sink", po::bool_switch(),
		 "read and checksum instead of echoing; answer \"COUNT ADLER32\" once the client shuts its side down");
	bool sink = false;
	auto options = daemon::parse_options<examples::Options>(program, opts, {argv + 1, argv + argc}, std::cout,
								 std::cerr, [&sink](const po::variables_map &vm) {
									 sink = vm["sink"].as<bool>();
									 return examples::to_options(vm);
								 });
	if (auto *status = std::get_if<int>(&options))
		return *status;

	examples::EchoServer server(sink);
	return server.run(std::get<examples::Options>(options));
}
