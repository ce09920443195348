// SPDX-License-Identifier: LGPL-2.1-or-later

#include <gecko/mh_socket.h>

#include <gecko/mh.h>

#include "fail.h"

#include <arpa/inet.h>
#include <netinet/ip6.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace gecko::mh {

namespace {

constexpr int ipproto_mh = 135;
/* Header Len is 8 bits in units of 8 octets: no Mobility Header is longer. */
constexpr std::size_t max_mh = (255 + 1) * 8;
constexpr std::uint8_t opt_pad1 = 0, opt_hao = 0xc9;	/* RFC 6275 §6.3 */
constexpr std::uint8_t rh_type2 = 2;

/* A type 2 routing header (RFC 6275 §6.4): one address, Hdr Ext Len 2. */
struct Rh2 {
	ip6_rthdr hdr;
	std::uint32_t reserved;
	in6_addr addr;
};
static_assert(sizeof(Rh2) == 24);

std::string text(const in6_addr &addr)
{
	char buf[INET6_ADDRSTRLEN];

	return inet_ntop(AF_INET6, &addr, buf, sizeof(buf));
}

/* The HAO in a Destination Options header (RFC 8200 §4.2 TLVs), if there is one. */
std::optional<in6_addr> find_hao(std::span<const std::byte> hdr)
{
	if (hdr.size() < 2 || hdr.size() < (std::to_integer<std::size_t>(hdr[1]) + 1) * 8)
		return std::nullopt;
	for (std::size_t off = 2; off < hdr.size();) {
		auto type = std::to_integer<std::uint8_t>(hdr[off]);

		if (type == opt_pad1) {
			off++;
			continue;
		}
		if (off + 2 > hdr.size())
			break;
		auto len = std::to_integer<std::size_t>(hdr[off + 1]);
		if (off + 2 + len > hdr.size())
			break;
		if (type == opt_hao && len == sizeof(in6_addr)) {
			in6_addr addr;
			std::memcpy(&addr, hdr.data() + off + 2, sizeof(addr));
			return addr;
		}
		off += 2 + len;
	}
	return std::nullopt;
}

std::optional<in6_addr> find_rh2(std::span<const std::byte> hdr)
{
	Rh2 rh;

	if (hdr.size() < sizeof(rh))
		return std::nullopt;
	std::memcpy(&rh, hdr.data(), sizeof(rh));
	if (rh.hdr.ip6r_type != rh_type2 || rh.hdr.ip6r_len != 2)
		return std::nullopt;
	return rh.addr;
}

int enable(int fd, int level, int name, int value = 1)
{
	return setsockopt(fd, level, name, &value, sizeof(value));
}

} // namespace

Result<Socket> Socket::open()
{
	int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, ipproto_mh);

	if (fd < 0)
		return sys_fail(errno, "cannot open a raw Mobility Header socket");

	Socket sk(fd);
	if (enable(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO) || enable(fd, IPPROTO_IPV6, IPV6_RECVDSTOPTS) ||
	    enable(fd, IPPROTO_IPV6, IPV6_RECVRTHDR) || enable(fd, SOL_RAW, IPV6_CHECKSUM, -1))
		return sys_fail(errno, "cannot set up the Mobility Header socket");
	return sk;
}

Result<Received> Socket::receive()
{
	std::vector<std::byte> buf(max_mh + 1);
	alignas(cmsghdr) std::array<std::byte, 512> control;
	sockaddr_in6 from{};
	iovec iov{buf.data(), buf.size()};
	msghdr msg{};

	msg.msg_name = &from;
	msg.msg_namelen = sizeof(from);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.data();
	msg.msg_controllen = control.size();

	ssize_t len = recvmsg(fd_, &msg, MSG_TRUNC);
	if (len < 0)
		return sys_fail(errno, "cannot receive a Mobility Header");
	if (static_cast<std::size_t>(len) > max_mh)
		return fail(EMSGSIZE, "a Mobility Header of " + std::to_string(len) + " octets from " +
				      text(from.sin6_addr) + ", longer than any can be");
	buf.resize(len);

	Received r{std::move(buf), from.sin6_addr, in6addr_any, 0, std::nullopt, std::nullopt, false};
	bool have_dst = false;
	for (auto *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != IPPROTO_IPV6)
			continue;
		std::span data{reinterpret_cast<const std::byte *>(CMSG_DATA(c)), c->cmsg_len - CMSG_LEN(0)};
		if (c->cmsg_type == IPV6_PKTINFO && data.size() >= sizeof(in6_pktinfo)) {
			in6_pktinfo info;
			std::memcpy(&info, data.data(), sizeof(info));
			r.dst = info.ipi6_addr;
			r.ifindex = static_cast<int>(info.ipi6_ifindex);
			have_dst = true;
		} else if (c->cmsg_type == IPV6_DSTOPTS) {
			r.hao = find_hao(data);
		} else if (c->cmsg_type == IPV6_RTHDR) {
			r.rh2 = find_rh2(data);
		}
	}
	if (msg.msg_flags & MSG_CTRUNC || !have_dst)
		return fail(EPROTO, "the kernel gave no destination for a Mobility Header from " + text(r.src));
	r.checksum_ok = checksum_ok(r.bytes, {r.src, r.dst});
	return r;
}

Result<void> Socket::send(std::span<const std::byte> mh, const in6_addr &src, const in6_addr &dst,
			  const std::optional<in6_addr> &via, int ifindex)
{
	std::vector<std::byte> packet(mh.begin(), mh.end());
	/* The kernel puts the routing header's address first and @dst into the header. */
	sockaddr_in6 to{};
	in6_pktinfo info{src, static_cast<unsigned>(ifindex)};
	alignas(cmsghdr) std::array<std::byte, CMSG_SPACE(sizeof(info)) + CMSG_SPACE(sizeof(Rh2))> control{};
	iovec iov{packet.data(), packet.size()};
	msghdr msg{};

	if (packet.size() < 6)
		return fail(EINVAL, "a Mobility Header has at least 6 octets");
	/* The pseudo-header has the final destination, also with a routing header (§6.1.1). */
	set_checksum(packet, {src, dst});

	to.sin6_family = AF_INET6;
	to.sin6_addr = dst;
	msg.msg_name = &to;
	msg.msg_namelen = sizeof(to);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = control.data();
	msg.msg_controllen = CMSG_SPACE(sizeof(info)) + (via ? CMSG_SPACE(sizeof(Rh2)) : 0);

	auto *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = IPPROTO_IPV6;
	c->cmsg_type = IPV6_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(info));
	std::memcpy(CMSG_DATA(c), &info, sizeof(info));
	if (via) {
		Rh2 rh{};

		rh.hdr.ip6r_len = 2;
		rh.hdr.ip6r_type = rh_type2;
		rh.hdr.ip6r_segleft = 1;
		rh.addr = *via;
		c = CMSG_NXTHDR(&msg, c);
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_RTHDR;
		c->cmsg_len = CMSG_LEN(sizeof(rh));
		std::memcpy(CMSG_DATA(c), &rh, sizeof(rh));
	}

	if (sendmsg(fd_, &msg, 0) < 0) {
		int err = errno;

		return sys_fail(err, "cannot send a Mobility Header to " + text(dst) + (via ? " via " + text(*via) : ""));
	}
	return {};
}

Socket::Socket(Socket &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

Socket &Socket::operator=(Socket &&other) noexcept
{
	if (this != &other) {
		if (fd_ >= 0)
			close(fd_);
		fd_ = std::exchange(other.fd_, -1);
	}
	return *this;
}

Socket::~Socket()
{
	if (fd_ >= 0)
		close(fd_);
}

} // namespace gecko::mh
