// SPDX-License-Identifier: GPL-2.0-only

#include "shared_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace gecko::daemon {

namespace {

std::unexpected<Error> sys_fail(int err, const std::string &what)
{
	return std::unexpected(Error{err, what + ": " + std::generic_category().message(err)});
}

} // namespace

Result<std::string> netns_id()
{
	struct stat ns;

	if (stat("/proc/self/ns/net", &ns))
		return sys_fail(errno, "cannot identify the network namespace");
	return std::to_string(ns.st_ino);
}

Result<SharedLock> SharedLock::acquire(const std::string &name, const std::string &dir)
{
	/* Locks are per namespace: two namespaces have two sets of objects. */
	auto ns = netns_id();
	if (!ns)
		return std::unexpected(ns.error());
	if (mkdir(dir.c_str(), 0755) && errno != EEXIST)
		return sys_fail(errno, "cannot create " + dir);

	auto path = dir + "/" + name + "-" + *ns + ".lock";
	int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return sys_fail(errno, "cannot open " + path);

	SharedLock lock(fd);
	while (flock(fd, LOCK_SH))
		if (errno != EINTR)
			return sys_fail(errno, "cannot lock " + path);
	return lock;
}

bool SharedLock::last_holder()
{
	/* Linux converts by unlocking first: on failure ours is gone, which is what we want. */
	if (flock(fd_, LOCK_EX | LOCK_NB) == 0)
		return true;
	flock(fd_, LOCK_UN);
	return false;
}

SharedLock::SharedLock(SharedLock &&other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

SharedLock &SharedLock::operator=(SharedLock &&other) noexcept
{
	if (this != &other) {
		if (fd_ >= 0)
			close(fd_);
		fd_ = std::exchange(other.fd_, -1);
	}
	return *this;
}

SharedLock::~SharedLock()
{
	if (fd_ >= 0)
		close(fd_);
}

} // namespace gecko::daemon
