// SPDX-License-Identifier: GPL-2.0-only

#include "signals.h"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <system_error>
#include <utility>

namespace gecko::daemon {

Result<SignalFd> SignalFd::open(std::initializer_list<int> signals)
{
	sigset_t set;

	sigemptyset(&set);
	for (int sig : signals)
		sigaddset(&set, sig);
	if (sigprocmask(SIG_BLOCK, &set, nullptr))
		return std::unexpected(Error{errno, "cannot block signals: " + std::generic_category().message(errno)});
	int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return std::unexpected(Error{errno, "cannot open a signalfd: " + std::generic_category().message(errno)});
	return SignalFd(fd);
}

int SignalFd::take()
{
	signalfd_siginfo info;

	if (read(fd_, &info, sizeof(info)) != sizeof(info))
		return 0;
	return static_cast<int>(info.ssi_signo);
}

SignalFd::SignalFd(SignalFd &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

SignalFd &SignalFd::operator=(SignalFd &&other) noexcept
{
	if (this != &other) {
		if (fd_ >= 0)
			close(fd_);
		fd_ = std::exchange(other.fd_, -1);
	}
	return *this;
}

SignalFd::~SignalFd()
{
	if (fd_ >= 0)
		close(fd_);
}

} // namespace gecko::daemon
