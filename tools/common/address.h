/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_DAEMON_ADDRESS_H
#define GECKO_DAEMON_ADDRESS_H

#include <netinet/in.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gecko::daemon {

std::optional<in6_addr> parse_address(std::string_view text);
std::string to_string(const in6_addr &addr);

/* Global or unique-local unicast: what RFC 6275 §9.5.1 accepts as a home address. */
bool unicast_routable(const in6_addr &addr);

inline bool operator==(const in6_addr &a, const in6_addr &b)
{
	return IN6_ARE_ADDR_EQUAL(&a, &b);
}

/* An order for maps keyed by address. */
struct AddressLess {
	bool operator()(const in6_addr &a, const in6_addr &b) const;
};

struct Prefix {
	in6_addr addr;
	std::uint8_t len;

	/* "fd00:a::/64"; a bare address is a /128. Host bits must be zero. */
	static std::optional<Prefix> parse(std::string_view text);

	bool contains(const in6_addr &a) const;
	std::string str() const;
};

} // namespace gecko::daemon

#endif /* GECKO_DAEMON_ADDRESS_H */
