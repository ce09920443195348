# SPDX-License-Identifier: GPL-2.0-only
# Objects gecko.ko allocated that outlive it. With slub_debug's U flag the
# kernel keeps, for every live object, the code that allocated it (the VM
# sets it on the kmalloc-cg-* caches, where gecko.ko's objects all go):
# /sys/kernel/debug/slab/CACHE/alloc_traces lists each call site with a
# count, then its stack. Once a module is unloaded its call sites no longer
# resolve to symbols and read as raw addresses, inside where it was loaded.
# Sourced by tests/vm/guest and the module-reload scenario.

# kvmalloc() and its kind allocate for their caller: the call site is the
# frame after them. (kmemdup() and kstrdup() already record their caller.)
GECKO_ALLOC_WRAPPERS='^(kvmalloc_node|kvrealloc|kvmemdup)\+'

# slab_raw_sites: "CACHE ADDRESS COUNT" for every call site of live objects
# that is a raw address: code that is gone, a module's or its init's.
slab_raw_sites() {
	# Without slub_debug's tracking (GECKO_VM_SLUB) there is nothing to read.
	compgen -G '/sys/kernel/debug/slab/*/alloc_traces' > /dev/null || return 0
	# One awk for every cache: under TCG a process costs tens of ms.
	awk -v wrappers="$GECKO_ALLOC_WRAPPERS" '
		function emit() { if (site ~ /^0x[0-9a-f]+$/) print cache, site, count; site = "" }
		FNR == 1 { emit(); wrapped = after = 0; cache = FILENAME; sub(/\/alloc_traces$/, "", cache); sub(/.*\//, "", cache) }
		/^ *[0-9]+ [^ ]/ { emit(); count = $1; site = $2; wrapped = site ~ wrappers; next }
		/^        [^ ]/ && wrapped { if (after) { site = $1; wrapped = 0 } after = $1 ~ wrappers; next }
		NF == 0 { emit(); wrapped = after = 0 }
		END { emit() }' /sys/kernel/debug/slab/*/alloc_traces
}

# gecko_range: "BASE SIZE" of the loaded gecko.ko, from /proc/modules.
gecko_range() {
	awk '$1 == "gecko" { print $6, $2 }' /proc/modules
}

# gecko_leftovers BASE SIZE [BASELINE]: the raw call sites inside a gecko.ko
# that was loaded at BASE, SIZE octets, as "CACHE ADDRESS COUNT", leaving out
# those listed in BASELINE (slab_raw_sites before it was loaded: another
# module's init code, freed, may have been where gecko.ko was put).
gecko_leftovers() {
	local base=$1 end=$(($1 + $2)) baseline=${3:-/dev/null} cache site count
	slab_raw_sites | while read -r cache site count; do
		(( site >= base && site < end )) || continue
		grep -qx "$cache $site [0-9]*" "$baseline" || echo "$cache $site $count"
	done
}
