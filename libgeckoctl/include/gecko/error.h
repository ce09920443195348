/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_ERROR_H
#define GECKO_ERROR_H

#include <gecko/export.h>

#include <expected>
#include <string>

namespace gecko {

/* Why an operation failed. The library reports failures only this way. */
struct GECKO_API Error {
	int code;		/* positive errno */
	std::string message;	/* the kernel's extended ACK, or the library's detail; may be empty */

	/* The message, or the errno's text when there is none. */
	std::string describe() const;
};

template <class T>
using Result = std::expected<T, Error>;

} // namespace gecko

#endif /* GECKO_ERROR_H */
