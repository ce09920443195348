/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_CLIENT_H
#define GECKO_CLIENT_H

#include <gecko/error.h>
#include <gecko/export.h>
#include <gecko/info.h>
#include <gecko/service.h>

#include <memory>
#include <optional>
#include <vector>

namespace gecko {

/*
 * A connection to gecko.ko's generic netlink family. Requests act on the
 * network namespace the client was opened in. A moved-from Client may
 * only be destroyed or assigned to.
 */
class GECKO_API Client {
public:
	/* Fails with ENOENT when the module is not loaded. */
	static Result<Client> open();

	/* GECKO_CMD_GET_INFO. */
	Result<Info> get_info();

	/* GECKO_CMD_SERVICE_SET: creates the service, or replaces all but its bindings. */
	Result<void> set_service(const Service &svc);
	/* GECKO_CMD_SERVICE_DEL: drops its bindings too; ENOENT if there is none. */
	Result<void> del_service(const in6_addr &home);
	/* GECKO_CMD_SERVICE_GET: ENOENT if there is none. */
	Result<Service> service(const in6_addr &home);
	/* Every service, in the order they were created. */
	Result<std::vector<Service>> services();

	/* GECKO_CMD_BINDING_SET: creates the binding or replaces it; its service must exist. */
	Result<void> set_binding(const Binding &binding);
	/* GECKO_CMD_BINDING_DEL: ENOENT if there is none. */
	Result<void> del_binding(const in6_addr &home, const in6_addr &peer);
	/* GECKO_CMD_BINDING_GET: ENOENT if there is none. */
	Result<Binding> binding(const in6_addr &home, const in6_addr &peer);
	/*
	 * Every live binding, or those of the service for @home, in no
	 * particular order. If bindings keep changing while they are read,
	 * fails with EINTR rather than give a list with some lost or repeated.
	 */
	Result<std::vector<Binding>> bindings(std::optional<in6_addr> home = {});

	Client(Client &&) noexcept;
	Client &operator=(Client &&) noexcept;
	~Client();

private:
	struct Impl;	/* keeps libnl out of this header */

	explicit Client(std::unique_ptr<Impl> impl);

	std::unique_ptr<Impl> impl_;
};

} // namespace gecko

#endif /* GECKO_CLIENT_H */
