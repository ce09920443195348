// SPDX-License-Identifier: GPL-2.0-only

#include "http.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <ranges>

namespace gecko::examples::http {

namespace {

/* The application state's first octet: a node never continues a response it would misread. */
constexpr std::byte state_version{1};

std::string_view reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	default:
		return "Internal Server Error";
	}
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* @text without its %XX escapes; nothing if one is broken or makes a NUL. */
std::optional<std::string> percent_decode(std::string_view text)
{
	std::string out;

	for (std::size_t i = 0; i < text.size(); i++) {
		if (text[i] != '%') {
			out += text[i];
			continue;
		}
		if (i + 2 >= text.size())
			return std::nullopt;
		int hi = hex_digit(text[i + 1]), lo = hex_digit(text[i + 2]);
		if (hi < 0 || lo < 0 || (hi | lo) == 0)
			return std::nullopt;
		out += static_cast<char>(hi << 4 | lo);
		i += 2;
	}
	return out;
}

Target error(int status)
{
	return {status, {}};
}

/* Nothing above the root: no "." or ".." segment. */
bool within_root(std::string_view path)
{
	for (auto segment : std::views::split(path, '/')) {
		std::string_view s(segment.begin(), segment.end());

		if (s == "." || s == "..")
			return false;
	}
	return true;
}

/* Whether @head is a head this server makes: an error response whole, or a 200's head for some length. */
bool own_head(const std::string &path, const std::string &head)
{
	if (path.empty())
		return std::ranges::any_of(std::initializer_list<int>{400, 404, 405, 500},
					   [&](int status) { return head == error_response(status); });
	constexpr std::string_view field = "\r\nContent-Length: ";
	auto at = head.find(field);
	if (at == std::string::npos)
		return false;
	std::uint64_t length = 0;
	auto digits = head.substr(at + field.size(), head.find('\r', at + field.size()) - at - field.size());
	if (digits.empty() || digits.size() > 19 || !std::ranges::all_of(digits, ::isdigit))
		return false;
	length = std::stoull(digits);
	return head == response_head(200, length);
}

} // namespace

std::optional<std::size_t> head_length(std::string_view received)
{
	/* RFC 9112 §2.2: a bare LF may end a line too. Whichever blank line comes first. */
	std::optional<std::size_t> end;

	for (std::string_view blank : {"\r\n\r\n", "\n\n"}) {
		auto at = received.find(blank);

		if (at != std::string_view::npos && (!end || at + blank.size() < *end))
			end = at + blank.size();
	}
	return end;
}

Target parse_request(std::string_view head)
{
	auto line = head.substr(0, head.find('\n'));
	if (line.ends_with('\r'))
		line.remove_suffix(1);

	std::vector<std::string_view> words;
	for (auto word : std::views::split(line, ' '))
		words.emplace_back(word.begin(), word.end());
	if (words.size() != 3 || (words[2] != "HTTP/1.1" && words[2] != "HTTP/1.0"))
		return error(400);
	if (words[0] != "GET")
		return error(405);

	auto target = words[1];
	if (!target.starts_with('/'))
		return error(400);
	auto path = percent_decode(target.substr(0, target.find('?')));
	if (!path || !within_root(*path))
		return error(400);
	return {200, std::move(*path)};
}

std::string response_head(int status, std::uint64_t length)
{
	return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason(status)) +
	       "\r\n"
	       "Server: gecko-file-server\r\n"
	       "Content-Type: " +
	       (status == 200 ? "application/octet-stream" : "text/plain") +
	       "\r\n"
	       "Content-Length: " +
	       std::to_string(length) + "\r\n" + (status == 405 ? "Allow: GET\r\n" : "") +
	       "Connection: close\r\n"
	       "\r\n";
}

std::string error_response(int status)
{
	auto body = std::to_string(status) + " " + std::string(reason(status)) + "\n";

	return response_head(status, body.size()) + body;
}

std::vector<std::byte> encode(const Progress &progress)
{
	std::vector<std::byte> state{state_version};
	auto put = [&](std::string_view s) {
		auto bytes = std::as_bytes(std::span(s));
		state.insert(state.end(), bytes.begin(), bytes.end());
	};

	put(progress.path);
	state.push_back(std::byte{0});
	put(progress.head);
	return state;
}

std::optional<Progress> decode(std::span<const std::byte> state)
{
	if (state.empty() || state[0] != state_version)
		return std::nullopt;
	auto rest = state.subspan(1);
	auto nul = std::ranges::find(rest, std::byte{0});
	if (nul == rest.end())
		return std::nullopt;

	/* It comes from another node: what this server would make, and nothing else, is served. */
	if (state.size() > max_state)
		return std::nullopt;
	const auto *chars = reinterpret_cast<const char *>(rest.data());
	auto at = static_cast<std::size_t>(nul - rest.begin());
	Progress p{std::string(chars, at), std::string(chars + at + 1, rest.size() - at - 1)};
	if (!p.path.empty() && (!p.path.starts_with('/') || !within_root(p.path)))
		return std::nullopt;
	if (!own_head(p.path, p.head))
		return std::nullopt;
	return p;
}

} // namespace gecko::examples::http
