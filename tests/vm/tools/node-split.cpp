// SPDX-License-Identifier: GPL-2.0-only
/*
 * The rule that a client's connections move together, as an application
 * meets it: a gecko::Node accepts two connections of one client on PORT,
 * adds both, and asks to hand off the first alone to NODE.
 *
 *   gecko-node-split PORT NODE
 *
 * Its node agent has its own control socket (@gecko-node-split) and port
 * (7434), so that it runs beside the namespace's server for the length
 * of the check. Prints "listening", a line per connection, then the
 * library's answer: "refused: MESSAGE" and exit 0 if it refused with
 * EBUSY naming the other connection; anything else exits 1. Nothing
 * moves: the connections close when it exits.
 */

#include <gecko/address.h>
#include <gecko/node.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

[[noreturn]] void die(const std::string &what)
{
	std::printf("gecko-node-split: %s\n", what.c_str());
	std::exit(1);
}

/* A connection on @listener within 30 s, from *@client. */
int accept_one(int listener, in6_addr *client)
{
	pollfd p{listener, POLLIN, 0};
	sockaddr_in6 sa{};
	socklen_t len = sizeof(sa);

	if (::poll(&p, 1, 30000) != 1)
		die("no connection came");
	int fd = ::accept4(listener, reinterpret_cast<sockaddr *>(&sa), &len, SOCK_CLOEXEC);
	if (fd < 0)
		die(std::string("accept: ") + std::strerror(errno));
	*client = sa.sin6_addr;
	std::printf("accepted %s port %u (fd %d)\n", gecko::format_address(sa.sin6_addr).c_str(),
		    ntohs(sa.sin6_port), fd);
	return fd;
}

} // namespace

int main(int argc, char *argv[])
{
	std::setvbuf(stdout, nullptr, _IOLBF, 0);
	if (argc != 3)
		die("usage: gecko-node-split PORT NODE");
	auto node_addr = gecko::parse_address(argv[2]);
	if (!node_addr)
		die(node_addr.error().describe());

	gecko::agent::Config config;
	config.control = "gecko-node-split";
	config.port = 7434;
	auto node = gecko::Node::start(config);
	if (!node)
		die("cannot start the node: " + node.error().describe());

	int listener = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in6 sa{};
	int one = 1;
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons(static_cast<std::uint16_t>(std::atoi(argv[1])));
	if (listener < 0 || ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    ::bind(listener, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) || ::listen(listener, 4))
		die(std::string("cannot listen: ") + std::strerror(errno));
	std::printf("listening\n");

	in6_addr first_client, second_client;
	int first = accept_one(listener, &first_client);
	int second = accept_one(listener, &second_client);
	if (std::memcmp(&first_client, &second_client, sizeof(first_client)))
		die("the connections came from two clients");
	for (int fd : {first, second})
		if (auto ok = (*node)->add(fd); !ok)
			die("cannot add fd " + std::to_string(fd) + ": " + ok.error().describe());

	auto ok = (*node)->hand_off(*node_addr, {gecko::Outgoing{first, {}}});
	if (ok)
		die("the node took one of the client's two connections alone");
	std::printf("refused: %s\n", ok.error().describe().c_str());
	if (ok.error().code != EBUSY || ok.error().message.find(std::to_string(second)) == std::string::npos)
		die("not the refusal expected (EBUSY, naming fd " + std::to_string(second) + ")");
	return 0;
}
