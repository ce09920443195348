// SPDX-License-Identifier: LGPL-2.1-or-later

#include <gecko/policy.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace gecko {

namespace {

Result<in6_addr> none_left()
{
	return std::unexpected(Error{EHOSTUNREACH, "no member can take the client"});
}

bool same(const in6_addr &a, const in6_addr &b)
{
	return !std::memcmp(&a, &b, sizeof(a));
}

} // namespace

namespace detail {

const Candidate *Turn::pick(std::span<const Candidate> all, std::span<const Candidate *const> pool)
{
	if (pool.empty() || all.empty())
		return nullptr;

	auto at = std::ranges::find_if(all, [&](const Candidate &c) { return c.member->name == last_; });
	/* Gone since: whoever took its place is next. */
	auto start = at != all.end() ? static_cast<std::size_t>(at - all.begin()) + 1 : last_index_;

	for (std::size_t k = 0; k < all.size(); k++) {
		auto index = (start + k) % all.size();
		const auto *c = &all[index];

		if (std::ranges::find(pool, c) == pool.end())
			continue;
		last_ = c->member->name;
		last_index_ = index;
		return c;
	}
	return nullptr;
}

} // namespace detail

GeckoPolicy::GeckoPolicy(std::chrono::milliseconds quarantine) : quarantine_(quarantine) {}

GeckoPolicy::~GeckoPolicy() = default;

void GeckoPolicy::NotifyFailedHandoff(const in6_addr &target, const in6_addr &)
{
	auto until = std::chrono::steady_clock::now() + quarantine_;
	auto at = std::ranges::find_if(failed_, [&](const auto &f) { return same(f.first, target); });

	if (at != failed_.end())
		at->second = until;
	else
		failed_.emplace_back(target, until);
}

std::vector<const Candidate *> GeckoPolicy::eligible(const Choice &choice)
{
	auto now = std::chrono::steady_clock::now();
	std::vector<const Candidate *> out;

	std::erase_if(failed_, [&](const auto &f) { return f.second <= now; });
	for (const auto &c : choice.candidates)
		if (std::ranges::none_of(failed_, [&](const auto &f) { return same(f.first, c.member->address); }))
			out.push_back(&c);
	return out;
}

RandomPolicy::RandomPolicy(std::optional<std::uint64_t> seed)
	: random_(seed ? *seed : std::random_device{}())
{
}

Result<in6_addr> RandomPolicy::SelectTarget(const Choice &choice)
{
	auto pool = eligible(choice);

	if (pool.empty())
		return none_left();
	std::uniform_int_distribution<std::size_t> draw(0, pool.size() - 1);
	return pool[draw(random_)]->member->address;
}

Result<in6_addr> RoundRobinPolicy::SelectTarget(const Choice &choice)
{
	auto pool = eligible(choice);
	const auto *c = turn_.pick(choice.candidates, pool);

	if (!c)
		return none_left();
	return c->member->address;
}

Result<in6_addr> LeastConnectionsPolicy::SelectTarget(const Choice &choice)
{
	auto pool = eligible(choice);
	auto load = [&](const Candidate *c) -> std::uint64_t {
		auto at = sent_.find(c->member->name);

		if (at == sent_.end() || at->second.report != c->report)
			return c->connections;
		return std::uint64_t{c->connections} + at->second.since;
	};

	if (pool.empty())
		return none_left();
	auto least = load(*std::ranges::min_element(pool, {}, load));
	std::erase_if(pool, [&](const Candidate *c) { return load(c) != least; });

	const auto *c = ties_.pick(choice.candidates, pool);
	auto &sent = sent_[c->member->name];
	/* A new report counts what was sent before it. */
	if (sent.report != c->report)
		sent = {c->report, 0};
	sent.since++;
	return c->member->address;
}

ProximityPolicy::ProximityPolicy(std::chrono::seconds explore_again) : explore_again_(explore_again)
{
}

Result<in6_addr> ProximityPolicy::SelectTarget(const Choice &choice)
{
	/* Tried on networks that are remembered: bounded, and what expired goes first. */
	constexpr std::size_t max_tried = 4096;
	auto pool = eligible(choice);
	auto now = std::chrono::steady_clock::now();
	std::string network(reinterpret_cast<const char *>(choice.network.s6_addr), sizeof(choice.network.s6_addr));
	auto key = [&](const Candidate *c) { return network + c->member->name; };
	std::vector<Candidate> untried, measured, unmeasured;

	if (pool.empty())
		return none_left();
	if (tried_.size() >= max_tried)
		std::erase_if(tried_, [&](const auto &t) { return now - t.second > explore_again_; });
	if (tried_.size() >= max_tried)
		tried_.clear();
	for (const auto *c : pool) {
		auto tried = tried_.find(key(c));
		if (c->rtt)
			measured.push_back(*c);
		else if (tried == tried_.end() || now - tried->second > explore_again_)
			untried.push_back(*c);
		else
			unmeasured.push_back(*c);
	}
	if (!untried.empty()) {
		auto target = load_.SelectTarget({choice.client, choice.client_port, untried, choice.network});
		if (target)
			for (const auto &c : untried)
				if (!std::memcmp(&c.member->address, &*target, sizeof(*target)))
					tried_[key(&c)] = now;
		return target;
	}
	if (measured.empty())
		return load_.SelectTarget({choice.client, choice.client_port, unmeasured, choice.network});
	auto best = std::ranges::min(measured, {}, [](const Candidate &c) { return *c.rtt; }).rtt.value();
	auto near = best + std::max<std::chrono::microseconds>(best / 10, std::chrono::milliseconds(1));
	std::erase_if(measured, [&](const Candidate &c) { return *c.rtt > near; });
	/* The load policy sees only the nearest; it still tracks what it sent each. */
	return load_.SelectTarget({choice.client, choice.client_port, measured, choice.network});
}

Result<in6_addr> WeightedPolicy::SelectTarget(const Choice &choice)
{
	auto pool = eligible(choice);
	long long total = 0;
	const Candidate *pick = nullptr;

	if (pool.empty())
		return none_left();
	std::erase_if(current_, [&](const auto &entry) {
		return std::ranges::none_of(pool, [&](const Candidate *c) { return c->member->name == entry.first; });
	});
	for (const auto *c : pool) {
		auto &current = current_[c->member->name];

		current += c->member->weight;
		total += c->member->weight;
		if (!pick || current > current_[pick->member->name])
			pick = c;
	}
	current_[pick->member->name] -= total;
	return pick->member->address;
}

CallablePolicy::CallablePolicy(Select select, Failed failed)
	: select_(std::move(select)), failed_(std::move(failed))
{
}

Result<in6_addr> CallablePolicy::SelectTarget(const Choice &choice)
{
	std::vector<Candidate> pool;

	for (const auto *c : eligible(choice))
		pool.push_back(*c);
	if (!select_ || pool.empty())
		return none_left();
	return select_({choice.client, choice.client_port, pool});
}

void CallablePolicy::NotifyFailedHandoff(const in6_addr &target, const in6_addr &client)
{
	if (failed_)
		failed_(target, client);
	else
		GeckoPolicy::NotifyFailedHandoff(target, client);
}

Result<std::unique_ptr<GeckoPolicy>> make_policy(std::string_view name)
{
	if (name == "random")
		return std::make_unique<RandomPolicy>();
	if (name == "round-robin")
		return std::make_unique<RoundRobinPolicy>();
	if (name == "least-connections")
		return std::make_unique<LeastConnectionsPolicy>();
	if (name == "proximity")
		return std::make_unique<ProximityPolicy>();
	if (name == "weighted")
		return std::make_unique<WeightedPolicy>();
	return std::unexpected(Error{EINVAL, "no policy called '" + std::string(name) + "'"});
}

} // namespace gecko
