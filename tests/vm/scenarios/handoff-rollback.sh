# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 600
# vm-beside
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
#              Binding Update: node2 drops what it restored, says so, and
#              node1 thaws
#   stall      node2 restores and holds its Binding Update: at its own
#              deadline it drops the socket it restored and says so; node1
#              thaws and takes the client back
#   die        node2's server kills itself once the state is there: node1,
#              which may no longer thaw on its own (the state left), asks
#              node2 again until the restarted server answers that it never
#              heard of the handoff; then node1 thaws
# then node2's server is killed with SIGKILL while it stalls a handoff
# (the same as die), and last a handoff that works, node1 -> node2 -> node1.
# Each failure that froze the connection (all but the refusal) is one
# rollback at node1, and one at node2 where node2 lived to drop what it
# restored (bu-reject, stall); the handoff that works is counted once by
# each end.
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
	ip netns exec node2 gecko-echo-server --port 7000 --key-file "$KEY" >> "$GECKO_OUT/agent2.log" 2>&1 &
	PIDS+=($!)
	AGENT[2]=$!
	wait_for 10 bash -c "ip netns exec node2 gecko-ctl agent show > /dev/null"
}

rolled_back() { n1 gecko-ctl handoff show --json | gojq '[.[] | select(.direction == "out" and .moved == false)] | length'; }

# fails_at PHASE WHY: a handoff to node2 failing at PHASE, for the reason WHY.
fails_at() {
	local before rollbacks out
	before=$(rolled_back)
	rollbacks=$(agent_counter 1 rollbacks)
	n2 gecko-ctl agent fault "$1"
	! out=$(n1 timeout 60 gecko-ctl handoff $CLIENT to $NODE2 2>&1) || fail "$1: the handoff succeeded"
	echo "$1: $out"
	[[ $out == *"$2"* ]] || fail "$1: the reason should say '$2'"
	expect_eq "$1: handoffs rolled back" "$(rolled_back)" $((before + 1))
	# A refusal at prepare froze nothing: not a rollback.
	[[ $1 == refuse ]] || rollbacks=$((rollbacks + 1))
	expect_eq "$1: node1's rollbacks" "$(agent_counter 1 rollbacks)" $rollbacks
	expect_eq "$1: node1 still has the connection, thawed" "$(n1 gecko-ctl flow show --json | gojq length)" 0
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
expect_eq "node2's rollbacks after its refusal" "$(agent_counter 2 rollbacks)" 0
fails_at bu-reject "refused the Binding Update (fault injection)"
# node2 dropped what it had restored: its side of the rollback.
expect_eq "node2's rollbacks after the Binding Update it refused" "$(agent_counter 2 rollbacks)" 1
fails_at stall "held past the deadline"
# node2 dropped the socket it restored at its own deadline.
wait_for 10 bash -c "[[ \$(ip netns exec node2 gecko-ctl flow show --json | gojq -r '.[0].state') == moved ]]"
wait_for 10 bash -c "ip netns exec node2 gecko-ctl handoff show | grep -q 'held past the deadline'"
expect_eq "node2's rollbacks after the stall" "$(agent_counter 2 rollbacks)" 2
expect_eq "node2's handoffs in" "$(agent_counter 2 handoffs_in)" 0

# acceptor_dies HOW: node2's server dies with the state there (HOW: die, or
# kill: SIGKILL while it stalls); restarted, it answers node1's question.
acceptor_dies() {
	local before out ask
	before=$(rolled_back)
	if [[ $1 == die ]]; then
		n2 gecko-ctl agent fault die
	else
		n2 gecko-ctl agent fault stall
	fi
	n1 timeout 90 gecko-ctl handoff $CLIENT to $NODE2 > "$GECKO_OUT/$1.out" 2>&1 &
	ask=$!
	if [[ $1 == kill ]]; then
		wait_for 30 bash -c "[[ \$(ip netns exec node2 gecko-ctl flow show --json | gojq -r '.[0].state') == restored ]]"
		kill -9 "${AGENT[2]}"
	fi
	wait_for 30 bash -c "! kill -0 ${AGENT[2]} 2> /dev/null"
	# The state left node1: it stays frozen, asking node2 what became of it.
	expect_eq "$1: node1 holds the connection committed" \
		"$(n1 gecko-ctl flow show --json | gojq -r '.[0].state')" committed
	restart_node2
	! wait $ask || fail "$1: the handoff to a dead acceptor succeeded"
	out=$(cat "$GECKO_OUT/$1.out")
	echo "$1: $out"
	[[ $out == *"no such handoff here"* ]] || fail "$1: the reason should be the restarted node2's answer"
	expect_eq "$1: handoffs rolled back" "$(rolled_back)" $((before + 1))
	expect_eq "$1: node1 has the connection, thawed" "$(n1 gecko-ctl flow show --json | gojq length)" 0
	kill -0 $CLIENT_PID 2> /dev/null || fail "$1: the stream ended: $(cat "$GECKO_OUT/client.out")"
}
acceptor_dies die

pretty "the acceptor's server is killed with SIGKILL in the middle of a handoff"
acceptor_dies kill

pretty "a handoff that works, and back"
out=$(n1 timeout 60 gecko-ctl handoff $CLIENT to $NODE2) || fail "node1 -> node2: $out"
echo "node1 -> node2: $out"
out=$(n2 timeout 60 gecko-ctl handoff $CLIENT to $NODE1) || fail "node2 -> node1: $out"
echo "node2 -> node1: $out"

pretty "the stream completes byte for byte"
touch "$RUN/stop"
wait $CLIENT_PID || fail "client: $(cat "$GECKO_OUT/client.out")"
cat "$GECKO_OUT/client.out"
n1 gecko-ctl handoff show
# Four of the five failures had frozen the connection (all but the refusal):
# node1 rolled back each, and moved the client once. node2's server since
# the SIGKILL took it once, gave it back once, rolled nothing back.
expect_eq "node1's rollbacks, handoffs out and in" \
	"$(agent_counter 1 rollbacks) $(agent_counter 1 handoffs_out) $(agent_counter 1 handoffs_in)" "4 1 1"
expect_eq "node2's rollbacks, handoffs out and in" \
	"$(agent_counter 2 rollbacks) $(agent_counter 2 handoffs_out) $(agent_counter 2 handoffs_in)" "0 1 1"
expect_no_reset
