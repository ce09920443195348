/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_DAEMON_FD_H
#define GECKO_DAEMON_FD_H

#include <unistd.h>

#include <cstdint>
#include <utility>

namespace gecko::daemon {

/* Owns a file descriptor: closed when this goes. */
class Fd {
public:
	Fd() = default;
	explicit Fd(int fd) : fd_(fd) {}
	Fd(Fd &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
	Fd &operator=(Fd &&other) noexcept
	{
		std::swap(fd_, other.fd_);
		return *this;
	}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	~Fd()
	{
		if (fd_ >= 0)
			::close(fd_);
	}

	int get() const { return fd_; }
	explicit operator bool() const { return fd_ >= 0; }

private:
	int fd_ = -1;
};

/*
 * Empties a non-blocking timerfd or eventfd: how many times it expired or
 * was written is not needed, and a wakeup with nothing to read (EAGAIN) is
 * harmless.
 */
inline void drain_timer(int fd)
{
	std::uint64_t expirations;

	if (::read(fd, &expirations, sizeof(expirations)) < 0)
		return;
}

} // namespace gecko::daemon

#endif /* GECKO_DAEMON_FD_H */
