/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_ADDRESS_H
#define GECKO_ADDRESS_H

#include <gecko/error.h>
#include <gecko/export.h>

#include <netinet/in.h>

#include <string>
#include <string_view>

namespace gecko {

/* @text as an IPv6 address, in any form inet_pton(3) takes; else EINVAL saying so. */
GECKO_API Result<in6_addr> parse_address(std::string_view text);

/* @addr as inet_ntop(3) writes it: the RFC 5952 form. */
GECKO_API std::string format_address(const in6_addr &addr);

} // namespace gecko

#endif /* GECKO_ADDRESS_H */
