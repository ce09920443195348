/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef GECKO_RR_H
#define GECKO_RR_H

/*
 * Return routability (RFC 6275 §5.2): keygen tokens, the binding
 * management key Kbm and the Binding Authorization Data authenticator of
 * Binding Updates and Acknowledgements; and the correspondent's table of
 * nonces. HMAC_SHA1 and SHA1 come from libcrypto, which stays out of this
 * header. Nothing here reads a clock: callers pass the time.
 */

#include <gecko/error.h>
#include <gecko/export.h>
#include <gecko/mh.h>

#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace gecko::rr {

/* §12 */
inline constexpr std::chrono::seconds max_nonce_lifetime{240};
inline constexpr std::chrono::seconds max_token_lifetime{210};
inline constexpr std::chrono::seconds max_rr_binding_lifetime{420};

/* Zeroes @secret in a way the compiler cannot drop as a dead store. */
GECKO_API void wipe(std::span<std::uint8_t> secret);

/* Key bytes, wiped when they go away. */
template <std::size_t N>
class Secret {
public:
	Secret() = default;
	explicit Secret(std::span<const std::uint8_t, N> bytes) { std::ranges::copy(bytes, bytes_.begin()); }
	Secret(const Secret &) = default;
	Secret &operator=(const Secret &) = default;
	~Secret() { wipe(bytes_); }

	std::span<const std::uint8_t, N> bytes() const { return bytes_; }
	std::span<std::uint8_t, N> bytes() { return bytes_; }

private:
	std::array<std::uint8_t, N> bytes_{};
};

/* §5.2.1: a 20-octet HMAC_SHA1 key. */
using Kcn = Secret<20>;
/* §5.2.5: a SHA1 digest. */
using Kbm = Secret<20>;
/* RFC 6275 leaves the size open; 64 bits, as UMIP. */
using Nonce = std::array<std::uint8_t, 8>;

/* Which test a keygen token answers; the value is the token's last input octet. */
enum class Path : std::uint8_t {
	home = 0,
	care_of = 1,
};

/*
 * §5.2.5: First(64, HMAC_SHA1(Kcn, address | nonce | 0)) for the home
 * keygen token, where @addr is the home address, and with a final 1 for the
 * care-of keygen token, where @addr is the care-of address.
 */
GECKO_API mh::KeygenToken keygen_token(const Kcn &kcn, const in6_addr &addr, const Nonce &nonce, Path path);

/* §5.2.5: Kbm = SHA1(home keygen token | care-of keygen token). */
GECKO_API Kbm kbm(const mh::KeygenToken &home, const mh::KeygenToken &care_of);

/*
 * §5.2.5: Kbm = SHA1(home keygen token), for a de-registration: a BU with
 * lifetime 0 or with the home address as care-of address (§9.5.1).
 */
GECKO_API Kbm kbm(const mh::KeygenToken &home);

/*
 * Starts what return routability takes from libcrypto, its random
 * generator and HMAC-SHA1, so that a correspondent's first test does not
 * wait for them (a millisecond, tens under emulation); fails with EIO when
 * the generator cannot be seeded, which issuing a nonce would meet later.
 */
GECKO_API Result<void> prepare();

/*
 * The addresses an authenticator covers (§6.2.7). @care_of is the care-of
 * address being registered (the Alternate Care-of Address when the BU
 * carries one), or the home address for a de-registration; @correspondent
 * is the correspondent node's address (its home address if it is mobile).
 * Binding Update and Binding Acknowledgement take the same two.
 */
struct AuthAddresses {
	in6_addr care_of;
	in6_addr correspondent;
};

/*
 * §6.2.7: First(96, HMAC_SHA1(Kbm, care-of address | correspondent | MH
 * Data)), where "'MH Data' is the content of the Mobility Header, excluding
 * the Authenticator field itself. The Authenticator value is calculated as
 * if the Checksum field in the Mobility Header was zero." So MH Data runs
 * from Payload Proto up to and including the Binding Authorization Data's
 * Option Type and Option Length, the Checksum taken as zero, whatever @mh
 * holds there. @mh is a BU or BA carrying Binding Authorization Data,
 * which mh::encode() places last and mh::parse() insists is last. Fails
 * with mh::parse()'s error, or EINVAL for a message without that option.
 */
GECKO_API Result<mh::Authenticator> authenticator(std::span<const std::byte> mh, const Kbm &kbm,
						  const AuthAddresses &addrs);

/*
 * Writes the authenticator into @mh's Binding Authorization Data. The
 * checksum covers it, so a caller that computes the checksum itself
 * (mh::set_checksum()) does so afterwards.
 */
GECKO_API Result<void> sign(std::span<std::byte> mh, const Kbm &kbm, const AuthAddresses &addrs);

/* Whether @mh carries the right authenticator, compared in constant time; false if it has none. */
GECKO_API bool verify(std::span<const std::byte> mh, const Kbm &kbm, const AuthAddresses &addrs);

/*
 * The correspondent's nonces and node keys (§5.2.7). A nonce is made when a
 * test first needs it, with a Kcn of its own ("An update of Kcn SHOULD be
 * done at the same time as an update of a nonce"), and handed out for
 * @renewal; it is accepted for @lifetime after being made. With the
 * defaults a token thus stays valid between MAX_TOKEN_LIFETIME and
 * MAX_NONCE_LIFETIME after it was sent, as §5.2.7 asks. The last 16 nonces
 * are kept: an older index, like an expired one, gets BA status 136, 137 or
 * 138, and the mobile node runs return routability again.
 */
class GECKO_API NonceTable {
public:
	using Time = std::chrono::steady_clock::time_point;

	struct Config {
		std::chrono::seconds lifetime = max_nonce_lifetime;
		std::chrono::seconds renewal = max_nonce_lifetime - max_token_lifetime;
	};

	/* What a Home Test or Care-of Test carries. */
	struct Issued {
		std::uint16_t nonce_index;
		mh::KeygenToken token;
	};

	NonceTable() : NonceTable(Config{}) {}
	explicit NonceTable(Config config);

	/* The token answering a HoTI (Path::home) or CoTI from @addr; fails with EIO when libcrypto has no randomness. */
	Result<Issued> issue(const in6_addr &addr, Path path, Time now);

	/* The token issued for @addr on @path with nonce @index, unless that nonce is gone at @now. */
	std::optional<mh::KeygenToken> token(std::uint16_t index, const in6_addr &addr, Path path, Time now) const;

private:
	struct Slot {
		std::uint16_t index;
		Time born;
		Nonce nonce;
		Kcn kcn;
	};

	const Slot *find(std::uint16_t index, Time now) const;

	Config config_;
	std::array<std::optional<Slot>, 16> slots_;
	std::optional<std::uint16_t> current_;
};

} // namespace gecko::rr

#endif /* GECKO_RR_H */
