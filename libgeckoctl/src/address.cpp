// SPDX-License-Identifier: LGPL-2.1-or-later

#include <gecko/address.h>

#include "fail.h"

#include <arpa/inet.h>

#include <cerrno>

namespace gecko {

Result<in6_addr> parse_address(std::string_view text)
{
	in6_addr addr;

	/* inet_pton() wants a C string; a string_view may not end in NUL. */
	if (inet_pton(AF_INET6, std::string(text).c_str(), &addr) != 1)
		return fail(EINVAL, "not an IPv6 address: '" + std::string(text) + "'");
	return addr;
}

std::string format_address(const in6_addr &addr)
{
	char text[INET6_ADDRSTRLEN];

	/* Cannot fail: the family is right and the buffer is big enough. */
	return inet_ntop(AF_INET6, &addr, text, sizeof(text));
}

} // namespace gecko
