# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 300
# vm-beside
# A node agent that stops in order sends every client still bound to its
# node back to G's home path (a binding clear each), so that their next
# connections reach a node that serves. A clear needs a Home Test, which
# the contact node relays, at most 64 at a time per node: here node3 has
# 150 idle clients bound to it when gecko-agent gets SIGTERM, and every one
# must be cleared (it used to lose the 86 past the first 64, which then
# found nothing listening at node3 until their bindings expired).
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"

trap anycast_down EXIT

N=150
RUN=$(mktemp -d)
CONF=$RUN/gecko.conf
framework_conf "$CONF"
agent_cmd() { echo "gecko-agent --cluster $CONF"; }
credentials() { :; }

topo_up
client_addresses $N
anycast_up 1 2 3
n1 gecko-ctl register $G > /dev/null
wait_for 10 members_alive

# bound_to NODE: how many client addresses the client sends G's traffic to NODE for.
bound_to() { client ip xfrm state list proto route2 | grep -c "coa $1" || true; }

pretty "$N client addresses bound to node3 (gecko-ctl bu, 8 at a time)"
for i in $(seq 1 $N); do printf '%s%x\n' $PREFIX $i; done |
	xargs -P 8 -I{} ip netns exec node3 gecko-ctl bu $G {} > "$RUN/bu.out" 2>&1 ||
	fail "a Binding Update failed: $(grep -v '^ok\|bound' "$RUN/bu.out" | head -n 3)"
all_bound() { (($(bound_to $NODE3) == N)); }
wait_for 30 all_bound

pretty "node3's agent stops: it clears all $N"
kill -TERM "${AGENT[3]}"
wait "${AGENT[3]}" || fail "gecko-agent exited with status $? on SIGTERM"
grep "^stopping" "$GECKO_OUT/agent3.log"
grep -q "^stopping: $N client(s) bound here sent back to the contact node" "$GECKO_OUT/agent3.log" ||
	fail "node3 did not send its $N clients back: $(grep '^stopping' "$GECKO_OUT/agent3.log")"
! grep -q "too many Home Tests" "$GECKO_OUT/agent3.log" ||
	fail "clears refused for good: $(grep -c 'too many Home Tests' "$GECKO_OUT/agent3.log") of them"
expect_eq "client addresses still bound to node3" "$(bound_to $NODE3)" 0
pretty "PASS"
