/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_TEST_BYTES_H
#define GECKO_TEST_BYTES_H

/* Netlink wire data built by hand, for the cases libnl would refuse to build. */

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

/* std::vector's storage is aligned enough for netlink's 4-byte alignment. */
using Bytes = std::vector<std::byte>;

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
