# SPDX-License-Identifier: GPL-2.0-only
# vm-beside
# vm-timeout: 240
# Handoff at accept time: the contact node accepts a new connection and
# hands it to the node its policy chose before the application reads a
# byte of it (gecko-echo-server --spread). The stock client never notices:
# its line session is echoed by node2 from the first line on (node2's
# server echoed every octet, node1's none). Both agents count the one
# handoff, neither a rollback.
#
#   client ── router ── node1 (contact, --spread node2)   node2
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"

trap anycast_down EXIT

RUN=$(mktemp -d)

agent_cmd() {
	if (($1 == 1)); then
		echo "gecko-echo-server --port 7 --stats $RUN/echoed1 --spread $NODE2"
	else
		echo "gecko-echo-server --port 7 --stats $RUN/echoed2"
	fi
}

topo_up
anycast_up 1 2
for k in 1 2; do wait_for 10 grep -q "serving port 7" "$GECKO_OUT/agent$k.log"; done
n1 gecko-ctl register $G lifetime 300 > /dev/null
capture_client

pretty "the client connects to G: node1 accepts and hands the connection to node2"
line_session_start
wait_for 30 bash -c "(( \$(ip netns exec node2 gecko-ctl agent show --json | gojq .counters.handoffs_in) == 1 ))"
# One handoff, counted by both ends; nothing rolled back on either.
for k in 1 2; do
	expect_eq "node$k's handoffs out and in, rollbacks" \
		"$(agent_counter $k handoffs_out) $(agent_counter $k handoffs_in) $(agent_counter $k rollbacks)" \
		"$((k == 1)) $((k == 2)) 0"
done
n1 gecko-ctl handoff show

pretty "the session goes on with node2"
AT=2
for i in $(seq 10); do line "line $i: $(head -c 24 /dev/urandom | base64)"; done
[[ $(client ip xfrm state list src $CLIENT dst $G proto route2) == *"coa $NODE2"* ]] ||
	fail "the client does not send to node2: $(client ip xfrm state list)"
line_session_end
# node2 echoed every line, node1 none.
expect_lines_echoed "$RUN/echoed"

pretty "no reset on the client's link"
expect_no_reset

pretty "node2's server stops under a connection it was handed, and starts again at once"
n2 gecko-ctl clear $G $CLIENT > /dev/null
wait_for 10 bash -c "! ip netns exec client ip xfrm state list src $CLIENT dst $G proto route2 | grep -q 'coa $NODE2'"
line_session_start
wait_for 30 bash -c "(( \$(ip netns exec node2 gecko-ctl agent show --json | gojq .counters.handoffs_in) == 2 ))"
kill "${AGENT[2]}"
wait "${AGENT[2]}" 2> /dev/null || true
# Its side is closed: what is left of the socket waits in FIN_WAIT or TIME_WAIT.
wait_for 10 bash -c "ip netns exec node2 ss -Htn state fin-wait-1 state fin-wait-2 state time-wait | grep -q '\[$G\]:7 '"
read -ra cmd <<< "$(agent_cmd 2)"
ip netns exec node2 "${cmd[@]}" > "$GECKO_OUT/agent2-again.log" 2>&1 &
AGENT[2]=$!
PIDS+=($!)
wait_for 10 grep -q "serving port 7\|cannot listen" "$GECKO_OUT/agent2-again.log"
grep -q "serving port 7" "$GECKO_OUT/agent2-again.log" || fail "node2's server: $(tail -n1 "$GECKO_OUT/agent2-again.log")"
