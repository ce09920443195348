// SPDX-License-Identifier: GPL-2.0-only
/*
 * Drives libgeckoctl's xfrm programming from the VM scenarios, one role at
 * a time, so that what gecko-cnd and a mobile node install can be checked
 * on the wire without the daemons.
 *
 *   gecko-xfrm cn-init | cn-fini                 receive BUs with a HAO
 *   gecko-xfrm cn-bind | cn-unbind CN HOME COA   a correspondent's binding
 *   gecko-xfrm mn-init | mn-fini                 accept RH2 for any protocol
 *   gecko-xfrm mn-hao | mn-hao-del HOME CN COA   send everything HOME -> CN with a HAO
 *
 * "bind" on an existing binding changes its care-of address in place.
 * Exit status: 0 done, 1 the kernel refused, 2 usage.
 */

#include <gecko/xfrm.h>

#include <arpa/inet.h>

#include <iostream>
#include <string>
#include <vector>

using namespace gecko::xfrm;

namespace {

[[noreturn]] void usage()
{
	std::cerr << "usage: gecko-xfrm cn-init|cn-fini|mn-init|mn-fini\n"
		     "       gecko-xfrm cn-bind|cn-unbind CN HOME COA\n"
		     "       gecko-xfrm mn-hao|mn-hao-del HOME CN COA\n";
	std::exit(2);
}

in6_addr address(const char *text)
{
	in6_addr addr;

	if (inet_pton(AF_INET6, text, &addr) != 1)
		usage();
	return addr;
}

constexpr in6_addr any = IN6ADDR_ANY_INIT;

/* A mobile node accepts a type 2 routing header on anything it receives. */
Policy rh2_any_in()
{
	return {{any, 0}, {any, 0}, std::nullopt, Dir::in, priority_binding, Kind::rh2};
}

Policy hao_any_out(const Binding &b)
{
	return {{b.home, 128}, {b.cn, 128}, std::nullopt, Dir::out, priority_binding, Kind::hao};
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<std::string> args(argv + 1, argv + argc);
	if (args.empty())
		usage();
	const auto &cmd = args[0];
	bool with_binding = cmd == "cn-bind" || cmd == "cn-unbind" || cmd == "mn-hao" || cmd == "mn-hao-del";
	if (args.size() != (with_binding ? 4u : 1u))
		usage();

	Binding b{};
	if (with_binding && cmd.starts_with("cn"))
		b = {address(argv[2]), address(argv[3]), address(argv[4])};
	else if (with_binding)
		b = {address(argv[3]), address(argv[2]), address(argv[4])};

	auto xfrm = Xfrm::open();
	if (!xfrm) {
		std::cerr << "gecko-xfrm: " << xfrm.error().describe() << '\n';
		return 1;
	}

	std::vector<gecko::Result<void>> results;
	if (cmd == "cn-init")
		results = {xfrm->install(hao_receive_state()), xfrm->install(mh_receive_policy(Kind::hao))};
	else if (cmd == "cn-fini")
		results = {xfrm->remove(mh_receive_policy(Kind::hao)), xfrm->remove(hao_receive_state())};
	else if (cmd == "cn-bind")
		results = {xfrm->install(rh2_out_state(b)), xfrm->install(hao_in_state(b)),
			   xfrm->install(mh_bypass_policy(b)), xfrm->install(rh2_out_policy(b)),
			   xfrm->install(hao_in_policy(b))};
	else if (cmd == "cn-unbind")
		results = {xfrm->remove(hao_in_policy(b)), xfrm->remove(rh2_out_policy(b)),
			   xfrm->remove(mh_bypass_policy(b)), xfrm->remove(hao_in_state(b)),
			   xfrm->remove(rh2_out_state(b))};
	else if (cmd == "mn-init")
		results = {xfrm->install(rh2_receive_state()), xfrm->install(rh2_any_in())};
	else if (cmd == "mn-fini")
		results = {xfrm->remove(rh2_any_in()), xfrm->remove(rh2_receive_state())};
	else if (cmd == "mn-hao")
		results = {xfrm->install(hao_out_state(b)), xfrm->install(hao_any_out(b))};
	else if (cmd == "mn-hao-del")
		results = {xfrm->remove(hao_any_out(b)), xfrm->remove(hao_out_state(b))};
	else
		usage();

	int status = 0;
	for (const auto &r : results)
		if (!r) {
			std::cerr << "gecko-xfrm: " << r.error().describe() << '\n';
			status = 1;
		}
	return status;
}
