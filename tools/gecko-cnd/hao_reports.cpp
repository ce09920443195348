// SPDX-License-Identifier: GPL-2.0-only

#include "hao_reports.h"

#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

namespace gecko::cnd {

namespace {

std::unexpected<Error> sys_fail(int err, const std::string &what)
{
	return std::unexpected(Error{err, what + ": " + std::generic_category().message(err)});
}

/* The care-of address a report carries, if it has one. */
const xfrm_address_t *coaddr(const nlmsghdr *nlh)
{
	auto len = static_cast<int>(nlh->nlmsg_len - NLMSG_LENGTH(sizeof(xfrm_user_report)));
	auto *rta = reinterpret_cast<const nlattr *>(static_cast<const char *>(NLMSG_DATA(nlh)) +
						     NLMSG_ALIGN(sizeof(xfrm_user_report)));

	while (len >= static_cast<int>(sizeof(*rta)) && rta->nla_len >= sizeof(*rta) &&
	       rta->nla_len <= static_cast<unsigned>(len)) {
		if ((rta->nla_type & NLA_TYPE_MASK) == XFRMA_COADDR && rta->nla_len >= NLA_HDRLEN + sizeof(xfrm_address_t))
			return reinterpret_cast<const xfrm_address_t *>(reinterpret_cast<const char *>(rta) + NLA_HDRLEN);
		len -= NLA_ALIGN(rta->nla_len);
		rta = reinterpret_cast<const nlattr *>(reinterpret_cast<const char *>(rta) + NLA_ALIGN(rta->nla_len));
	}
	return nullptr;
}

} // namespace

Result<HaoReports> HaoReports::open()
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_XFRM);
	if (fd < 0)
		return sys_fail(errno, "cannot open an xfrm netlink socket (is xfrm_user loaded?)");

	HaoReports reports(fd);
	/* Bound, so that the socket gets a port id: multicasts skip sockets with the sender's port 0. */
	sockaddr_nl addr{};
	addr.nl_family = AF_NETLINK;
	int group = XFRMNLGRP_REPORT;
	if (bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)))
		return sys_fail(errno, "cannot listen to the kernel's xfrm reports");
	return reports;
}

Result<std::vector<HaoReport>> HaoReports::receive()
{
	std::vector<HaoReport> out;
	alignas(nlmsghdr) std::array<char, 8192> buf;

	for (;;) {
		ssize_t len = recv(fd_, buf.data(), buf.size(), 0);
		if (len < 0 && errno == EAGAIN)
			return out;
		/* Reports lost to a full queue are lost: the kernel sends again for the next packet. */
		if (len < 0 && errno == ENOBUFS)
			continue;
		if (len < 0)
			return sys_fail(errno, "cannot receive xfrm reports");

		int left = static_cast<int>(len);
		for (auto *nlh = reinterpret_cast<const nlmsghdr *>(buf.data()); NLMSG_OK(nlh, left);
		     nlh = NLMSG_NEXT(nlh, left)) {
			if (nlh->nlmsg_type != XFRM_MSG_REPORT || nlh->nlmsg_len < NLMSG_LENGTH(sizeof(xfrm_user_report)))
				continue;
			xfrm_user_report report;
			std::memcpy(&report, NLMSG_DATA(nlh), sizeof(report));
			const xfrm_address_t *coa = coaddr(nlh);
			if (report.proto != IPPROTO_DSTOPTS || report.sel.family != AF_INET6 || !coa)
				continue;
			/* The kernel swapped the addresses: the selector's source is the home address. */
			HaoReport r;
			std::memcpy(&r.cn, &report.sel.daddr, sizeof(r.cn));
			std::memcpy(&r.home, &report.sel.saddr, sizeof(r.home));
			std::memcpy(&r.coa, coa, sizeof(r.coa));
			out.push_back(r);
		}
	}
}

HaoReports::HaoReports(HaoReports &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

HaoReports &HaoReports::operator=(HaoReports &&other) noexcept
{
	if (this != &other) {
		if (fd_ >= 0)
			close(fd_);
		fd_ = std::exchange(other.fd_, -1);
	}
	return *this;
}

HaoReports::~HaoReports()
{
	if (fd_ >= 0)
		close(fd_);
}

} // namespace gecko::cnd
