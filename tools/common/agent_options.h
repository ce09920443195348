/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_DAEMON_AGENT_OPTIONS_H
#define GECKO_DAEMON_AGENT_OPTIONS_H

/*
 * The node agent's options, the same in gecko-agent and in the servers that
 * run the agent inside (gecko::Node): the control socket, the node
 * channel's port and addresses, and its credentials (a cluster key, or a
 * certificate, its key and the CA).
 */

#include <gecko/agent.h>

#include <boost/program_options.hpp>

namespace gecko::daemon {

/*
 * Adds --control, @port_option (the node channel's port), --key-file, --cert,
 * --cert-key, --ca, --address and --cluster.
 */
void add_agent_options(boost::program_options::options_description &opts, const char *port_option);
/* Reads them back; throws Usage for a bad value. The log is the caller's to set. */
agent::Config agent_config(const boost::program_options::variables_map &vm, const char *port_option);

} // namespace gecko::daemon

#endif /* GECKO_DAEMON_AGENT_OPTIONS_H */
