// SPDX-License-Identifier: LGPL-2.1-or-later

#include <gecko/rr.h>

#include "fail.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <variant>
#include <vector>

namespace gecko::rr {

namespace {

constexpr std::size_t checksum_offset = 4;

/* HMAC_SHA1 and SHA1 fail only when libcrypto itself is unusable (no default provider): nothing to recover. */
void check(bool ok, const char *what)
{
	if (!ok) {
		std::fprintf(stderr, "libgeckoctl: %s failed in libcrypto\n", what);
		std::abort();
	}
}

/* First(N, HMAC_SHA1(key, data)) */
template <std::size_t N>
std::array<std::uint8_t, N> hmac_sha1(std::span<const std::uint8_t> key, std::span<const std::uint8_t> data)
{
	std::array<std::uint8_t, SHA_DIGEST_LENGTH> mac;
	std::array<std::uint8_t, N> first;

	check(HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), mac.data(),
		   nullptr),
	      "HMAC_SHA1");
	std::copy_n(mac.begin(), N, first.begin());
	wipe(mac);
	return first;
}

Kbm sha1(std::span<const std::uint8_t> data)
{
	Kbm digest;

	static_assert(decltype(digest.bytes())::extent == SHA_DIGEST_LENGTH);
	check(SHA1(data.data(), data.size(), digest.bytes().data()), "SHA1");
	return digest;
}

bool random_bytes(void *buf, std::size_t len)
{
	return RAND_bytes(static_cast<unsigned char *>(buf), static_cast<int>(len)) == 1;
}

/* The MH Data of @mh (§6.2.7): all of it but the authenticator, which mh::parse() guarantees is last. */
Result<std::span<const std::byte>> mh_data(std::span<const std::byte> mh)
{
	auto msg = mh::parse(mh);
	if (!msg)
		return std::unexpected(std::move(msg.error()));

	bool has_auth = false;
	if (auto *bu = std::get_if<mh::Bu>(&*msg))
		has_auth = bu->options.auth.has_value();
	else if (auto *ba = std::get_if<mh::Ba>(&*msg))
		has_auth = ba->options.auth.has_value();
	if (!has_auth)
		return fail(EINVAL, std::string(mh::type_name(mh::type_of(*msg))) +
					    " carries no Binding Authorization Data to authenticate");
	return mh.first(mh.size() - std::tuple_size_v<mh::Authenticator>);
}

} // namespace

void wipe(std::span<std::uint8_t> secret)
{
	OPENSSL_cleanse(secret.data(), secret.size());
}

mh::KeygenToken keygen_token(const Kcn &kcn, const in6_addr &addr, const Nonce &nonce, Path path)
{
	std::array<std::uint8_t, sizeof(addr.s6_addr) + sizeof(nonce) + 1> input;

	std::memcpy(input.data(), addr.s6_addr, sizeof(addr.s6_addr));
	std::memcpy(input.data() + sizeof(addr.s6_addr), nonce.data(), nonce.size());
	input.back() = static_cast<std::uint8_t>(path);
	return hmac_sha1<std::tuple_size_v<mh::KeygenToken>>(kcn.bytes(), input);
}

Kbm kbm(const mh::KeygenToken &home, const mh::KeygenToken &care_of)
{
	std::array<std::uint8_t, 2 * sizeof(home)> input;

	std::ranges::copy(care_of, std::ranges::copy(home, input.begin()).out);
	Kbm digest = sha1(input);
	wipe(input);
	return digest;
}

Kbm kbm(const mh::KeygenToken &home)
{
	return sha1(home);
}

Result<void> prepare()
{
	std::array<std::uint8_t, 1> byte;

	if (!random_bytes(byte.data(), byte.size()))
		return fail(EIO, "RAND_bytes: libcrypto's random generator cannot be seeded");
	(void)hmac_sha1<1>(byte, byte);
	return {};
}

Result<mh::Authenticator> authenticator(std::span<const std::byte> mh, const Kbm &kbm, const AuthAddresses &addrs)
{
	auto data = mh_data(mh);
	if (!data)
		return std::unexpected(std::move(data.error()));

	/* care-of address | correspondent | MH Data, the Checksum as zero */
	std::vector<std::uint8_t> input(2 * sizeof(in6_addr) + data->size());
	std::memcpy(input.data(), addrs.care_of.s6_addr, sizeof(in6_addr));
	std::memcpy(input.data() + sizeof(in6_addr), addrs.correspondent.s6_addr, sizeof(in6_addr));
	std::memcpy(input.data() + 2 * sizeof(in6_addr), data->data(), data->size());
	input[2 * sizeof(in6_addr) + checksum_offset] = 0;
	input[2 * sizeof(in6_addr) + checksum_offset + 1] = 0;
	return hmac_sha1<std::tuple_size_v<mh::Authenticator>>(kbm.bytes(), input);
}

Result<void> sign(std::span<std::byte> mh, const Kbm &kbm, const AuthAddresses &addrs)
{
	auto auth = authenticator(mh, kbm, addrs);
	if (!auth)
		return std::unexpected(std::move(auth.error()));
	std::memcpy(mh.last(auth->size()).data(), auth->data(), auth->size());
	return {};
}

bool verify(std::span<const std::byte> mh, const Kbm &kbm, const AuthAddresses &addrs)
{
	auto auth = authenticator(mh, kbm, addrs);

	return auth && CRYPTO_memcmp(mh.last(auth->size()).data(), auth->data(), auth->size()) == 0;
}

NonceTable::NonceTable(Config config) : config_(config) {}

const NonceTable::Slot *NonceTable::find(std::uint16_t index, Time now) const
{
	const std::optional<Slot> &slot = slots_[index % slots_.size()];

	return slot && slot->index == index && now < slot->born + config_.lifetime ? &*slot : nullptr;
}

Result<NonceTable::Issued> NonceTable::issue(const in6_addr &addr, Path path, Time now)
{
	const Slot *slot = current_ ? find(*current_, now) : nullptr;

	if (!slot || now - slot->born >= config_.renewal) {
		Slot fresh{};

		/*
		 * The first index is random so that, after a restart, tokens
		 * from the last run most likely name a missing nonce (a BA
		 * says so) rather than a new one (the BU is dropped).
		 */
		if (current_)
			fresh.index = *current_ + 1;
		else if (!random_bytes(&fresh.index, sizeof(fresh.index)))
			return fail(EIO, "RAND_bytes: no randomness for a nonce index");
		if (!random_bytes(fresh.nonce.data(), fresh.nonce.size()) ||
		    !random_bytes(fresh.kcn.bytes().data(), fresh.kcn.bytes().size()))
			return fail(EIO, "RAND_bytes: no randomness for a nonce and its Kcn");
		fresh.born = now;

		std::optional<Slot> &stored = slots_[fresh.index % slots_.size()];
		stored = fresh;
		current_ = fresh.index;
		slot = &*stored;
	}
	return Issued{slot->index, keygen_token(slot->kcn, addr, slot->nonce, path)};
}

std::optional<mh::KeygenToken> NonceTable::token(std::uint16_t index, const in6_addr &addr, Path path, Time now) const
{
	const Slot *slot = find(index, now);

	if (!slot)
		return std::nullopt;
	return keygen_token(slot->kcn, addr, slot->nonce, path);
}

} // namespace gecko::rr
