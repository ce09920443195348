/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_SERVICE_H
#define GECKO_SERVICE_H

/*
 * What gecko.ko keeps per network namespace: the services (global
 * addresses G this node serves) and the bindings of their clients. The
 * UAPI header, include/uapi/linux/gecko.h, says what each field means to
 * the module.
 */

#include <netinet/in.h>

#include <cstdint>
#include <optional>

namespace gecko {

struct Service {
	in6_addr home{};		/* G */
	in6_addr coa{};			/* this node's care-of address */
	in6_addr contact_coa{};		/* the contact node's care-of address */
	std::optional<in6_addr> ha;	/* the home agent; required if contact */
	bool contact = false;		/* this node is the contact node */
	unsigned bindings = 0;		/* read only: how many bindings it has */
};

enum class BindingState : std::uint8_t {
	pending = 1,	/* a Binding Update to this node is on its way to the client */
	bound = 2,	/* the client sends to this node */
};

struct Binding {
	in6_addr home{};		/* G; its service must exist */
	in6_addr peer{};		/* the client */
	BindingState state = BindingState::pending;
	std::uint16_t seq = 0;		/* of the client's latest Binding Update */
	std::uint32_t lifetime = 0;	/* seconds, 1..420; on read, the seconds left */
};

} // namespace gecko

#endif /* GECKO_SERVICE_H */
