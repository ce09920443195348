// SPDX-License-Identifier: GPL-2.0-only
/*
 * Option parsing and dispatch. Global options are taken anywhere on the
 * command line, so "gecko-ctl info --json" works like "gecko-ctl --json
 * info"; whatever else follows the command's name (one or two words, as in
 * "service add") goes to its handler.
 */

#include "cli.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <iomanip>

namespace po = boost::program_options;

namespace gecko::ctl {

namespace {

int cmd_help(const Invocation &inv);

constexpr Command command_table[] = {
	{"help", "", cmd_help, "show this help"},
	{"info", "", cmd_info, "show the module's version, protocol, features and counters"},
	{"service add", "G coa COA contact-coa C [ha HA] [contact]", cmd_service_add,
	 "serve G from this node, or change how"},
	{"service del", "G", cmd_service_del, "stop serving G and drop its bindings"},
	{"service show", "[G]", cmd_service_show, "show the services, or G's"},
	{"binding set", "G PEER state bound|pending seq N lifetime SECONDS", cmd_binding_set,
	 "record a client's binding (the node agent's job)"},
	{"binding del", "G PEER", cmd_binding_del, "forget a client's binding"},
	{"binding show", "[G [PEER]]", cmd_binding_show, "show the bindings, of G, or of G and PEER"},
	{"flow probe", "G PORT CLIENT CLIENT-PORT seq N ack N [window N] [tsval N tsecr N] [timeout MS]",
	 cmd_flow_probe, "ask the client of a connection this node has no socket for where it stands"},
	{"flow show", "", cmd_flow_show,
	 "show the connections the module holds while they move"},
	{"limits show", "", cmd_limits_show,
	 "show this namespace's limits on services, bindings, flows and held packets"},
	{"limits set", "[services N] [bindings N] [flows N] [held N]", cmd_limits_set,
	 "change some of them; what exists stays"},
	{"register", "G [lifetime SECONDS]", cmd_register,
	 "make this node G's contact node: home registration with G's home agent"},
	{"deregister", "G", cmd_deregister, "end this node's home registration for G"},
	{"rr", "G CLIENT", cmd_rr, "run return routability with CLIENT ahead of a Binding Update"},
	{"bu", "G CLIENT [seq N] [lifetime SECONDS]", cmd_bu,
	 "bind CLIENT to this node: Binding Update, seq N the donor's + 1"},
	{"clear", "G CLIENT", cmd_clear, "return CLIENT, served here, to the contact node"},
	{"agent show", "", cmd_agent_show, "show the node agent's counters"},
	{"agent fault", "PHASE [MS]", cmd_agent_fault,
	 "tests only: make handoffs to this node fail at PHASE, or hold there for MS"},
	{"genkey", "", cmd_genkey, "print a new cluster key, for the node channel"},
	{"config check", "FILE", cmd_config_check,
	 "check the distributed server's configuration FILE and the credentials it names"},
	{"members", "", cmd_members, "show the distributed server's members as this node's agent sees them"},
	{"join", "NAME ADDRESS [weight N]", cmd_join,
	 "add a member the cluster file does not list, at care-of ADDRESS, to this node's agent"},
	{"leave", "NAME", cmd_leave, "forget a member gecko-ctl join added"},
	{"proximity", "CLIENT", cmd_proximity,
	 "show how far the members measured CLIENT's network (the proximity policy's choice)"},
	{"backups", "[CLIENT]", cmd_backups,
	 "show where this node mirrors its connections, the mirrors it holds of the other members' (CLIENT's only), "
	 "its takeovers"},
	{"programs", "", cmd_programs, "show the programs whose connections this node's agent hands off"},
	{"drain", "", cmd_drain, "hand every client of this node to other members, then leave"},
	/* Before "handoff", which would take "show" for its CLIENT. */
	{"handoff show", "", cmd_handoff_show, "show the last handoffs made or taken by this node"},
	{"handoff", "CLIENT to NODE", cmd_handoff,
	 "move CLIENT's connections to the node with care-of address NODE"},
};

/* Width of the name column in the usage; longer synopses get a line of their own. */
constexpr int column = 26;

po::options_description global_options()
{
	po::options_description options;

	options.add_options()
		("json,j", "print JSON instead of text")
		("help,h", "show this help and exit")
		("version,V", "show the version of gecko-ctl and exit");
	return options;
}

int cmd_help(const Invocation &inv)
{
	expect_no_arguments(inv);
	print_usage(inv.out);
	return exit_ok;
}

/*
 * The command named by @first and, for a two-word name, the first of
 * @rest, which is then taken off; null if there is none.
 */
const Command *find_command(const std::string &first, std::vector<std::string> &rest)
{
	for (const auto &cmd : command_table) {
		auto space = cmd.name.find(' ');

		if (cmd.name.substr(0, space) != first)
			continue;
		if (space == std::string_view::npos)
			return &cmd;
		if (!rest.empty() && cmd.name.substr(space + 1) == rest.front()) {
			rest.erase(rest.begin());
			return &cmd;
		}
	}
	return nullptr;
}

/* Whether @word starts two-word command names, as "service" does. */
bool is_family(const std::string &word)
{
	return std::ranges::any_of(command_table, [&](const Command &cmd) {
		return cmd.name.starts_with(word + " ");
	});
}

int usage_error(std::ostream &err, const std::string &why)
{
	err << "gecko-ctl: " << why << "\nTry 'gecko-ctl help'.\n";
	return exit_usage;
}

} // namespace

std::span<const Command> commands()
{
	return command_table;
}

void print_usage(std::ostream &out)
{
	out << "Usage: gecko-ctl [OPTIONS] COMMAND [ARGS]\n"
	       "\n"
	       "Commands:\n";
	for (const auto &cmd : command_table) {
		auto synopsis = std::string(cmd.name);

		if (!cmd.args.empty())
			synopsis += " " + std::string(cmd.args);
		if (synopsis.size() >= column)
			synopsis += "\n" + std::string(column + 2, ' ');
		out << "  " << std::left << std::setw(column) << synopsis << cmd.help << '\n';
	}

	out << "\nOptions:\n";
	auto options = global_options();
	for (const auto &opt : options.options()) {
		auto names = opt->canonical_display_name(po::command_line_style::allow_dash_for_short) +
			     ", " + opt->canonical_display_name(po::command_line_style::allow_long);

		out << "  " << std::left << std::setw(column) << names << opt->description() << '\n';
	}

	out << "\n"
	       "Exit status: 0 on success, 1 if the operation failed, 2 on a usage error.\n"
	       "See gecko-ctl(8).\n";
}

void expect_no_arguments(const Invocation &inv)
{
	if (!inv.args.empty())
		throw po::error("unexpected argument '" + inv.args.front() + "'");
}

int report(const Invocation &inv, const Error &error)
{
	inv.err << "Error: " << error.describe() << '\n';
	return exit_failure;
}

int with_client(const Invocation &inv, const std::function<Result<void>(Client &)> &op)
{
	auto client = Client::open();
	if (!client)
		return report(inv, client.error());
	if (auto done = op(*client); !done)
		return report(inv, done.error());
	return exit_ok;
}

int run(const std::vector<std::string> &args, std::ostream &out, std::ostream &err)
{
	po::options_description options = global_options();
	po::positional_options_description positional;
	std::vector<std::string> rest;
	po::variables_map vm;

	options.add_options()
		("command", po::value<std::string>())
		("args", po::value<std::vector<std::string>>());
	positional.add("command", 1).add("args", -1);
	try {
		auto parsed = po::command_line_parser(args)
				      .options(options)
				      .positional(positional)
				      .allow_unregistered()
				      .run();

		po::store(parsed, vm);
		/* The command's own: neither a global option nor its name (position 0). */
		for (const auto &opt : parsed.options)
			if (opt.unregistered || opt.position_key > 0)
				rest.insert(rest.end(), opt.original_tokens.begin(),
					    opt.original_tokens.end());
	} catch (const po::error &e) {
		return usage_error(err, e.what());
	}

	if (vm.count("help")) {
		print_usage(out);
		return exit_ok;
	}
	if (vm.count("version")) {
		out << "gecko-ctl " GECKO_VERSION "\n";
		return exit_ok;
	}
	if (!vm.count("command")) {
		print_usage(err);
		return exit_usage;
	}

	auto name = vm["command"].as<std::string>();
	const auto *cmd = find_command(name, rest);
	if (!cmd) {
		/* In "service frob", the second word is the unknown one. */
		if (is_family(name) && !rest.empty())
			name += " " + rest.front();
		return usage_error(err, "unknown command '" + name + "'");
	}
	try {
		return cmd->handler({std::move(rest), vm.count("json") > 0, out, err});
	} catch (const po::error &e) {
		return usage_error(err, std::string(cmd->name) + ": " + e.what());
	}
}

} // namespace gecko::ctl
