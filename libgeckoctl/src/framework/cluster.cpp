// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The configuration file. Its syntax is Boost.Program_options' INI, read
 * here rather than with Boost so that every error can name its line, and
 * so that the library does not depend on Boost.
 */

#include <gecko/address.h>
#include <gecko/cluster.h>
#include <gecko/policy.h>

#include "agent/tls.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

namespace gecko {

namespace {

constexpr std::size_t max_file_size = 1 << 20;
constexpr std::size_t max_name = 32;
constexpr std::string_view member_prefix = "member.";

/* One "name = value" line, its section's name before the key as Boost spells it. */
struct Entry {
	unsigned line;
	std::string key;	/* "member.node1.address", or "service" in the global section */
	std::string value;
};

struct Section {
	unsigned line = 0;	/* of its header; for the global section, the last before the first header */
	std::string name;	/* empty for the global section */
	std::vector<Entry> entries;
};

/* Thrown inside the parser, returned as an Error by parse_cluster(). */
struct Failure {
	Error error;
};

class Parser {
public:
	explicit Parser(const std::string &file) : file_(file) {}

	[[noreturn]] void fail(unsigned line, std::string_view key, const std::string &why) const
	{
		std::string where = file_ + ":" + std::to_string(line) + ": ";

		if (!key.empty())
			where += std::string(key) + ": ";
		throw Failure{Error{EINVAL, where + why}};
	}

	std::vector<Section> sections(std::string_view text);
	Cluster cluster(const std::vector<Section> &sections);

	/* Where the credentials were named, for load_cluster()'s errors. */
	const Entry *credentials = nullptr;

private:
	void global(const Section &section, Cluster &c);
	Member member(const Section &section);
	void check(Cluster &c);

	in6_addr address(const Entry &e) const;
	unsigned number(const Entry &e, unsigned min, unsigned max) const;
	std::chrono::milliseconds duration(const Entry &e, bool seconds, std::chrono::milliseconds min,
					   std::chrono::milliseconds max) const;
	std::string path(const Entry &e) const;

	const std::string &file_;
	std::map<std::string, const Entry *, std::less<>> seen_;	/* every key, for the cross-checks */
	std::vector<const Entry *> backups_;	/* "backup" may come more than once */
};

std::string_view trim(std::string_view s)
{
	auto first = s.find_first_not_of(" \t\r");

	if (first == std::string_view::npos)
		return {};
	return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

std::vector<Section> Parser::sections(std::string_view text)
{
	std::vector<Section> out(1);
	unsigned line = 0;

	while (!text.empty()) {
		auto end = text.find('\n');
		auto raw = text.substr(0, end);

		text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
		line++;
		auto content = trim(raw.substr(0, raw.find('#')));
		if (content.empty())
			continue;
		if (content.front() == '[') {
			if (content.back() != ']')
				fail(line, {}, "'" + std::string(content) + "': a section header ends with ']'");
			out.push_back({line, std::string(trim(content.substr(1, content.size() - 2))), {}});
			continue;
		}
		auto equals = content.find('=');
		if (equals == std::string_view::npos)
			fail(line, {}, "'" + std::string(content) + "': expected 'name = value' or '[section]'");
		auto name = trim(content.substr(0, equals));
		if (name.empty())
			fail(line, {}, "'" + std::string(content) + "': no name before '='");
		auto key = out.back().name.empty() ? std::string(name) : out.back().name + "." + std::string(name);
		out.back().entries.push_back({line, key, std::string(trim(content.substr(equals + 1)))});
	}
	/* Missing global keys belong before the first section, or at the end. */
	if (out.size() > 1)
		out.front().line = out[1].line > 1 ? out[1].line - 1 : 1;
	else
		out.front().line = std::max(line, 1u);
	return out;
}

in6_addr Parser::address(const Entry &e) const
{
	auto a = parse_address(e.value);

	if (!a)
		fail(e.line, e.key, "'" + e.value + "' is not an IPv6 address");
	if (IN6_IS_ADDR_UNSPECIFIED(&*a) || IN6_IS_ADDR_LOOPBACK(&*a) || IN6_IS_ADDR_MULTICAST(&*a) ||
	    IN6_IS_ADDR_LINKLOCAL(&*a) || IN6_IS_ADDR_V4MAPPED(&*a))
		fail(e.line, e.key, e.value + " is not a unicast address of global or unique-local scope");
	return *a;
}

unsigned Parser::number(const Entry &e, unsigned min, unsigned max) const
{
	unsigned n = 0;
	auto [end, ec] = std::from_chars(e.value.data(), e.value.data() + e.value.size(), n);

	if (ec == std::errc::invalid_argument || end != e.value.data() + e.value.size())
		fail(e.line, e.key, "'" + e.value + "' is not a whole number");
	if (ec == std::errc::result_out_of_range || n < min || n > max)
		fail(e.line, e.key, "'" + e.value + "' is out of range (" + std::to_string(min) + " to " +
					    std::to_string(max) + ")");
	return n;
}

/* A whole number of milliseconds, or of seconds if @seconds, or with "ms" or "s" after it. */
std::chrono::milliseconds Parser::duration(const Entry &e, bool seconds, std::chrono::milliseconds min,
					   std::chrono::milliseconds max) const
{
	const auto &v = e.value;
	auto digits = std::min(v.find_first_not_of("0123456789"), v.size());
	auto suffix = digits == v.size() ? std::string_view(seconds ? "s" : "ms") : std::string_view(v).substr(digits);
	auto show = [&](std::chrono::milliseconds d) {
		return seconds ? std::to_string(d.count() / 1000) + " s" : std::to_string(d.count()) + " ms";
	};
	std::uint64_t n = 0;

	if (!digits || (suffix != "ms" && suffix != "s"))
		fail(e.line, e.key, "'" + v + "' is not a duration: a whole number of " +
					    (seconds ? "seconds" : "milliseconds") + ", or with 'ms' or 's' after it");
	auto [end, ec] = std::from_chars(v.data(), v.data() + digits, n);
	auto scale = suffix == "s" ? 1000u : 1u;
	if (ec != std::errc{} || n > std::uint64_t(max.count()) / scale || std::chrono::milliseconds(n * scale) < min)
		fail(e.line, e.key, "'" + v + "' is out of range (" + show(min) + " to " + show(max) + ")");
	return std::chrono::milliseconds(n * scale);
}

std::string Parser::path(const Entry &e) const
{
	std::filesystem::path p(e.value);

	if (e.value.empty())
		fail(e.line, e.key, "a file name is needed");
	if (p.is_relative())
		p = std::filesystem::path(file_).parent_path() / p;
	return std::filesystem::absolute(p).lexically_normal().string();
}

void Parser::global(const Section &section, Cluster &c)
{
	const std::map<std::string_view, std::function<void(const Entry &)>> keys = {
		{"service", [&](const Entry &e) { c.service = address(e); }},
		{"home-agent", [&](const Entry &e) { c.home_agent = address(e); }},
		{"port", [&](const Entry &e) { c.port = number(e, 1, 65535); }},
		{"key-file", [&](const Entry &e) { c.security.key_file = path(e); }},
		{"cert", [&](const Entry &e) { c.security.cert_file = path(e); }},
		{"cert-key", [&](const Entry &e) { c.security.cert_key_file = path(e); }},
		{"ca", [&](const Entry &e) { c.security.ca_file = path(e); }},
		{"contact", [&](const Entry &e) { c.contact = e.value; }},
		{"backup",
		 [&](const Entry &e) {
			 c.backups.push_back(e.value);
			 backups_.push_back(&e);
		 }},
		{"heartbeat-period",
		 [&](const Entry &e) {
			 c.heartbeat_period = duration(e, false, std::chrono::milliseconds(50), std::chrono::minutes(1));
		 }},
		{"heartbeat-misses", [&](const Entry &e) { c.heartbeat_misses = number(e, 1, 100); }},
		{"mirror-period",
		 [&](const Entry &e) {
			 c.mirror_period = duration(e, false, std::chrono::milliseconds(100), std::chrono::minutes(1));
		 }},
		{"proximity-prefix", [&](const Entry &e) { c.proximity_prefix = number(e, 16, 128); }},
		{"registration-lifetime",
		 [&](const Entry &e) {
			 /* Lifetimes travel in units of 4 s, at most 0xffff of them (RFC 6275 §6.1.7). */
			 auto d = duration(e, true, std::chrono::seconds(4), std::chrono::seconds(4 * 0xffff));
			 c.registration_lifetime = std::chrono::duration_cast<std::chrono::seconds>(d);
		 }},
		{"policy",
		 [&](const Entry &e) {
			 if (std::ranges::find(policy_names, e.value) == std::end(policy_names)) {
				 std::string names;
				 for (auto name : policy_names)
					 names += (names.empty() ? "" : ", ") + std::string(name);
				 fail(e.line, e.key, "no policy called '" + e.value + "' (there are " + names + ")");
			 }
			 c.policy = e.value;
		 }},
	};

	for (const auto &e : section.entries) {
		auto handler = keys.find(e.key);

		if (handler == keys.end())
			fail(e.line, e.key, "unknown key");
		if (auto first = seen_.find(e.key); first != seen_.end() && e.key != "backup")
			fail(e.line, e.key, "given twice (first on line " + std::to_string(first->second->line) + ")");
		seen_.emplace(e.key, &e);
		handler->second(e);
	}
}

Member Parser::member(const Section &section)
{
	Member m;
	const Entry *address_entry = nullptr;

	m.name = section.name.substr(member_prefix.size());
	if (!valid_member_name(m.name))
		fail(section.line, section.name, "a member's name has 1 to 32 letters, digits, '-' or '_'");
	for (const auto &e : section.entries) {
		auto key = std::string_view(e.key).substr(section.name.size() + 1);

		if (auto first = seen_.find(e.key); first != seen_.end())
			fail(e.line, e.key, "given twice (first on line " + std::to_string(first->second->line) + ")");
		seen_.emplace(e.key, &e);
		if (key == "address") {
			m.address = address(e);
			address_entry = &e;
		} else if (key == "weight") {
			m.weight = number(e, 1, 1000);
		} else if (key == "backup") {
			m.backup = e.value;
		} else {
			fail(e.line, e.key, "unknown key");
		}
	}
	if (!address_entry)
		fail(section.line, section.name + ".address", "missing: every member needs its care-of address");
	return m;
}

void Parser::check(Cluster &c)
{
	auto where = [&](std::string_view key) { return seen_.find(key)->second; };
	auto members = [&] {
		std::string names;
		for (const auto &m : c.members)
			names += (names.empty() ? "" : ", ") + m.name;
		return names;
	};

	for (std::size_t i = 0; i < c.members.size(); i++) {
		const auto &m = c.members[i];
		auto key = std::string(member_prefix) + m.name + ".address";

		for (std::size_t j = 0; j < i; j++)
			if (!std::memcmp(&c.members[j].address, &m.address, sizeof(m.address)))
				fail(where(key)->line, key, format_address(m.address) + " is member " +
								    c.members[j].name + "'s already");
		if (!std::memcmp(&m.address, &c.service, sizeof(m.address)) ||
		    !std::memcmp(&m.address, &c.home_agent, sizeof(m.address)))
			fail(where(key)->line, key, "a care-of address cannot be the service's or the home agent's");
	}
	if (!std::memcmp(&c.service, &c.home_agent, sizeof(c.service)))
		fail(where("home-agent")->line, "home-agent", "the home agent cannot have G's address");
	if (!c.member(c.contact))
		fail(where("contact")->line, "contact", "'" + c.contact + "' is not a member (members: " +
								 members() + ")");

	for (const auto &m : c.members) {
		auto key = std::string(member_prefix) + m.name + ".backup";

		if (m.backup.empty())
			continue;
		if (!c.member(m.backup))
			fail(where(key)->line, key, "'" + m.backup + "' is not a member (members: " + members() + ")");
		if (m.backup == m.name)
			fail(where(key)->line, key, "a member cannot be its own backup");
	}
	for (std::size_t i = 0; i < c.backups.size(); i++) {
		const auto &name = c.backups[i];
		auto line = backups_[i]->line;

		if (!c.member(name))
			fail(line, "backup", "'" + name + "' is not a member (members: " + members() + ")");
		if (name == c.contact)
			fail(line, "backup", "'" + name + "' is the contact node itself");
		for (std::size_t j = 0; j < i; j++)
			if (c.backups[j] == name)
				fail(line, "backup", "'" + name + "' is named twice (first on line " +
							     std::to_string(backups_[j]->line) + ")");
	}
}

Cluster Parser::cluster(const std::vector<Section> &sections)
{
	Cluster c;

	c.file = file_;
	global(sections.front(), c);
	for (std::size_t i = 1; i < sections.size(); i++) {
		const auto &s = sections[i];

		if (!s.name.starts_with(member_prefix))
			fail(s.line, s.name, "unknown section (members are [member.NAME])");
		for (std::size_t j = 1; j < i; j++)
			if (sections[j].name == s.name)
				fail(s.line, s.name, "defined twice (first on line " + std::to_string(sections[j].line) +
							     ")");
		c.members.push_back(member(s));
	}

	const auto &g = sections.front();
	for (auto key : {"service", "home-agent", "contact"})
		if (!seen_.count(key))
			fail(g.line, key, "missing");
	if (c.members.empty())
		fail(g.line, "member", "no [member.NAME] section: the service needs at least one node");

	bool key_file = seen_.count("key-file");
	bool certs = seen_.count("cert") || seen_.count("cert-key") || seen_.count("ca");
	if (key_file && certs)
		fail(seen_["key-file"]->line, "key-file", "give the cluster key or certificates, not both");
	if (!key_file && !certs)
		fail(g.line, "key-file", "missing: the node channel needs the cluster key (or cert, cert-key and ca)");
	if (certs)
		for (auto key : {"cert", "cert-key", "ca"})
			if (!seen_.count(key))
				fail(g.line, key, "missing: certificates need cert, cert-key and ca");
	credentials = seen_[key_file ? "key-file" : "cert"];

	check(c);
	return c;
}

} // namespace

const Member *Cluster::member(std::string_view name) const
{
	auto at = std::ranges::find(members, name, &Member::name);

	return at == members.end() ? nullptr : &*at;
}

const Member *Cluster::member(const in6_addr &address) const
{
	auto at = std::ranges::find_if(members, [&](const Member &m) {
		return !std::memcmp(&m.address, &address, sizeof(address));
	});

	return at == members.end() ? nullptr : &*at;
}

namespace {

Result<Cluster> parse(std::string_view text, const std::string &file, Entry *credentials)
{
	Parser parser(file);

	try {
		auto sections = parser.sections(text);
		auto cluster = parser.cluster(sections);

		if (credentials)
			*credentials = *parser.credentials;
		return cluster;
	} catch (const Failure &f) {
		return std::unexpected(f.error);
	}
}

} // namespace

Result<Cluster> parse_cluster(std::string_view text, const std::string &file)
{
	return parse(text, file, nullptr);
}

Result<Cluster> load_cluster(const std::string &file)
{
	std::ifstream in(file, std::ios::binary);
	std::ostringstream text;
	Entry credentials;

	if (!in) {
		int err = errno ? errno : ENOENT;
		return std::unexpected(Error{err, file + ": cannot read: " + std::strerror(err)});
	}
	text << in.rdbuf();
	if (text.str().size() > max_file_size)
		return std::unexpected(Error{EINVAL, file + ": larger than 1 MiB: not a configuration file"});

	auto cluster = parse(text.str(), file, &credentials);
	if (!cluster)
		return cluster;
	if (auto context = agent::tls::Context::load(cluster->security); !context)
		return std::unexpected(Error{context.error().code, file + ":" + std::to_string(credentials.line) + ": " +
									   credentials.key + ": " +
									   context.error().describe()});
	return cluster;
}

bool valid_member_name(std::string_view name)
{
	return !name.empty() && name.size() <= max_name && std::ranges::all_of(name, [](char ch) {
		return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		       ch == '-' || ch == '_';
	});
}

} // namespace gecko
