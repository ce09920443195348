// SPDX-License-Identifier: GPL-2.0-only

#include "address.h"

#include <gecko/address.h>

#include <charconv>
#include <cstring>

namespace gecko::daemon {

std::optional<in6_addr> parse_address(std::string_view text)
{
	auto addr = gecko::parse_address(text);

	return addr ? std::optional(*addr) : std::nullopt;
}

std::string to_string(const in6_addr &addr)
{
	return format_address(addr);
}

bool unicast_routable(const in6_addr &addr)
{
	return !IN6_IS_ADDR_UNSPECIFIED(&addr) && !IN6_IS_ADDR_LOOPBACK(&addr) && !IN6_IS_ADDR_MULTICAST(&addr) &&
	       !IN6_IS_ADDR_LINKLOCAL(&addr) && !IN6_IS_ADDR_V4MAPPED(&addr);
}

bool AddressLess::operator()(const in6_addr &a, const in6_addr &b) const
{
	return std::memcmp(&a, &b, sizeof(a)) < 0;
}

/* Whether @a and @b agree on their first @len bits. */
static bool same_bits(const in6_addr &a, const in6_addr &b, unsigned len)
{
	unsigned bytes = len / 8, rest = len % 8;

	if (std::memcmp(&a, &b, bytes))
		return false;
	if (!rest)
		return true;
	std::uint8_t mask = 0xff << (8 - rest);
	return (a.s6_addr[bytes] & mask) == (b.s6_addr[bytes] & mask);
}

std::optional<Prefix> Prefix::parse(std::string_view text)
{
	auto slash = text.find('/');
	unsigned len = 128;

	if (slash != std::string_view::npos) {
		auto digits = text.substr(slash + 1);
		auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
		if (ec != std::errc() || end != digits.data() + digits.size() || len > 128)
			return std::nullopt;
		text = text.substr(0, slash);
	}
	auto addr = parse_address(text);
	if (!addr)
		return std::nullopt;

	Prefix p{*addr, static_cast<std::uint8_t>(len)};
	/* Host bits set are most likely a typo for another prefix. */
	in6_addr masked{};
	std::memcpy(&masked, &p.addr, len / 8);
	if (len % 8)
		masked.s6_addr[len / 8] = p.addr.s6_addr[len / 8] & (0xff << (8 - len % 8));
	if (!(masked == p.addr))
		return std::nullopt;
	return p;
}

bool Prefix::contains(const in6_addr &a) const
{
	return same_bits(addr, a, len);
}

std::string Prefix::str() const
{
	return to_string(addr) + "/" + std::to_string(len);
}

} // namespace gecko::daemon
