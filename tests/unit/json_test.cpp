// SPDX-License-Identifier: GPL-2.0-only

#include "json.h"

#include <gtest/gtest.h>

#include <sstream>

namespace {

struct Quote {
	const char *name;
	std::string_view in;
	std::string_view out;
};

const Quote quotes[] = {
	{"plain", "nl_requests", R"("nl_requests")"},
	{"empty", "", R"("")"},
	{"quote", R"(say "hi")", R"("say \"hi\"")"},
	{"backslash", R"(a\b)", R"("a\\b")"},
	{"short_escapes", "\b\f\n\r\t", R"("\b\f\n\r\t")"},
	{"other_controls", {"\x01\x1f\0", 3}, R"("\u0001\u001f\u0000")"},
	{"del_and_utf8", "\x7f\xc3\xa9", "\"\x7f\xc3\xa9\""},
};

class JsonQuote : public testing::TestWithParam<Quote> {};

TEST_P(JsonQuote, Escapes)
{
	EXPECT_EQ(gecko::ctl::json_quote(GetParam().in), GetParam().out);
}

INSTANTIATE_TEST_SUITE_P(Cases, JsonQuote, testing::ValuesIn(quotes),
			 [](const auto &info) { return std::string(info.param.name); });

TEST(JsonWriter, PutsCommasBetweenMembersOnly)
{
	std::ostringstream out;
	gecko::ctl::JsonWriter json(out);

	json.begin_object();
	json.key("empty");
	json.begin_array();
	json.end_array();
	json.key("list");
	json.begin_array();
	json.value(1);
	json.value("two");
	json.begin_object();
	json.end_object();
	json.end_array();
	json.key("object");
	json.begin_object();
	json.key("a\"b");
	json.value(18446744073709551615u);
	json.end_object();
	json.end_object();

	EXPECT_EQ(out.str(), R"({"empty":[],"list":[1,"two",{}],"object":{"a\"b":18446744073709551615}})");
}

} // namespace
