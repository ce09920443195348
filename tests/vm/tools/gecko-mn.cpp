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
 */

#include "mn_ro.h"

#include <gecko/mh.h>
#include <gecko/mh_socket.h>
#include <gecko/xfrm.h>

#include <arpa/inet.h>
#include <poll.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace {

enum { exit_accepted = 0, exit_rejected = 1, exit_usage = 2, exit_error = 3 };

using Clock = std::chrono::steady_clock;

[[noreturn]] void usage(const std::string &why)
{
	std::cerr << "gecko-mn: " << why
		  << "\nusage: gecko-mn register --home G --coa COA --ha HA [--seq N] [--lifetime S] [--timeout S]\n";
	std::exit(exit_usage);
}

int report(const gecko::Error &error)
{
	std::cerr << "gecko-mn: " << error.describe() << '\n';
	return exit_error;
}

in6_addr address(const std::map<std::string, std::string> &opts, const std::string &name)
{
	in6_addr addr;
	auto it = opts.find(name);

	if (it == opts.end())
		usage("--" + name + " is required");
	if (inet_pton(AF_INET6, it->second.c_str(), &addr) != 1)
		usage("--" + name + ": not an IPv6 address: " + it->second);
	return addr;
}

unsigned long number(const std::map<std::string, std::string> &opts, const std::string &name, unsigned long dflt)
{
	auto it = opts.find(name);

	if (it == opts.end())
		return dflt;
	try {
		return std::stoul(it->second);
	} catch (const std::exception &) {
		usage("--" + name + ": not a number: " + it->second);
	}
}

/* The xfrm states and policies this mobile node needs, removed when it ends. */
class Plumbing {
public:
	Plumbing(gecko::xfrm::Xfrm &xfrm, const gecko::xfrm::Binding &b)
		: xfrm_(xfrm), out_state_(gecko::xfrm::hao_out_state(b)), out_policy_(gecko::xfrm::mh_hao_out_policy(b))
	{
	}

	gecko::Result<void> install()
	{
		for (auto ok : {xfrm_.install(out_state_), xfrm_.install(out_policy_),
				xfrm_.install(gecko::xfrm::rh2_receive_state()),
				xfrm_.install(gecko::xfrm::mh_receive_policy(gecko::xfrm::Kind::rh2))})
			if (!ok)
				return ok;
		return {};
	}

	/* Removing what is not there succeeds, so this also undoes a partial install(). */
	~Plumbing()
	{
		(void)xfrm_.remove(gecko::xfrm::mh_receive_policy(gecko::xfrm::Kind::rh2));
		(void)xfrm_.remove(gecko::xfrm::rh2_receive_state());
		(void)xfrm_.remove(out_policy_);
		(void)xfrm_.remove(out_state_);
	}

private:
	gecko::xfrm::Xfrm &xfrm_;
	gecko::xfrm::State out_state_;
	gecko::xfrm::Policy out_policy_;
};

std::string text(const in6_addr &addr)
{
	char buf[INET6_ADDRSTRLEN];

	return inet_ntop(AF_INET6, &addr, buf, sizeof(buf));
}

int do_register(const std::map<std::string, std::string> &opts)
{
	auto home = address(opts, "home");
	auto coa = address(opts, "coa");
	auto ha = address(opts, "ha");
	auto seq = number(opts, "seq", 1);
	auto lifetime = std::chrono::seconds(number(opts, "lifetime", 60));
	auto timeout = std::chrono::seconds(number(opts, "timeout", 5));

	auto xfrm = gecko::xfrm::Xfrm::open();
	if (!xfrm)
		return report(xfrm.error());
	Plumbing plumbing(*xfrm, {ha, home, coa});
	if (auto ok = plumbing.install(); !ok)
		return report(ok.error());

	auto sk = gecko::mh::Socket::open();
	if (!sk)
		return report(sk.error());
	gecko::mh::Bu bu{static_cast<std::uint16_t>(seq), true, true, false, false,
			 static_cast<std::uint16_t>(lifetime / gecko::mh::time_unit), {}};
	if (auto ok = sk->send(gecko::mh::encode(bu), home, ha); !ok)
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
		auto parsed = gecko::mh::parse(msg->bytes);
		auto *ba = parsed ? std::get_if<gecko::mh::Ba>(&*parsed) : nullptr;
		if (!ba || !msg->checksum_ok) {
			std::cerr << "gecko-mn: ignored a message from " << text(msg->src) << '\n';
			continue;
		}
		std::cout << "status " << int(ba->status) << " seq " << ba->seq << " lifetime "
			  << ba->lifetime_units * gecko::mh::time_unit.count() << " from " << text(msg->src)
			  << (msg->rh2 ? " rh2 " + text(*msg->rh2) : std::string()) << std::endl;
		return ba->status < 128 ? exit_accepted : exit_rejected;
	}
	std::cerr << "gecko-mn: no Binding Acknowledgement within " << timeout.count() << " s\n";
	return exit_error;
}

} // namespace

int main(int argc, char **argv)
{
	std::map<std::string, std::string> opts;

	/* Route optimisation with a correspondent (hot, ro): mn_ro.cpp. */
	if (auto status = gecko::mn::run_ro(argc, argv))
		return *status;
	if (argc < 2 || std::string(argv[1]) != "register")
		usage("the only command is 'register'");
	for (int i = 2; i < argc; i += 2) {
		std::string key = argv[i];
		if (key.rfind("--", 0) != 0 || i + 1 >= argc)
			usage("expected --option value, got '" + key + "'");
		key = key.substr(2);
		if (key != "home" && key != "coa" && key != "ha" && key != "seq" && key != "lifetime" && key != "timeout")
			usage("unknown option --" + key);
		opts[key] = argv[i + 1];
	}
	return do_register(opts);
}
