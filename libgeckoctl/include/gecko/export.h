/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_EXPORT_H
#define GECKO_EXPORT_H

/*
 * The library is built with hidden visibility, so only what is marked here
 * becomes part of its ABI.
 */
#define GECKO_API __attribute__((visibility("default")))

#endif /* GECKO_EXPORT_H */
