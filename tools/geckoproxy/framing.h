/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_PROXY_FRAMING_H
#define GECKO_PROXY_FRAMING_H

/*
 * HTTP/1.1 message framing (RFC 9112 section 6), for a relay that lets a
 * client's connection move only between two exchanges: from the heads and
 * chunk lines of a stream, how many of its octets belong to the message
 * under way, without reading the octets themselves (the relay peeks at
 * what waits in the socket and splices the rest).
 *
 * What cannot be framed ends the framing of the stream for good: a body
 * that ends with the connection, a tunnel (CONNECT, a 101 response), a
 * head it does not understand or longer than max_head, a response that
 * answers no request. The stream is then relayed as it comes, and the
 * connection stays where it is: the program answers what it makes of it.
 */

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gecko::proxy::http {

/* The longest head, chunk line or trailer section framed. */
inline constexpr std::size_t max_head = 16384;

/* What Framer::next() returns once the stream is no longer framed: no limit. */
inline constexpr std::uint64_t unframed = std::numeric_limits<std::uint64_t>::max();

/* The requests of a connection its responses still owe, oldest first: a response's framing depends on its request. */
enum class Method { head, other };
using Pending = std::deque<Method>;

class Framer {
public:
	enum class Stream { requests, responses };

	/* @pending is the connection's: the requests' framer adds to it, the responses' takes from it. */
	Framer(Stream stream, Pending &pending) : stream_(stream), pending_(pending) {}

	/*
	 * Called when the octets allowed before have passed: @waiting is
	 * the start of what the stream holds now (max_head octets at most),
	 * @ended says that nothing more will come. Returns how many octets
	 * may pass: a whole head with the body it announces, a chunk with
	 * its line, and so on; 0 while @waiting holds no whole head or line
	 * yet; unframed once the stream cannot be framed.
	 */
	std::uint64_t next(std::string_view waiting, bool ended);

	/* Between two messages: what was allowed passed, and no message is under way. */
	bool idle() const { return state_ == State::head; }
	bool framing() const { return state_ != State::unframed; }

private:
	enum class State { head, chunk, trailers, unframed };

	std::uint64_t head(std::string_view waiting);
	std::uint64_t chunk(std::string_view waiting);
	std::uint64_t trailers(std::string_view waiting);
	std::uint64_t give_up()
	{
		state_ = State::unframed;
		return unframed;
	}

	Stream stream_;
	Pending &pending_;
	State state_ = State::head;
};

/*
 * A connection between two exchanges, as its application state
 * (GeckoSocket::SetState) tells a recovery: the octets taken from the
 * client's socket @fd so far, and those written to it. None if the socket
 * cannot say.
 */
std::vector<std::byte> boundary(int fd);

/*
 * Whether a connection recovered after a crash, whose client has sent
 * @received octets (all of them acknowledged, none queued) and
 * acknowledged @acked, stands at the @state boundary(): nothing of a
 * request after it was taken, and the client has every octet of the
 * responses before it. Then the next request may go to a new connection
 * to the program; anything else was cut mid-exchange.
 */
bool resumes_at(std::span<const std::byte> state, std::uint64_t received, std::uint64_t acked);

/* @state as a log line says it ("its last boundary: T taken, W written"), or that it is no boundary. */
std::string describe_boundary(std::span<const std::byte> state);

} // namespace gecko::proxy::http

#endif /* GECKO_PROXY_FRAMING_H */
