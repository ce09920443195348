/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_EXAMPLES_FRAMEWORK_SERVER_H
#define GECKO_EXAMPLES_FRAMEWORK_SERVER_H

/*
 * What the examples on the high-level API (gecko/framework.h) share: the
 * framework from the configuration file, one listening port of G, and a
 * thread per connection with blocking calls, the API's simplest use. Each
 * program says only how to serve one connection.
 */

#include <gecko/framework.h>

#include <boost/program_options.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gecko::examples {

struct FrameworkServerOptions {
	std::string cluster;
	std::uint16_t port = 0;
	std::optional<std::string> policy;
};

/* --cluster, --port (default @port) and --policy. */
void add_framework_options(boost::program_options::options_description &opts, std::uint16_t port);
FrameworkServerOptions framework_options(const boost::program_options::variables_map &vm);

/*
 * Serves G's port with @serve, called on a thread of its own for each
 * connection the framework gives (placed here, handed over, or accepted);
 * the socket is closed when @serve returns. Until SIGINT or SIGTERM: then
 * every connection still served here is shut down. Logs as @name; returns
 * the exit status.
 */
int run_framework_server(std::string_view name, const FrameworkServerOptions &options,
			 std::function<void(GeckoSocket &)> serve);

} // namespace gecko::examples

#endif /* GECKO_EXAMPLES_FRAMEWORK_SERVER_H */
