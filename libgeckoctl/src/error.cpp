// SPDX-License-Identifier: LGPL-2.1-or-later

#include <gecko/error.h>

#include <system_error>

namespace gecko {

std::string Error::describe() const
{
	/* generic_category() gives strerror()'s text without its shared buffer. */
	return message.empty() ? std::generic_category().message(code) : message;
}

} // namespace gecko
