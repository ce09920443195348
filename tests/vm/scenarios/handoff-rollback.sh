# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 600
# Handoffs that fail at each phase, and one whose acceptor is killed: every
# time the donor keeps serving and the client's stream stays byte-exact.
# Each node runs gecko-echo-server (the node agent inside); the client
# streams through G's echo until the steps are done and checks what comes
# back.
#
#   client ── router ── node1 (contact, the donor)   node2 (the acceptor)
#
# node2's agent is told to fail (gecko-ctl agent fault, tests only):
#   refuse     at prepare: nothing was frozen
#   bu-reject  the state arrived and was restored, the client "refused" the
#              Binding Update: node2 drops what it restored, node1 thaws
#   stall      node2 restores and never answers: node1 gives up after its
#              timeout, thaws, takes the client back and tells node2, which
#              drops the socket it restored
#   die        node2's server kills itself once the state is there: node1
#              sees the connection go, thaws, takes the client back
# then node2's server is killed with SIGKILL while it stalls a handoff, and
# last a handoff that works, node1 -> node2 -> node1.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"

trap anycast_down EXIT

SIZE=$((256 << 20))	# an upper bound: the client stops when told
RUN=$(mktemp -d)
RATE=250000

agent_cmd() { echo "gecko-echo-server --port 7000"; }

# restart_node2: a new echo server (and agent) on node2 after its death.
restart_node2() {
	ip netns exec node2 gecko-echo-server --port 7000 >> "$GECKO_OUT/agent2.log" 2>&1 &
	PIDS+=($!)
	AGENT[2]=$!
	wait_for 10 bash -c "ip netns exec node2 gecko-ctl agent show > /dev/null"
}

rolled_back() { n1 gecko-ctl handoff show --json | jq '[.[] | select(.direction == "out" and .moved == false)] | length'; }

# fails_at PHASE WHY: a handoff to node2 failing at PHASE, for the reason WHY.
fails_at() {
	local before out
	before=$(rolled_back)
	n2 gecko-ctl agent fault "$1"
	! out=$(n1 timeout 60 gecko-ctl handoff $CLIENT to $NODE2 2>&1) || fail "$1: the handoff succeeded"
	echo "$1: $out"
	[[ $out == *"$2"* ]] || fail "$1: the reason should say '$2'"
	expect_eq "$1: handoffs rolled back" "$(rolled_back)" $((before + 1))
	expect_eq "$1: node1 still has the connection, thawed" "$(n1 gecko-ctl flow show --json | jq length)" 0
	kill -0 $CLIENT_PID 2> /dev/null || fail "$1: the stream ended: $(cat "$GECKO_OUT/client.out")"
}

topo_up
anycast_up 1 2
for k in 1 2; do wait_for 10 grep -q "serving port 7000" "$GECKO_OUT/agent$k.log"; done
n1 gecko-ctl register $G lifetime 300 > /dev/null
capture_client

pretty "the client streams through node1's echo"
client env STREAM_STOP="$RUN/stop" "$GECKO_REPO/tests/vm/tools/stream-echo-client" $G 7000 $SIZE $RATE \
	> "$GECKO_OUT/client.out" 2>&1 &
CLIENT_PID=$!
wait_for 30 bash -c "n=\$(ip netns exec node1 ss -Htn state established '( sport = :7000 )' | wc -l); ((n > 0))"

pretty "handoffs that fail at each phase roll back"
fails_at refuse "refused (fault injection)"
fails_at bu-reject "refused the Binding Update (fault injection)"
fails_at stall "did not answer in time"
# node1, giving up, tells node2, which drops the socket it restored.
wait_for 30 bash -c "[[ \$(ip netns exec node2 gecko-ctl flow show --json | jq -r '.[0].state') == moved ]]"
wait_for 10 bash -c "ip netns exec node2 gecko-ctl handoff show | grep -q 'the donor gave up'"
fails_at die "went away"
wait_for 10 bash -c "! kill -0 ${AGENT[2]} 2> /dev/null"

pretty "the acceptor's server is killed with SIGKILL in the middle of a handoff"
restart_node2
n2 gecko-ctl agent fault stall
n1 timeout 60 gecko-ctl handoff $CLIENT to $NODE2 > "$GECKO_OUT/killed.out" 2>&1 &
ASK=$!
wait_for 30 bash -c "[[ \$(ip netns exec node2 gecko-ctl flow show --json | jq -r '.[0].state') == restored ]]"
kill -9 "${AGENT[2]}"
! wait $ASK || fail "the handoff to a killed acceptor succeeded"
cat "$GECKO_OUT/killed.out"
grep -q "went away" "$GECKO_OUT/killed.out" || fail "killed acceptor: $(cat "$GECKO_OUT/killed.out")"

pretty "a handoff that works, and back"
restart_node2
out=$(n1 timeout 60 gecko-ctl handoff $CLIENT to $NODE2) || fail "node1 -> node2: $out"
echo "node1 -> node2: $out"
out=$(n2 timeout 60 gecko-ctl handoff $CLIENT to $NODE1) || fail "node2 -> node1: $out"
echo "node2 -> node1: $out"

pretty "the stream completes byte for byte"
touch "$RUN/stop"
wait $CLIENT_PID || fail "client: $(cat "$GECKO_OUT/client.out")"
cat "$GECKO_OUT/client.out"
n1 gecko-ctl handoff show
# A refusal at prepare froze nothing: not a rollback.
expect_eq "node1's rollbacks" "$(agent_counter 1 rollbacks)" 4
expect_no_reset
