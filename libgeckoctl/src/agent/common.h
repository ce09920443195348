/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_COMMON_H
#define GECKO_AGENT_COMMON_H

/* Sockets of the node agent and its control client. */

#include <gecko/agent.h>
#include <gecko/error.h>

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <utility>

namespace gecko::agent {

/* Owns a file descriptor: closed when this goes. */
class UniqueFd {
public:
	UniqueFd() = default;
	explicit UniqueFd(int fd) : fd_(fd) {}
	UniqueFd(UniqueFd &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
	UniqueFd &operator=(UniqueFd &&other) noexcept
	{
		std::swap(fd_, other.fd_);
		return *this;
	}
	UniqueFd(const UniqueFd &) = delete;
	UniqueFd &operator=(const UniqueFd &) = delete;
	~UniqueFd();

	int get() const { return fd_; }
	/* The caller owns the descriptor now. */
	int release() { return std::exchange(fd_, -1); }

private:
	int fd_ = -1;
};

/* A listening abstract Unix stream socket "@@name": per network namespace, no file to leave behind. */
Result<UniqueFd> listen_unix(const std::string &name);
/* A blocking connection to it. */
Result<int> connect_unix(const std::string &name);
/* Whether the process at the other end of @fd runs as root or as this process's user. */
bool control_peer_allowed(int fd);

/* A listening TCP socket on every address, for the other nodes' agents. */
Result<UniqueFd> listen_tcp(std::uint16_t port);
/* A nonblocking connection from @src to @dst, under way. */
Result<UniqueFd> connect_tcp(const in6_addr &src, const in6_addr &dst, std::uint16_t port);

/* The interface's index, 0 when there is none. */
std::uint32_t if_index(const std::string &name);

} // namespace gecko::agent

#endif /* GECKO_AGENT_COMMON_H */
