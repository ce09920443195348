// SPDX-License-Identifier: GPL-2.0-only

#include "status.h"

#include <gecko/mh.h>

namespace gecko::daemon {

std::string_view ba_status_text(std::uint8_t status)
{
	switch (status) {
	case mh::ba_accepted:
		return "accepted";
	case mh::ba_prefix_discovery_necessary:
		return "accepted, prefix discovery necessary";
	case mh::ba_reason_unspecified:
		return "reason unspecified";
	case mh::ba_administratively_prohibited:
		return "administratively prohibited";
	case mh::ba_insufficient_resources:
		return "insufficient resources";
	case mh::ba_home_registration_not_supported:
		return "home registration not supported";
	case mh::ba_not_home_subnet:
		return "not home subnet";
	case mh::ba_not_home_agent:
		return "not home agent for this mobile node";
	case mh::ba_duplicate_address_detection_failed:
		return "duplicate address detection failed";
	case mh::ba_sequence_number_out_of_window:
		return "sequence number out of window";
	case mh::ba_expired_home_nonce_index:
		return "expired home nonce index";
	case mh::ba_expired_care_of_nonce_index:
		return "expired care-of nonce index";
	case mh::ba_expired_nonces:
		return "expired nonces";
	case mh::ba_registration_type_change_disallowed:
		return "registration type change disallowed";
	default:
		return status < 128 ? "accepted" : "rejected";
	}
}

} // namespace gecko::daemon
