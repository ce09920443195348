/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_NETLINK_H
#define GECKO_NETLINK_H

#include <gecko/error.h>

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gecko::netlink {

template <auto Free>
struct Deleter {
	template <class T>
	void operator()(T *p) const { Free(p); }
};

using MessagePtr = std::unique_ptr<nl_msg, Deleter<nlmsg_free>>;

/*
 * A request for @cmd of @family, ready for its attributes: a page of them,
 * and @room octets more for those that carry data.
 */
Result<MessagePtr> new_request(std::uint16_t family, std::uint8_t cmd, std::uint8_t version, std::size_t room = 0);

/*
 * Netlink requests built in place, one after the other in one buffer, for
 * Socket::batch(): what a program sends by the thousand (its bindings)
 * costs no allocation, zeroed page or library call per attribute, as
 * libnl's messages do, and what it sends together costs one system call.
 * The octets are libnl's: nests carry NLA_F_NESTED, attributes are padded
 * with zeroes.
 */
class Requests {
public:
	/* Generic netlink requests to @family. */
	Requests(std::uint16_t family, std::uint8_t version) : family_(family), version_(version) {}
	/* Requests of another protocol (xfrm, rtnetlink): begin() names each one's type. */
	Requests() = default;

	/* Starts a generic netlink request for @cmd; end() ends it. */
	void begin(std::uint8_t cmd);
	/* Starts a request of @type whose fixed header is @header; end() ends it. */
	void begin(std::uint16_t type, const void *header, std::size_t len);
	template <class Header>
	void begin(std::uint16_t type, const Header &header)
	{
		begin(type, &header, sizeof(header));
	}
	void put(std::uint16_t type, const void *data, std::size_t len);
	template <class T>
	void put(std::uint16_t type, const T &value)
	{
		put(type, &value, sizeof(value));
	}
	/* Starts the nest @type: what is put until end_nest(its value) is inside. */
	std::size_t nest(std::uint16_t type);
	void end_nest(std::size_t at);
	void end();

	/* How many requests ended; their octets. */
	std::size_t size() const { return count_; }
	std::span<const std::byte> bytes() const { return buf_; }
	void clear();

private:
	friend class Socket;

	std::vector<std::byte> buf_;
	std::size_t start_ = 0;	/* of the request begun */
	std::size_t count_ = 0;
	std::uint16_t family_ = 0;
	std::uint8_t version_ = 0;
};

/* The attributes of @msg, a generic netlink message; EPROTO if it has no room for its header. */
Result<std::span<const std::byte>> attributes(nl_msg *msg);

/* A Result for libnl's own error code @nlerr, when building a message failed. */
std::unexpected<Error> libnl_fail(int nlerr, std::string_view what);

/*
 * A netlink socket, generic netlink unless told otherwise, that sends one
 * request at a time and waits for its ACK (or the end of its dump), so that
 * every failure comes back with the kernel's errno and extended-ACK text.
 */
class Socket {
public:
	/* @protocol: NETLINK_GENERIC, or NETLINK_ROUTE, NETLINK_XFRM... */
	static Result<Socket> open(int protocol = NETLINK_GENERIC);

	/* The id of the generic netlink family called @name; ENOENT when there is none. */
	Result<std::uint16_t> resolve(const std::string &name);

	/* Sends @request; returns its reply, or null if the command sent none. */
	Result<MessagePtr> transact(nl_msg *request);

	/* Sends @request, a command answered by its ACK alone (rtnetlink, xfrm), and waits for that. */
	Result<void> request(nl_msg *request);

	/*
	 * Sends @request with NLM_F_DUMP; returns every reply up to NLMSG_DONE.
	 * A dump the kernel flags as interrupted by changes (NLM_F_DUMP_INTR)
	 * may have lost or repeated entries, so it is done again; after a few
	 * tries in a row it fails with EINTR.
	 */
	Result<std::vector<MessagePtr>> dump(nl_msg *request);

	/* The most requests batch() sends at once. */
	static constexpr std::size_t batch_max = 64;

	/*
	 * Sends @requests (at most batch_max), commands answered by their ACK
	 * alone, in one system call; the kernel answers only the last and
	 * those it refuses. Returns each one's outcome, in order: nothing if
	 * it was done, why not otherwise. Every request is tried, whatever
	 * the others' outcome.
	 */
	Result<std::vector<std::optional<Error>>> batch(Requests &requests);

private:
	using SocketPtr = std::unique_ptr<nl_sock, Deleter<nl_socket_free>>;

	struct Replies {
		std::vector<MessagePtr> messages;
		bool interrupted = false;	/* NLM_F_DUMP_INTR on one of them */
	};

	/* Sends @request and reads up to the ACK, error or NLMSG_DONE that ends it. */
	Result<Replies> exchange(nl_msg *request);

	explicit Socket(SocketPtr sk) : sk_(std::move(sk)) {}

	SocketPtr sk_;
};

} // namespace gecko::netlink

#endif /* GECKO_NETLINK_H */
