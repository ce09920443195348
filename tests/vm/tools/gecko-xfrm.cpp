// SPDX-License-Identifier: GPL-2.0-only
/*
 * Drives libgeckoctl's xfrm programming from the VM scenarios, one role at
 * a time, so that what gecko-cnd and a mobile node install can be checked
 * on the wire without the daemons.
 *
 *   gecko-xfrm cn-init | cn-fini                 receive BUs with a HAO
 *   gecko-xfrm cn-bind | cn-unbind CN HOME COA [HOME COA]...
 *                                                a correspondent's bindings, in one
 *                                                Xfrm::apply() (a long list takes
 *                                                several batches)
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
		     "       gecko-xfrm cn-bind|cn-unbind CN HOME COA [HOME COA]...\n"
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
	bool cn_bindings = cmd == "cn-bind" || cmd == "cn-unbind";
	bool mn_binding = cmd == "mn-hao" || cmd == "mn-hao-del";
	if (cn_bindings ? args.size() < 4 || args.size() % 2 : args.size() != (mn_binding ? 4u : 1u))
		usage();

	Binding b{};
	std::vector<Binding> bindings;
	if (cn_bindings)
		for (std::size_t i = 2; i < args.size(); i += 2)
			bindings.push_back({address(argv[2]), address(argv[i + 1]), address(argv[i + 2])});
	else if (mn_binding)
		b = {address(argv[3]), address(argv[2]), address(argv[4])};

	auto xfrm = Xfrm::open();
	if (!xfrm) {
		std::cerr << "gecko-xfrm: " << xfrm.error().describe() << '\n';
		return 1;
	}

	std::vector<gecko::Result<void>> results;
	if (cmd == "cn-init") {
		results = {xfrm->install(hao_receive_state()), xfrm->install(mh_receive_policy(Kind::hao))};
	} else if (cmd == "cn-fini") {
		results = {xfrm->remove(mh_receive_policy(Kind::hao)), xfrm->remove(hao_receive_state())};
	} else if (cn_bindings) {
		std::vector<Change> changes;
		for (const auto &cb : bindings) {
			if (cmd == "cn-bind")
				changes.insert(changes.end(), {install(rh2_out_state(cb)), install(hao_in_state(cb)),
							       install(mh_bypass_policy(cb)), install(rh2_out_policy(cb)),
							       install(hao_in_policy(cb))});
			else
				changes.insert(changes.end(), {remove(hao_in_policy(cb)), remove(rh2_out_policy(cb)),
							       remove(mh_bypass_policy(cb)), remove(hao_in_state(cb)),
							       remove(rh2_out_state(cb))});
		}
		results = {xfrm->apply(changes)};
	} else if (cmd == "mn-init") {
		results = {xfrm->install(rh2_receive_state()), xfrm->install(rh2_any_in())};
	} else if (cmd == "mn-fini") {
		results = {xfrm->remove(rh2_any_in()), xfrm->remove(rh2_receive_state())};
	} else if (cmd == "mn-hao") {
		results = {xfrm->install(hao_out_state(b)), xfrm->install(hao_any_out(b))};
	} else if (cmd == "mn-hao-del") {
		results = {xfrm->remove(hao_any_out(b)), xfrm->remove(hao_out_state(b))};
	} else {
		usage();
	}

	int status = 0;
	for (const auto &r : results)
		if (!r) {
			std::cerr << "gecko-xfrm: " << r.error().describe() << '\n';
			status = 1;
		}
	return status;
}
