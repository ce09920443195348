// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libnl 3.7 has no extended-ACK support, so this follows the handler of iw
 * and hostapd.
 */

#include "extack.h"

#include <netlink/attr.h>

#include <linux/netlink.h>

#include <cerrno>
#include <cstring>

namespace gecko::netlink {

namespace {

/*
 * The header of @msg, if @msg holds it and @payload bytes after it; @msg
 * is then cut to the message's own length.
 */
std::optional<nlmsghdr> read_header(std::span<const std::byte> &msg, std::size_t payload)
{
	const std::size_t min_len = NLMSG_HDRLEN + payload;
	nlmsghdr nlh;

	if (msg.size() < min_len)
		return std::nullopt;
	std::memcpy(&nlh, msg.data(), sizeof(nlh));
	if (nlh.nlmsg_len < min_len || nlh.nlmsg_len > msg.size())
		return std::nullopt;
	msg = msg.first(nlh.nlmsg_len);
	return nlh;
}

/* The text of the NLMSGERR_ATTR_MSG among @tlvs; empty if there is none. */
std::string extack_text(std::span<const std::byte> tlvs)
{
	nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	/* nla_parse() only reads, whatever its prototype says. */
	auto *head = reinterpret_cast<nlattr *>(const_cast<std::byte *>(tlvs.data()));

	if (nla_parse(tb, NLMSGERR_ATTR_MAX, head, static_cast<int>(tlvs.size()), nullptr) < 0 ||
	    !tb[NLMSGERR_ATTR_MSG])
		return {};
	/* The kernel ends the text with a NUL; do not rely on it. */
	const auto *text = static_cast<const char *>(nla_data(tb[NLMSGERR_ATTR_MSG]));
	return {text, strnlen(text, nla_len(tb[NLMSGERR_ATTR_MSG]))};
}

} // namespace

Error parse_nlmsgerr(std::span<const std::byte> msg)
{
	auto nlh = read_header(msg, sizeof(nlmsgerr));
	nlmsgerr err;

	if (!nlh)
		return {EPROTO, "truncated netlink error message"};
	std::memcpy(&err, msg.data() + NLMSG_HDRLEN, sizeof(err));

	Error error{-err.error, {}};
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return error;

	/* The TLVs follow the echoed request, which is whole unless capped. */
	std::size_t offset = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(err));
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (err.msg.nlmsg_len < NLMSG_HDRLEN)
			return error;
		offset += NLMSG_ALIGN(err.msg.nlmsg_len - NLMSG_HDRLEN);
	}
	if (offset > msg.size())
		return error;
	error.message = extack_text(msg.subspan(offset));
	return error;
}

std::optional<Error> parse_nlmsg_done(std::span<const std::byte> msg)
{
	auto nlh = read_header(msg, sizeof(int));
	int err;

	if (!nlh)
		return Error{EPROTO, "truncated netlink dump end message"};
	std::memcpy(&err, msg.data() + NLMSG_HDRLEN, sizeof(err));
	if (err == 0)
		return std::nullopt;

	/* The kernel's netlink_dump_done() puts the TLVs right after the errno. */
	Error error{-err, {}};
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
		error.message = extack_text(msg.subspan(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(err))));
	return error;
}

} // namespace gecko::netlink
