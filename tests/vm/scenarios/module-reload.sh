# SPDX-License-Identifier: GPL-2.0-only
# Load and unload gecko.ko 3 x 50 times, used from two namespaces each
# time: the module list ends where it started, and no kmalloc cache (what
# gecko.ko's code allocates from) grows by one object per round in each of
# three windows. One process does the rounds (gecko-modcycle), so commands'
# own exec, VMA and inode churn stays out, and the slabs are shrunk before
# each count so per-CPU slabs do not make it jump by a slab's worth. An
# injected one-kmalloc leak in module_init is caught this way.
. "$GECKO_REPO/tests/vm/lib/common.sh"

ROUNDS=50

# One "cache active_objects" line per slab cache.
slab() { awk 'NR > 2 { print $1, $2 }' /proc/slabinfo | sort; }

# Let deferred frees (RCU, netns cleanup) finish.
settle() {
	sleep 1
	echo 3 > /proc/sys/vm/drop_caches
	# Flush per-CPU and partial slabs, so active counts are exact.
	for f in /sys/kernel/slab/*/shrink; do echo 1 > "$f"; done 2> /dev/null || true
	sleep 1
}

round() { gecko-modcycle "$GECKO_KO" "$1" /run/netns/spare; }

ip netns add spare
rmmod gecko
pretty "warm-up round"
round 1
settle
slab > /tmp/slab.before
modules_before=$(wc -l < /proc/modules)

for window in 1 2 3; do
	pretty "$ROUNDS rounds"
	round $ROUNDS
	settle
	slab > /tmp/slab.$window
done

expect_eq "modules loaded" "$(wc -l < /proc/modules)" "$modules_before"
[[ ! -e /sys/module/gecko ]] || fail "/sys/module/gecko is still there"
! gecko-ctl info 2> /dev/null || fail "the gecko family outlived the module"

pretty "slab caches: none grew by about one object per round"
join /tmp/slab.before /tmp/slab.1 | join - /tmp/slab.2 | join - /tmp/slab.3 | awk -v n=$ROUNDS '
	$1 !~ /^kmalloc-/ { next }
	{ a = $3 - $2; b = $4 - $3; c = $5 - $4 }
	a >= n || b >= n || c >= n { printf "%s: %d, %d, %d more objects\n", $1, a, b, c }
	a >= n && b >= n && c >= n { bad = 1 }
	END { exit bad }' || fail "a slab cache grew by about one object per round"

pretty "the module loads again and works"
insmod "$GECKO_KO"
gecko-ctl info > /dev/null
