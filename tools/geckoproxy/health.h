/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_PROXY_HEALTH_H
#define GECKO_PROXY_HEALTH_H

/*
 * The health check of the local program: every interval, a TCP
 * connection to its address (the next one if that fails), closed as soon
 * as it is established. @fall checks failed in a row make the program
 * down, @rise that succeeded make it up again; a check that has not
 * connected by the next one failed. The first check comes at once.
 */

#include <fd.h>

#include <gecko/error.h>

#include <netinet/in.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace gecko::proxy {

struct HealthOptions {
	std::vector<sockaddr_in6> program;
	std::chrono::milliseconds interval{2000};
	unsigned fall = 3;
	unsigned rise = 2;
	bool up = true;	/* at the start */
	/* The program went down (@up false) or came back; @why: the last check's failure, if it failed. */
	std::function<void(bool up, const std::string &why)> changed;
};

class HealthCheck {
public:
	static Result<HealthCheck> create(HealthOptions options);

	/* Readable when the check has work: then call run(). */
	int fd() const { return epoll_.get(); }
	void run();
	bool up() const { return up_; }
	/* A check now, unless one is under way. */
	void check_now();

private:
	HealthCheck() = default;
	void start();
	void finish(bool ok, const std::string &why);
	/* The probe's connection is established, or failed. */
	void connected();

	HealthOptions options_;
	daemon::Fd epoll_;
	daemon::Fd timer_;
	daemon::Fd probe_;	/* the check under way, if any */
	std::size_t address_ = 0;	/* the address it tries */
	bool up_ = true;
	unsigned streak_ = 0;	/* checks in a row that disagree with up_ */
};

} // namespace gecko::proxy

#endif /* GECKO_PROXY_HEALTH_H */
