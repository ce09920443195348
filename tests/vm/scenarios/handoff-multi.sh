# SPDX-License-Identifier: GPL-2.0-only
# vm-beside
# vm-timeout: 360
# The unit of a handoff is the client address: all its connections move
# together, another client's stay. Each node runs gecko-echo-server, with
# the node agent inside (gecko::Node, no gecko-agent).
#
#   client fd00:c::2 (three streams)
#          fd00:c::3 (one stream) ── router ── node1 (contact)   node2   node3
#
# The client has a second address on its link, which gecko-cnd serves as
# well. fd00:c::2 streams three echoes through G at once, fd00:c::3 one;
# all four start on node1. fd00:c::2 moves node1 -> node2 -> node3 -> node1
# twice: each handoff takes its three connections (the donor's record and
# its moved flows say 3), and the streams go on at the acceptor.
# fd00:c::3 stays on node1 throughout: no node has a record, flow or
# binding of it, and its stream ends on node1. Between two moves, an
# application on node2 with two of fd00:c::2's connections asks the
# library to hand off one of them alone: refused (EBUSY, naming the
# other). Every stream is byte-exact, no reset on the client's link. The
# node channel runs with certificates here (CERTS=1 in lib/anycast.sh), a
# CA's and one per node naming its care-of address, instead of the cluster
# key the other scenarios use.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"

trap anycast_down EXIT
CERTS=1

# 84 s at that rate: the streams outlast the six moves even when each
# takes seconds (one CPU beside another guest: 6 MB ended at node3).
SIZE=$((12 << 20))
RATE=150000
OTHER=fd00:c::3
RUN=$(mktemp -d)
STREAMS=()

# The echo is each node's agent.
agent_cmd() { echo "gecko-echo-server --port 7 --stats $RUN/echoed$1"; }

echoed() { cut -d' ' -f2 "$RUN/echoed$1"; }
# echoing K: node K's server has echoed 192 KB more than it had.
echoing() {
	local from
	from=$(echoed "$1")
	wait_for 30 bash -c "(( \$(cut -d' ' -f2 $RUN/echoed$1) > $from + 196608 ))"
}
# of K WHAT ADDR: how many of node K's WHAT (handoff show, flow show, binding show $G) concern ADDR.
of() {
	case $2 in
	handoffs) ip netns exec "node$1" gecko-ctl handoff show --json | gojq "[.[] | select(.client == \"$3\")] | length" ;;
	flows) ip netns exec "node$1" gecko-ctl flow show --json | gojq "[.[] | select(.remote == \"$3\")] | length" ;;
	bindings) ip netns exec "node$1" gecko-ctl binding show $G --json | gojq "[.[] | select(.peer == \"$3\")] | length" ;;
	esac
}

topo_up
client ip -6 addr add $OTHER/64 dev eth0 nodad
anycast_up 1 2 3
for k in 1 2 3; do wait_for 10 grep -q "serving port 7" "$GECKO_OUT/agent$k.log"; done
n1 gecko-ctl register $G lifetime 300 > /dev/null
capture_client

pretty "three streams from $CLIENT and one from $OTHER through G's echo, on node1"
for i in 1 2 3; do
	client "$GECKO_REPO/tests/vm/tools/stream-echo-client" $G 7 $SIZE $RATE $CLIENT > "$GECKO_OUT/client$i.out" 2>&1 &
	STREAMS+=($!)
done
client "$GECKO_REPO/tests/vm/tools/stream-echo-client" $G 7 $SIZE $RATE $OTHER > "$GECKO_OUT/other.out" 2>&1 &
OTHER_PID=$!
wait_for 30 bash -c "(( \$(grep -c 'accepted $CLIENT port' $GECKO_OUT/agent1.log) == 3 ))"
wait_for 30 grep -q "accepted $OTHER port" "$GECKO_OUT/agent1.log"
echoing 1

pretty "$CLIENT moves node1 -> node2 -> node3 -> node1, twice, with its three connections"
for i in $(seq 6); do
	from=$AT
	handoff_next || fail "handoff $i failed"
	MOVED=$((MOVED + 1))
	record=$(ip netns exec node$from gecko-ctl handoff show --json | gojq -r '.[-1] | "\(.direction) \(.client) \(.conns) \(.moved)"')
	expect_eq "node$from's record of the handoff (direction, client, connections, moved)" "$record" "out $CLIENT 3 true"
	expect_eq "node$from's moved flows of $CLIENT" \
		"$(ip netns exec node$from gecko-ctl flow show --json |
			gojq "[.[] | select(.remote == \"$CLIENT\" and .state == \"moved\")] | length")" 3
	echoing $AT

	((i == 1)) || continue
	pretty "on node2, an application with two of $CLIENT's connections cannot hand off one alone"
	# Its own agent (control socket, port) beside the echo server's, for the check only.
	n2 gecko-node-split 7001 $NODE3 > "$GECKO_OUT/split.log" 2>&1 &
	SPLIT=$!
	wait_for 10 grep -q listening "$GECKO_OUT/split.log"
	for _ in 1 2; do
		client socat -u TCP6:[$G]:7001,bind=[$CLIENT] - > /dev/null &
		PIDS+=($!)
	done
	wait $SPLIT || fail "gecko-node-split: $(cat "$GECKO_OUT/split.log")"
	grep "^refused" "$GECKO_OUT/split.log"
	# Both ends closed before the client moves on: its last segments must still reach node2.
	wait_for 10 bash -c "[[ -z \$(ip netns exec client ss -Htan '( dport = :7001 )') ]]"
done

kill -0 "${STREAMS[@]}" $OTHER_PID 2> /dev/null || fail "a stream ended before the handoffs did"
pretty "every stream completes, byte for byte"
for i in 1 2 3; do
	wait ${STREAMS[i - 1]} || fail "stream $i: $(cat "$GECKO_OUT/client$i.out")"
	echo "$CLIENT, stream $i: $(cat "$GECKO_OUT/client$i.out")"
done
wait $OTHER_PID || fail "$OTHER: $(cat "$GECKO_OUT/other.out")"
echo "$OTHER: $(cat "$GECKO_OUT/other.out")"
handoff_summary

pretty "$OTHER stayed on node1: no node has a record, flow or binding of it"
for k in 1 2 3; do
	for what in handoffs flows bindings; do
		expect_eq "node$k: $what of $OTHER" "$(of $k $what $OTHER)" 0
	done
done
grep -q "closed $OTHER" "$GECKO_OUT/agent1.log" || fail "node1 did not serve $OTHER to the end"
! grep -h "arrival: $OTHER\|hand-off: $OTHER" "$GECKO_OUT"/agent[123].log || fail "$OTHER's connection moved"

pretty "gecko-cnd answers $OTHER's Binding Updates too: node2 binds it, then clears"
# So that it stayed because it was not asked to move, not because it could not.
n2 gecko-ctl rr $G $OTHER > /dev/null
n2 gecko-ctl bu $G $OTHER
expect_eq "node2's binding of $OTHER" "$(n2 gecko-ctl binding show $G $OTHER --json | gojq -r '.[0].state')" bound
n2 gecko-ctl clear $G $OTHER
expect_eq "node2's bindings of $OTHER after the clear" "$(of 2 bindings $OTHER)" 0

pretty "no reset on the client's link"
expect_no_reset
pretty "PASS"
