/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_CLIENT_H
#define GECKO_CLIENT_H

#include <gecko/error.h>
#include <gecko/export.h>
#include <gecko/info.h>

#include <memory>

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
