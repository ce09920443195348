/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_TEST_BYTES_H
#define GECKO_TEST_BYTES_H

/*
 * Wire data written by hand: as hex, and netlink messages for the cases
 * libnl would refuse to build.
 */

#include <linux/netlink.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

/* std::vector's storage is aligned enough for netlink's 4-byte alignment. */
using Bytes = std::vector<std::byte>;

/* Wire bytes written as hex; spaces and '|' only separate fields for the reader. */
inline Bytes hex(std::string_view text)
{
	Bytes out;
	std::string digits;

	for (char c : text)
		if (std::isxdigit(static_cast<unsigned char>(c)))
			digits += c;
	for (std::size_t i = 0; i + 1 < digits.size(); i += 2)
		out.push_back(static_cast<std::byte>(std::stoul(digits.substr(i, 2), nullptr, 16)));
	return out;
}

/* The other way, so that a failing comparison prints readable bytes. */
inline std::string dump(std::span<const std::byte> bytes)
{
	static constexpr char digits[] = "0123456789abcdef";
	std::string out;

	for (std::byte b : bytes) {
		out += digits[std::to_integer<unsigned>(b) >> 4];
		out += digits[std::to_integer<unsigned>(b) & 0xf];
	}
	return out;
}

/* Appends @len bytes of @data to @buf, padded to netlink's alignment. */
inline void append(Bytes &buf, const void *data, std::size_t len)
{
	const auto *p = static_cast<const std::byte *>(data);

	buf.insert(buf.end(), p, p + len);
	buf.resize(NLMSG_ALIGN(buf.size()));
}

inline void append(Bytes &buf, const Bytes &more)
{
	append(buf, more.data(), more.size());
}

/* One attribute; @len overrides its nla_len, to lie about its size. */
inline Bytes attr(std::uint16_t type, std::string_view payload, std::uint16_t len = 0)
{
	nlattr nla{static_cast<std::uint16_t>(len ? len : NLA_HDRLEN + payload.size()), type};
	Bytes buf;

	append(buf, &nla, sizeof(nla));
	append(buf, payload.data(), payload.size());
	return buf;
}

#endif /* GECKO_TEST_BYTES_H */
