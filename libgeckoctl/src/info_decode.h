/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_INFO_DECODE_H
#define GECKO_INFO_DECODE_H

#include <gecko/error.h>
#include <gecko/info.h>

#include <cstddef>
#include <span>

namespace gecko {

/*
 * The Info in @attrs, the attributes of a GECKO_CMD_GET_INFO reply
 * (4-byte aligned). Strict: a missing attribute or a wrong length gives
 * EPROTO naming the attribute; attributes and counters this library does
 * not know are accepted, for newer modules.
 */
Result<Info> decode_info(std::span<const std::byte> attrs);

} // namespace gecko

#endif /* GECKO_INFO_DECODE_H */
