/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_DAEMON_SEQUENCE_H
#define GECKO_DAEMON_SEQUENCE_H

#include <cstdint>

namespace gecko::daemon {

/* Sequence numbers compare modulo 2^16 (RFC 6275 §9.5.1): "greater" means within the 2^15 after. */
constexpr bool seq_newer(std::uint16_t seq, std::uint16_t last)
{
	return static_cast<std::int16_t>(static_cast<std::uint16_t>(seq - last)) > 0;
}

} // namespace gecko::daemon

#endif /* GECKO_DAEMON_SEQUENCE_H */
