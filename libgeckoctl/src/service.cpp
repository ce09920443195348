// SPDX-License-Identifier: LGPL-2.1-or-later

#include "service_codec.h"

#include "attrs.h"
#include "names.h"

#include <linux/gecko.h>
#include <netlink/attr.h>

namespace gecko {

static_assert(static_cast<int>(BindingState::pending) == GECKO_BINDING_PENDING);
static_assert(static_cast<int>(BindingState::bound) == GECKO_BINDING_BOUND);

using netlink::put_address;
using netlink::put_nest;

Result<void> put_service(nl_msg *msg, const Service &svc)
{
	return put_nest(msg, GECKO_A_SERVICE, [&] {
		return put_address(msg, GECKO_SERVICE_A_HOME, svc.home) ||
		       put_address(msg, GECKO_SERVICE_A_COA, svc.coa) ||
		       put_address(msg, GECKO_SERVICE_A_CONTACT_COA, svc.contact_coa) ||
		       (svc.ha ? put_address(msg, GECKO_SERVICE_A_HA, *svc.ha) : 0) ||
		       /* Always sent: SERVICE_SET replaces every field, flags included. */
		       nla_put_u32(msg, GECKO_SERVICE_A_FLAGS, svc.contact ? GECKO_SERVICE_F_CONTACT : 0);
	});
}

Result<void> put_service_home(nl_msg *msg, const in6_addr &home)
{
	return put_nest(msg, GECKO_A_SERVICE, [&] { return put_address(msg, GECKO_SERVICE_A_HOME, home); });
}

void put_binding(netlink::Requests &requests, const Binding &binding)
{
	requests.begin(GECKO_CMD_BINDING_SET);
	auto nest = requests.nest(GECKO_A_BINDING);
	requests.put(GECKO_BINDING_A_HOME, binding.home);
	requests.put(GECKO_BINDING_A_PEER, binding.peer);
	requests.put(GECKO_BINDING_A_STATE, static_cast<std::uint8_t>(binding.state));
	requests.put(GECKO_BINDING_A_SEQ, binding.seq);
	requests.put(GECKO_BINDING_A_LIFETIME, binding.lifetime);
	requests.end_nest(nest);
	requests.end();
}

Result<void> put_binding_key(nl_msg *msg, const in6_addr &home, const in6_addr *peer)
{
	return put_nest(msg, GECKO_A_BINDING, [&] {
		return put_address(msg, GECKO_BINDING_A_HOME, home) ||
		       (peer ? put_address(msg, GECKO_BINDING_A_PEER, *peer) : 0);
	});
}

Result<Service> decode_service(std::span<const std::byte> data)
{
	netlink::Decoder dec("GECKO_CMD_SERVICE_GET reply");
	auto attrs = dec.attrs(data, attr_names).nested(GECKO_A_SERVICE, service_attr_names);

	return dec.result(Service{
		.home = attrs.get<in6_addr>(GECKO_SERVICE_A_HOME),
		.coa = attrs.get<in6_addr>(GECKO_SERVICE_A_COA),
		.contact_coa = attrs.get<in6_addr>(GECKO_SERVICE_A_CONTACT_COA),
		.ha = attrs.find<in6_addr>(GECKO_SERVICE_A_HA),
		.contact = (attrs.get<std::uint32_t>(GECKO_SERVICE_A_FLAGS) & GECKO_SERVICE_F_CONTACT) != 0,
		.bindings = attrs.get<std::uint32_t>(GECKO_SERVICE_A_BINDINGS),
	});
}

Result<Binding> decode_binding(std::span<const std::byte> data)
{
	netlink::Decoder dec("GECKO_CMD_BINDING_GET reply");
	auto attrs = dec.attrs(data, attr_names).nested(GECKO_A_BINDING, binding_attr_names);
	auto state = attrs.get<std::uint8_t>(GECKO_BINDING_A_STATE);

	/* A state this library cannot name would be misreported as another. */
	if (state != GECKO_BINDING_PENDING && state != GECKO_BINDING_BOUND)
		dec.malformed(attrs.name(GECKO_BINDING_A_STATE), "is " + std::to_string(state) + ", not a known state");
	return dec.result(Binding{
		.home = attrs.get<in6_addr>(GECKO_BINDING_A_HOME),
		.peer = attrs.get<in6_addr>(GECKO_BINDING_A_PEER),
		.state = static_cast<BindingState>(state),
		.seq = attrs.get<std::uint16_t>(GECKO_BINDING_A_SEQ),
		.lifetime = attrs.get<std::uint32_t>(GECKO_BINDING_A_LIFETIME),
	});
}

} // namespace gecko
