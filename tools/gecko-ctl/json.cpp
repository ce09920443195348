// SPDX-License-Identifier: GPL-2.0-only

#include "json.h"

namespace gecko::ctl {

std::string json_quote(std::string_view s)
{
	static constexpr char hex[] = "0123456789abcdef";
	std::string quoted = "\"";

	for (unsigned char c : s) {
		switch (c) {
		case '"':
			quoted += "\\\"";
			break;
		case '\\':
			quoted += "\\\\";
			break;
		case '\b':
			quoted += "\\b";
			break;
		case '\f':
			quoted += "\\f";
			break;
		case '\n':
			quoted += "\\n";
			break;
		case '\r':
			quoted += "\\r";
			break;
		case '\t':
			quoted += "\\t";
			break;
		default:
			/* JSON forbids raw control characters. */
			if (c < 0x20) {
				quoted += "\\u00";
				quoted += hex[c >> 4];
				quoted += hex[c & 0xf];
			} else {
				quoted += static_cast<char>(c);
			}
		}
	}
	return quoted + '"';
}

void JsonWriter::key(std::string_view key)
{
	separate();
	out_ << json_quote(key) << ':';
	after_key_ = true;
}

void JsonWriter::value(std::string_view value)
{
	separate();
	out_ << json_quote(value);
}

void JsonWriter::value(std::uint64_t value)
{
	separate();
	out_ << value;
}

void JsonWriter::open(char bracket)
{
	separate();
	out_ << bracket;
	first_ = true;
}

void JsonWriter::close(char bracket)
{
	out_ << bracket;
	first_ = false;
}

/* A value right after its key needs no comma; any other but the first does. */
void JsonWriter::separate()
{
	if (!after_key_ && !first_)
		out_ << ',';
	after_key_ = false;
	first_ = false;
}

} // namespace gecko::ctl
