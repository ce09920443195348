/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_SERVICE_CODEC_H
#define GECKO_SERVICE_CODEC_H

/*
 * Services and bindings on the wire: the attributes each request carries
 * and the decoding of the replies. Pure functions, so that tests can feed
 * them messages built by hand.
 */

#include "netlink.h"

#include <gecko/error.h>
#include <gecko/service.h>

#include <netlink/msg.h>

#include <cstddef>
#include <span>

namespace gecko {

/* The GECKO_A_SERVICE nest of GECKO_CMD_SERVICE_SET, every field. */
Result<void> put_service(nl_msg *msg, const Service &svc);
/* The GECKO_A_SERVICE nest naming @home, for SERVICE_DEL and SERVICE_GET. */
Result<void> put_service_home(nl_msg *msg, const in6_addr &home);

/* A GECKO_CMD_BINDING_SET request for @binding, every field. */
void put_binding(netlink::Requests &requests, const Binding &binding);
/*
 * The GECKO_A_BINDING nest naming a binding, for BINDING_DEL and
 * BINDING_GET; without @peer, the filter of a BINDING_GET dump.
 */
Result<void> put_binding_key(nl_msg *msg, const in6_addr &home, const in6_addr *peer);

/*
 * The Service or Binding in @attrs, the attributes of a SERVICE_GET or
 * BINDING_GET reply (4-byte aligned). Strict: a missing attribute, a wrong
 * length or an unknown binding state is EPROTO naming it; attributes and
 * service flags this library does not know are a newer module's, and
 * ignored.
 */
Result<Service> decode_service(std::span<const std::byte> attrs);
Result<Binding> decode_binding(std::span<const std::byte> attrs);

} // namespace gecko

#endif /* GECKO_SERVICE_CODEC_H */
