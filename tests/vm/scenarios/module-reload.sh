# SPDX-License-Identifier: GPL-2.0-only
# vm-beside
# vm-background
# Load gecko.ko, give it state, unload it: 3 x 50 times, in two namespaces
# each time (gecko-modcycle). Each round leaves in each namespace a
# service, a binding and three flows (frozen, restored, moved; their
# sockets with unread data) for the unload to take down. Then: the module
# list ends where it started; no object gecko.ko allocated is left, in
# any place it was loaded at (slub_debug's call sites: exact, it caught a
# one-binding and a one-flow leak per namespace exit); and no kmalloc
# cache grows by one object per round in each of three windows, for what
# the kernel allocates on gecko.ko's behalf (it caught the flow leak, not
# the binding one, whose cache moved by some 200 objects between windows).
# One process does the rounds, so commands' own exec, VMA and inode churn
# stays out, and the slabs are shrunk before each count so per-CPU slabs
# do not make it jump by a slab's worth.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/leaks.sh"

ROUNDS=50
G=fd00:a::100

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

# round N: N rounds; where the module was loaded goes to /tmp/places.
round() { gecko-modcycle "$GECKO_KO" "$1" /run/netns/spare >> /tmp/places; }

# The connections are to G, on lo, in each namespace.
ip netns add spare
for ns in "" "ip netns exec spare"; do
	$ns ip link set lo up
	$ns ip -6 addr add $G/128 dev lo nodad
done
rmmod gecko
pretty "warm-up round"
round 1
settle
slab > /tmp/slab.before
modules_before=$(wc -l < /proc/modules)

for window in 1 2 3; do
	pretty "$ROUNDS rounds"
	time round $ROUNDS
	settle
	slab > /tmp/slab.$window
done

expect_eq "modules loaded" "$(wc -l < /proc/modules)" "$modules_before"
[[ ! -e /sys/module/gecko ]] || fail "/sys/module/gecko is still there"
! gecko-ctl info 2> /dev/null || fail "the gecko family outlived the module"

pretty "no object gecko.ko allocated is left, wherever it was loaded"
sort -u /tmp/places > /tmp/places.unique
while read -r base size; do
	gecko_leftovers "$base" "$size" "$GECKO_SLAB_BASELINE"
done < /tmp/places.unique > /tmp/leftovers
echo "gecko.ko was loaded at $(wc -l < /tmp/places.unique) place(s)"
if [[ -s /tmp/leftovers ]]; then
	cat /tmp/leftovers
	fail "objects gecko.ko allocated outlived it (cache, call site, count above)"
fi

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
