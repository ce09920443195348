/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_LIMITS_CODEC_H
#define GECKO_LIMITS_CODEC_H

/*
 * The limits on the wire: the GECKO_A_LIMITS nest of GECKO_CMD_LIMITS_SET
 * and the decoding of the GECKO_CMD_LIMITS_GET reply. Pure functions, so
 * that tests can feed them messages built by hand.
 */

#include <gecko/error.h>
#include <gecko/limits.h>

#include <netlink/msg.h>

#include <cstddef>
#include <span>

namespace gecko {

/* The GECKO_A_LIMITS nest with the limits set in @limits; EINVAL if none is. */
Result<void> put_limits(nl_msg *msg, const Limits &limits);

/*
 * The Limits in @attrs, the attributes of a GECKO_CMD_LIMITS_GET reply
 * (4-byte aligned): every limit and count, or EPROTO naming the one
 * missing or of a wrong length. Attributes of a newer module are ignored.
 */
Result<Limits> decode_limits(std::span<const std::byte> attrs);

} // namespace gecko

#endif /* GECKO_LIMITS_CODEC_H */
