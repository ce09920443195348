// SPDX-License-Identifier: GPL-2.0-only

#include "args.h"
#include "commands.h"
#include "json.h"

#include <gecko/address.h>

#include <boost/program_options/errors.hpp>

namespace gecko::ctl {

namespace {

void print_text(std::ostream &out, const Service &svc)
{
	out << format_address(svc.home) << " coa " << format_address(svc.coa) << " contact-coa "
	    << format_address(svc.contact_coa);
	if (svc.ha)
		out << " ha " << format_address(*svc.ha);
	if (svc.contact)
		out << " contact";
	out << " bindings " << svc.bindings << '\n';
}

void print_json(JsonWriter &json, const Service &svc)
{
	json.begin_object();
	json.key("home");
	json.value(format_address(svc.home));
	json.key("coa");
	json.value(format_address(svc.coa));
	json.key("contact-coa");
	json.value(format_address(svc.contact_coa));
	if (svc.ha) {
		json.key("ha");
		json.value(format_address(*svc.ha));
	}
	json.key("contact");
	json.value(svc.contact);
	json.key("bindings");
	json.value(svc.bindings);
	json.end_object();
}

} // namespace

void print_services(std::ostream &out, std::span<const Service> services, bool json)
{
	if (!json) {
		for (const auto &svc : services)
			print_text(out, svc);
		return;
	}
	JsonWriter writer(out);
	writer.begin_array();
	for (const auto &svc : services)
		print_json(writer, svc);
	writer.end_array();
	out << '\n';
}

int cmd_service_add(const Invocation &inv)
{
	Args args(inv.args, {"coa", "contact-coa", "ha"}, {"contact"});
	const Service svc{
		.home = args.positional<in6_addr>("G"),
		.coa = args.keyword<in6_addr>("coa"),
		.contact_coa = args.keyword<in6_addr>("contact-coa"),
		.ha = args.optional_keyword<in6_addr>("ha"),
		.contact = args.flag("contact"),
	};
	args.done();
	/* The module refuses it too, but its error names no argument. */
	if (svc.contact && !svc.ha)
		throw boost::program_options::error("'contact' needs 'ha'");

	return with_client(inv, [&](Client &client) { return client.set_service(svc); });
}

int cmd_service_del(const Invocation &inv)
{
	Args args(inv.args);
	auto home = args.positional<in6_addr>("G");
	args.done();

	return with_client(inv, [&](Client &client) { return client.del_service(home); });
}

int cmd_service_show(const Invocation &inv)
{
	Args args(inv.args);
	auto home = args.optional_positional<in6_addr>("G");
	args.done();

	return with_client(inv, [&](Client &client) -> Result<void> {
		auto services = home ? as_list(client.service(*home)) : client.services();

		if (!services)
			return std::unexpected(services.error());
		print_services(inv.out, *services, inv.json);
		return {};
	});
}

} // namespace gecko::ctl
