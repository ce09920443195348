/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_MH_SOCKET_H
#define GECKO_MH_SOCKET_H

/*
 * A raw IPPROTO_MH socket: Mobility Header messages in and out with the
 * addresses RFC 6275 processing needs. Nonblocking: poll fd(), then
 * receive() until it fails with EAGAIN. Needs CAP_NET_RAW.
 *
 * Checksums are computed and verified here, not by the kernel
 * (IPV6_CHECKSUM is off): the kernel drops a message with a bad checksum
 * without a trace, and a daemon must be able to count and log it.
 */

#include <gecko/error.h>
#include <gecko/export.h>

#include <netinet/in.h>

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace gecko::mh {

struct Received {
	std::vector<std::byte> bytes;	/* the Mobility Header and what follows it */
	/*
	 * The source as delivered: with a Home Address option the kernel has
	 * already swapped the home address in, so this is the home address.
	 */
	in6_addr src;
	/* The destination: the home address when a type 2 routing header was processed. */
	in6_addr dst;
	int ifindex;
	/* The Home Address option's address after the swap: the care-of address it came from. */
	std::optional<in6_addr> hao;
	/* The type 2 routing header's address after the swap: the care-of address it was sent to. */
	std::optional<in6_addr> rh2;
	/* Whether the checksum is right for the pseudo-header (src, dst) above, as §6.1.1 defines it. */
	bool checksum_ok;
};

class GECKO_API Socket {
public:
	static Result<Socket> open();

	int fd() const { return fd_; }

	/* The next message; EAGAIN when none is queued. */
	Result<Received> receive();

	/*
	 * Sends @mh (its checksum is filled in here) from @src, which must be
	 * one of this host's addresses, to @dst. With @via, the packet goes to
	 * that care-of address with a type 2 routing header holding @dst, as a
	 * home agent or correspondent answers a mobile node away from home.
	 * @ifindex, if not 0, chooses the outgoing interface.
	 */
	Result<void> send(std::span<const std::byte> mh, const in6_addr &src, const in6_addr &dst,
			  const std::optional<in6_addr> &via = std::nullopt, int ifindex = 0);

	Socket(Socket &&other) noexcept;
	Socket &operator=(Socket &&other) noexcept;
	Socket(const Socket &) = delete;
	Socket &operator=(const Socket &) = delete;
	~Socket();

private:
	explicit Socket(int fd) : fd_(fd) {}

	int fd_;
};

} // namespace gecko::mh

#endif /* GECKO_MH_SOCKET_H */
