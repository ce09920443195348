/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _GECKO_VERSION_H
#define _GECKO_VERSION_H

/* Set by Kbuild from the VERSION file at the top of the source tree. */
#ifndef GECKO_VERSION
#error "GECKO_VERSION must be defined by the build"
#endif

#endif /* _GECKO_VERSION_H */
