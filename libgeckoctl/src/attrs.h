/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_ATTRS_H
#define GECKO_ATTRS_H

#include <gecko/error.h>

#include "fail.h"

#include <netinet/in.h>
#include <netlink/attr.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace gecko::netlink {

class Attrs;

/*
 * Decodes one reply strictly. The first problem found (a missing
 * attribute, a wrong length, stray bytes) is kept, and reads after it give
 * zero values, so a decoder reads every field and checks once, in
 * result(), as with a stream's failbit. Errors are EPROTO and name the
 * reply and the attribute.
 */
class Decoder {
public:
	/* @reply names the message in errors, e.g. "GECKO_CMD_GET_INFO reply". */
	explicit Decoder(std::string_view reply) : reply_(reply) {}
	Decoder(const Decoder &) = delete;
	Decoder &operator=(const Decoder &) = delete;

	/*
	 * The attributes in @data (4-byte aligned), by type; @names gives the
	 * name of each type this library knows. Other types come from a newer
	 * module and are ignored.
	 */
	Attrs attrs(std::span<const std::byte> data, std::span<const std::string_view> names,
		    std::string_view what = "payload");

	/* Records that @what is malformed: @why; the first call wins. */
	void malformed(std::string_view what, const std::string &why);

	/* Records that @what has @len bytes instead of @expected, if so; false then. */
	bool check_length(std::string_view what, int len, std::size_t expected);

	/* Records stray bytes, @rem as nla_for_each_*() leaves it. */
	void check_end(std::string_view what, int rem);

	template <class T>
	Result<T> result(T value) const
	{
		if (error_)
			return std::unexpected(*error_);
		return value;
	}

private:
	std::string_view reply_;
	std::optional<Error> error_;
};

/* One level of attributes of a reply being decoded. */
class Attrs {
public:
	/* The nest @type, which must be there, parsed with the names of its types. */
	Attrs nested(int type, std::span<const std::string_view> names) const;

	bool has(int type) const { return tb_[type]; }

	/* Attribute @type, which must be there with @len bytes (any if 0); null if not. */
	const nlattr *required(int type, std::size_t len = 0) const;

	/* A fixed-size value, which must be there: an integer or an in6_addr. */
	template <class T>
	T get(int type) const
	{
		static_assert(std::is_trivially_copyable_v<T>);
		const nlattr *nla = required(type, sizeof(T));
		T value{};

		/* Copied: a u64 or an address may sit at any 4-byte boundary. */
		if (nla)
			std::memcpy(&value, nla_data(nla), sizeof(T));
		return value;
	}

	/* Same, but it may be absent. */
	template <class T>
	std::optional<T> find(int type) const
	{
		if (!tb_[type])
			return std::nullopt;
		return get<T>(type);
	}

	/* A NUL-terminated string, which must be there. */
	std::string string(int type) const;

	std::string_view name(int type) const { return names_[type]; }

private:
	friend class Decoder;

	Attrs(Decoder &dec, std::span<const std::byte> data, std::span<const std::string_view> names,
	      std::string_view what);

	Decoder &dec_;
	std::span<const std::string_view> names_;
	std::vector<const nlattr *> tb_;
};

/*
 * Builds the nest @type in @msg with what @put adds; @put returns true if
 * some nla_put*() failed. Requests are allocated with room for what they
 * carry, so running out of it means a bug, but it is still reported rather
 * than sent truncated.
 */
template <class Put>
Result<void> put_nest(nl_msg *msg, int type, Put put)
{
	nlattr *nest = nla_nest_start(msg, type);

	if (!nest || put())
		return fail(EMSGSIZE, "the request does not fit in a netlink message");
	nla_nest_end(msg, nest);
	return {};
}

inline int put_address(nl_msg *msg, int type, const in6_addr &addr)
{
	return nla_put(msg, type, sizeof(addr), &addr);
}

} // namespace gecko::netlink

#endif /* GECKO_ATTRS_H */
