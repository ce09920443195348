// SPDX-License-Identifier: LGPL-2.1-or-later

#include <gecko/client.h>

#include "fail.h"
#include "info_decode.h"
#include "netlink.h"
#include "service_codec.h"

#include <linux/gecko.h>

#include <cerrno>

namespace gecko {

namespace {

template <class T>
using Decode = Result<T> (*)(std::span<const std::byte>);

template <class T>
Result<T> decode_message(nl_msg *msg, Decode<T> decode)
{
	auto attrs = netlink::attributes(msg);

	if (!attrs)
		return std::unexpected(attrs.error());
	return decode(*attrs);
}

} // namespace

struct Client::Impl {
	netlink::Socket sock;
	std::uint16_t family;

	Result<netlink::MessagePtr> request(std::uint8_t cmd)
	{
		return netlink::new_request(family, cmd, GECKO_GENL_VERSION);
	}

	/* A request for @cmd with the attributes @put adds to the message. */
	template <class Put>
	Result<netlink::MessagePtr> request(std::uint8_t cmd, Put put)
	{
		auto msg = request(cmd);

		if (!msg)
			return msg;
		if (auto done = put(msg->get()); !done)
			return std::unexpected(done.error());
		return msg;
	}

	/*
	 * The three ways of sending a request: each takes it as built, and
	 * passes on why it could not be.
	 */

	/* Sends @request, for a command that only ACKs. */
	Result<void> execute(Result<netlink::MessagePtr> request)
	{
		if (!request)
			return std::unexpected(request.error());
		if (auto reply = sock.transact(request->get()); !reply)
			return std::unexpected(reply.error());
		return {};
	}

	/* Sends @request, for a command that replies once, and decodes the reply. */
	template <class T>
	Result<T> get(Result<netlink::MessagePtr> request, Decode<T> decode)
	{
		if (!request)
			return std::unexpected(request.error());
		auto reply = sock.transact(request->get());
		if (!reply)
			return std::unexpected(reply.error());
		if (!*reply)
			return fail(EPROTO, "the module sent no reply");
		return decode_message(reply->get(), decode);
	}

	/* Sends @request as a dump and decodes every reply. */
	template <class T>
	Result<std::vector<T>> dump(Result<netlink::MessagePtr> request, Decode<T> decode)
	{
		std::vector<T> objects;

		if (!request)
			return std::unexpected(request.error());
		auto replies = sock.dump(request->get());
		if (!replies)
			return std::unexpected(replies.error());
		for (const auto &reply : *replies) {
			auto object = decode_message(reply.get(), decode);

			if (!object)
				return std::unexpected(object.error());
			objects.push_back(std::move(*object));
		}
		return objects;
	}
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
	return impl_->get(impl_->request(GECKO_CMD_GET_INFO), decode_info);
}

Result<void> Client::set_service(const Service &svc)
{
	return impl_->execute(impl_->request(GECKO_CMD_SERVICE_SET,
					     [&](nl_msg *msg) { return put_service(msg, svc); }));
}

Result<void> Client::del_service(const in6_addr &home)
{
	return impl_->execute(impl_->request(GECKO_CMD_SERVICE_DEL,
					     [&](nl_msg *msg) { return put_service_home(msg, home); }));
}

Result<Service> Client::service(const in6_addr &home)
{
	return impl_->get(impl_->request(GECKO_CMD_SERVICE_GET,
					 [&](nl_msg *msg) { return put_service_home(msg, home); }),
			  decode_service);
}

Result<std::vector<Service>> Client::services()
{
	return impl_->dump(impl_->request(GECKO_CMD_SERVICE_GET), decode_service);
}

Result<void> Client::set_binding(const Binding &binding)
{
	return impl_->execute(impl_->request(GECKO_CMD_BINDING_SET,
					     [&](nl_msg *msg) { return put_binding(msg, binding); }));
}

Result<void> Client::del_binding(const in6_addr &home, const in6_addr &peer)
{
	return impl_->execute(impl_->request(GECKO_CMD_BINDING_DEL,
					     [&](nl_msg *msg) { return put_binding_key(msg, home, &peer); }));
}

Result<Binding> Client::binding(const in6_addr &home, const in6_addr &peer)
{
	return impl_->get(impl_->request(GECKO_CMD_BINDING_GET,
					 [&](nl_msg *msg) { return put_binding_key(msg, home, &peer); }),
			  decode_binding);
}

Result<std::vector<Binding>> Client::bindings(std::optional<in6_addr> home)
{
	if (!home)
		return impl_->dump(impl_->request(GECKO_CMD_BINDING_GET), decode_binding);
	return impl_->dump(impl_->request(GECKO_CMD_BINDING_GET,
					  [&](nl_msg *msg) { return put_binding_key(msg, *home, nullptr); }),
			   decode_binding);
}

} // namespace gecko
