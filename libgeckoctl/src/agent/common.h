/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_AGENT_COMMON_H
#define GECKO_AGENT_COMMON_H

/* Sockets of the node agent and its control client. */

#include <gecko/agent.h>
#include <gecko/error.h>

#include "agent/wire.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <utility>

namespace gecko::agent {

inline bool same(const in6_addr &a, const in6_addr &b)
{
	return std::memcmp(&a, &b, sizeof(a)) == 0;
}

struct AddrLess {
	bool operator()(const in6_addr &a, const in6_addr &b) const { return std::memcmp(&a, &b, sizeof(a)) < 0; }
};

/* A client of a service: what the signalling and a handoff are about. */
struct Key {
	in6_addr home;
	in6_addr client;

	bool operator<(const Key &o) const { return std::memcmp(this, &o, sizeof(*this)) < 0; }
	bool operator==(const Key &o) const { return std::memcmp(this, &o, sizeof(*this)) == 0; }
};

std::string text(const in6_addr &addr);

/* Where the agent's parts write their lines: one per event, none when empty. */
using Log = std::function<void(const std::string &)>;

template <class... Args>
void log_line(const Log &log, const Args &...args)
{
	if (!log)
		return;
	std::ostringstream line;
	(line << ... << args);
	log(line.str());
}

inline std::string who(const Key &key)
{
	return text(key.client) + " of " + text(key.home);
}

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

/* A listening abstract Unix socket "@@name" (stream or seqpacket): per network namespace, no file to leave behind. */
Result<UniqueFd> listen_unix(const std::string &name, int type = SOCK_STREAM);
/* A blocking connection to it. */
Result<int> connect_unix(const std::string &name, int type = SOCK_STREAM);
/* Whether the process at the other end of @fd runs as root or as this process's user. */
bool control_peer_allowed(int fd);

/* A listening TCP socket on @addr (which need not be up yet), for the other nodes' agents. */
Result<UniqueFd> listen_tcp(const in6_addr &addr, std::uint16_t port);
/* A nonblocking connection from @src to @dst, under way. */
Result<UniqueFd> connect_tcp(const in6_addr &src, const in6_addr &dst, std::uint16_t port);

/* The answer to a gecko-ctl request: @error, or success with @outcome. */
wire::Message control_reply(const Error *error, const Outcome &outcome = {});

/* The interface's index, 0 when there is none. */
std::uint32_t if_index(const std::string &name);

} // namespace gecko::agent

#endif /* GECKO_AGENT_COMMON_H */
