/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_CTL_COMMANDS_H
#define GECKO_CTL_COMMANDS_H

#include <gecko/agent.h>
#include <gecko/client.h>
#include <gecko/cluster.h>
#include <gecko/error.h>
#include <gecko/flow.h>
#include <gecko/info.h>
#include <gecko/limits.h>
#include <gecko/service.h>

#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gecko::ctl {

/* Documented in gecko-ctl(8). */
enum ExitStatus : int {
	exit_ok = 0,
	exit_failure = 1,	/* the operation failed */
	exit_usage = 2,		/* unknown command or option, bad arguments */
};

/* A command's arguments (after its name) and where it writes. */
struct Invocation {
	std::vector<std::string> args;
	bool json;
	std::ostream &out;
	std::ostream &err;
};

/*
 * Handlers throw boost::program_options::error for bad arguments, which
 * run() turns into a usage error.
 */
using Handler = int (*)(const Invocation &);

/* A command, one or two words ("info", "service add"), and its arguments' synopsis. */
struct Command {
	std::string_view name;
	std::string_view args;
	Handler handler;
	std::string_view help;
};

/* Throws a usage error if @inv has arguments: the command takes none. */
void expect_no_arguments(const Invocation &inv);

/* Prints "Error: <text>" and returns exit_failure. */
int report(const Invocation &inv, const Error &error);

/* Runs @op with a new Client: exit_ok, or report()s why it failed. */
int with_client(const Invocation &inv, const std::function<Result<void>(Client &)> &op);

/* A connection to the node agent of this network namespace ($GECKO_AGENT names another). */
Result<agent::Control> connect_agent();

/* Runs @op with a connection to the agent and prints its outcome, as text or JSON. */
int with_agent(const Invocation &inv, const std::function<Result<agent::Outcome>(agent::Control &)> &op);

/* @one as a list: a show command prints one object as it prints many. */
template <class T>
Result<std::vector<T>> as_list(Result<T> one)
{
	if (!one)
		return std::unexpected(one.error());
	return std::vector<T>{std::move(*one)};
}

/* Binding states by the names gecko-ctl reads and prints. */
inline constexpr std::pair<BindingState, std::string_view> state_names[] = {
	{BindingState::pending, "pending"},
	{BindingState::bound, "bound"},
};

int cmd_info(const Invocation &inv);
int cmd_service_add(const Invocation &inv);
int cmd_service_del(const Invocation &inv);
int cmd_service_show(const Invocation &inv);
int cmd_binding_set(const Invocation &inv);
int cmd_binding_del(const Invocation &inv);
int cmd_binding_show(const Invocation &inv);
int cmd_flow_show(const Invocation &inv);
int cmd_flow_probe(const Invocation &inv);
int cmd_limits_show(const Invocation &inv);
int cmd_limits_set(const Invocation &inv);
int cmd_register(const Invocation &inv);
int cmd_deregister(const Invocation &inv);
int cmd_rr(const Invocation &inv);
int cmd_bu(const Invocation &inv);
int cmd_clear(const Invocation &inv);
int cmd_agent_show(const Invocation &inv);
int cmd_agent_fault(const Invocation &inv);
int cmd_genkey(const Invocation &inv);
int cmd_config_check(const Invocation &inv);
int cmd_members(const Invocation &inv);
int cmd_programs(const Invocation &inv);
int cmd_join(const Invocation &inv);
int cmd_proximity(const Invocation &inv);
int cmd_backups(const Invocation &inv);
int cmd_leave(const Invocation &inv);
int cmd_drain(const Invocation &inv);
int cmd_handoff(const Invocation &inv);
int cmd_handoff_show(const Invocation &inv);

/* The output of the show commands, apart so it can be tested without the module. */
void print_info(std::ostream &out, const Info &info, bool json);
void print_services(std::ostream &out, std::span<const Service> services, bool json);
void print_bindings(std::ostream &out, std::span<const Binding> bindings, bool json);
void print_flows(std::ostream &out, std::span<const Flow> flows, bool json);
void print_limits(std::ostream &out, const Limits &limits, bool json);
void print_handoffs(std::ostream &out, std::span<const agent::HandoffRecord> records, bool json);
void print_cluster(std::ostream &out, const Cluster &cluster, bool json);
void print_members(std::ostream &out, std::span<const agent::MemberStatus> members, bool json);
void print_programs(std::ostream &out, std::span<const agent::ProgramStatus> programs, bool json);

} // namespace gecko::ctl

#endif /* GECKO_CTL_COMMANDS_H */
