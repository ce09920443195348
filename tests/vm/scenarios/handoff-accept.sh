# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 240
# Handoff at accept time: the contact node accepts a new connection and
# hands it to the node its policy chose before the application reads a
# byte of it (gecko-echo-server --spread). The stock client never notices:
# its line session is echoed by node2 from the first line on.
#
#   client ── router ── node1 (contact, --spread node2)   node2
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"

trap anycast_down EXIT

agent_cmd() {
	if (($1 == 1)); then
		echo "gecko-echo-server --port 7 --spread $NODE2"
	else
		echo "gecko-echo-server --port 7"
	fi
}

topo_up
anycast_up 1 2
for k in 1 2; do wait_for 10 grep -q "serving port 7" "$GECKO_OUT/agent$k.log"; done
n1 gecko-ctl register $G lifetime 300 > /dev/null
capture_client

pretty "the client connects to G: node1 accepts and hands the connection to node2"
line_session_start
wait_for 30 bash -c "(( \$(ip netns exec node2 gecko-ctl agent show --json | jq .counters.handoffs_in) == 1 ))"
expect_eq "node1's handoffs out" "$(agent_counter 1 handoffs_out)" 1
expect_eq "node1's rollbacks" "$(agent_counter 1 rollbacks)" 0
n1 gecko-ctl handoff show

pretty "the session goes on with node2"
for i in $(seq 10); do line "line $i: $(head -c 24 /dev/urandom | base64)"; done
[[ $(client ip xfrm state list src $CLIENT dst $G proto route2) == *"coa $NODE2"* ]] ||
	fail "the client does not send to node2: $(client ip xfrm state list)"
line_session_end

pretty "no reset on the client's link"
expect_no_reset
