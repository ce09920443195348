// SPDX-License-Identifier: LGPL-2.1-or-later

#include <gecko/mh.h>

#include "fail.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

namespace gecko::mh {

namespace {

constexpr std::uint8_t ipproto_none = 59;	/* Payload Proto: nothing follows */
constexpr std::uint8_t ipproto_mh = 135;	/* Next Header of the pseudo-header */
constexpr std::size_t header_size = 6;		/* up to and including the Checksum */
constexpr std::size_t checksum_offset = 4;

enum OptionType : std::uint8_t {
	opt_pad1 = 0,
	opt_padn = 1,
	opt_refresh_advice = 2,
	opt_alt_coa = 3,
	opt_nonce_indices = 4,
	opt_auth = 5,
};

constexpr unsigned bit(OptionType type)
{
	return 1u << type;
}

/* The options this library knows, with their §6.2 length and alignment (type at align_n * k + align_off). */
struct OptionRule {
	OptionType type;
	std::string_view name;
	std::uint8_t len;
	std::uint8_t align_n;
	std::uint8_t align_off;
};

constexpr std::array<OptionRule, 4> option_rules{{
	{opt_refresh_advice, "Binding Refresh Advice", 2, 2, 0},
	{opt_alt_coa, "Alternate Care-of Address", 16, 8, 6},
	{opt_nonce_indices, "Nonce Indices", 4, 2, 0},
	{opt_auth, "Binding Authorization Data", 12, 8, 2},
}};

const OptionRule &rule_of(OptionType type)
{
	return *std::ranges::find(option_rules, type, &OptionRule::type);
}

/* Per MH Type, in Type order: the fixed part's size (header included), the least Header Len and the valid options. */
struct TypeRule {
	std::string_view name;
	std::uint8_t fixed;
	std::uint8_t min_header_len;
	unsigned options;
};

constexpr std::array<TypeRule, 8> type_rules{{
	{"Binding Refresh Request", 8, 0, 0},
	{"Home Test Init", 16, 1, 0},
	{"Care-of Test Init", 16, 1, 0},
	{"Home Test", 24, 2, 0},
	{"Care-of Test", 24, 2, 0},
	{"Binding Update", 12, 1, bit(opt_alt_coa) | bit(opt_nonce_indices) | bit(opt_auth)},
	{"Binding Acknowledgement", 12, 1, bit(opt_refresh_advice) | bit(opt_auth)},
	{"Binding Error", 24, 2, 0},
}};
static_assert(std::variant_size_v<Message> == type_rules.size());
/* So parse() may read the fixed part once Header Len passed its minimum. */
static_assert(std::ranges::all_of(type_rules, [](const TypeRule &r) { return r.fixed <= (r.min_header_len + 1) * 8; }));

/* Bu flags, in the octet after the sequence number; Ba's K likewise after the status. */
constexpr std::uint8_t flag_a = 0x80, flag_h = 0x40, flag_l = 0x20, flag_k = 0x10;
constexpr std::uint8_t ba_flag_k = 0x80;

class Writer {
public:
	explicit Writer(Type type)
	{
		u8(ipproto_none);
		u8(0);	/* Header Len, once the size is known */
		u8(static_cast<std::uint8_t>(type));
		u8(0);	/* Reserved */
		u16(0);	/* Checksum */
	}

	void u8(std::uint8_t v) { buf_.push_back(std::byte{v}); }
	void u16(std::uint16_t v)
	{
		u8(v >> 8);
		u8(v & 0xff);
	}
	void bytes(std::span<const std::uint8_t> v)
	{
		for (std::uint8_t b : v)
			u8(b);
	}

	/* Option header, after the padding its alignment needs. */
	void option(OptionType type)
	{
		const OptionRule &rule = rule_of(type);

		pad_to(rule.align_n, rule.align_off);
		u8(type);
		u8(rule.len);
	}

	/* Header Len counts 8-octet units beyond the first 8 (§6.1.1). */
	std::vector<std::byte> finish() &&
	{
		pad_to(8, 0);
		buf_[1] = std::byte(buf_.size() / 8 - 1);
		return std::move(buf_);
	}

private:
	/* Pad1 for one octet, PadN for more (§6.2.2, §6.2.3), until size % n == off. */
	void pad_to(std::size_t n, std::size_t off)
	{
		std::size_t pad = (n + off - buf_.size() % n) % n;

		if (pad == 1) {
			u8(opt_pad1);
		} else if (pad > 1) {
			u8(opt_padn);
			u8(pad - 2);
			buf_.resize(buf_.size() + pad - 2);
		}
	}

	std::vector<std::byte> buf_;
};

void put(Writer &w, const Brr &)
{
	w.u16(0);
}

void put(Writer &w, const Hoti &m)
{
	w.u16(0);
	w.bytes(m.cookie);
}

void put(Writer &w, const Coti &m)
{
	w.u16(0);
	w.bytes(m.cookie);
}

void put(Writer &w, const Hot &m)
{
	w.u16(m.nonce_index);
	w.bytes(m.cookie);
	w.bytes(m.token);
}

void put(Writer &w, const Cot &m)
{
	w.u16(m.nonce_index);
	w.bytes(m.cookie);
	w.bytes(m.token);
}

/* Always the last option (§6.2.7). */
void put_auth(Writer &w, const std::optional<Authenticator> &auth)
{
	if (auth) {
		w.option(opt_auth);
		w.bytes(*auth);
	}
}

void put(Writer &w, const Bu &m)
{
	w.u16(m.seq);
	w.u8((m.a ? flag_a : 0) | (m.h ? flag_h : 0) | (m.l ? flag_l : 0) | (m.k ? flag_k : 0));
	w.u8(0);
	w.u16(m.lifetime_units);
	if (m.options.alt_coa) {
		w.option(opt_alt_coa);
		w.bytes(m.options.alt_coa->s6_addr);
	}
	if (m.options.nonce_indices) {
		w.option(opt_nonce_indices);
		w.u16(m.options.nonce_indices->home);
		w.u16(m.options.nonce_indices->care_of);
	}
	put_auth(w, m.options.auth);
}

void put(Writer &w, const Ba &m)
{
	w.u8(m.status);
	w.u8(m.k ? ba_flag_k : 0);
	w.u16(m.seq);
	w.u16(m.lifetime_units);
	if (m.options.refresh_units) {
		w.option(opt_refresh_advice);
		w.u16(*m.options.refresh_units);
	}
	put_auth(w, m.options.auth);
}

void put(Writer &w, const Be &m)
{
	w.u8(m.status);
	w.u8(0);
	w.bytes(m.home.s6_addr);
}

std::uint8_t u8(std::span<const std::byte> b, std::size_t off)
{
	return std::to_integer<std::uint8_t>(b[off]);
}

std::uint16_t u16(std::span<const std::byte> b, std::size_t off)
{
	return u8(b, off) << 8 | u8(b, off + 1);
}

template <std::size_t N>
std::array<std::uint8_t, N> array(std::span<const std::byte> b, std::size_t off)
{
	std::array<std::uint8_t, N> a;

	std::memcpy(a.data(), &b[off], N);
	return a;
}

in6_addr addr(std::span<const std::byte> b, std::size_t off)
{
	in6_addr a;

	std::memcpy(a.s6_addr, &b[off], sizeof(a.s6_addr));
	return a;
}

std::unexpected<Error> malformed(const TypeRule &rule, const std::string &why)
{
	return fail(EBADMSG, std::string(rule.name) + ": " + why);
}

struct Options {
	std::optional<std::uint16_t> refresh_units;
	std::optional<in6_addr> alt_coa;
	std::optional<NonceIndices> nonce_indices;
	std::optional<Authenticator> auth;
};

/* A known option whose length was checked; its data starts at @data. */
void store(Options &found, OptionType type, std::span<const std::byte> mh, std::size_t data)
{
	switch (type) {
	case opt_refresh_advice:
		found.refresh_units = u16(mh, data);
		break;
	case opt_alt_coa:
		found.alt_coa = addr(mh, data);
		break;
	case opt_nonce_indices:
		found.nonce_indices = NonceIndices{u16(mh, data), u16(mh, data + 2)};
		break;
	case opt_auth:
		found.auth = array<12>(mh, data);
		break;
	default:	/* padding carries nothing */
		break;
	}
}

/* The options after @rule's fixed part; @mh's length is already checked against Header Len. */
Result<Options> parse_options(const TypeRule &rule, std::span<const std::byte> mh)
{
	Options found;
	unsigned seen = 0;

	for (std::size_t off = rule.fixed; off < mh.size();) {
		auto bad = [&](std::string_view name, const std::string &why) {
			return malformed(rule, std::string(name) + " option at offset " + std::to_string(off) + why);
		};

		if (found.auth)
			return bad("an", " follows Binding Authorization Data, which must be the last");
		auto type = static_cast<OptionType>(u8(mh, off));
		if (type == opt_pad1) {
			off++;
			continue;
		}
		if (mh.size() - off < 2)
			return bad("an", " has no room for its length");
		std::size_t len = u8(mh, off + 1), data = off + 2;
		if (mh.size() - data < len)
			return bad("an", " of length " + std::to_string(len) + " overruns the message by " +
					 std::to_string(data + len - mh.size()));

		/* §6.1.2-§6.1.9: "The receiver MUST ignore and skip any options which it does not understand." */
		auto known = std::ranges::find(option_rules, type, &OptionRule::type);
		if (type != opt_padn && known != option_rules.end()) {
			if (!(rule.options & bit(type)))
				return bad(known->name, " is not valid in this message");
			if (len != known->len)
				return bad(known->name, " has length " + std::to_string(len) + ", not " +
							std::to_string(known->len));
			if (off % known->align_n != known->align_off)
				return bad(known->name, " breaks its alignment " + std::to_string(known->align_n) +
							"n+" + std::to_string(known->align_off));
			if (seen & bit(type))
				return bad(known->name, " repeats an earlier one");
			seen |= bit(type);
			store(found, type, mh, data);
		}
		off = data + len;
	}
	return found;
}

/* One's complement sum of @b as big-endian 16-bit words, an odd last octet padded with zero. */
std::uint64_t sum(std::span<const std::byte> b, std::uint64_t acc = 0)
{
	for (std::size_t i = 0; i + 1 < b.size(); i += 2)
		acc += u16(b, i);
	if (b.size() % 2)
		acc += u8(b, b.size() - 1) << 8;
	return acc;
}

std::uint16_t fold(std::uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return acc;
}

/* The IPv6 pseudo-header of RFC 8200 §8.1 with Next Header 135 (§6.1.1). */
std::uint64_t pseudo_sum(const in6_addr &src, const in6_addr &dst, std::size_t len)
{
	return sum(std::as_bytes(std::span(src.s6_addr))) + sum(std::as_bytes(std::span(dst.s6_addr))) +
	       (len >> 16) + (len & 0xffff) + ipproto_mh;
}

} // namespace

std::string_view type_name(Type type)
{
	auto i = static_cast<std::size_t>(type);

	return i < type_rules.size() ? type_rules[i].name : "unknown MH Type";
}

std::string_view ba_status_text(std::uint8_t status)
{
	switch (status) {
	case ba_accepted:
		return "accepted";
	case ba_prefix_discovery_necessary:
		return "accepted, prefix discovery necessary";
	case ba_reason_unspecified:
		return "reason unspecified";
	case ba_administratively_prohibited:
		return "administratively prohibited";
	case ba_insufficient_resources:
		return "insufficient resources";
	case ba_home_registration_not_supported:
		return "home registration not supported";
	case ba_not_home_subnet:
		return "not home subnet";
	case ba_not_home_agent:
		return "not home agent for this mobile node";
	case ba_duplicate_address_detection_failed:
		return "duplicate address detection failed";
	case ba_sequence_number_out_of_window:
		return "sequence number out of window";
	case ba_expired_home_nonce_index:
		return "expired home nonce index";
	case ba_expired_care_of_nonce_index:
		return "expired care-of nonce index";
	case ba_expired_nonces:
		return "expired nonces";
	case ba_registration_type_change_disallowed:
		return "registration type change disallowed";
	default:
		return status < 128 ? "accepted" : "rejected";
	}
}

std::vector<std::byte> encode(const Message &msg, const std::optional<PseudoHeader> &checksum)
{
	Writer w(type_of(msg));

	std::visit([&w](const auto &m) { put(w, m); }, msg);
	std::vector<std::byte> mh = std::move(w).finish();
	if (checksum)
		set_checksum(mh, *checksum);
	return mh;
}

Result<Message> parse(std::span<const std::byte> mh)
{
	if (mh.size() < header_size)
		return fail(EBADMSG, "mobility header: " + std::to_string(mh.size()) +
				     " octets, shorter than its 6-octet header");

	std::uint8_t type = u8(mh, 2);
	if (type >= type_rules.size())
		return fail(unknown_mh_type, "mobility header: unknown MH Type " + std::to_string(type));

	const TypeRule &rule = type_rules[type];
	std::uint8_t header_len = u8(mh, 1);
	if (u8(mh, 0) != ipproto_none)
		return malformed(rule, "Payload Proto " + std::to_string(u8(mh, 0)) + " is not 59 (no next header)");
	if (header_len < rule.min_header_len)
		return malformed(rule, "Header Len " + std::to_string(header_len) + " is below its minimum " +
				       std::to_string(rule.min_header_len));
	if ((header_len + 1u) * 8 != mh.size())
		return malformed(rule, "Header Len " + std::to_string(header_len) + " means " +
				       std::to_string((header_len + 1) * 8) + " octets, not the " +
				       std::to_string(mh.size()) + " received");

	auto opts = parse_options(rule, mh);
	if (!opts)
		return std::unexpected(std::move(opts.error()));

	/* Offsets as in the table of mh.h, after the 6-octet header. */
	switch (static_cast<Type>(type)) {
	case Type::brr:
		return Brr{};
	case Type::hoti:
		return Hoti{array<8>(mh, 8)};
	case Type::coti:
		return Coti{array<8>(mh, 8)};
	case Type::hot:
		return Hot{u16(mh, 6), array<8>(mh, 8), array<8>(mh, 16)};
	case Type::cot:
		return Cot{u16(mh, 6), array<8>(mh, 8), array<8>(mh, 16)};
	case Type::bu: {
		std::uint8_t flags = u8(mh, 8);

		return Bu{u16(mh, 6), bool(flags & flag_a), bool(flags & flag_h), bool(flags & flag_l),
			  bool(flags & flag_k), u16(mh, 10), {opts->alt_coa, opts->nonce_indices, opts->auth}};
	}
	case Type::ba:
		return Ba{u8(mh, 6), bool(u8(mh, 7) & ba_flag_k), u16(mh, 8), u16(mh, 10),
			  {opts->refresh_units, opts->auth}};
	case Type::be:
		return Be{u8(mh, 6), addr(mh, 8)};
	}
	std::unreachable();
}

std::uint16_t checksum(const in6_addr &src, const in6_addr &dst, std::span<const std::byte> mh)
{
	std::uint64_t acc = pseudo_sum(src, dst, mh.size()) + sum(mh.first(std::min(mh.size(), checksum_offset)));

	if (mh.size() > header_size)
		acc = sum(mh.subspan(header_size), acc);
	return static_cast<std::uint16_t>(~fold(acc));
}

void set_checksum(std::span<std::byte> mh, const PseudoHeader &addrs)
{
	std::uint16_t c = checksum(addrs.src, addrs.dst, mh);

	mh[checksum_offset] = std::byte(c >> 8);
	mh[checksum_offset + 1] = std::byte(c & 0xff);
}

bool checksum_ok(std::span<const std::byte> mh, const PseudoHeader &addrs)
{
	return mh.size() >= header_size && fold(sum(mh, pseudo_sum(addrs.src, addrs.dst, mh.size()))) == 0xffff;
}

} // namespace gecko::mh
