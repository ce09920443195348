/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_FAIL_H
#define GECKO_FAIL_H

#include <gecko/error.h>

#include <utility>

namespace gecko {

/* Shorthand for returning a failed Result<T>. */
inline std::unexpected<Error> fail(int code, std::string message = {})
{
	return std::unexpected(Error{code, std::move(message)});
}

} // namespace gecko

#endif /* GECKO_FAIL_H */
