// SPDX-License-Identifier: GPL-2.0-only

#include "datapath.h"

#include <address.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gecko::cnd {

namespace {

constexpr const char *lock_name = "xfrm-mip6-receive";

/* Keeps the first failure of several steps that are all tried. */
void keep_first(Result<void> &first, const Result<void> &ok)
{
	if (!ok && first)
		first = ok;
}

} // namespace

bool DataPath::KeyLess::operator()(const std::pair<in6_addr, in6_addr> &a,
				   const std::pair<in6_addr, in6_addr> &b) const
{
	static_assert(sizeof(a) == 2 * sizeof(in6_addr));
	return std::memcmp(&a, &b, sizeof(a)) < 0;
}

Result<std::unique_ptr<DataPath>> DataPath::open(const std::string &lock_dir)
{
	auto lock = daemon::SharedLock::acquire(lock_name, lock_dir);
	if (!lock)
		return std::unexpected(lock.error());
	auto ns = daemon::netns_id();
	if (!ns)
		return std::unexpected(ns.error());
	auto xfrm = xfrm::Xfrm::open();
	if (!xfrm)
		return std::unexpected(xfrm.error());

	std::unique_ptr<DataPath> path(
		new DataPath(std::move(*xfrm), std::move(*lock), lock_dir + "/gecko-cnd-bindings-" + *ns));
	if (auto ok = path->recover(); !ok)
		return std::unexpected(ok.error());
	if (auto ok = path->xfrm_.apply({xfrm::install(xfrm::hao_receive_state()),
					 xfrm::install(xfrm::mh_receive_policy(xfrm::Kind::hao))});
	    !ok)
		return std::unexpected(ok.error());	/* the destructor removes half of it */
	return path;
}

Result<void> DataPath::bind(const xfrm::Binding &b)
{
	/*
	 * Listed first, so that a crash in between leaves nothing unlisted.
	 * The bypass first, so that no Mobility Header takes the binding's
	 * routing header while it is being set up. Installing is idempotent
	 * and a state's care-of address changes in place, so a move is the
	 * same changes; the policies' update bumps the route generation, and
	 * established connections pick up the new care-of address. All in
	 * one system call: the mobile node waits for the acknowledgement.
	 */
	bool added = bound_.insert_or_assign({b.cn, b.home}, b.coa).second;
	/* The list names bindings, not care-of addresses: a move leaves it as it is. */
	Result<void> first = added ? save() : Result<void>{};
	keep_first(first, xfrm_.apply({xfrm::install(xfrm::mh_bypass_policy(b)), xfrm::install(xfrm::hao_in_state(b)),
				       xfrm::install(xfrm::hao_in_policy(b)), xfrm::install(xfrm::rh2_out_state(b)),
				       xfrm::install(xfrm::rh2_out_policy(b))}));
	return first;
}

Result<void> DataPath::unbind(const in6_addr &cn, const in6_addr &home)
{
	auto it = bound_.find({cn, home});

	if (it == bound_.end())
		return {};
	xfrm::Binding b{cn, home, it->second};
	bound_.erase(it);

	auto first = remove(b);
	keep_first(first, save());
	return first;
}

Result<void> DataPath::remove(const xfrm::Binding &b)
{
	/* In the reverse order of bind(): the data path first, the bypass last. */
	return xfrm_.apply({xfrm::remove(xfrm::rh2_out_policy(b)), xfrm::remove(xfrm::rh2_out_state(b)),
			    xfrm::remove(xfrm::hao_in_policy(b)), xfrm::remove(xfrm::hao_in_state(b)),
			    xfrm::remove(xfrm::mh_bypass_policy(b))});
}

Result<void> DataPath::recover()
{
	std::ifstream in(list_);
	std::string cn, home;
	Result<void> first;

	/* No list: nothing was left. Removal needs no care-of address. */
	while (in >> cn >> home) {
		auto c = daemon::parse_address(cn), h = daemon::parse_address(home);
		if (!c || !h)
			return std::unexpected(Error{EINVAL, list_ + ": '" + cn + " " + home + "' is not two addresses"});
		keep_first(first, remove({*c, *h, in6addr_any}));
		recovered_++;
	}
	keep_first(first, save());
	return first;
}

Result<void> DataPath::save() const
{
	std::ostringstream text;
	auto tmp = list_ + ".new";

	for (const auto &[key, coa] : bound_)
		text << daemon::to_string(key.first) << ' ' << daemon::to_string(key.second) << '\n';
	std::ofstream out(tmp, std::ios::trunc);
	/* rename() replaces the list in one step: a crash leaves the old one or the new. */
	if (!(out << text.str()) || !out.flush())
		return std::unexpected(Error{EIO, "cannot write " + tmp});
	if (std::rename(tmp.c_str(), list_.c_str()))
		return std::unexpected(Error{errno, "cannot replace " + list_ + ": " + std::strerror(errno)});
	return {};
}

Result<void> DataPath::close()
{
	Result<void> first;

	while (!bound_.empty()) {
		auto [cn, home] = bound_.begin()->first;
		keep_first(first, unbind(cn, home));
	}
	if (lock_ && lock_->last_holder()) {
		keep_first(first, xfrm_.apply({xfrm::remove(xfrm::mh_receive_policy(xfrm::Kind::hao)),
					       xfrm::remove(xfrm::hao_receive_state())}));
	}
	lock_.reset();
	return first;
}

DataPath::~DataPath()
{
	/* After close() this finds nothing left; after a failed open() it cleans up. */
	(void)close();
}

} // namespace gecko::cnd
