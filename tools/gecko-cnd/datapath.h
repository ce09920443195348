/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef GECKO_CND_DATAPATH_H
#define GECKO_CND_DATAPATH_H

/*
 * The bindings in the stock kernel's route-optimisation data path
 * (CONFIG_IPV6_MIP6, gecko/xfrm.h), with xfrm states and policies. Per
 * binding of HOME at COA, seen from our address CN:
 * - rh2 out state and policy: CN -> HOME leaves to COA with a type 2
 *   routing header holding HOME;
 * - hao in state and policy: HOME -> CN arrives from COA with a Home
 *   Address option, and is delivered as coming from HOME;
 * - a Mobility Header bypass out policy: our HoT must test the home path,
 *   and a BA or BRR carries a routing header of its own.
 * Once for all bindings, what the first Binding Update needs to get in (it
 * carries a Home Address option from a care-of address never seen): the
 * wildcard HAO receive state and the inbound Mobility Header policy. A
 * home agent in the same network namespace installs the same two; the
 * last daemon to stop removes them (shared_lock.h).
 *
 * The bindings in the kernel are also listed in a file beside the lock, so
 * that after a crash the next start removes what the kernel still holds
 * for bindings nobody remembers.
 */

#include <shared_lock.h>

#include <gecko/xfrm.h>

#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace gecko::cnd {

class DataPath {
public:
	/* Removes what a crashed run left, then installs what the first Binding Update needs. */
	static Result<std::unique_ptr<DataPath>> open(const std::string &lock_dir);

	/* How many bindings a previous run had left in the kernel. */
	std::size_t recovered() const { return recovered_; }

	/* Installs @b, or moves the binding of its (cn, home) to @b.coa in place; tries every step. */
	Result<void> bind(const xfrm::Binding &b);
	/* Removes the binding of (@cn, @home); succeeds if there is none. */
	Result<void> unbind(const in6_addr &cn, const in6_addr &home);

	/*
	 * Removes every binding, and the shared objects unless another daemon
	 * still uses them; returns the first failure after trying everything.
	 */
	Result<void> close();

	DataPath(const DataPath &) = delete;
	DataPath &operator=(const DataPath &) = delete;
	~DataPath();

private:
	DataPath(xfrm::Xfrm xfrm, daemon::SharedLock lock, std::string list)
		: xfrm_(std::move(xfrm)), lock_(std::move(lock)), list_(std::move(list)) {}

	Result<void> remove(const xfrm::Binding &b);
	/* Removes the bindings the list names, then empties it. */
	Result<void> recover();
	/* Writes bound_ to the list, all at once. */
	Result<void> save() const;

	struct KeyLess {
		bool operator()(const std::pair<in6_addr, in6_addr> &a, const std::pair<in6_addr, in6_addr> &b) const;
	};

	xfrm::Xfrm xfrm_;
	std::optional<daemon::SharedLock> lock_;	/* until the shared objects are dealt with */
	std::string list_;	/* the file listing bound_ */
	std::map<std::pair<in6_addr, in6_addr>, in6_addr, KeyLess> bound_;	/* (cn, home) -> coa */
	std::size_t recovered_ = 0;
};

} // namespace gecko::cnd

#endif /* GECKO_CND_DATAPATH_H */
