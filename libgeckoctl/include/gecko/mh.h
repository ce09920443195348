/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_MH_H
#define GECKO_MH_H

/*
 * The Mobility Header of RFC 6275 (§6.1, §6.2): messages as plain structs,
 * an encoder that lays them out byte for byte, and a strict parser.
 *
 * The daemons receive and send through raw IPPROTO_MH sockets, where the
 * kernel verifies the checksum of what arrives and, with IPV6_CHECKSUM at
 * offset 4, fills it in on what leaves: they call encode(msg) and parse().
 * Tools that build or capture whole packets use the checksum functions.
 *
 * Messages (§6.1.2-§6.1.9), with the fixed part that follows the 6-octet
 * header (Payload Proto, Header Len, MH Type, Reserved, Checksum), the least
 * Header Len (8-octet units beyond the first 8) and the options valid in it:
 *
 *   BRR  0  reserved(16)                                 0  -
 *   HoTI 1  reserved(16) cookie(64)                      1  -
 *   CoTI 2  reserved(16) cookie(64)                      1  -
 *   HoT  3  nonce index(16) cookie(64) token(64)         2  -
 *   CoT  4  nonce index(16) cookie(64) token(64)         2  -
 *   BU   5  seq(16) A|H|L|K|reserved(12) lifetime(16)    1  Alternate CoA, Nonce Indices, BAD
 *   BA   6  status(8) K|reserved(7) seq(16) lifetime(16) 1  Binding Refresh Advice, BAD
 *   BE   7  status(8) reserved(8) home address(128)      2  -
 *
 * The options column follows the lists of valid options in §6.1.7 and
 * §6.1.8, and §6.2.4-§6.2.7, which make Binding Refresh Advice valid only in
 * a BA, Alternate CoA and Nonce Indices only in a BU, and Binding
 * Authorization Data in both; RFC 6275 defines no option for the other
 * messages. Options (§6.2), with the alignment of their Option Type (xn+y
 * octets from the start of the header) and their Option Length:
 *
 *   Pad1                        0  -     -
 *   PadN                        1  -     any
 *   Binding Refresh Advice      2  2n    2   refresh interval, 4-second units
 *   Alternate Care-of Address   3  8n+6  16
 *   Nonce Indices               4  2n    4   home, then care-of nonce index
 *   Binding Authorization Data  5  8n+2  12  the authenticator
 *
 * Binding Authorization Data is only ever 12 octets: RFC 6275 defines one
 * authenticator, HMAC_SHA1-96. It is always the last option (§6.2.7), so a
 * message carrying it ends with the authenticator.
 */

#include <gecko/error.h>
#include <gecko/export.h>

#include <netinet/in.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

namespace gecko::mh {

/* Lifetimes and refresh intervals travel in units of 4 seconds. */
inline constexpr std::chrono::seconds time_unit{4};

enum class Type : std::uint8_t {
	brr = 0,	/* Binding Refresh Request */
	hoti = 1,	/* Home Test Init */
	coti = 2,	/* Care-of Test Init */
	hot = 3,	/* Home Test */
	cot = 4,	/* Care-of Test */
	bu = 5,		/* Binding Update */
	ba = 6,		/* Binding Acknowledgement */
	be = 7,		/* Binding Error */
};

/* Binding Acknowledgement Status (§6.1.8): below 128, the update was accepted. */
enum BaStatus : std::uint8_t {
	ba_accepted = 0,
	ba_prefix_discovery_necessary = 1,
	ba_reason_unspecified = 128,
	ba_administratively_prohibited = 129,
	ba_insufficient_resources = 130,
	ba_home_registration_not_supported = 131,
	ba_not_home_subnet = 132,
	ba_not_home_agent = 133,
	ba_duplicate_address_detection_failed = 134,
	ba_sequence_number_out_of_window = 135,
	ba_expired_home_nonce_index = 136,
	ba_expired_care_of_nonce_index = 137,
	ba_expired_nonces = 138,
	ba_registration_type_change_disallowed = 139,
};

/* Binding Error Status (§6.1.9). */
enum BeStatus : std::uint8_t {
	be_unknown_binding_for_hao = 1,
	be_unrecognized_mh_type = 2,
};

using Cookie = std::array<std::uint8_t, 8>;
using KeygenToken = std::array<std::uint8_t, 8>;
/* HMAC_SHA1-96, the only authenticator RFC 6275 defines (§6.2.7, §5.2.6). */
using Authenticator = std::array<std::uint8_t, 12>;

struct NonceIndices {
	std::uint16_t home{};
	std::uint16_t care_of{};
};

struct BuOptions {
	std::optional<in6_addr> alt_coa{};
	std::optional<NonceIndices> nonce_indices{};
	/* Encode with zeros and let rr::sign() fill it in. */
	std::optional<Authenticator> auth{};
};

struct BaOptions {
	std::optional<std::uint16_t> refresh_units{};	/* Binding Refresh Advice */
	std::optional<Authenticator> auth{};
};

struct Brr {};

struct Hoti {
	Cookie cookie{};
};

struct Coti {
	Cookie cookie{};
};

struct Hot {
	std::uint16_t nonce_index{};	/* home nonce index */
	Cookie cookie{};
	KeygenToken token{};
};

struct Cot {
	std::uint16_t nonce_index{};	/* care-of nonce index */
	Cookie cookie{};
	KeygenToken token{};
};

struct Bu {
	std::uint16_t seq{};
	bool a{};		/* acknowledge */
	bool h{};		/* home registration */
	bool l{};		/* link-local address compatibility */
	bool k{};		/* key management mobility capability */
	std::uint16_t lifetime_units{};
	BuOptions options{};
};

struct Ba {
	std::uint8_t status{};	/* enum BaStatus */
	bool k{};
	std::uint16_t seq{};
	std::uint16_t lifetime_units{};
	BaOptions options{};
};

struct Be {
	std::uint8_t status{};	/* enum BeStatus */
	in6_addr home{};
};

/* The alternative's index is the MH Type. */
using Message = std::variant<Brr, Hoti, Coti, Hot, Cot, Bu, Ba, Be>;

inline Type type_of(const Message &msg)
{
	return static_cast<Type>(msg.index());
}

/* "Binding Update", ... for logs. */
GECKO_API std::string_view type_name(Type type);

/* "sequence number out of window"... for a Binding Acknowledgement status (§6.1.8), for logs and errors. */
GECKO_API std::string_view ba_status_text(std::uint8_t status);

/* The addresses of the IPv6 header, as the checksum's pseudo-header sees them. */
struct PseudoHeader {
	in6_addr src;	/* the home address when the packet carries a Home Address option */
	in6_addr dst;	/* the final destination when it carries a type 2 routing header */
};

/*
 * Wire form of @msg: Payload Proto 59, Header Len set, options aligned with
 * Pad1/PadN and the whole padded to 8 octets. The checksum is 0, which a raw
 * socket with IPV6_CHECKSUM fills in, unless @checksum gives the addresses
 * to compute it with. A BU or BA to be signed is encoded without them: the
 * checksum covers the authenticator, so it comes last (set_checksum()).
 */
GECKO_API std::vector<std::byte> encode(const Message &msg,
					const std::optional<PseudoHeader> &checksum = std::nullopt);

/*
 * Parses one message, checked in the order of RFC 6275 §9.2 and then
 * option by option. Fails with:
 * - unknown_mh_type: the MH Type is not one of the eight above; §9.2 has
 *   the receiver answer with a Binding Error, status be_unrecognized_mh_type;
 * - EBADMSG: anything else malformed, which the receiver drops. The kernel
 *   already sent ICMPv6 Parameter Problem for the cases that need one
 *   (Payload Proto, Header Len), before raw sockets saw the packet.
 * Unknown options are skipped, as each of §6.1.2-§6.1.9 requires; a known
 * option in a message it is not valid for is malformed. Whether valid
 * options are also required (Nonce Indices with BAD, BAD towards a
 * correspondent) is for the receiver to decide. The checksum is not looked
 * at: a raw socket delivers only messages whose checksum the kernel checked.
 */
inline constexpr int unknown_mh_type = ENOMSG;
GECKO_API Result<Message> parse(std::span<const std::byte> mh);

/* The Checksum field for @mh (§6.1.1), computed as if that field were zero. */
GECKO_API std::uint16_t checksum(const in6_addr &src, const in6_addr &dst, std::span<const std::byte> mh);

/* Stores checksum() in @mh's Checksum field; @mh holds at least its 6-octet header. */
GECKO_API void set_checksum(std::span<std::byte> mh, const PseudoHeader &addrs);

/* Whether @mh carries a correct checksum, accepting either form of zero as the kernel does. */
GECKO_API bool checksum_ok(std::span<const std::byte> mh, const PseudoHeader &addrs);

} // namespace gecko::mh

#endif /* GECKO_MH_H */
