# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 240
# vm-beside
# Membership from one configuration file: the three nodes' agents run with
# --cluster and tell each other every HEARTBEAT that they are alive.
#
#   client ── router ── node1 (contact)   node2   node3
#
#   - each node sees the two others alive;
#   - node3's link slowed by 300 ms each way: still alive everywhere (slow is
#     not dead), then back to normal;
#   - node3's agent killed: node1 and node2 call it dead once it has been
#     silent for the bound (HEARTBEAT x MISSES), not before, and say so once;
#   - node3's agent restarted: alive again everywhere (it rejoins);
#   - node3 with a configuration that lists a node4 the others do not know:
#     its agent refuses to start on a file that does not name it, and a
#     node that holds the key but is not in node1's file (node3 when node1's
#     file lists only node1 and node2) changes nothing there but a counted
#     peer error.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"

trap anycast_down EXIT

HEARTBEAT=500
MISSES=4
BOUND=$((HEARTBEAT * MISSES))
RUN=$(mktemp -d)

# cluster_file FILE K...: the service with members nodeK... (node1 the contact).
cluster_file() {
	local file=$1 k
	shift
	cat > "$file" <<-EOF
		service = $G
		home-agent = $HA
		key-file = $KEY
		contact = node1
		heartbeat-period = ${HEARTBEAT}ms
		heartbeat-misses = $MISSES
		policy = round-robin
	EOF
	for k; do printf '[member.node%s]\naddress = fd00:1%s::2\n' $k $k >> "$file"; done
}

CONF=$RUN/gecko.conf
cluster_file "$CONF" 1 2 3
credentials() { echo "--cluster $CONF"; }

# changes K OF WORD: how many times node K's agent logged member OF as WORD.
changes() { grep -c "member node$2 (fd00:1$2::2) is $3" "$GECKO_OUT/agent$1.log" || true; }
# now_ms: the guest's monotonic clock, in milliseconds.
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

topo_up
pretty "the configuration checks: $(gecko-ctl config check "$CONF")"
anycast_up 1 2 3

pretty "each node sees the two others alive"
for k in 1 2 3; do
	for j in 1 2 3; do
		want=alive
		[[ $j != "$k" ]] || want=self
		wait_for 10 is_state $k $j $want
	done
done
ip netns exec node1 gecko-ctl members

pretty "node3 slowed by 300 ms each way for 5 s: slow is not dead"
link_netem node3 delay 300ms
sleep 5
for k in 1 2; do
	expect_eq "node$k's view of node3 while slow" "$(state $k 3)" alive
	expect_eq "node$k's deaths of node3 while slow" "$(changes $k 3 dead)" 0
done
link_netem node3 delay 1ms

pretty "node3's agent killed: dead after ${BOUND} ms of silence, not before"
kill -KILL "${AGENT[3]}"
killed=$(now_ms)
wait_for 10 is_state 1 3 dead
took=$(($(now_ms) - killed))
# It was last heard at most one period before the kill.
((took >= BOUND - HEARTBEAT)) || fail "node1 called node3 dead $took ms after the kill, before its bound"
wait_for 10 is_state 2 3 dead
pretty "node1 called node3 dead $took ms after the kill (bound $BOUND ms)"
for k in 1 2; do
	expect_eq "node$k's deaths of node3" "$(changes $k 3 dead)" 1
	expect_eq "node$k's view of node$((3 - k))" "$(state $k $((3 - k)))" alive
done

pretty "node3's agent restarted: it rejoins"
ip netns exec node3 gecko-agent --cluster "$CONF" > "$GECKO_OUT/agent3b.log" 2>&1 &
PIDS+=($!)
AGENT[3]=$!
wait_for 10 is_state 1 3 alive
wait_for 10 is_state 2 3 alive
wait_for 10 is_state 3 1 alive
expect_eq "node1's revivals of node3" "$(grep -c 'member node3 (fd00:13::2) is alive, after' "$GECKO_OUT/agent1.log")" 1

pretty "a file that does not name this node is refused"
kill "${AGENT[3]}"
wait "${AGENT[3]}" 2> /dev/null || true
cluster_file "$RUN/other.conf" 1 2
if ip netns exec node3 gecko-agent --cluster "$RUN/other.conf" > "$RUN/refused.log" 2>&1; then
	fail "node3's agent started on a file without node3"
fi
cat "$RUN/refused.log"
grep -q "this node is none of its members (its care-of addresses: fd00:13::2)" "$RUN/refused.log" ||
	fail "the refusal does not say why"

pretty "node1 and node2 on a file without node3; node3 still sends heartbeats"
for k in 1 2; do
	kill "${AGENT[$k]}"
	wait "${AGENT[$k]}" 2> /dev/null || true
	ip netns exec node$k gecko-agent --cluster "$RUN/other.conf" > "$GECKO_OUT/agent${k}c.log" 2>&1 &
	PIDS+=($!)
	AGENT[$k]=$!
done
ip netns exec node3 gecko-agent --cluster "$CONF" > "$GECKO_OUT/agent3c.log" 2>&1 &
PIDS+=($!)
AGENT[3]=$!
wait_for 10 is_state 1 2 alive
# The agent is new: its counters start at zero.
peer_errors_above() { (($(agent_counter $1 peer_errors) > $2)); }
wait_for 10 peer_errors_above 1 0
sleep $((2 * BOUND / 1000))
errors=$(agent_counter 1 peer_errors)
# One a heartbeat, give or take the first and the last.
((errors >= 2 * BOUND / HEARTBEAT - 1)) || fail "node1 counted $errors of node3's heartbeats as peer errors"
expect_eq "node1's members" "$(ip netns exec node1 gecko-ctl members --json | gojq -c '[.[].name]')" '["node1","node2"]'
expect_eq "node3's view of node1, which does not count it" "$(state 3 1)" unknown
pretty "node1 counted $errors heartbeats from node3 as peer errors"
