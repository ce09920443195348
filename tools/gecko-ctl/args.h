/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_CTL_ARGS_H
#define GECKO_CTL_ARGS_H

#include <gecko/service.h>

#include <netinet/in.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gecko::ctl {

/*
 * A command's arguments in the style of ip(8): positional words first,
 * then keywords with their value ("coa ADDR") and flags ("contact"), in
 * any order. Every problem throws boost::program_options::error, which
 * run() reports as a usage error; messages quote the argument's name.
 */
class Args {
public:
	/* Words before the first of @keywords or @flags are positional. */
	explicit Args(const std::vector<std::string> &words,
		      std::initializer_list<std::string_view> keywords = {},
		      std::initializer_list<std::string_view> flags = {});

	/* The next positional word, called @name in the usage. */
	template <class T>
	T positional(std::string_view name)
	{
		if (next_ == positional_.size())
			throw_missing(name);
		return parse<T>(name, positional_[next_++]);
	}

	template <class T>
	std::optional<T> optional_positional(std::string_view name)
	{
		if (next_ == positional_.size())
			return std::nullopt;
		return positional<T>(name);
	}

	/* The value of @keyword, which must be given. */
	template <class T>
	T keyword(std::string_view keyword) const
	{
		auto value = optional_keyword<T>(keyword);

		if (!value)
			throw_missing("'" + std::string(keyword) + "'");
		return *value;
	}

	template <class T>
	std::optional<T> optional_keyword(std::string_view keyword) const
	{
		for (const auto &[name, text] : values_)
			if (name == keyword)
				return parse<T>(keyword, text);
		return std::nullopt;
	}

	bool flag(std::string_view flag) const;

	/* Throws if positional words are left: the command takes no more. */
	void done() const;

private:
	/* @text as a value of type T, for the argument called @name. */
	template <class T>
	static T parse(std::string_view name, const std::string &text)
	{
		T value;

		parse_into(name, text, value);
		return value;
	}

	static void parse_into(std::string_view name, const std::string &text, in6_addr &value);
	static void parse_into(std::string_view name, const std::string &text, std::uint16_t &value);
	static void parse_into(std::string_view name, const std::string &text, std::uint32_t &value);
	static void parse_into(std::string_view name, const std::string &text, BindingState &value);
	/* A word the command checks itself. */
	static void parse_into(std::string_view, const std::string &text, std::string &value) { value = text; }

	[[noreturn]] static void throw_missing(std::string_view what);

	std::vector<std::string> positional_;
	std::size_t next_ = 0;
	std::vector<std::pair<std::string_view, std::string>> values_;
	std::vector<std::string_view> flags_;
};

} // namespace gecko::ctl

#endif /* GECKO_CTL_ARGS_H */
