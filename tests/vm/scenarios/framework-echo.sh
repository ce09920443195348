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
#   - proximity: node1 15 ms from everyone, node2 30 ms more from client2's
#     network (netem on its link, by destination), node3 30 ms more from
#     client's. Ten clients from each host, one at a time: node2 and node3
#     are each tried once on both networks; then node1's agent knows every
#     member's distance to both (gecko-ctl proximity, in the others'
#     heartbeats) and the next 30 clients of each host, 10 at a time, go to
#     the nearest: client's to node2, client2's to node3 (27 at least, for
#     a handoff the policy had to retry);
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

# restart_servers POLICY [new-agents]: the three echoes again, with POLICY, joined to each
# node's gecko-agent; with new-agents, the agents too (and what they measured) beforehand.
restart_servers() {
	local k
	for k in 1 2 3; do
		kill "${ECHO[$k]:-${AGENT[$k]}}"
		wait "${ECHO[$k]:-${AGENT[$k]}}" 2> /dev/null || true
	done
	POLICY=$1
	ROUND=$((ROUND + 1))
	if ((ROUND == 1)) || [[ ${2:-} == new-agents ]]; then
		for k in 1 2 3; do
			if ((ROUND > 1)); then
				kill "${AGENT[$k]}"
				wait "${AGENT[$k]}" 2> /dev/null || true
			fi
			ip netns exec node$k gecko-agent --cluster "$CONF" > "$GECKO_OUT/daemon$k-$ROUND.log" 2>&1 &
			AGENT[$k]=$!
			PIDS+=($!)
			wait_for 10 grep -q "^node agent" "$GECKO_OUT/daemon$k-$ROUND.log"
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

# far_from K NET: node K's packets to NET wait 30 ms more than the others (1 ms).
far_from() {
	n$1 tc qdisc replace dev eth0 root handle 1: prio bands 2 priomap 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
	n$1 tc qdisc add dev eth0 parent 1:1 netem limit 100000 delay 1ms
	n$1 tc qdisc add dev eth0 parent 1:2 netem limit 100000 delay 31ms
	n$1 tc filter add dev eth0 parent 1: protocol ipv6 u32 match ip6 dst "$2" flowid 1:2
}

# nearest HOST_PREFIX: the member node1's agent has nearest to that network, once it knows all three.
nearest() {
	local d
	d=$(n1 gecko-ctl proximity --json "${1}3e9" | gojq -r 'if length == 3 then .[0].member else empty end')
	[[ -n $d ]] && echo "$d"
}

# proximity: the round described above.
proximity() {
	local before2 before3 got2 got3 first
	pretty "proximity: node1 15 ms from everyone, node2 30 ms more from client2, node3 30 ms more from client"
	link_netem node1 delay 15ms
	far_from 2 fd00:d::/64
	far_from 3 fd00:c::/64
	# New agents: the others keep for 10 minutes what the earlier rounds measured without these
	# delays, and a member that serves no client of a network in this round never measures it again.
	restart_servers proximity new-agents
	client "$GECKO_REPO/tests/vm/tools/policy-echo-client" $G 7 $PREFIX 1001 10 1 -3 0 ||
		fail "proximity: the first clients failed"
	client2 "$GECKO_REPO/tests/vm/tools/policy-echo-client" $G 7 $PREFIX2 101 10 1 -3 0 ||
		fail "proximity: client2's first clients failed"
	pretty "proximity: the first 10 of each host: node2 served $(served 2 $PREFIX) and $(served 2 $PREFIX2), node3 $(served 3 $PREFIX) and $(served 3 $PREFIX2)"
	for k in 2 3; do
		(($(served $k $PREFIX) >= 1 && $(served $k $PREFIX2) >= 1)) || fail "proximity: node$k was not tried on both networks"
	done
	wait_for 15 nearest $PREFIX > /dev/null
	wait_for 15 nearest $PREFIX2 > /dev/null
	pretty "node1's view of client's network: $(n1 gecko-ctl proximity ${PREFIX}3e9 | tr -s ' \n' ' ')"
	pretty "node1's view of client2's network: $(n1 gecko-ctl proximity ${PREFIX2}3e9 | tr -s ' \n' ' ')"
	expect_eq "nearest to client" "$(nearest $PREFIX)" node2
	expect_eq "nearest to client2" "$(nearest $PREFIX2)" node3
	before2=$(served 2 $PREFIX) before3=$(served 3 $PREFIX2)
	client "$GECKO_REPO/tests/vm/tools/policy-echo-client" $G 7 $PREFIX 1011 30 10 -1 0 > "$RUN/near.out" &
	first=$!
	client2 "$GECKO_REPO/tests/vm/tools/policy-echo-client" $G 7 $PREFIX2 111 30 10 -1 0 ||
		fail "proximity: client2's sessions failed"
	wait $first || { cat "$RUN/near.out"; fail "proximity: client's sessions failed"; }
	got2=$(($(served 2 $PREFIX) - before2)) got3=$(($(served 3 $PREFIX2) - before3))
	pretty "proximity: node2 served $got2 of client's next 30, node3 $got3 of client2's"
	((got2 >= 27 && got3 >= 27)) || fail "proximity: the nearest member did not get the clients"
	for k in 1 2 3; do link_netem node$k delay 1ms; done
}

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
# 300 for each placement round, 100 for the sessions, 40 for proximity; client2 100 and 40.
client_addresses 1040
anycast_up 1 2 3
client2_anycast
client_addresses 140 client2 $PREFIX2
servers_ready
pretty "$(grep "registered with the home agent" "$(log_of 1)")"

placement 1 60 140
restart_servers round-robin
placement 301 95 105
restart_servers least-connections
placement 601 95 105
proximity

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
