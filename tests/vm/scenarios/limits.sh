# SPDX-License-Identifier: GPL-2.0-only
# vm-beside
# vm-timeout: 200
# The namespace's limits, past each one, on node2:
#
#   client ──(10 ms)── router ──(1 ms)── node2: G (+ two more services),
#     │                                  the client's binding and 2999 others,
#     ├─ UDP echo of G:7007, route-optimised     two gecko-handoff-echo
#     └─ streams to G:7000 and G:7001, each echoed by the owner of its socket
#
# Past a limit on services, bindings or flows the next request fails with
# the module's message naming the limit (as gecko-ctl prints it); past the
# limit on held packets the next one is dropped and counted. What exists
# keeps working meanwhile, lowering a limit removes nothing, bindings are
# charged to the caller's memory cgroup (kmalloc-cg caches), and once it
# is all gone the kmalloc caches are back where they started.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"

RUN=$(mktemp -d)	# Unix sockets cannot live on the results share (9p)
REFUSED="Error: gecko: the namespace has as many"

# One "cache active_objects" line per kmalloc cache, counted exactly.
slab() {
	sleep 1
	echo 3 > /proc/sys/vm/drop_caches
	for f in /sys/kernel/slab/*/shrink; do echo 1 > "$f"; done 2> /dev/null || true
	sleep 1
	awk 'NR > 2 && $1 ~ /^kmalloc-/ { print $1, $2 }' /proc/slabinfo | sort
}
# grown BEFORE AFTER PATTERN: objects the caches matching PATTERN gained.
grown() { join "$1" "$2" | awk -v p="$3" '$1 ~ p { n += $3 - $2 } END { print n + 0 }'; }

limit() { n2 gecko-ctl limits show --json | gojq ".$1.$2"; }
counter() { n2 gecko-ctl info --json | gojq ".counters.$1"; }
answers() { expect_eq "UDP echo of G" "$(client timeout 10 socat -t 5 - UDP6:[$G]:7007 <<< hello)" node2; }
# refused WHAT CMD...: CMD fails, and gecko-ctl says the limit WHAT is why.
refused() {
	local what=$1 out
	shift
	out=$("$@" 2>&1) && fail "$*: succeeded past the $what limit"
	[[ $out == "$REFUSED "*"(raise it: gecko-ctl limits set $what N)" ]] || fail "$*: $out"
}

# ctl K COMMAND: echo server K (A or B) answers COMMAND.
ctl() { socat -t 30 - UNIX-CONNECT:"$RUN/echo$1.sock" <<< "$2"; }
ok() {
	local out
	out=$(ctl "$1" "$2") || fail "echo $1 $2: no answer"
	[[ $out == ok* ]] || fail "echo $1 $2: $out"
}
# echoing K: echo server K echoes 64 KB more than it had.
echoing() {
	local from
	from=$(ctl "$1" stats | cut -d' ' -f2)
	wait_for 20 bash -c "(( \$(socat - UNIX-CONNECT:$RUN/echo$1.sock <<< stats | cut -d' ' -f2) > $from + 65536 ))"
}

topo_up
client_binds_g $NODE2
n2 ip -6 addr add $G/128 dev lo
slab > "$RUN/slab.before"

pretty "defaults, nothing in use"
n2 gecko-ctl limits show
expect_eq "service limit" "$(limit services limit)" 256
expect_eq "binding limit" "$(limit bindings limit)" 1048576
expect_eq "flow limit" "$(limit flows limit)" 65536
expect_eq "held limit" "$(limit held limit)" 65536
expect_eq "in use" "$(n2 gecko-ctl limits show --json | gojq '[.[].used] | add')" 0

pretty "services: a third past a limit of 2 is refused"
n2 gecko-ctl service add $G coa $NODE2 contact-coa $NODE1
n2 gecko-ctl binding set $G $CLIENT state bound seq 1 lifetime 420
n2 socat UDP6-RECVFROM:7007,bind=[$G],fork SYSTEM:'echo node2' &
wait_for 10 sh -c "ip netns exec node2 ss -Hlun | grep -q 7007"
answers
n2 gecko-ctl limits set services 2
n2 gecko-ctl service add fd00:a::200 coa $NODE2 contact-coa $NODE1
refused services n2 gecko-ctl service add fd00:a::300 coa $NODE2 contact-coa $NODE1
n2 gecko-ctl service add $G coa $NODE2 contact-coa $NODE1 ha $HA	# a change, not a new one
answers
n2 gecko-ctl limits set services 1
expect_eq "services kept under a lower limit" "$(n2 gecko-ctl service show --json | gojq length)" 2
n2 gecko-ctl service del fd00:a::200
refused services n2 gecko-ctl service add fd00:a::300 coa $NODE2 contact-coa $NODE1
n2 gecko-ctl limits set services 256

pretty "bindings: past a limit of 3000, refused; charged to the caller's memory cgroup"
n2 gecko-ctl limits set bindings 3000
slab > "$RUN/slab.empty"
n2 gecko-fill-bindings $G 1000 2999
slab > "$RUN/slab.full"
expect_eq "bindings in use" "$(limit bindings used)" 3000
refused bindings n2 gecko-ctl binding set $G fd00:c::ffff state bound seq 1 lifetime 60
out=$(n2 gecko-fill-bindings $G 5000 1 || true)
[[ $out == "$REFUSED bindings"* ]] || fail "gecko-fill-bindings past the limit: $out"
n2 gecko-ctl binding set $G $CLIENT state bound seq 2 lifetime 420	# a change, not a new one
answers
join "$RUN/slab.empty" "$RUN/slab.full" | awk '$3 - $2 > 100 { printf "%s: %d more objects\n", $1, $3 - $2 }'
cg=$(grown "$RUN/slab.empty" "$RUN/slab.full" '^kmalloc-cg-')
pretty "kmalloc-cg caches: $cg more objects for 2999 bindings"
# Other kmalloc-cg users come and go meanwhile: most, not all, are ours.
((cg >= 2500)) || fail "bindings are not charged to the caller's memory cgroup ($cg kmalloc-cg objects)"

pretty "flows: a second freeze past a limit of 1 is refused, the stream it was for goes on"
for k in A B; do
	ip netns exec node2 gecko-handoff-echo "$([[ $k == A ]] && echo 7000 || echo 7001)" \
		"$RUN/echo$k.sock" > "$GECKO_OUT/echo$k.log" 2>&1 &
	wait_for 10 grep -q "^handoff echo" "$GECKO_OUT/echo$k.log"
done
# Reading the echo, or its owner would block writing it.
client socat OPEN:/dev/zero!!OPEN:/dev/null TCP6:[$G]:7000 &
client socat OPEN:/dev/zero!!OPEN:/dev/null TCP6:[$G]:7001 &
echoing A
echoing B
n2 gecko-ctl limits set flows 1 held 8
# Frozen for 60 s, not the default: what follows takes longer on a slow machine.
ok A "give $RUN/stateA 60000"
out=$(ctl B "give $RUN/stateB") || fail "echo B give: no answer"
[[ $out == "error freeze: ${REFUSED#Error: } flows"*"(raise it: gecko-ctl limits set flows N)" ]] ||
	fail "second freeze past the flow limit: $out"
echoing B

pretty "held packets: past a limit of 8, dropped and counted"
wait_for 20 bash -c "(( \$(ip netns exec node2 gecko-ctl info --json | gojq .counters.flow_held_limited) > 0 ))"
n2 gecko-ctl flow show
(($(limit held used) <= 8)) || fail "$(limit held used) packets held past a limit of 8"
expect_eq "packets the frozen flow holds" "$(n2 gecko-ctl flow show --json | gojq '.[0].held')" 8
ok A thaw
echoing A
expect_eq "flows after the thaw" "$(n2 gecko-ctl flow show --json | gojq length)" 0
answers

pretty "all gone: the kmalloc caches are back where they started"
kill $(jobs -p) 2> /dev/null || true
wait 2> /dev/null || true
n2 gecko-ctl service del $G
expect_eq "in use once all is gone" "$(n2 gecko-ctl limits show --json | gojq '[.[].used] | add')" 0
slab > "$RUN/slab.after"
join "$RUN/slab.before" "$RUN/slab.after" | awk '$3 - $2 > 100 { printf "%s: %d more objects\n", $1, $3 - $2 }'
left=$(grown "$RUN/slab.before" "$RUN/slab.after" '^kmalloc-cg-')
((left < 300)) || fail "$left kmalloc-cg objects left of 3000 bindings"
