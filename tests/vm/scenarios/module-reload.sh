# SPDX-License-Identifier: GPL-2.0-only
# Load and unload gecko.ko 2 x 50 times, used from two namespaces each
# time: the module list ends where it started, and no slab cache grows by
# one object per round. One process does the rounds (gecko-modcycle), so
# commands' own exec, VMA and inode churn stays out of the counts; per-CPU
# slabs still make them jump, so a cache counts as leaking only if it grows
# by at least one object per round in both halves.
. "$GECKO_REPO/tests/vm/lib/common.sh"

ROUNDS=50

# One "cache active_objects" line per slab cache.
slab() { awk 'NR > 2 { print $1, $2 }' /proc/slabinfo | sort; }

# Let deferred frees (RCU, netns cleanup) finish.
settle() { sleep 1; echo 3 > /proc/sys/vm/drop_caches; sleep 1; }

round() { gecko-modcycle "$GECKO_KO" "$1" /run/netns/spare; }

ip netns add spare
rmmod gecko
pretty "warm-up round"
round 1
settle
slab > /tmp/slab.before
modules_before=$(wc -l < /proc/modules)

for half in 1 2; do
	pretty "$ROUNDS rounds"
	round $ROUNDS
	settle
	slab > /tmp/slab.$half
done

expect_eq "modules loaded" "$(wc -l < /proc/modules)" "$modules_before"
[[ ! -e /sys/module/gecko ]] || fail "/sys/module/gecko is still there"
! gecko-ctl info 2> /dev/null || fail "the gecko family outlived the module"

pretty "slab caches: no cache grew by one object per round"
join /tmp/slab.before /tmp/slab.1 | join - /tmp/slab.2 | awk -v n=$ROUNDS '
	$3 - $2 >= n || $4 - $3 >= n { printf "%s: %d then %d more objects\n", $1, $3 - $2, $4 - $3 }
	$3 - $2 >= n && $4 - $3 >= n { bad = 1 }
	END { exit bad }' || fail "a slab cache grew by one object per round"

pretty "the module loads again and works"
insmod "$GECKO_KO"
gecko-ctl info > /dev/null
