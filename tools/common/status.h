/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_DAEMON_STATUS_H
#define GECKO_DAEMON_STATUS_H

#include <cstdint>
#include <string_view>

namespace gecko::daemon {

/* "sequence number out of window"... for a Binding Acknowledgement status (RFC 6275 §6.1.8), for logs. */
std::string_view ba_status_text(std::uint8_t status);

} // namespace gecko::daemon

#endif /* GECKO_DAEMON_STATUS_H */
