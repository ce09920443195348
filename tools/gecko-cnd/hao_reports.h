/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_CND_HAO_REPORTS_H
#define GECKO_CND_HAO_REPORTS_H

/*
 * The kernel's word that a packet arrived with a Home Address option that
 * no binding covers: the wildcard HAO state let it in, no policy took it,
 * and mip6_destopt_reject() reported it (XFRM_MSG_REPORT to the
 * XFRMNLGRP_REPORT group, rate-limited per address pair) before dropping
 * it. Mobility Headers are never reported. RFC 6275 §9.3.3 has the
 * correspondent answer with a Binding Error, status 1. Nonblocking: poll
 * fd(), then receive() until it is empty.
 */

#include <gecko/error.h>

#include <netinet/in.h>

#include <vector>

namespace gecko::cnd {

struct HaoReport {
	in6_addr cn;	/* the packet's destination: our address */
	in6_addr home;	/* the Home Address option's */
	in6_addr coa;	/* where the packet came from */
};

class HaoReports {
public:
	/* Needs CAP_NET_ADMIN; acts on the namespace it was opened in. */
	static Result<HaoReports> open();

	int fd() const { return fd_; }

	/* The reports queued now; an error only when the socket fails. */
	Result<std::vector<HaoReport>> receive();

	HaoReports(HaoReports &&other) noexcept;
	HaoReports &operator=(HaoReports &&other) noexcept;
	HaoReports(const HaoReports &) = delete;
	HaoReports &operator=(const HaoReports &) = delete;
	~HaoReports();

private:
	explicit HaoReports(int fd) : fd_(fd) {}

	int fd_;
};

} // namespace gecko::cnd

#endif /* GECKO_CND_HAO_REPORTS_H */
