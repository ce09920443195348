# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 900
# The high-level API (gecko/framework.h): gecko-policy-echo on the three
# nodes from one configuration file (no gecko-ctl register: the contact
# node registers G itself). The first round runs the node agent inside
# each program; from the second on, gecko-agent runs on each node and the
# programs, restarted for each round, join it.
#
#   client  fd00:c::1:N ──┐
#   client2 fd00:d::1:N ── router ── node1 (contact)   node2   node3
#
#   - placement: for each of random, round-robin and least-connections, 300
#     connections, each from an address of its own (so that each is a new
#     client at the contact node), 10 connecting at a time and all held open
#     until the last is served: every line echoed exactly, and each node
#     serves its share (round-robin and least-connections 100 each, give or
#     take 5 for a handoff the policy had to retry or a load report on its
#     way; random 60 to 140: five standard deviations of a fair draw);
#   - sessions: 200 clients, 100 from each client host, arriving over
#     10 s, then all at once, send
#     random lines, one every 0.2 s at most, until 60 s have passed; one
#     line in 200 ends in "H", on which the server hands the connection to
#     the member the policy picks (about 5 handoffs a second besides the
#     placements): no session broken (an echo 10 s late is), no wrong echo,
#     every node serves sessions, from both client hosts.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"

trap anycast_down EXIT

RUN=$(mktemp -d)
CONF=$RUN/gecko.conf
framework_conf "$CONF"

# The echo is each node's agent at first; the file names the key.
POLICY=random
agent_cmd() { echo "gecko-policy-echo --cluster $CONF --policy $POLICY"; }
credentials() { :; }
declare -A ECHO
# Each node's program logs to agentK.log (lib/anycast.sh), then after each restart to echoK-ROUND.log.
ROUND=0
log_of() { ((ROUND)) && echo "$GECKO_OUT/echo$1-$ROUND.log" || echo "$GECKO_OUT/agent$1.log"; }

# servers_ready: each node's echo serves port 7, node1 registered G and sees the others.
servers_ready() {
	local k
	for k in 1 2 3; do wait_for 10 grep -q "gecko-policy-echo: serving port 7" "$(log_of $k)"; done
	wait_for 10 grep -q "registered with the home agent" "$(log_of 1)"
	wait_for 10 members_alive
}

# restart_servers POLICY: the three echoes again, with POLICY, joined to each node's gecko-agent.
restart_servers() {
	local k
	for k in 1 2 3; do
		kill "${ECHO[$k]:-${AGENT[$k]}}"
		wait "${ECHO[$k]:-${AGENT[$k]}}" 2> /dev/null || true
	done
	POLICY=$1
	ROUND=$((ROUND + 1))
	if ((ROUND == 1)); then
		for k in 1 2 3; do
			ip netns exec node$k gecko-agent --cluster "$CONF" > "$GECKO_OUT/daemon$k.log" 2>&1 &
			AGENT[$k]=$!
			PIDS+=($!)
			wait_for 10 grep -q "^node agent" "$GECKO_OUT/daemon$k.log"
		done
	fi
	for k in 1 2 3; do
		ip netns exec node$k gecko-policy-echo --cluster "$CONF" --policy $POLICY > "$(log_of $k)" 2>&1 &
		ECHO[$k]=$!
		PIDS+=($!)
	done
	servers_ready
	for k in 1 2 3; do grep -q "served by the node agent" "$(log_of $k)" || fail "node$k's echo runs an agent of its own"; done
}

# served K [PREFIX]: how many connections node K's echo served in this round's log (from PREFIX's addresses).
served() { grep -c "^serving ${2:-fd00:[cd]::1:}" "$(log_of $1)" || true; }

# placement FIRST LOW HIGH: 300 new clients from address FIRST (decimal) on; each node serves LOW to HIGH of them.
placement() {
	local k n
	pretty "$POLICY: 300 new clients, 10 connecting at a time, all held open"
	client "$GECKO_REPO/tests/vm/tools/policy-echo-client" $G 7 $PREFIX $1 300 10 -1 0 ||
		fail "$POLICY: sessions failed"
	for k in 1 2 3; do
		n=$(served $k)
		pretty "$POLICY: node$k served $n"
		((n >= $2 && n <= $3)) || fail "$POLICY: node$k served $n connections, not $2 to $3"
	done
	expect_eq "$POLICY: connections served" $(($(served 1) + $(served 2) + $(served 3))) 300
}

topo_up
# 300 for each placement round, 100 for the sessions; client2 100 for the sessions.
client_addresses 1000
anycast_up 1 2 3
client2_anycast
client_addresses 100 client2 $PREFIX2
servers_ready
pretty "$(grep "registered with the home agent" "$(log_of 1)")"

placement 1 60 140
restart_servers round-robin
placement 301 95 105
restart_servers least-connections
placement 601 95 105

pretty "200 sessions from two client hosts (arriving over 10 s) for 60 s, a random line every 0.2 s, some with H (hand off by the policy)"
restart_servers random
client "$GECKO_REPO/tests/vm/tools/policy-echo-client" $G 7 $PREFIX 901 100 100 60 0.5 10 0.2 > "$RUN/sessions.out" &
FIRST=$!
client2 "$GECKO_REPO/tests/vm/tools/policy-echo-client" $G 7 $PREFIX2 1 100 100 60 0.5 10 0.2 > "$RUN/sessions2.out" ||
	{ cat "$RUN/sessions2.out"; fail "client2: sessions broken or wrong"; }
wait $FIRST || { cat "$RUN/sessions.out"; fail "client: sessions broken or wrong"; }
echo "client:  $(cat "$RUN/sessions.out")"
echo "client2: $(cat "$RUN/sessions2.out")"
handed=0
for k in 1 2 3; do
	out=$(grep -c "handed off after" "$(log_of $k)" || true)
	pretty "node$k: served $(served $k $PREFIX) sessions of client, $(served $k $PREFIX2) of client2 (placed or handed over), handed $out off on an H"
	(($(served $k $PREFIX) > 0 && $(served $k $PREFIX2) > 0)) || fail "node$k did not serve both client hosts"
	handed=$((handed + out))
done
((handed > 0)) || fail "no session was handed off on an H"
# A handoff that fails rolls back and the session goes on: counted, not a failure.
pretty "handoffs rolled back: $(($(agent_counter 1 rollbacks) + $(agent_counter 2 rollbacks) + $(agent_counter 3 rollbacks)))"
