/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_DAEMON_COARSE_CLOCK_H
#define GECKO_DAEMON_COARSE_CLOCK_H

#include <time.h>

#include <chrono>

namespace gecko::daemon {

/*
 * The monotonic clock to within a scheduler tick (a few milliseconds),
 * read without the hardware clock: for timeouts, rates and logged
 * durations on a per-connection path, where the clock source may be one
 * that every read traps to the kernel for (HPET). Its time points are
 * std::chrono::steady_clock's, a tick behind at most.
 */
struct CoarseClock {
	using duration = std::chrono::steady_clock::duration;
	using rep = duration::rep;
	using period = duration::period;
	using time_point = std::chrono::steady_clock::time_point;
	static constexpr bool is_steady = true;

	static time_point now() noexcept
	{
		timespec ts{};
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		return time_point(std::chrono::duration_cast<duration>(std::chrono::seconds(ts.tv_sec) +
								      std::chrono::nanoseconds(ts.tv_nsec)));
	}
};

} // namespace gecko::daemon

#endif /* GECKO_DAEMON_COARSE_CLOCK_H */
