// SPDX-License-Identifier: GPL-2.0-only
/*
 * Route optimisation from a scripted mobile node, against a correspondent
 * (gecko-cnd):
 *
 *   gecko-mn hot --home G --cn CN [--timeout S]
 *   gecko-mn ro --home G --coa COA --cn CN [--seq N] [--lifetime S] [--timeout S]
 *               [--home-nonce N --home-token HEX] [--wait S]
 *               [--bad-auth] [--wrong-nonce home|care-of|both] [--h-flag]
 *
 * hot sends a Home Test Init from G, which a contact node routes through
 * the home agent, and prints "home-nonce N home-token HEX" from the Home
 * Test: what a contact node relays to another node taking over G.
 *
 * ro runs return routability, HoTI from G unless --home-nonce/--home-token
 * give a relayed Home Test, and CoTI from COA, derives Kbm, sends a Binding
 * Update from COA with a Home Address option (G), Nonce Indices and the
 * authenticator, and prints the Binding Acknowledgement as "status N seq N
 * lifetime S". Lifetime 0 deregisters. --wait lets the nonces age before
 * the BU; the other flags spoil it to provoke each rejection. Exit status:
 * 0 accepted, 1 rejected, 2 usage, 3 no answer or a local failure.
 *
 * The BU leaves G through the raw socket, so that its checksum covers G as
 * the RFC requires; an xfrm HAO state and policy for Mobility Headers to CN
 * make the kernel move G into a Home Address option and send from COA. The
 * BA comes back to COA with a type 2 routing header, accepted with an RH2
 * state and inbound policy for an address with the "home" flag. What is
 * installed is removed on exit.
 */

#include "mn_common.h"
#include "mn_ro.h"

#include <gecko/mh.h>
#include <gecko/mh_socket.h>
#include <gecko/rr.h>
#include <gecko/xfrm.h>

#include <poll.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace gecko::mn {

namespace {

/* The options of hot and ro: --name value pairs, and the flags that take no value. */
Options ro_options(int argc, char **argv)
{
	return parse(argc, argv,
		     {"home", "coa", "cn", "seq", "lifetime", "timeout", "home-nonce", "home-token", "wait", "wrong-nonce"},
		     {"bad-auth", "h-flag"});
}

std::string hex(std::span<const std::uint8_t> bytes)
{
	static constexpr char digits[] = "0123456789abcdef";
	std::string out;

	for (auto b : bytes) {
		out += digits[b >> 4];
		out += digits[b & 0xf];
	}
	return out;
}

mh::KeygenToken token_from_hex(const std::string &s)
{
	mh::KeygenToken token;

	if (s.size() != 2 * token.size() || s.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
		usage("--home-token: 16 hex digits");
	for (std::size_t i = 0; i < token.size(); i++)
		token[i] = static_cast<std::uint8_t>(std::stoul(s.substr(2 * i, 2), nullptr, 16));
	return token;
}

mh::Cookie random_cookie()
{
	std::random_device rd;
	mh::Cookie cookie;

	for (auto &b : cookie)
		b = static_cast<std::uint8_t>(rd());
	return cookie;
}

template <class T>
struct Got {
	T msg;
	std::vector<std::byte> bytes;
};

/* The next message of type T from @from, until @deadline; others are reported and skipped. */
template <class T>
std::optional<Got<T>> wait_for(mh::Socket &sk, const in6_addr &from, Clock::time_point deadline)
{
	while (Clock::now() < deadline) {
		pollfd pfd{sk.fd(), POLLIN, 0};
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());

		if (poll(&pfd, 1, static_cast<int>(left.count()) + 1) <= 0)
			continue;
		auto msg = sk.receive();
		if (!msg)
			continue;
		auto parsed = mh::parse(msg->bytes);
		auto *m = parsed ? std::get_if<T>(&*parsed) : nullptr;
		if (m && msg->checksum_ok && IN6_ARE_ADDR_EQUAL(&msg->src, &from))
			return Got<T>{*m, std::move(msg->bytes)};
		std::cerr << "gecko-mn: ignored a message from " << text(msg->src) << '\n';
	}
	return std::nullopt;
}

/* Runs a test: sends @init from @src to @cn and waits for the answer of type Answer with its cookie. */
template <class Answer, class Init>
Answer run_test(mh::Socket &sk, const Init &init, const in6_addr &src, const in6_addr &cn, Clock::time_point deadline)
{
	if (auto ok = sk.send(mh::encode(init), src, cn); !ok)
		die(ok.error());
	for (;;) {
		auto answer = wait_for<Answer>(sk, cn, deadline);
		if (!answer) {
			std::cerr << "gecko-mn: no " << mh::type_name(mh::type_of(Answer{})) << " from " << text(cn)
				  << '\n';
			std::exit(exit_error);
		}
		if (answer->msg.cookie == init.cookie)
			return answer->msg;
	}
}

int do_hot(const Options &opts)
{
	auto home = address(opts, "home");
	auto cn = address(opts, "cn");
	auto deadline = Clock::now() + std::chrono::seconds(number(opts, "timeout", 5));

	auto sk = mh::Socket::open();
	if (!sk)
		die(sk.error());
	auto hot = run_test<mh::Hot>(*sk, mh::Hoti{random_cookie()}, home, cn, deadline);
	std::cout << "home-nonce " << hot.nonce_index << " home-token " << hex(hot.token) << std::endl;
	return exit_accepted;
}

int do_ro(const Options &opts)
{
	auto home = address(opts, "home");
	auto coa = address(opts, "coa");
	auto cn = address(opts, "cn");
	auto seq = static_cast<std::uint16_t>(number(opts, "seq", 1));
	auto lifetime = std::chrono::seconds(number(opts, "lifetime", 60));
	auto timeout = std::chrono::seconds(number(opts, "timeout", 5));
	auto wrong = opts.contains("wrong-nonce") ? opts.at("wrong-nonce") : "";
	if (!wrong.empty() && wrong != "home" && wrong != "care-of" && wrong != "both")
		usage("--wrong-nonce: home, care-of or both");

	auto sk = mh::Socket::open();
	if (!sk)
		die(sk.error());
	auto deadline = Clock::now() + timeout;
	mh::Hot hot;
	if (opts.contains("home-token")) {
		hot.nonce_index = static_cast<std::uint16_t>(number(opts, "home-nonce", 0));
		hot.token = token_from_hex(opts.at("home-token"));
	} else {
		hot = run_test<mh::Hot>(*sk, mh::Hoti{random_cookie()}, home, cn, deadline);
	}
	auto cot = run_test<mh::Cot>(*sk, mh::Coti{random_cookie()}, coa, cn, deadline);
	std::this_thread::sleep_for(std::chrono::seconds(number(opts, "wait", 0)));

	bool deregister = lifetime == std::chrono::seconds::zero() || IN6_ARE_ADDR_EQUAL(&coa, &home);
	mh::Bu bu{seq, true, opts.contains("h-flag"), false, false,
		  static_cast<std::uint16_t>(lifetime / mh::time_unit), {}};
	/* An index far from the issued one is one the correspondent never issued. */
	bu.options.nonce_indices = mh::NonceIndices{
		static_cast<std::uint16_t>(hot.nonce_index + (wrong == "home" || wrong == "both" ? 0x8000 : 0)),
		static_cast<std::uint16_t>(cot.nonce_index + (wrong == "care-of" || wrong == "both" ? 0x8000 : 0))};
	bu.options.auth = mh::Authenticator{};
	auto bytes = mh::encode(bu);
	auto kbm = deregister ? rr::kbm(hot.token) : rr::kbm(hot.token, cot.token);
	if (auto ok = rr::sign(bytes, kbm, {deregister ? home : coa, cn}); !ok)
		die(ok.error());
	if (opts.contains("bad-auth"))
		bytes.back() ^= std::byte{0xff};

	auto xfrm = xfrm::Xfrm::open();
	if (!xfrm)
		die(xfrm.error());
	Plumbing plumbing(*xfrm, {cn, home, coa});
	if (auto ok = plumbing.install(); !ok)
		die(ok.error());
	if (auto ok = sk->send(bytes, home, cn); !ok)
		die(ok.error());

	auto got = wait_for<mh::Ba>(*sk, cn, Clock::now() + timeout);
	if (!got) {
		std::cerr << "gecko-mn: no Binding Acknowledgement within " << timeout.count() << " s\n";
		return exit_error;
	}
	const auto &ba = got->msg;
	/* The correspondent signs a BA with the BU's Kbm (§6.2.7) whenever it could authenticate the BU. */
	const char *auth = !ba.options.auth ? "unsigned"
			   : rr::verify(got->bytes, kbm, {deregister ? home : coa, cn}) ? "signed"
											: "wrongly-signed";
	std::cout << "status " << int(ba.status) << " seq " << ba.seq << " lifetime "
		  << ba.lifetime_units * mh::time_unit.count() << " " << auth << std::endl;
	return ba.status < 128 ? exit_accepted : exit_rejected;
}

} // namespace

std::optional<int> run_ro(int argc, char **argv)
{
	if (argc < 2)
		return std::nullopt;
	std::string command = argv[1];
	if (command == "hot")
		return do_hot(ro_options(argc, argv));
	if (command == "ro")
		return do_ro(ro_options(argc, argv));
	return std::nullopt;
}

} // namespace gecko::mn
