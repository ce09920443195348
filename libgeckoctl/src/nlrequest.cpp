// SPDX-License-Identifier: LGPL-2.1-or-later

#include "nlrequest.h"

#include "extack.h"
#include "fail.h"

#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <optional>
#include <string>

namespace gecko::netlink {

namespace {

using CallbackPtr = std::unique_ptr<nl_cb, Deleter<nl_cb_put>>;

struct Outcome {
	std::optional<Error> error;
	bool done = false;
};

int on_ack(nl_msg *, void *arg)
{
	static_cast<Outcome *>(arg)->done = true;
	return NL_STOP;
}

int on_error(sockaddr_nl *, nlmsgerr *err, void *arg)
{
	auto *out = static_cast<Outcome *>(arg);
	/* libnl passes the payload; the header sits right before it. */
	const auto *nlh = reinterpret_cast<const nlmsghdr *>(err) - 1;

	out->error = parse_nlmsgerr({reinterpret_cast<const std::byte *>(nlh), nlh->nlmsg_len});
	out->done = true;
	return NL_STOP;
}

} // namespace

std::unexpected<Error> libnl_fail(int nlerr, std::string_view what)
{
	return fail(nlerr == -NLE_NOMEM ? ENOMEM : EINVAL, std::string(what) + ": " + nl_geterror(nlerr));
}

Result<RequestSocket> RequestSocket::open(int protocol)
{
	SocketPtr sk(nl_socket_alloc());
	int one = 1;

	if (!sk)
		return fail(ENOMEM, "cannot allocate a netlink socket");
	if (int ret = nl_connect(sk.get(), protocol); ret < 0)
		return fail(EPROTONOSUPPORT, std::string("cannot open a netlink socket: ") + nl_geterror(ret));
	/* Failing here only costs the kernel's error messages (before 4.12). */
	(void)setsockopt(nl_socket_get_fd(sk.get()), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	return RequestSocket(std::move(sk));
}

Result<void> RequestSocket::request(nl_msg *request)
{
	CallbackPtr cb(nl_cb_alloc(NL_CB_DEFAULT));
	Outcome out;

	if (!cb)
		return fail(ENOMEM, "cannot allocate netlink callbacks");
	nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, on_ack, &out);
	nl_cb_err(cb.get(), NL_CB_CUSTOM, on_error, &out);

	/* nl_send_auto() asks for an ACK, which ends every exchange. */
	if (int ret = nl_send_auto(sk_.get(), request); ret < 0)
		return fail(EIO, std::string("cannot send a netlink request: ") + nl_geterror(ret));
	while (!out.done) {
		int ret = nl_recvmsgs(sk_.get(), cb.get());

		if (ret < 0 && !out.done)
			return fail(EIO, std::string("cannot receive a netlink reply: ") + nl_geterror(ret));
	}
	if (out.error)
		return std::unexpected(std::move(*out.error));
	return {};
}

} // namespace gecko::netlink
