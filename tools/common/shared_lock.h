/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_DAEMON_SHARED_LOCK_H
#define GECKO_DAEMON_SHARED_LOCK_H

/*
 * Some kernel objects are the same for every MIPv6 daemon of a network
 * namespace: the wildcard HAO receive state and the inbound Mobility
 * Header policy serve gecko-had and gecko-cnd alike, and the kernel keeps
 * one copy. Each daemon that installs them holds this lock shared while it
 * runs; the one that stops last, the only one able to take it exclusively,
 * removes them. The kernel drops flock() locks with the process, so a
 * crashed daemon keeps nothing alive: whoever stops last also removes what
 * it left behind.
 */

#include <gecko/error.h>

#include <string>

namespace gecko::daemon {

inline constexpr const char *default_lock_dir = "/run/gecko";

/* This network namespace's inode number: names per-namespace files under the lock directory. */
Result<std::string> netns_id();

class SharedLock {
public:
	/*
	 * Takes DIR/NAME-NETNS.lock shared, NETNS being this network
	 * namespace's inode number; waits while another daemon holds it
	 * exclusively, i.e. is removing the objects. Creates DIR if needed.
	 */
	static Result<SharedLock> acquire(const std::string &name, const std::string &dir = default_lock_dir);

	/*
	 * Whether no other daemon holds the lock. If so, it stays ours alone
	 * until this object goes, so that nobody installs the objects while
	 * we remove them; if not, ours is given up.
	 */
	bool last_holder();

	SharedLock(SharedLock &&other) noexcept;
	SharedLock &operator=(SharedLock &&other) noexcept;
	SharedLock(const SharedLock &) = delete;
	SharedLock &operator=(const SharedLock &) = delete;
	~SharedLock();

private:
	explicit SharedLock(int fd) : fd_(fd) {}

	int fd_;
};

} // namespace gecko::daemon

#endif /* GECKO_DAEMON_SHARED_LOCK_H */
