/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_FAIL_H
#define GECKO_FAIL_H

#include <gecko/error.h>

#include <string>
#include <system_error>
#include <utility>

namespace gecko {

/* Shorthand for returning a failed Result<T>. */
inline std::unexpected<Error> fail(int code, std::string message = {})
{
	return std::unexpected(Error{code, std::move(message)});
}

/* A failed system call: "@what: <the text of errno @err>". */
inline std::unexpected<Error> sys_fail(int err, const std::string &what)
{
	return fail(err, what + ": " + std::generic_category().message(err));
}

} // namespace gecko

#endif /* GECKO_FAIL_H */
