/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_CTL_JSON_H
#define GECKO_CTL_JSON_H

#include <concepts>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace gecko::ctl {

/* @s as a JSON string literal, quotes included. */
std::string json_quote(std::string_view s);

/*
 * Writes compact JSON to a stream, putting in the commas. The caller
 * nests begin/end calls properly and gives every object member a key().
 */
class JsonWriter {
public:
	explicit JsonWriter(std::ostream &out) : out_(out) {}

	void begin_object() { open('{'); }
	void end_object() { close('}'); }
	void begin_array() { open('['); }
	void end_array() { close(']'); }
	void key(std::string_view key);
	void value(std::string_view value);
	void value(std::uint64_t value);
	/* A template, or a string literal would pick it over std::string_view. */
	void value(std::same_as<bool> auto value)
	{
		separate();
		out_ << (value ? "true" : "false");
	}

private:
	void open(char bracket);
	void close(char bracket);
	void separate();

	std::ostream &out_;
	bool first_ = true;	/* nothing written yet in the current object or array */
	bool after_key_ = false;
};

} // namespace gecko::ctl

#endif /* GECKO_CTL_JSON_H */
