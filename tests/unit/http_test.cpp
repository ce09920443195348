// SPDX-License-Identifier: GPL-2.0-only
/* gecko-file-server's HTTP and its application state (tools/examples/http.h). */

#include "http.h"

#include <gtest/gtest.h>

namespace {

using namespace gecko::examples::http;

struct HeadCase {
	const char *name;
	std::string received;
	std::optional<std::size_t> length;
};

const HeadCase head_cases[] = {
	{"nothing", "", std::nullopt},
	{"request_line_only", "GET / HTTP/1.1\r\n", std::nullopt},
	{"half_a_blank_line", "GET / HTTP/1.1\r\nHost: g\r\n\r", std::nullopt},
	{"crlf", "GET / HTTP/1.1\r\nHost: g\r\n\r\n", 27},
	{"crlf_with_more_after", "GET / HTTP/1.1\r\n\r\nbody", 18},
	{"bare_lf", "GET / HTTP/1.1\nHost: g\n\n", 24},
	{"lf_blank_after_crlf_line", "GET / HTTP/1.1\r\n\n", 17},
};

class HeadLength : public testing::TestWithParam<HeadCase> {};

TEST_P(HeadLength, EndsAfterTheFirstBlankLine)
{
	EXPECT_EQ(head_length(GetParam().received), GetParam().length);
}

INSTANTIATE_TEST_SUITE_P(Cases, HeadLength, testing::ValuesIn(head_cases),
			 [](const auto &info) { return std::string(info.param.name); });

struct RequestCase {
	const char *name;
	std::string head;
	int status;
	std::string path;
};

const RequestCase request_cases[] = {
	{"get", "GET /blob HTTP/1.1\r\nHost: [fd00:a::100]\r\n\r\n", 200, "/blob"},
	{"http_1_0", "GET /blob HTTP/1.0\r\n\r\n", 200, "/blob"},
	{"bare_lf", "GET /a/b HTTP/1.1\n\n", 200, "/a/b"},
	{"query_ignored", "GET /blob?x=1&y=%zz HTTP/1.1\r\n\r\n", 200, "/blob"},
	{"percent_decoded", "GET /a%20b%2Fc HTTP/1.1\r\n\r\n", 200, "/a b/c"},
	{"root", "GET / HTTP/1.1\r\n\r\n", 200, "/"},
	{"dot_dot", "GET /../etc/passwd HTTP/1.1\r\n\r\n", 400, ""},
	{"dot_dot_escaped", "GET /a/%2e%2e/%2E%2E/etc/passwd HTTP/1.1\r\n\r\n", 400, ""},
	{"dot", "GET /a/./b HTTP/1.1\r\n\r\n", 400, ""},
	{"nul", "GET /a%00b HTTP/1.1\r\n\r\n", 400, ""},
	{"bad_escape", "GET /a%zzb HTTP/1.1\r\n\r\n", 400, ""},
	{"cut_escape", "GET /a%4 HTTP/1.1\r\n\r\n", 400, ""},
	{"relative", "GET blob HTTP/1.1\r\n\r\n", 400, ""},
	{"absolute_form", "GET http://g/blob HTTP/1.1\r\n\r\n", 400, ""},
	{"no_version", "GET /blob\r\n\r\n", 400, ""},
	{"http_2", "GET /blob HTTP/2\r\n\r\n", 400, ""},
	{"two_spaces", "GET  /blob HTTP/1.1\r\n\r\n", 400, ""},
	{"post", "POST /blob HTTP/1.1\r\n\r\n", 405, ""},
	{"head", "HEAD /blob HTTP/1.1\r\n\r\n", 405, ""},
	{"lower_case_method", "get /blob HTTP/1.1\r\n\r\n", 405, ""},
};

class ParseRequest : public testing::TestWithParam<RequestCase> {};

TEST_P(ParseRequest, StatusAndPath)
{
	auto target = parse_request(GetParam().head);

	EXPECT_EQ(target.status, GetParam().status);
	EXPECT_EQ(target.path, GetParam().path);
}

INSTANTIATE_TEST_SUITE_P(Cases, ParseRequest, testing::ValuesIn(request_cases),
			 [](const auto &info) { return std::string(info.param.name); });

TEST(Response, HeadOfAFile)
{
	EXPECT_EQ(response_head(200, 52428800), "HTTP/1.1 200 OK\r\n"
						"Server: gecko-file-server\r\n"
						"Content-Type: application/octet-stream\r\n"
						"Content-Length: 52428800\r\n"
						"Connection: close\r\n"
						"\r\n");
}

TEST(Response, ErrorsHaveATextBody)
{
	EXPECT_EQ(error_response(404), "HTTP/1.1 404 Not Found\r\n"
				       "Server: gecko-file-server\r\n"
				       "Content-Type: text/plain\r\n"
				       "Content-Length: 14\r\n"
				       "Connection: close\r\n"
				       "\r\n"
				       "404 Not Found\n");
	EXPECT_NE(error_response(405).find("\r\nAllow: GET\r\n"), std::string::npos);
}

TEST(State, RoundTrip)
{
	Progress file{"/dir/blob", response_head(200, 7)};
	Progress error{"", error_response(400)};

	for (const auto &p : {file, error}) {
		auto back = decode(encode(p));

		ASSERT_TRUE(back);
		EXPECT_EQ(back->path, p.path);
		EXPECT_EQ(back->head, p.head);
	}
}

std::vector<std::byte> bytes(std::string_view s)
{
	auto b = std::as_bytes(std::span(s));
	return {b.begin(), b.end()};
}

std::vector<std::byte> bytes(const char *s)
{
	return bytes(std::string_view(s));
}

std::vector<std::byte> bytes(const std::string &s)
{
	return bytes(std::string_view(s));
}

struct BadState {
	const char *name;
	std::vector<std::byte> state;
};

const BadState bad_states[] = {
	{"empty", {}},
	{"other_version", bytes("\x02/blob\0HTTP/1.1 200 OK\r\n\r\n")},
	{"no_separator", bytes("\x01/blob")},
	{"no_head", bytes(std::string_view("\x01/blob\0", 7))},
	{"relative_path", bytes(std::string_view("\x01" "blob\0HTTP", 10))},
	{"above_the_root", bytes("\x01/../etc/shadow" + std::string(1, '\0') + response_head(200, 7))},
	{"dot_segment", bytes("\x01/a/./b" + std::string(1, '\0') + response_head(200, 7))},
	{"forged_head", bytes("\x01/blob" + std::string(1, '\0') + "HTTP/1.1 200 OK\r\n\r\n<script>")},
	{"head_not_ours", bytes("\x01/blob" + std::string(1, '\0') + response_head(200, 7) + "extra")},
	{"error_not_ours", bytes("\x01" + std::string(1, '\0') + "HTTP/1.1 418 I'm a teapot\r\n\r\n")},
	{"too_long", bytes("\x01/" + std::string(max_state, 'a') + std::string(1, '\0') + response_head(200, 7))},
};

class DecodeState : public testing::TestWithParam<BadState> {};

TEST_P(DecodeState, RefusesWhatEncodeDoesNotMake)
{
	EXPECT_FALSE(decode(GetParam().state));
}

INSTANTIATE_TEST_SUITE_P(Cases, DecodeState, testing::ValuesIn(bad_states),
			 [](const auto &info) { return std::string(info.param.name); });

} // namespace
