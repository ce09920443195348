// SPDX-License-Identifier: LGPL-2.1-or-later

#include <gecko/client.h>

#include "fail.h"
#include "info_decode.h"
#include "netlink.h"

#include <linux/gecko.h>
#include <netlink/genl/genl.h>

#include <cerrno>

namespace gecko {

struct Client::Impl {
	netlink::Socket sock;
	std::uint16_t family;
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::Client(Client &&) noexcept = default;
Client &Client::operator=(Client &&) noexcept = default;
Client::~Client() = default;

Result<Client> Client::open()
{
	auto sock = netlink::Socket::open();
	if (!sock)
		return std::unexpected(sock.error());

	auto family = sock->resolve(GECKO_GENL_NAME);
	if (!family) {
		Error err = family.error();

		if (err.code == ENOENT)
			err.message += ": is gecko.ko loaded? (modprobe gecko)";
		return std::unexpected(std::move(err));
	}
	return Client(std::make_unique<Impl>(std::move(*sock), *family));
}

Result<Info> Client::get_info()
{
	auto request = netlink::new_request(impl_->family, GECKO_CMD_GET_INFO, GECKO_GENL_VERSION);
	if (!request)
		return std::unexpected(request.error());

	auto reply = impl_->sock.transact(request->get());
	if (!reply)
		return std::unexpected(reply.error());
	if (!*reply || !genlmsg_valid_hdr(nlmsg_hdr(reply->get()), 0))
		return fail(EPROTO, "GECKO_CMD_GET_INFO sent no reply");

	const genlmsghdr *gnlh = genlmsg_hdr(nlmsg_hdr(reply->get()));
	return decode_info({reinterpret_cast<const std::byte *>(genlmsg_attrdata(gnlh, 0)),
			    static_cast<std::size_t>(genlmsg_attrlen(gnlh, 0))});
}

} // namespace gecko
