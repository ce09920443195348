/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_DAEMON_LOG_H
#define GECKO_DAEMON_LOG_H

#include <iostream>
#include <sstream>

namespace gecko::daemon {

/* Lines a busy thread gathers, written together: one system call for many, each line whole. */
class LogLines {
public:
	template <class... Args>
	void add(const Args &...args)
	{
		(out_ << ... << args) << '\n';
	}
	void write() { std::cerr << out_.str() << std::flush; }

private:
	std::ostringstream out_;
};

/*
 * One line per event on stderr, where systemd puts it in the journal.
 * Written at once: a reader never sees half a line.
 */
template <class... Args>
void log(const Args &...args)
{
	LogLines line;

	line.add(args...);
	line.write();
}

} // namespace gecko::daemon

#endif /* GECKO_DAEMON_LOG_H */
