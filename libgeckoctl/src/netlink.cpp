// SPDX-License-Identifier: LGPL-2.1-or-later

#include "netlink.h"

#include "extack.h"
#include "fail.h"

#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace gecko::netlink {

namespace {

using CallbackPtr = std::unique_ptr<nl_cb, Deleter<nl_cb_put>>;

/* libnl has its own error codes; keep the errno of those a caller can act on. */
int to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_PERM:
		return EPERM;
	case NLE_NOACCESS:
		return EACCES;
	case NLE_AF_NOSUPPORT:
		return EAFNOSUPPORT;
	case NLE_PROTO_MISMATCH:	/* socket() said EPROTONOSUPPORT: e.g. no xfrm_user */
		return EPROTONOSUPPORT;
	default:
		return EIO;
	}
}

std::unexpected<Error> nl_fail(int nlerr, std::string_view what)
{
	return fail(to_errno(nlerr), std::string(what) + ": " + nl_geterror(nlerr));
}

/* What the callbacks learn about one request. */
struct Exchange {
	std::vector<MessagePtr> replies;
	bool interrupted = false;
	std::optional<Error> error;
	bool done = false;
};

std::span<const std::byte> bytes_of(const nlmsghdr *nlh)
{
	return {reinterpret_cast<const std::byte *>(nlh), nlh->nlmsg_len};
}

int on_reply(nl_msg *msg, void *arg)
{
	/* libnl frees @msg after this callback returns. */
	nlmsg_get(msg);
	static_cast<Exchange *>(arg)->replies.emplace_back(msg);
	return NL_OK;
}

int on_interrupted(nl_msg *, void *arg)
{
	/* Read on to NLMSG_DONE, so the socket stays in step. */
	static_cast<Exchange *>(arg)->interrupted = true;
	return NL_OK;
}

int on_ack(nl_msg *, void *arg)
{
	static_cast<Exchange *>(arg)->done = true;
	return NL_STOP;
}

int on_done(nl_msg *msg, void *arg)
{
	auto *ex = static_cast<Exchange *>(arg);

	ex->error = parse_nlmsg_done(bytes_of(nlmsg_hdr(msg)));
	ex->done = true;
	return NL_STOP;
}

int on_error(sockaddr_nl *, nlmsgerr *err, void *arg)
{
	auto *ex = static_cast<Exchange *>(arg);
	/* libnl passes the payload; the header sits right before it. */
	const auto *nlh = reinterpret_cast<const nlmsghdr *>(err) - 1;

	ex->error = parse_nlmsgerr(bytes_of(nlh));
	ex->done = true;
	return NL_STOP;
}

} // namespace

std::unexpected<Error> libnl_fail(int nlerr, std::string_view what)
{
	return fail(nlerr == -NLE_NOMEM ? ENOMEM : EINVAL, std::string(what) + ": " + nl_geterror(nlerr));
}

Result<MessagePtr> new_request(std::uint16_t family, std::uint8_t cmd, std::uint8_t version, std::size_t room)
{
	/* A page is what nlmsg_alloc() gives. */
	MessagePtr msg(nlmsg_alloc_size(getpagesize() + room));

	if (!msg || !genlmsg_put(msg.get(), NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, cmd, version))
		return fail(ENOMEM, "cannot allocate a netlink message");
	return msg;
}

Result<std::span<const std::byte>> attributes(nl_msg *msg)
{
	nlmsghdr *nlh = nlmsg_hdr(msg);

	if (!genlmsg_valid_hdr(nlh, 0))
		return fail(EPROTO, "generic netlink message too short for its header");
	const genlmsghdr *gnlh = genlmsg_hdr(nlh);
	return std::span{reinterpret_cast<const std::byte *>(genlmsg_attrdata(gnlh, 0)),
			 static_cast<std::size_t>(genlmsg_attrlen(gnlh, 0))};
}

Result<Socket> Socket::open(int protocol)
{
	SocketPtr sk(nl_socket_alloc());
	int one = 1;

	if (!sk)
		return fail(ENOMEM, "cannot allocate a netlink socket");
	if (int ret = nl_connect(sk.get(), protocol); ret < 0)
		return nl_fail(ret, protocol == NETLINK_GENERIC ? "cannot open a generic netlink socket"
								: "cannot open a netlink socket");
	/* Failing here only costs the kernel's error messages (before 4.12). */
	(void)setsockopt(nl_socket_get_fd(sk.get()), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	/*
	 * A reply can be larger than libnl's first receive buffer (a socket's
	 * state comes in pieces as large as the kernel makes them): peeking at
	 * each one's size lets libnl grow the buffer rather than truncate the
	 * reply. Recent libnl peeks by default; older ones only when told.
	 */
	nl_socket_enable_msg_peek(sk.get());
	return Socket(std::move(sk));
}

Result<std::uint16_t> Socket::resolve(const std::string &name)
{
	constexpr std::uint8_t ctrl_version = 2;	/* of the kernel's nlctrl */
	nlattr *tb[CTRL_ATTR_MAX + 1];
	nlattr *id = nullptr;

	auto request = new_request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, ctrl_version);
	if (!request)
		return std::unexpected(request.error());
	if (nla_put_string(request->get(), CTRL_ATTR_FAMILY_NAME, name.c_str()) < 0)
		return fail(EMSGSIZE, "generic netlink family name too long");

	auto reply = transact(request->get());
	if (!reply && reply.error().code == ENOENT)
		return fail(ENOENT, "generic netlink family '" + name + "' not found");
	if (!reply)
		return std::unexpected(reply.error());

	if (*reply && genlmsg_parse(nlmsg_hdr(reply->get()), 0, tb, CTRL_ATTR_MAX, nullptr) == 0)
		id = tb[CTRL_ATTR_FAMILY_ID];
	if (!id || nla_len(id) != sizeof(std::uint16_t))
		return fail(EPROTO, "nlctrl sent no id for family '" + name + "'");
	return nla_get_u16(id);
}

Result<MessagePtr> Socket::transact(nl_msg *request)
{
	auto replies = exchange(request);

	if (!replies)
		return std::unexpected(replies.error());
	if (replies->messages.size() > 1)
		return fail(EPROTO, "more than one reply to a request");
	if (replies->messages.empty())
		return nullptr;
	return std::move(replies->messages.front());
}

Result<void> Socket::request(nl_msg *request)
{
	auto reply = transact(request);

	if (!reply)
		return std::unexpected(reply.error());
	return {};
}

Result<std::vector<MessagePtr>> Socket::dump(nl_msg *request)
{
	/*
	 * An interrupted dump is usually whole the next time; a table that
	 * keeps changing faster than it can be read is reported instead.
	 */
	constexpr int tries = 5;

	nlmsg_hdr(request)->nlmsg_flags |= NLM_F_DUMP;
	for (int i = 0; i < tries; i++) {
		auto replies = exchange(request);

		if (!replies)
			return std::unexpected(replies.error());
		if (!replies->interrupted)
			return std::move(replies->messages);
	}
	return fail(EINTR, "the dump was interrupted by changes " + std::to_string(tries) +
				   " times in a row; try again");
}

Result<Socket::Replies> Socket::exchange(nl_msg *request)
{
	CallbackPtr cb(nl_cb_alloc(NL_CB_DEFAULT));
	Exchange ex;

	if (!cb)
		return fail(ENOMEM, "cannot allocate netlink callbacks");
	nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_reply, &ex);
	nl_cb_set(cb.get(), NL_CB_DUMP_INTR, NL_CB_CUSTOM, on_interrupted, &ex);
	nl_cb_set(cb.get(), NL_CB_ACK, NL_CB_CUSTOM, on_ack, &ex);
	nl_cb_set(cb.get(), NL_CB_FINISH, NL_CB_CUSTOM, on_done, &ex);
	nl_cb_err(cb.get(), NL_CB_CUSTOM, on_error, &ex);

	/*
	 * A request sent again needs a new sequence number: libnl expects
	 * the next one and would take the replies for stale. nl_send_auto()
	 * numbers it, and asks for an ACK, which ends every exchange but a
	 * dump's (NLMSG_DONE does).
	 */
	nlmsg_hdr(request)->nlmsg_seq = NL_AUTO_SEQ;
	if (int ret = nl_send_auto(sk_.get(), request); ret < 0)
		return nl_fail(ret, "cannot send a netlink request");
	while (!ex.done) {
		int ret = nl_recvmsgs(sk_.get(), cb.get());

		if (ret < 0 && !ex.done)
			return nl_fail(ret, "cannot receive a netlink reply");
	}
	if (ex.error)
		return std::unexpected(std::move(*ex.error));
	return Replies{std::move(ex.replies), ex.interrupted};
}

void Requests::begin(std::uint8_t cmd)
{
	start_ = buf_.size();
	buf_.resize(start_ + NLMSG_HDRLEN + GENL_HDRLEN);
	auto *nlh = reinterpret_cast<nlmsghdr *>(buf_.data() + start_);
	*nlh = {};
	nlh->nlmsg_type = family_;
	auto *genl = reinterpret_cast<genlmsghdr *>(buf_.data() + start_ + NLMSG_HDRLEN);
	*genl = {};
	genl->cmd = cmd;
	genl->version = version_;
}

void Requests::begin(std::uint16_t type, const void *header, std::size_t len)
{
	start_ = buf_.size();
	buf_.resize(start_ + NLMSG_HDRLEN + NLMSG_ALIGN(len));
	auto *nlh = reinterpret_cast<nlmsghdr *>(buf_.data() + start_);
	*nlh = {};
	nlh->nlmsg_type = type;
	std::memcpy(buf_.data() + start_ + NLMSG_HDRLEN, header, len);
	std::memset(buf_.data() + start_ + NLMSG_HDRLEN + len, 0, NLMSG_ALIGN(len) - len);
}

void Requests::put(std::uint16_t type, const void *data, std::size_t len)
{
	const std::size_t at = buf_.size();
	buf_.resize(at + NLA_ALIGN(NLA_HDRLEN + len));
	nlattr attr{static_cast<std::uint16_t>(NLA_HDRLEN + len), type};
	std::memcpy(buf_.data() + at, &attr, sizeof(attr));
	if (len)
		std::memcpy(buf_.data() + at + NLA_HDRLEN, data, len);
	std::memset(buf_.data() + at + NLA_HDRLEN + len, 0, NLA_ALIGN(len) - len);
}

std::size_t Requests::nest(std::uint16_t type)
{
	const std::size_t at = buf_.size();
	put(type | NLA_F_NESTED, nullptr, 0);
	return at;
}

void Requests::end_nest(std::size_t at)
{
	const auto len = static_cast<std::uint16_t>(buf_.size() - at);
	std::memcpy(buf_.data() + at + offsetof(nlattr, nla_len), &len, sizeof(len));
}

void Requests::end()
{
	const auto len = static_cast<std::uint32_t>(buf_.size() - start_);
	std::memcpy(buf_.data() + start_ + offsetof(nlmsghdr, nlmsg_len), &len, sizeof(len));
	count_++;
}

void Requests::clear()
{
	buf_.clear();
	start_ = count_ = 0;
}

Result<std::vector<std::optional<Error>>> Socket::batch(Requests &requests)
{
	/*
	 * Numbered apart from libnl's own sequence, which expects an answer
	 * to each of its requests in turn: the kernel does not care, and
	 * libnl never sees these.
	 */
	static constexpr std::uint32_t first = 0x80000000;
	std::vector<std::optional<Error>> outcomes(requests.size());
	const int fd = nl_socket_get_fd(sk_.get());

	if (requests.size() == 0)
		return outcomes;
	if (requests.size() > batch_max)
		return fail(EINVAL, "more than " + std::to_string(batch_max) + " netlink requests at once");
	std::byte *at = requests.buf_.data();
	for (std::uint32_t i = 0; i < requests.size(); i++) {
		auto *request = reinterpret_cast<nlmsghdr *>(at);

		request->nlmsg_seq = first + i;
		request->nlmsg_pid = 0;
		/* A refusal is answered whatever the flags: ask for the last ACK only. */
		request->nlmsg_flags = NLM_F_REQUEST | (i + 1 == requests.size() ? NLM_F_ACK : 0);
		at += request->nlmsg_len;
	}
	/* The kernel runs each request before the next, within this call. */
	if (send(fd, requests.buf_.data(), requests.buf_.size(), 0) < 0)
		return sys_fail(errno, "cannot send netlink requests");

	/* The answers come in order: the last request's ends them. */
	std::vector<std::byte> in(65536);
	for (bool done = false; !done;) {
		ssize_t got = recv(fd, in.data(), in.size(), MSG_TRUNC);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return sys_fail(errno, "cannot receive netlink answers");
		if (static_cast<std::size_t>(got) > in.size())
			return fail(EPROTO, "a netlink answer larger than " + std::to_string(in.size()) + " octets");
		int left = static_cast<int>(got);
		for (auto *nlh = reinterpret_cast<const nlmsghdr *>(in.data()); NLMSG_OK(nlh, left);
		     nlh = NLMSG_NEXT(nlh, left)) {
			const std::uint32_t i = nlh->nlmsg_seq - first;

			if (nlh->nlmsg_type != NLMSG_ERROR || i >= requests.size())
				continue;	/* not an answer to these */
			if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr)))
				return fail(EPROTO, "netlink error message too short");
			if (reinterpret_cast<const nlmsgerr *>(NLMSG_DATA(nlh))->error)
				outcomes[i] = parse_nlmsgerr(bytes_of(nlh));
			done = done || i + 1 == requests.size();
		}
	}
	return outcomes;
}

} // namespace gecko::netlink
