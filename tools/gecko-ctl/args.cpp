// SPDX-License-Identifier: GPL-2.0-only

#include "args.h"

#include "commands.h"

#include <gecko/address.h>

#include <boost/program_options/errors.hpp>

#include <algorithm>
#include <charconv>
#include <limits>

namespace po = boost::program_options;

namespace gecko::ctl {

namespace {

std::string quoted(std::string_view name)
{
	return "'" + std::string(name) + "'";
}

template <class T>
void parse_number(std::string_view name, const std::string &text, T &value)
{
	const char *end = text.data() + text.size();
	auto [stop, ec] = std::from_chars(text.data(), end, value);

	/* from_chars() takes no sign for unsigned types, and stops at junk. */
	if (text.empty() || ec != std::errc() || stop != end)
		throw po::error(quoted(name) + ": not a number from 0 to " +
				std::to_string(std::numeric_limits<T>::max()) + ": " + quoted(text));
}

} // namespace

Args::Args(const std::vector<std::string> &words, std::initializer_list<std::string_view> keywords,
	   std::initializer_list<std::string_view> flags)
{
	auto given = [&](std::string_view word) {
		return std::ranges::find(values_, word, &std::pair<std::string_view, std::string>::first) !=
			       values_.end() ||
		       std::ranges::find(flags_, word) != flags_.end();
	};

	for (auto word = words.begin(); word != words.end(); ++word) {
		const auto *keyword = std::ranges::find(keywords, *word);
		const auto *flag = std::ranges::find(flags, *word);

		if (keyword == keywords.end() && flag == flags.end()) {
			/* Positional words come first, as in ip(8). */
			if (!values_.empty() || !flags_.empty())
				throw po::error("unexpected argument " + quoted(*word));
			positional_.push_back(*word);
			continue;
		}
		if (given(*word))
			throw po::error(quoted(*word) + " given twice");
		if (flag != flags.end()) {
			flags_.push_back(*flag);
			continue;
		}
		if (std::next(word) == words.end())
			throw po::error(quoted(*word) + ": missing value");
		values_.emplace_back(*keyword, *++word);
	}
}

bool Args::flag(std::string_view flag) const
{
	return std::ranges::find(flags_, flag) != flags_.end();
}

void Args::done() const
{
	if (next_ < positional_.size())
		throw po::error("unexpected argument " + quoted(positional_[next_]));
}

void Args::parse_into(std::string_view name, const std::string &text, in6_addr &value)
{
	auto addr = parse_address(text);

	if (!addr)
		throw po::error(quoted(name) + ": " + addr.error().message);
	value = *addr;
}

void Args::parse_into(std::string_view name, const std::string &text, std::uint16_t &value)
{
	parse_number(name, text, value);
}

void Args::parse_into(std::string_view name, const std::string &text, std::uint32_t &value)
{
	parse_number(name, text, value);
}

void Args::parse_into(std::string_view name, const std::string &text, BindingState &value)
{
	for (const auto &[state, state_name] : state_names) {
		if (text == state_name) {
			value = state;
			return;
		}
	}
	throw po::error(quoted(name) + ": not bound or pending: " + quoted(text));
}

void Args::throw_missing(std::string_view what)
{
	throw po::error("missing " + std::string(what));
}

} // namespace gecko::ctl
