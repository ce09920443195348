/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_NLREQUEST_H
#define GECKO_NLREQUEST_H

#include "netlink.h"

#include <gecko/error.h>

#include <string_view>

namespace gecko::netlink {

/*
 * A classic (not generic) netlink socket, rtnetlink or xfrm, that sends one
 * request at a time and waits for its ACK, so that a failure comes back
 * with the kernel's errno and extended-ACK text.
 */
class RequestSocket {
public:
	/* @protocol: NETLINK_ROUTE, NETLINK_XFRM... */
	static Result<RequestSocket> open(int protocol);

	/* Sends @request (which gets NLM_F_ACK) and waits for its ACK. */
	Result<void> request(nl_msg *request);

private:
	using SocketPtr = std::unique_ptr<nl_sock, Deleter<nl_socket_free>>;

	explicit RequestSocket(SocketPtr sk) : sk_(std::move(sk)) {}

	SocketPtr sk_;
};

/* A Result for libnl's own error code @nlerr, when building a message failed. */
std::unexpected<Error> libnl_fail(int nlerr, std::string_view what);

} // namespace gecko::netlink

#endif /* GECKO_NLREQUEST_H */
