/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_NAMES_H
#define GECKO_NAMES_H

/*
 * The names of the UAPI header's attribute types, for decoders' errors, and
 * of its counters and features, as gecko-ctl info shows them.
 */

#include <linux/gecko.h>

#include <array>
#include <string_view>

namespace gecko {

inline constexpr std::array<std::string_view, __GECKO_A_LAST> attr_names{
	"GECKO_A_UNSPEC",
	"GECKO_A_PAD",
	"GECKO_A_MODULE_VERSION",
	"GECKO_A_PROTOCOL_VERSION",
	"GECKO_A_FEATURES",
	"GECKO_A_COUNTERS",
	"GECKO_A_SERVICE",
	"GECKO_A_BINDING",
	"GECKO_A_SOCK",
	"GECKO_A_LIMITS",
};

inline constexpr std::array<std::string_view, __GECKO_SERVICE_A_LAST> service_attr_names{
	"GECKO_SERVICE_A_UNSPEC",
	"GECKO_SERVICE_A_HOME",
	"GECKO_SERVICE_A_COA",
	"GECKO_SERVICE_A_CONTACT_COA",
	"GECKO_SERVICE_A_HA",
	"GECKO_SERVICE_A_FLAGS",
	"GECKO_SERVICE_A_BINDINGS",
};

inline constexpr std::array<std::string_view, __GECKO_BINDING_A_LAST> binding_attr_names{
	"GECKO_BINDING_A_UNSPEC",
	"GECKO_BINDING_A_HOME",
	"GECKO_BINDING_A_PEER",
	"GECKO_BINDING_A_STATE",
	"GECKO_BINDING_A_SEQ",
	"GECKO_BINDING_A_LIFETIME",
};

inline constexpr std::array<std::string_view, __GECKO_SOCK_A_LAST> sock_attr_names{
	"GECKO_SOCK_A_UNSPEC",
	"GECKO_SOCK_A_FD",
	"GECKO_SOCK_A_TIMEOUT",
	"GECKO_SOCK_A_DATA",
	"GECKO_SOCK_A_LENGTH",
	"GECKO_SOCK_A_LOCAL",
	"GECKO_SOCK_A_LOCAL_PORT",
	"GECKO_SOCK_A_REMOTE",
	"GECKO_SOCK_A_REMOTE_PORT",
	"GECKO_SOCK_A_FLOW",
	"GECKO_SOCK_A_HELD",
	"GECKO_SOCK_A_FORWARD",
	"GECKO_SOCK_A_DONOR",
	"GECKO_SOCK_A_PROBE",
};

inline constexpr std::array<std::string_view, __GECKO_PROBE_A_LAST> probe_attr_names{
	"GECKO_PROBE_A_UNSPEC",
	"GECKO_PROBE_A_SEQ",
	"GECKO_PROBE_A_ACK",
	"GECKO_PROBE_A_WINDOW",
	"GECKO_PROBE_A_TSVAL",
	"GECKO_PROBE_A_TSECR",
	"GECKO_PROBE_A_FLAGS",
	"GECKO_PROBE_A_AGE",
	"GECKO_PROBE_A_SENT",
};

inline constexpr std::array<std::string_view, __GECKO_LIMITS_A_LAST> limits_attr_names{
	"GECKO_LIMITS_A_UNSPEC",
	"GECKO_LIMITS_A_SERVICES",
	"GECKO_LIMITS_A_BINDINGS",
	"GECKO_LIMITS_A_FLOWS",
	"GECKO_LIMITS_A_HELD",
	"GECKO_LIMITS_A_SERVICES_USED",
	"GECKO_LIMITS_A_BINDINGS_USED",
	"GECKO_LIMITS_A_FLOWS_USED",
	"GECKO_LIMITS_A_HELD_USED",
};

/* Indexed by enum gecko_counter; the first two types are not counters. */
inline constexpr std::array<std::string_view, __GECKO_COUNTER_LAST> counter_names{
	"",
	"",
	"nl_requests",
	"nl_errors",
	"bindings_expired",
	"rh2_in",
	"rh2_truncated",
	"rh2_bad_length",
	"rh2_bad_segments",
	"rh2_bad_address",
	"rh2_no_binding",
	"hao_out",
	"hao_failed",
	"mss_clamped",
	"hao_in_dropped",
	"icmp_err_in",
	"flow_held",
	"flow_held_dropped",
	"flow_reinjected",
	"flow_out_dropped",
	"flow_moved_dropped",
	"flow_expired",
	"flow_forwarded",
	"fwd_in",
	"fwd_in_dropped",
	"flow_held_limited",
	"probes_sent",
	"probe_answers",
	"fenced",
	"acks_lowered",
};

/* Indexed by the bit of enum gecko_feature. */
inline constexpr std::array<std::string_view, 6> feature_bit_names{
	"sockets",
	"ownership",
	"limits",
	"probe",
	"guard",
	"pass-on",
};

/* An attribute, counter or feature added to the UAPI header needs its name here. */
static_assert(!attr_names.back().empty());
static_assert(!service_attr_names.back().empty());
static_assert(!binding_attr_names.back().empty());
static_assert(!sock_attr_names.back().empty());
static_assert(!probe_attr_names.back().empty());
static_assert(!limits_attr_names.back().empty());
static_assert(!counter_names.back().empty());
static_assert(__GECKO_FEATURE_ALL == (1ULL << feature_bit_names.size()) - 1);

} // namespace gecko

#endif /* GECKO_NAMES_H */
