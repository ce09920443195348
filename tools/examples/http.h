/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_EXAMPLES_HTTP_H
#define GECKO_EXAMPLES_HTTP_H

/*
 * The little of HTTP/1.1 gecko-file-server speaks: one GET per connection,
 * a response with Content-Length and "Connection: close"; and what a
 * connection's response needs to continue on another node.
 */

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gecko::examples::http {

/* The longest request head read; a longer one is answered 400. */
inline constexpr std::size_t max_request = 8192;

/* The length of the request's head, its blank line included, once all of it is in @received. */
std::optional<std::size_t> head_length(std::string_view received);

struct Target {
	int status = 200;	/* 200: serve @path; else the error to answer with */
	std::string path;	/* percent-decoded, starting with '/', without "." or ".." segments */
};

/* What the request head @head asks for: GET with a path (a query is ignored). */
Target parse_request(std::string_view head);

/* The status line and headers of a response whose body has @length octets. */
std::string response_head(int status, std::uint64_t length);
/* A whole error response: the head and a one-line text body. */
std::string error_response(int status);

/*
 * A response under way, as the application state of its connection: the
 * file (@path, under the root every node serves) and the head that came
 * before it; no path when @head is the whole response. The acceptor goes
 * on from Arrival::bytes_sent into head + file.
 */
struct Progress {
	std::string path;
	std::string head;
};

/* The longest application state: a path and a head, both short. */
inline constexpr std::size_t max_state = 8192;

std::vector<std::byte> encode(const Progress &progress);
/*
 * Nothing if @state is not what encode() makes of this server's own
 * responses: a path under the root, and a head this server would send.
 */
std::optional<Progress> decode(std::span<const std::byte> state);

} // namespace gecko::examples::http

#endif /* GECKO_EXAMPLES_HTTP_H */
