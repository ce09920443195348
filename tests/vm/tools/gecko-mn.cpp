// SPDX-License-Identifier: GPL-2.0-only
/*
 * A scripted mobile node for the VM scenarios.
 *
 *   gecko-mn register --home G --coa COA --ha HA [--seq N] [--lifetime S] [--timeout S]
 *
 * Sends a home registration (Binding Update, A and H set) for G from the
 * care-of address COA to the home agent HA and waits for the Binding
 * Acknowledgement; prints "status N (text) seq N lifetime S". Exit status:
 * 0 accepted, 1 rejected, 2 usage, 3 no answer or a local failure.
 *
 * The Binding Update leaves from G through the raw socket, so its checksum
 * is computed with G as the RFC requires; an xfrm HAO state and policy for
 * Mobility Headers to HA make the kernel move G into a Home Address option
 * and send from COA, as a kernel-assisted mobile node (UMIP) did. The BA
 * comes back to COA with a type 2 routing header, which the kernel accepts
 * only with an RH2 state and inbound policy, and only for an address
 * configured with the "home" flag (ip -6 addr add G/128 dev lo home).
 * What is installed here is removed on exit.
 *
 * The route-optimisation commands, hot and ro, are in mn_ro.cpp; what the
 * commands share is in mn_common.cpp.
 */

#include "mn_common.h"
#include "mn_ro.h"

#include <gecko/mh.h>
#include <gecko/mh_socket.h>

#include <poll.h>

#include <chrono>
#include <iostream>
#include <string>

namespace gecko::mn {

namespace {

int do_register(const Options &opts)
{
	auto home = address(opts, "home");
	auto coa = address(opts, "coa");
	auto ha = address(opts, "ha");
	auto seq = number(opts, "seq", 1);
	auto lifetime = std::chrono::seconds(number(opts, "lifetime", 60));
	auto timeout = std::chrono::seconds(number(opts, "timeout", 5));

	auto xfrm = xfrm::Xfrm::open();
	if (!xfrm)
		return report(xfrm.error());
	Plumbing plumbing(*xfrm, {ha, home, coa});
	if (auto ok = plumbing.install(); !ok)
		return report(ok.error());

	auto sk = mh::Socket::open();
	if (!sk)
		return report(sk.error());
	mh::Bu bu{static_cast<std::uint16_t>(seq), true, true, false, false,
		  static_cast<std::uint16_t>(lifetime / mh::time_unit), {}};
	if (auto ok = sk->send(mh::encode(bu), home, ha); !ok)
		return report(ok.error());

	auto deadline = Clock::now() + timeout;
	while (Clock::now() < deadline) {
		pollfd pfd{sk->fd(), POLLIN, 0};
		auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());

		if (poll(&pfd, 1, static_cast<int>(left.count()) + 1) <= 0)
			continue;
		auto msg = sk->receive();
		if (!msg)
			continue;
		auto parsed = mh::parse(msg->bytes);
		auto *ba = parsed ? std::get_if<mh::Ba>(&*parsed) : nullptr;
		if (!ba || !msg->checksum_ok) {
			std::cerr << "gecko-mn: ignored a message from " << text(msg->src) << '\n';
			continue;
		}
		std::cout << "status " << int(ba->status) << " seq " << ba->seq << " lifetime "
			  << ba->lifetime_units * mh::time_unit.count() << " from " << text(msg->src)
			  << (msg->rh2 ? " rh2 " + text(*msg->rh2) : std::string()) << std::endl;
		return ba->status < 128 ? exit_accepted : exit_rejected;
	}
	std::cerr << "gecko-mn: no Binding Acknowledgement within " << timeout.count() << " s\n";
	return exit_error;
}

} // namespace

} // namespace gecko::mn

int main(int argc, char **argv)
{
	using namespace gecko::mn;

	/* Route optimisation with a correspondent (hot, ro): mn_ro.cpp. */
	if (auto status = run_ro(argc, argv))
		return *status;
	if (argc < 2 || std::string(argv[1]) != "register")
		usage("the commands are 'register', 'hot' and 'ro'");
	return do_register(parse(argc, argv, {"home", "coa", "ha", "seq", "lifetime", "timeout"}));
}
