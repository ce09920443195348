// SPDX-License-Identifier: LGPL-2.1-or-later

#include "attrs.h"

#include <cerrno>

namespace gecko::netlink {

Attrs Decoder::attrs(std::span<const std::byte> data, std::span<const std::string_view> names,
		     std::string_view what)
{
	return Attrs(*this, data, names, what);
}

void Decoder::malformed(std::string_view what, const std::string &why)
{
	if (!error_)
		error_ = Error{EPROTO, "malformed " + std::string(reply_) + ": " + std::string(what) + " " + why};
}

bool Decoder::check_length(std::string_view what, int len, std::size_t expected)
{
	if (static_cast<std::size_t>(len) == expected)
		return true;
	malformed(what, "has " + std::to_string(len) + " bytes instead of " + std::to_string(expected));
	return false;
}

void Decoder::check_end(std::string_view what, int rem)
{
	if (rem > 0)
		malformed(what, "ends in " + std::to_string(rem) + " stray bytes");
}

Attrs::Attrs(Decoder &dec, std::span<const std::byte> data, std::span<const std::string_view> names,
	     std::string_view what)
	: dec_(dec), names_(names), tb_(names.size())
{
	/* nla_for_each_attr() only reads, whatever its prototype says. */
	auto *head = reinterpret_cast<nlattr *>(const_cast<std::byte *>(data.data()));
	nlattr *nla;
	int rem;

	/* A repeated attribute counts once, its last time, as in the kernel. */
	nla_for_each_attr(nla, head, static_cast<int>(data.size()), rem)
		if (static_cast<std::size_t>(nla_type(nla)) < tb_.size())
			tb_[nla_type(nla)] = nla;
	dec_.check_end(what, rem);
}

Attrs Attrs::nested(int type, std::span<const std::string_view> names) const
{
	const nlattr *nest = required(type);
	std::span<const std::byte> data;

	if (nest)
		data = {static_cast<const std::byte *>(nla_data(nest)), static_cast<std::size_t>(nla_len(nest))};
	return Attrs(dec_, data, names, names_[type]);
}

const nlattr *Attrs::required(int type, std::size_t len) const
{
	const nlattr *nla = tb_[type];

	if (!nla) {
		dec_.malformed(names_[type], "is missing");
		return nullptr;
	}
	if (len && !dec_.check_length(names_[type], nla_len(nla), len))
		return nullptr;
	return nla;
}

std::string Attrs::string(int type) const
{
	const nlattr *nla = required(type);

	if (!nla)
		return {};
	const auto *text = static_cast<const char *>(nla_data(nla));
	int len = nla_len(nla);
	if (len == 0 || text[len - 1] != '\0') {
		dec_.malformed(names_[type], "is not NUL-terminated");
		return {};
	}
	return text;
}

} // namespace gecko::netlink
