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

Error parse_nlmsgerr(std::span<const std::byte> msg)
{
	constexpr std::size_t min_len = NLMSG_HDRLEN + sizeof(nlmsgerr);
	nlmsghdr nlh;
	nlmsgerr err;

	if (msg.size() < min_len)
		return {EPROTO, "truncated netlink error message"};
	std::memcpy(&nlh, msg.data(), sizeof(nlh));
	if (nlh.nlmsg_len < min_len || nlh.nlmsg_len > msg.size())
		return {EPROTO, "truncated netlink error message"};
	std::memcpy(&err, msg.data() + NLMSG_HDRLEN, sizeof(err));
	msg = msg.first(nlh.nlmsg_len);

	Error error{-err.error, {}};
	if (!(nlh.nlmsg_flags & NLM_F_ACK_TLVS))
		return error;

	/* The TLVs follow the echoed request, which is whole unless capped. */
	std::size_t offset = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(err));
	if (!(nlh.nlmsg_flags & NLM_F_CAPPED)) {
		if (err.msg.nlmsg_len < NLMSG_HDRLEN)
			return error;
		offset += NLMSG_ALIGN(err.msg.nlmsg_len - NLMSG_HDRLEN);
	}
	if (offset > msg.size())
		return error;

	auto tlvs = msg.subspan(offset);
	nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	/* nla_parse() only reads, whatever its prototype says. */
	auto *head = reinterpret_cast<nlattr *>(const_cast<std::byte *>(tlvs.data()));
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, head, static_cast<int>(tlvs.size()), nullptr) < 0 ||
	    !tb[NLMSGERR_ATTR_MSG])
		return error;

	/* The kernel ends the text with a NUL; do not rely on it. */
	const auto *text = static_cast<const char *>(nla_data(tb[NLMSGERR_ATTR_MSG]));
	error.message.assign(text, strnlen(text, nla_len(tb[NLMSGERR_ATTR_MSG])));
	return error;
}

} // namespace gecko::netlink
