/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_DAEMON_SIGNALS_H
#define GECKO_DAEMON_SIGNALS_H

#include <gecko/error.h>

#include <initializer_list>

namespace gecko::daemon {

/*
 * Signals as a file descriptor, so that the daemon's poll() loop sees them
 * between two messages instead of in a handler. The signals stay blocked
 * while the object lives.
 */
class SignalFd {
public:
	static Result<SignalFd> open(std::initializer_list<int> signals);

	int fd() const { return fd_; }

	/* The next pending signal's number, or 0 when none is. */
	int take();

	SignalFd(SignalFd &&other) noexcept;
	SignalFd &operator=(SignalFd &&other) noexcept;
	SignalFd(const SignalFd &) = delete;
	SignalFd &operator=(const SignalFd &) = delete;
	~SignalFd();

private:
	explicit SignalFd(int fd) : fd_(fd) {}

	int fd_;
};

} // namespace gecko::daemon

#endif /* GECKO_DAEMON_SIGNALS_H */
