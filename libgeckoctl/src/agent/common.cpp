// SPDX-License-Identifier: LGPL-2.1-or-later

#include "agent/common.h"

#include <gecko/address.h>

#include "fail.h"

#include <net/if.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

namespace gecko::agent {

namespace {

std::unexpected<Error> fail_errno(const std::string &what)
{
	return fail(errno, what + ": " + std::strerror(errno));
}

/* The address of the abstract socket @name, and its length. */
socklen_t unix_address(const std::string &name, sockaddr_un &sun)
{
	sun = {};
	sun.sun_family = AF_UNIX;
	auto len = std::min(name.size(), sizeof(sun.sun_path) - 1);
	std::memcpy(sun.sun_path + 1, name.data(), len);
	return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + len);
}

} // namespace

std::string text(const in6_addr &addr)
{
	return format_address(addr);
}

UniqueFd::~UniqueFd()
{
	if (fd_ >= 0)
		close(fd_);
}

Result<UniqueFd> listen_unix(const std::string &name, int type)
{
	sockaddr_un sun;
	auto len = unix_address(name, sun);
	UniqueFd fd(socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));

	if (fd.get() < 0)
		return fail_errno("cannot open a Unix socket");
	if (bind(fd.get(), reinterpret_cast<sockaddr *>(&sun), len) < 0 || listen(fd.get(), 16) < 0) {
		if (errno == EADDRINUSE)
			return fail(EADDRINUSE, "an agent already serves this network namespace (@" + name + ")");
		return fail_errno("cannot listen on @" + name);
	}
	return fd;
}

Result<int> connect_unix(const std::string &name, int type)
{
	sockaddr_un sun;
	auto len = unix_address(name, sun);
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return fail_errno("cannot open a Unix socket");
	if (connect(fd, reinterpret_cast<sockaddr *>(&sun), len) < 0) {
		auto error = fail(errno, "no node agent in this network namespace (@" + name + "): " + std::strerror(errno));
		close(fd);
		return error;
	}
	return fd;
}

bool control_peer_allowed(int fd)
{
	ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

Result<UniqueFd> listen_tcp(const in6_addr &addr, std::uint16_t port)
{
	sockaddr_in6 sin6{};
	int one = 1;
	UniqueFd fd(socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));

	if (fd.get() < 0)
		return fail_errno("cannot open a TCP socket");
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = addr;
	sin6.sin6_port = htons(port);
	setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The care-of address may come up after the agent. */
	setsockopt(fd.get(), IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (bind(fd.get(), reinterpret_cast<sockaddr *>(&sin6), sizeof(sin6)) < 0 || listen(fd.get(), 64) < 0)
		return fail_errno("cannot listen on [" + format_address(addr) + "]:" + std::to_string(port));
	return fd;
}

Result<UniqueFd> connect_tcp(const in6_addr &src, const in6_addr &dst, std::uint16_t port)
{
	sockaddr_in6 from{}, to{};
	int one = 1;
	UniqueFd fd(socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));

	if (fd.get() < 0)
		return fail_errno("cannot open a TCP socket");
	from.sin6_family = to.sin6_family = AF_INET6;
	from.sin6_addr = src;
	to.sin6_addr = dst;
	to.sin6_port = htons(port);
	setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* From the care-of address: G would be a poor source between nodes. */
	if (bind(fd.get(), reinterpret_cast<sockaddr *>(&from), sizeof(from)) < 0 ||
	    (connect(fd.get(), reinterpret_cast<sockaddr *>(&to), sizeof(to)) < 0 && errno != EINPROGRESS))
		return fail_errno("cannot connect");
	return fd;
}

wire::Message control_reply(const Error *error, const Outcome &outcome)
{
	/* Texts that travel are capped: a peer's or the kernel's could be long. */
	constexpr std::size_t max_text = 1024;
	wire::Message reply(wire::Type::reply);

	reply.put_u32(wire::Attr::error, error ? static_cast<std::uint32_t>(error->code) : 0);
	if (error) {
		reply.put(wire::Attr::text, error->describe().substr(0, max_text));
	} else {
		reply.put_u16(wire::Attr::seq, outcome.seq);
		reply.put_u32(wire::Attr::lifetime, outcome.lifetime);
		reply.put_u64(wire::Attr::elapsed_us, static_cast<std::uint64_t>(outcome.elapsed.count()));
	}
	return reply;
}

std::uint32_t if_index(const std::string &name)
{
	return if_nametoindex(name.c_str());
}

} // namespace gecko::agent
