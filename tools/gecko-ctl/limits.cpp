// SPDX-License-Identifier: GPL-2.0-only

#include "args.h"
#include "commands.h"
#include "json.h"

#include <boost/program_options/errors.hpp>

#include <algorithm>
#include <iomanip>

namespace gecko::ctl {

namespace {

/* The limits by the names gecko-ctl reads and prints, in the module's order. */
struct Field {
	std::string_view name;
	std::optional<std::uint32_t> Limits::*limit;
	std::uint32_t Limits::InUse::*used;
};

constexpr Field fields[] = {
	{"services", &Limits::services, &Limits::InUse::services},
	{"bindings", &Limits::bindings, &Limits::InUse::bindings},
	{"flows", &Limits::flows, &Limits::InUse::flows},
	{"held", &Limits::held, &Limits::InUse::held},
};

} // namespace

void print_limits(std::ostream &out, const Limits &limits, bool json)
{
	if (!json) {
		for (const auto &f : fields)
			out << std::left << std::setw(10) << f.name << limits.in_use.*f.used << " of "
			    << (limits.*f.limit).value_or(0) << '\n';
		return;
	}
	JsonWriter writer(out);
	writer.begin_object();
	for (const auto &f : fields) {
		writer.key(f.name);
		writer.begin_object();
		writer.key("limit");
		writer.value(std::uint64_t{(limits.*f.limit).value_or(0)});
		writer.key("used");
		writer.value(std::uint64_t{limits.in_use.*f.used});
		writer.end_object();
	}
	writer.end_object();
	out << '\n';
}

int cmd_limits_show(const Invocation &inv)
{
	expect_no_arguments(inv);

	return with_client(inv, [&](Client &client) -> Result<void> {
		auto limits = client.limits();

		if (!limits)
			return std::unexpected(limits.error());
		print_limits(inv.out, *limits, inv.json);
		return {};
	});
}

int cmd_limits_set(const Invocation &inv)
{
	Args args(inv.args, {"services", "bindings", "flows", "held"});
	Limits limits;

	args.done();
	/* The module knows each limit's range; its error says so. */
	for (const auto &f : fields)
		limits.*f.limit = args.optional_keyword<std::uint32_t>(f.name);
	if (std::ranges::none_of(fields, [&](const Field &f) { return (limits.*f.limit).has_value(); }))
		throw boost::program_options::error("give at least one of services, bindings, flows, held");
	return with_client(inv, [&](Client &client) { return client.set_limits(limits); });
}

} // namespace gecko::ctl
