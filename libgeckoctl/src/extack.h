/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_EXTACK_H
#define GECKO_EXTACK_H

#include <gecko/error.h>

#include <cstddef>
#include <optional>
#include <span>

namespace gecko::netlink {

/*
 * The errno and extended-ACK text of @msg, one whole NLMSG_ERROR message
 * (header included, 4-byte aligned as netlink buffers are). It is a pure
 * function so that tests can feed it hand-built messages. Malformed TLVs
 * only lose the text; a message too short to hold its errno gives EPROTO.
 */
Error parse_nlmsgerr(std::span<const std::byte> msg);

/*
 * How a dump ended, from @msg, its whole NLMSG_DONE: nothing if it
 * succeeded, else the errno and extended-ACK text the kernel put in it.
 * As strict as parse_nlmsgerr().
 */
std::optional<Error> parse_nlmsg_done(std::span<const std::byte> msg);

} // namespace gecko::netlink

#endif /* GECKO_EXTACK_H */
