// SPDX-License-Identifier: GPL-2.0-only

#include "health.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gecko::proxy {

namespace {

enum Event : std::uint64_t { timer_event = 0, probe_event = 1 };

Error system_error(const char *what)
{
	int err = errno;
	return Error{err, std::string(what) + ": " + std::strerror(err)};
}

} // namespace

Result<HealthCheck> HealthCheck::create(HealthOptions options)
{
	if (options.program.empty() || options.interval.count() <= 0 || options.fall == 0 || options.rise == 0)
		return std::unexpected(Error{EINVAL, "a health check needs an address, an interval, and fall and rise of 1 at least"});
	HealthCheck h;
	h.options_ = std::move(options);
	h.up_ = h.options_.up;
	h.epoll_ = daemon::Fd(::epoll_create1(EPOLL_CLOEXEC));
	if (!h.epoll_)
		return std::unexpected(system_error("epoll_create1"));
	h.timer_ = daemon::Fd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
	if (!h.timer_)
		return std::unexpected(system_error("timerfd_create"));
	auto ms = h.options_.interval.count();
	itimerspec spec{};
	spec.it_interval.tv_sec = ms / 1000;
	spec.it_interval.tv_nsec = ms % 1000 * 1000000;
	spec.it_value.tv_nsec = 1;	/* the first check at once */
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.u64 = timer_event;
	if (::timerfd_settime(h.timer_.get(), 0, &spec, nullptr) < 0 ||
	    ::epoll_ctl(h.epoll_.get(), EPOLL_CTL_ADD, h.timer_.get(), &ev) < 0)
		return std::unexpected(system_error("timerfd"));
	return h;
}

void HealthCheck::run()
{
	epoll_event events[2];
	int n = ::epoll_wait(epoll_.get(), events, 2, 0);
	for (int i = 0; i < n; i++) {
		if (events[i].data.u64 == probe_event && probe_) {
			connected();
			continue;
		}
		if (events[i].data.u64 != timer_event)
			continue;
		daemon::drain_timer(timer_.get());
		if (probe_)
			finish(false, "no answer within " + std::to_string(options_.interval.count()) + " ms");
		address_ = 0;
		start();
	}
}

void HealthCheck::check_now()
{
	if (probe_)
		return;
	address_ = 0;
	start();
}

/* Connects to the program's next address; a check ends here when none is left. */
void HealthCheck::start()
{
	int err = 0;
	while (address_ < options_.program.size()) {
		const auto &to = options_.program[address_++];
		daemon::Fd fd(::socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
		if (!fd)
			return finish(false, std::string("socket: ") + std::strerror(errno));
		if (::connect(fd.get(), reinterpret_cast<const sockaddr *>(&to), sizeof(to)) == 0)
			return finish(true, {});
		if (errno != EINPROGRESS) {
			err = errno;
			continue;
		}
		epoll_event ev{};
		ev.events = EPOLLOUT;
		ev.data.u64 = probe_event;
		if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &ev) < 0)
			return finish(false, std::string("epoll_ctl: ") + std::strerror(errno));
		probe_ = std::move(fd);
		return;
	}
	finish(false, std::strerror(err));
}

void HealthCheck::connected()
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (::getsockopt(probe_.get(), SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == 0)
		return finish(true, {});
	(void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, probe_.get(), nullptr);
	probe_ = daemon::Fd();
	if (address_ < options_.program.size())
		return start();
	finish(false, std::strerror(err));
}

void HealthCheck::finish(bool ok, const std::string &why)
{
	if (probe_) {
		(void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, probe_.get(), nullptr);
		probe_ = daemon::Fd();
	}
	streak_ = ok == up_ ? 0 : streak_ + 1;
	if (streak_ < (up_ ? options_.fall : options_.rise))
		return;
	up_ = ok;
	streak_ = 0;
	if (options_.changed)
		options_.changed(up_, why);
}

} // namespace gecko::proxy
