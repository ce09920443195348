// SPDX-License-Identifier: GPL-2.0-only

#include "agent_options.h"
#include "options.h"

#include <gecko/address.h>
#include <gecko/cluster.h>

namespace po = boost::program_options;

namespace gecko::daemon {

void add_agent_options(po::options_description &opts, const char *port_option)
{
	opts.add_options()
		("control", po::value<std::string>()->default_value(agent::default_control),
		 "the abstract Unix socket gecko-ctl reaches the node agent on")
		(port_option, po::value<std::uint16_t>()->default_value(agent::default_port),
		 "the TCP port of the node channel, between the nodes' agents")
		("key-file", po::value<std::string>(),
		 "the cluster key (gecko-ctl genkey; mode 0600): the node channel's credentials")
		("cert", po::value<std::string>(), "or this node's certificate (PEM), naming its care-of address")
		("cert-key", po::value<std::string>(), "  its private key (PEM, mode 0600)")
		("ca", po::value<std::string>(), "  the CA that signs the members' certificates (PEM)")
		("address", po::value<std::vector<std::string>>(),
		 "a care-of address the node channel listens on (default: the services')")
		("cluster", po::value<std::string>(),
		 "the distributed server's configuration (gecko.conf(5)): heartbeats with its members; "
		 "the node channel's port and credentials come from it");
}

agent::Config agent_config(const po::variables_map &vm, const char *port_option)
{
	agent::Config c;
	auto text = [&](const char *name) { return vm.count(name) ? vm[name].as<std::string>() : std::string(); };

	c.control = vm["control"].as<std::string>();
	if (c.control.empty())
		throw Usage{"--control: the socket needs a name"};
	c.port = vm[port_option].as<std::uint16_t>();
	c.security = {text("key-file"), text("cert"), text("cert-key"), text("ca")};
	if (vm.count("address"))
		for (const auto &word : vm["address"].as<std::vector<std::string>>()) {
			auto addr = parse_address(word);
			if (!addr)
				throw Usage{"--address: " + addr.error().message};
			c.addresses.push_back(*addr);
		}
	if (vm.count("cluster")) {
		auto cluster = load_cluster(vm["cluster"].as<std::string>());
		if (!cluster)
			throw Usage{"--cluster: " + cluster.error().describe()};
		if (!vm[port_option].defaulted())
			throw Usage{"the node channel's port comes from the --cluster file"};
		if (!c.security.key_file.empty() || !c.security.cert_file.empty())
			throw Usage{"the node channel's credentials come from the --cluster file"};
		c.cluster = std::make_shared<const Cluster>(std::move(*cluster));
	}
	return c;
}

} // namespace gecko::daemon
