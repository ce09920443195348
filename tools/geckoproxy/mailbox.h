/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_PROXY_MAILBOX_H
#define GECKO_PROXY_MAILBOX_H

#include <fd.h>

#include <gecko/error.h>

#include <sys/eventfd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gecko::proxy {

/*
 * What threads post to one that polls: a queue under a lock, and an
 * eventfd readable while the queue holds anything. Only a post to an
 * empty queue writes the eventfd: a burst costs its reader one wakeup.
 */
template <class T>
class Mailbox {
public:
	static Result<Mailbox> create()
	{
		daemon::Fd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
		if (!fd) {
			int err = errno;
			return std::unexpected(Error{err, std::string("eventfd: ") + std::strerror(err)});
		}
		return Mailbox(std::move(fd));
	}

	/* Readable when something waits: then take(). */
	int fd() const { return box_->fd.get(); }

	void post(T item)
	{
		bool was_empty;
		{
			std::lock_guard guard(box_->lock);
			was_empty = box_->items.empty();
			box_->items.push_back(std::move(item));
		}
		std::uint64_t one = 1;
		if (was_empty && ::write(box_->fd.get(), &one, sizeof(one)) < 0) {
			/* Fails only on overflow: it is readable anyway. */
		}
	}

	/* Everything posted so far, oldest first. */
	std::vector<T> take()
	{
		/* The eventfd first: a post after it finds the queue empty again, and writes it. */
		daemon::drain_timer(box_->fd.get());
		std::vector<T> items;
		std::lock_guard guard(box_->lock);
		items.swap(box_->items);
		return items;
	}

private:
	struct Box {
		daemon::Fd fd;
		std::mutex lock;
		std::vector<T> items;
	};

	explicit Mailbox(daemon::Fd fd) : box_(std::make_unique<Box>())
	{
		box_->fd = std::move(fd);
	}

	std::unique_ptr<Box> box_;
};

} // namespace gecko::proxy

#endif /* GECKO_PROXY_MAILBOX_H */
