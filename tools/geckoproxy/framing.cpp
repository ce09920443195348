// SPDX-License-Identifier: GPL-2.0-only

#include "framing.h"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>

namespace gecko::proxy::http {

namespace {

constexpr std::string_view crlf = "\r\n";
constexpr std::string_view end_of_head = "\r\n\r\n";
/* How boundary() starts its state. */
constexpr std::string_view boundary_tag = "geckoproxy http boundary ";

bool tchar(char c)
{
	return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").contains(c);
}

bool token(std::string_view s)
{
	return !s.empty() && std::ranges::all_of(s, tchar);
}

bool iequals(std::string_view a, std::string_view b)
{
	return a.size() == b.size() && std::ranges::equal(a, b, [](char x, char y) {
		       return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
	       });
}

/* Without the optional white space around a field's value. */
std::string_view trim(std::string_view s)
{
	while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
		s.remove_prefix(1);
	while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
		s.remove_suffix(1);
	return s;
}

/* A number in @base of at most @digits digits, nothing else, if @s is one. */
std::optional<std::uint64_t> number(std::string_view s, int base, std::size_t digits)
{
	std::uint64_t n = 0;
	const char *end = s.data() + s.size();
	if (s.empty() || s.size() > digits)
		return std::nullopt;
	/* No sign, no "0x", for unsigned types; it stops at the first other character. */
	auto [stop, ec] = std::from_chars(s.data(), end, n, base);
	if (ec != std::errc{} || stop != end)
		return std::nullopt;
	return n;
}

/* What a head's fields say of its body. */
struct Body {
	std::optional<std::uint64_t> length;	/* Content-Length */
	bool encoded = false;			/* Transfer-Encoding */
	bool chunked = false;			/* whose last coding is chunked */
};

/* The fields of @lines (each ending with CRLF); none if one is malformed or the lengths disagree. */
std::optional<Body> fields(std::string_view lines)
{
	Body body;
	while (!lines.empty()) {
		auto end = lines.find(crlf);
		auto line = lines.substr(0, end);
		lines.remove_prefix(end + crlf.size());
		auto colon = line.find(':');
		/* A folded line (obsolete) starts with white space, which no name holds. */
		if (colon == std::string_view::npos || !token(line.substr(0, colon)))
			return std::nullopt;
		auto name = line.substr(0, colon);
		auto value = trim(line.substr(colon + 1));
		if (iequals(name, "Content-Length")) {
			/* 18 digits: far past any body, and no sum with a head overflows. */
			auto n = number(value, 10, 18);
			if (!n || (body.length && *body.length != *n))
				return std::nullopt;
			body.length = n;
		} else if (iequals(name, "Transfer-Encoding")) {
			auto comma = value.rfind(',');
			body.encoded = true;
			body.chunked = iequals(trim(comma == std::string_view::npos ? value : value.substr(comma + 1)),
					       "chunked");
		}
	}
	return body;
}

} // namespace

std::uint64_t Framer::next(std::string_view waiting, bool ended)
{
	std::uint64_t n = 0;
	switch (state_) {
	case State::head:
		n = head(waiting);
		break;
	case State::chunk:
		n = chunk(waiting);
		break;
	case State::trailers:
		n = trailers(waiting);
		break;
	case State::unframed:
		return unframed;
	}
	/* Not whole, and it never will be: a stream cut short, a head longer than the framer looks. */
	if (n == 0 && (ended || waiting.size() >= max_head))
		return give_up();
	return n;
}

std::uint64_t Framer::head(std::string_view waiting)
{
	auto end = waiting.find(end_of_head);
	if (end == std::string_view::npos)
		return 0;
	std::uint64_t size = end + end_of_head.size();
	auto first_end = waiting.find(crlf);
	auto first = waiting.substr(0, first_end);
	auto body = fields(waiting.substr(first_end + crlf.size(), end - first_end));
	if (!body)
		return give_up();

	if (stream_ == Stream::requests) {
		auto sp = first.find(' ');
		auto last_sp = first.rfind(' ');
		if (sp == std::string_view::npos || last_sp == sp)
			return give_up();
		auto method = first.substr(0, sp);
		auto target = first.substr(sp + 1, last_sp - sp - 1);
		auto version = first.substr(last_sp + 1);
		/* CONNECT makes a tunnel of the connection. */
		if (!token(method) || target.empty() || target.contains(' ') ||
		    (version != "HTTP/1.1" && version != "HTTP/1.0") || method == "CONNECT")
			return give_up();
		/* A request's body is chunked, or as long as said, or none (section 6.3). */
		if (body->encoded && (!body->chunked || body->length))
			return give_up();
		pending_.push_back(method == "HEAD" ? Method::head : Method::other);
		if (body->encoded) {
			state_ = State::chunk;
			return size;
		}
		return size + body->length.value_or(0);
	}

	auto status = first.size() >= 12 ? number(first.substr(9, 3), 10, 3) : std::nullopt;
	if (!status || !(first.starts_with("HTTP/1.1 ") || first.starts_with("HTTP/1.0 ")) ||
	    (first.size() > 12 && first[12] != ' ') || pending_.empty())
		return give_up();
	/* An interim response: the final one follows. 101 switches to another protocol. */
	if (*status < 200)
		return *status == 101 ? give_up() : size;
	auto method = pending_.front();
	pending_.pop_front();
	if (method == Method::head || *status == 204 || *status == 304)
		return size;
	if (body->encoded) {
		if (!body->chunked)
			return give_up();	/* until the connection closes */
		state_ = State::chunk;
		return size;
	}
	/* Without a length, the body ends with the connection. */
	return body->length ? size + *body->length : give_up();
}

/* A chunk's line (its size in hexadecimal, maybe extensions), then its octets and their CRLF. */
std::uint64_t Framer::chunk(std::string_view waiting)
{
	auto end = waiting.find(crlf);
	if (end == std::string_view::npos)
		return 0;
	auto line = waiting.substr(0, end);
	auto size = number(trim(line.substr(0, line.find(';'))), 16, 15);
	if (!size)
		return give_up();
	if (*size == 0) {
		state_ = State::trailers;
		return end + crlf.size();
	}
	return end + crlf.size() + *size + crlf.size();
}

/* After the last chunk: trailer fields, if any, and the empty line that ends the message. */
std::uint64_t Framer::trailers(std::string_view waiting)
{
	std::uint64_t n = 0;
	if (waiting.starts_with(crlf)) {
		n = crlf.size();
	} else {
		auto end = waiting.find(end_of_head);
		if (end == std::string_view::npos)
			return 0;
		n = end + end_of_head.size();
	}
	state_ = State::head;
	return n;
}

std::vector<std::byte> boundary(int fd)
{
	tcp_info info{};
	socklen_t len = sizeof(info);
	int unread = 0, unacked = 0;
	if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0 ||
	    len < offsetof(tcp_info, tcpi_bytes_received) + sizeof(info.tcpi_bytes_received) ||
	    ::ioctl(fd, SIOCINQ, &unread) < 0 || ::ioctl(fd, SIOCOUTQ, &unacked) < 0)
		return {};
	/* What the stack received but the relay left in the socket is not taken; what it queued was written. */
	auto text = std::string(boundary_tag) + std::to_string(info.tcpi_bytes_received - static_cast<unsigned>(unread)) +
		    ' ' + std::to_string(info.tcpi_bytes_acked + static_cast<unsigned>(unacked));
	const auto *b = reinterpret_cast<const std::byte *>(text.data());
	return {b, b + text.size()};
}

namespace {

/* The two counts of a boundary() state, if it is one. */
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_boundary(std::span<const std::byte> state)
{
	std::string_view text(reinterpret_cast<const char *>(state.data()), state.size());
	if (!text.starts_with(boundary_tag))
		return std::nullopt;
	text.remove_prefix(boundary_tag.size());
	auto space = text.find(' ');
	if (space == std::string_view::npos)
		return std::nullopt;
	/* 20 digits: any 64-bit count. */
	auto taken = number(text.substr(0, space), 10, 20);
	auto written = number(text.substr(space + 1), 10, 20);
	if (!taken || !written)
		return std::nullopt;
	return std::pair{*taken, *written};
}

} // namespace

bool resumes_at(std::span<const std::byte> state, std::uint64_t received, std::uint64_t acked)
{
	auto counts = parse_boundary(state);
	return counts && counts->first == received && counts->second == acked;
}

std::string describe_boundary(std::span<const std::byte> state)
{
	auto counts = parse_boundary(state);
	if (!counts)
		return "no boundary between requests known";
	return "its last boundary: " + std::to_string(counts->first) + " taken, " + std::to_string(counts->second) +
	       " written";
}

} // namespace gecko::proxy::http
