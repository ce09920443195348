// SPDX-License-Identifier: LGPL-2.1-or-later

#include <gecko/address.h>
#include <gecko/client.h>

#include "fail.h"
#include "info_decode.h"
#include "limits_codec.h"
#include "netlink.h"
#include "service_codec.h"
#include "sock_codec.h"

#include <linux/gecko.h>

#include <algorithm>
#include <string>

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

	Result<netlink::MessagePtr> request(std::uint8_t cmd, std::size_t room = 0)
	{
		return netlink::new_request(family, cmd, GECKO_GENL_VERSION, room);
	}

	/* A request for @cmd with the attributes @put adds, @room octets of data among them. */
	template <class Put>
	Result<netlink::MessagePtr> request(std::uint8_t cmd, Put put, std::size_t room = 0)
	{
		auto msg = request(cmd, room);

		if (!msg)
			return msg;
		if (auto done = put(msg->get()); !done)
			return std::unexpected(done.error());
		return msg;
	}

	/* A request for @cmd naming the socket @fd, with what put_sock() adds if there is. */
	Result<netlink::MessagePtr> sock_request(std::uint8_t cmd, int fd, std::span<const std::byte> data = {},
						  std::optional<std::chrono::milliseconds> timeout = {},
						  const in6_addr *forward = nullptr, const in6_addr *donor = nullptr)
	{
		return request(cmd, [&](nl_msg *msg) { return put_sock(msg, fd, data, timeout, forward, donor); },
			       data.size());
	}

	/*
	 * The four ways of sending a request: each takes it as built, and
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

	/* Sends @request, a GECKO_CMD_SOCK_CAPTURE dump, and joins the state its replies carry. */
	Result<std::vector<std::byte>> capture(Result<netlink::MessagePtr> request)
	{
		std::vector<std::span<const std::byte>> pieces;

		if (!request)
			return std::unexpected(request.error());
		auto replies = sock.dump(request->get());
		if (!replies)
			return std::unexpected(replies.error());
		for (const auto &reply : *replies) {
			auto attrs = netlink::attributes(reply.get());

			if (!attrs)
				return std::unexpected(attrs.error());
			pieces.push_back(*attrs);
		}
		return decode_capture(pieces);
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
	return set_bindings({&binding, 1});
}

Result<void> Client::set_bindings(std::span<const Binding> bindings)
{
	std::optional<Error> first;
	Binding first_refused{};
	std::size_t refused = 0;

	netlink::Requests requests(impl_->family, GECKO_GENL_VERSION);

	for (std::size_t at = 0; at < bindings.size(); at += netlink::Socket::batch_max) {
		const auto part = bindings.subspan(at, std::min(netlink::Socket::batch_max, bindings.size() - at));

		requests.clear();
		for (const auto &binding : part)
			put_binding(requests, binding);
		auto outcomes = impl_->sock.batch(requests);
		if (!outcomes)
			return std::unexpected(outcomes.error());
		for (std::size_t i = 0; i < part.size(); i++) {
			if (!(*outcomes)[i])
				continue;
			if (!first) {
				first = std::move((*outcomes)[i]);
				first_refused = part[i];
			}
			refused++;
		}
	}
	if (!first)
		return {};
	if (bindings.size() > 1)
		first->message += " (the binding of " + format_address(first_refused.peer) + " to " +
				  format_address(first_refused.home) + ", " + std::to_string(refused) + " of " +
				  std::to_string(bindings.size()) + " refused)";
	return std::unexpected(std::move(*first));
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

Result<void> Client::freeze_socket(int fd, std::optional<std::chrono::milliseconds> timeout)
{
	return impl_->execute(impl_->sock_request(GECKO_CMD_SOCK_FREEZE, fd, {}, timeout));
}

Result<std::vector<std::byte>> Client::capture_socket(int fd)
{
	return impl_->capture(impl_->sock_request(GECKO_CMD_SOCK_CAPTURE, fd));
}

Result<std::vector<std::byte>> Client::snapshot_socket(const in6_addr &local, std::uint16_t local_port,
							const in6_addr &remote, std::uint16_t remote_port)
{
	return impl_->capture(impl_->request(GECKO_CMD_SOCK_CAPTURE, [&](nl_msg *msg) {
		return put_sock_tuple(msg, local, local_port, remote, remote_port);
	}));
}

Result<void> Client::commit_socket(int fd, std::chrono::milliseconds timeout, std::optional<in6_addr> forward)
{
	return impl_->execute(impl_->sock_request(GECKO_CMD_SOCK_COMMIT, fd, {}, timeout, forward ? &*forward : nullptr));
}

Result<void> Client::restore_socket_begin(int fd, std::span<const std::byte> header,
					  std::optional<std::chrono::milliseconds> timeout,
					  std::optional<in6_addr> donor)
{
	return impl_->execute(impl_->sock_request(GECKO_CMD_SOCK_RESTORE, fd, header, timeout, nullptr,
						  donor ? &*donor : nullptr));
}

Result<void> Client::restore_socket_data(int fd, std::span<const std::byte> octets)
{
	for (auto piece : data_pieces(octets))
		if (auto sent = impl_->execute(impl_->sock_request(GECKO_CMD_SOCK_RESTORE_DATA, fd, piece)); !sent)
			return sent;
	return {};
}

Result<void> Client::restore_socket(int fd, std::span<const std::byte> state,
				    std::optional<std::chrono::milliseconds> timeout, std::optional<in6_addr> donor)
{
	auto hdr = parse_tcp_state(state);
	if (!hdr)
		return std::unexpected(hdr.error());

	auto header = state.first(hdr->hdr_len);
	if (auto begun = restore_socket_begin(fd, header, timeout, donor); !begun)
		return begun;
	for (auto piece : restore_data(*hdr, state))
		if (auto sent = restore_socket_data(fd, piece); !sent)
			return sent;
	return {};
}

Result<void> Client::thaw_socket(int fd)
{
	return impl_->execute(impl_->sock_request(GECKO_CMD_SOCK_THAW, fd));
}

Result<void> Client::drop_socket(int fd, std::optional<in6_addr> forward)
{
	return impl_->execute(impl_->sock_request(GECKO_CMD_SOCK_DROP, fd, {}, {}, forward ? &*forward : nullptr));
}

Result<void> Client::probe_socket(const in6_addr &local, std::uint16_t local_port, const in6_addr &remote,
				  std::uint16_t remote_port, const std::optional<ProbeSegment> &seg,
				  std::optional<std::chrono::milliseconds> timeout)
{
	if (seg && seg->tsval.has_value() != seg->tsecr.has_value())
		return fail(EINVAL, "the timestamps option takes both TSval and TSecr");
	return impl_->execute(impl_->request(GECKO_CMD_SOCK_PROBE, [&](nl_msg *msg) {
		return put_probe(msg, local, local_port, remote, remote_port, seg, timeout);
	}));
}

Result<void> Client::guard_socket(int fd)
{
	return impl_->execute(impl_->sock_request(GECKO_CMD_SOCK_GUARD, fd));
}

Result<std::vector<Flow>> Client::flows()
{
	return impl_->dump(impl_->request(GECKO_CMD_SOCK_GET), decode_flow);
}

Result<Limits> Client::limits()
{
	return impl_->get(impl_->request(GECKO_CMD_LIMITS_GET), decode_limits);
}

Result<void> Client::set_limits(const Limits &limits)
{
	return impl_->execute(impl_->request(GECKO_CMD_LIMITS_SET,
					     [&](nl_msg *msg) { return put_limits(msg, limits); }));
}

} // namespace gecko
