# SPDX-License-Identifier: GPL-2.0-only
# vm-beside
# vm-timeout: 240
# An interactive line session with G's echo across 100 handoffs, with the
# real signalling and a stock client. Each node runs gecko-echo-server,
# with the node agent inside (gecko::Node, no gecko-agent).
#
#   client ── router ── node1 (contact)   node2   node3
#
# The client (tests/vm/tools/line-echo-client, driven through a pipe) keeps
# one connection open; the scenario alternates a handoff, asked of the node
# that serves the client (node1 -> node2 -> node3 -> node1 ...), and a line,
# which must come back whole within 1 s from the node the connection is on
# now (at the end, each node echoed exactly the lines sent while it had the
# connection). Every handoff must complete, none roll back, and no reset
# cross the client's link.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"

trap anycast_down EXIT

HANDOFFS=100
RUN=$(mktemp -d)

# The echo is each node's agent.
agent_cmd() { echo "gecko-echo-server --port 7 --stats $RUN/echoed$1"; }

topo_up
anycast_up 1 2 3
for k in 1 2 3; do wait_for 10 grep -q "serving port 7" "$GECKO_OUT/agent$k.log"; done
n1 gecko-ctl register $G lifetime 300 > /dev/null
capture_client

pretty "the client opens a line session with G's echo, on node1"
line_session_start
line "hello from $CLIENT"
wait_for 10 grep -q "accepted $CLIENT" "$GECKO_OUT/agent1.log"

pretty "$HANDOFFS handoffs, a line after each"
for i in $(seq $HANDOFFS); do
	# An idle connection: each handoff must complete.
	handoff_next > "$GECKO_OUT/handoff.last" || fail "$(cat "$GECKO_OUT/handoff.last")"
	cat "$GECKO_OUT/handoff.last" >> "$GECKO_OUT/handoffs.log"
	MOVED=$((MOVED + 1))
	line "line $i, to node$AT: $(head -c 24 /dev/urandom | base64)"
	((i % 10)) || pretty "$i handoffs, now on node$AT: $(tail -n1 "$GECKO_OUT/handoffs.log")"
done

pretty "the session ends cleanly"
line_session_end
expect_lines_echoed "$RUN/echoed"

pretty "echo times after a handoff (min / median / max)"
awk '{ print $2 }' "$GECKO_OUT/lines.log" | sort -n |
	awk '{ t[NR] = $1 } END { printf "%d lines: %.1f / %.1f / %.1f ms\n", NR, t[1], t[int((NR + 1) / 2)], t[NR] }'
handoff_summary

pretty "no reset on the client's link"
expect_no_reset
pretty "PASS"
