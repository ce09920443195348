# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 600
# Members that come, drain, leave and come back, under gecko-policy-echo
# (the high-level API) with the round-robin policy, one configuration file
# listing node1 (contact), node2 and node3:
#
#   client fd00:c::1:N ── router ── node1 (contact)   node2   node3
#
#   - node3's program is not running: 20 new clients go to node1 and node2,
#     10 each;
#   - node3's program starts (it joins at runtime): once node1 sees it alive,
#     30 new clients go 10 to each node;
#   - 30 sessions (a line every 0.2 s, no H, until the scenario is done
#     with them, 600 s at most) are placed 10 per node;
#     each node mirrors its 10 to the next member in the file's order
#     (gecko-ctl backups), none older than the mirror period allows; node2,
#     the contact node's backup, holds node1's home registration;
#     gecko-ctl drain on node2 moves its 10 to the others and node2 leaves:
#     node1 sees it "left", 30 new clients go to node1 and node3 only;
#     node1 mirrors to node3 from then on, and neither node2 nor node3
#     holds a mirror of what moved;
#   - drain is refused on the contact node, which places the clients, and
#     the others still see it alive;
#   - node2's program restarted: it rejoins, and 30 new clients go 10 to
#     each node again; the 30 sessions, on node1 and node3 meanwhile, end
#     unbroken with every line echoed;
#   - node1 and node2 restarted on a file without node3: node3 (still on the
#     full file) is no member of theirs; gecko-ctl join on both adds it at
#     runtime and 30 new clients go 10 to each; joining a name or address
#     that is a member's, or telling a member of the file to leave, is
#     refused saying why; gecko-ctl leave on node1 forgets node3, and 30
#     new clients go 15 to node1 and node2.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"

trap anycast_down EXIT

RUN=$(mktemp -d)
CONF=$RUN/gecko.conf
framework_conf "$CONF"
# node2 may take the contact node's role: node1 mirrors its home registration there.
sed -i '/^contact = /a backup = node2' "$CONF"

declare -A LOG=([1]=$GECKO_OUT/agent1.log [2]=$GECKO_OUT/agent2.log [3]=$GECKO_OUT/node3.log)
# lib/anycast.sh prepares node3 (G, the service) but its program starts later: a line for anycast_up to wait for.
agent_cmd() {
	if (($1 == 3)); then
		echo "echo node agent: node3 starts later"
	else
		echo "gecko-policy-echo --cluster $CONF"
	fi
}
credentials() { :; }

# start K [FILE]: node K's program on FILE (default $CONF), logging to LOG[K].
start() {
	ip netns exec node$1 gecko-policy-echo --cluster "${2:-$CONF}" > "${LOG[$1]}" 2>&1 &
	AGENT[$1]=$!
	PIDS+=($!)
	wait_for 10 grep -q "gecko-policy-echo: serving port 7" "${LOG[$1]}"
}
# served K FIRST LAST: how many clients from address FIRST to LAST (decimal) node K has served.
served() {
	local n=0 a
	while read -r a; do
		a=$((16#${a#"serving $PREFIX"}))
		if ((a >= $2 && a <= $3)); then n=$((n + 1)); fi
	done < <(grep -so "^serving ${PREFIX}[0-9a-f]*" "${LOG[$1]}")
	echo $n
}
# mirrors_of K J: how many of node J's connections node K holds the mirrors of; backup_of K: node K's backup.
mirrors_of() {
	ip netns exec node$1 gecko-ctl backups --json |
		gojq "[.members[] | select(.member == \"node$2\") | .connections] | add // 0"
}
mirrored() { [[ $(mirrors_of "$1" "$2") == "$3" ]]; }
backup_of() { ip netns exec node$1 gecko-ctl backups --json | gojq -r '.backup // "-"'; }
# clients FIRST COUNT WANT1 WANT2 WANT3: COUNT new clients, one line each; node K serves WANTK of them.
clients() {
	local k last=$(($1 + $2 - 1)) want=("" "$3" "$4" "$5")
	client "$GECKO_REPO/tests/vm/tools/policy-echo-client" $G 7 $PREFIX $1 $2 5 0 0 > "$RUN/clients.out" ||
		{ cat "$RUN/clients.out"; fail "clients $1 to $last: sessions failed"; }
	for k in 1 2 3; do
		expect_eq "node$k's share of clients $1 to $last" "$(served $k $1 $last)" "${want[$k]}"
	done
	pretty "clients $1 to $last: $3 on node1, $4 on node2, $5 on node3"
}

topo_up
client_addresses 200
anycast_up 1 2 3
wait_for 10 grep -q "registered with the home agent" "${LOG[1]}"
wait_for 10 is_state 1 2 alive

pretty "node3 is down: new clients go to node1 and node2"
expect_eq "node1's view of node3" "$(state 1 3)" unknown
clients 1 20 10 10 0

pretty "node3 joins"
start 3
wait_for 10 is_state 1 3 alive
clients 21 30 10 10 10

pretty "30 sessions, then node2 drains"
# Until told: on a loaded machine, 60 s of them ended before node1's were all mirrored again. A
# line every 0.2 s: as fast as the echoes came back, they and the echo programs took 60 % of
# the scenario's CPU time.
client env SESSIONS_UNTIL="$RUN/sessions-end" "$GECKO_REPO/tests/vm/tools/policy-echo-client" $G 7 $PREFIX 51 30 30 600 0 0 0.2 \
	> "$RUN/sessions.out" &
SESSIONS=$!
# all_placed FIRST LAST: every client from FIRST to LAST is served somewhere.
all_placed() { (($(served 1 $1 $2) + $(served 2 $1 $2) + $(served 3 $1 $2) == $2 - $1 + 1)); }
wait_for 30 all_placed 51 80
on2=$(served 2 51 80)
pretty "each node mirrors its sessions to the next member in the file's order"
for k in 1 2 3; do
	expect_eq "node$k's backup" "$(backup_of $k)" node$((k % 3 + 1))
	wait_for 5 mirrored $((k % 3 + 1)) $k "$(served $k 51 80)"
	ip netns exec node$((k % 3 + 1)) gecko-ctl backups --json |
		gojq -e "[.members[] | select(.member == \"node$k\") | .oldest_ms] | all(. < 2500)" > /dev/null ||
		fail "node$k's mirrors are older than their period allows: $(ip netns exec node$((k % 3 + 1)) gecko-ctl backups)"
done
drained=$(ip netns exec node2 timeout 60 gecko-ctl drain) || fail "node2's drain failed: $drained"
pretty "node2: $drained"
[[ $drained == "moved $on2 client(s), $on2 connection(s), in "* ]] || fail "node2 drained '$drained', not its $on2 sessions"
wait_for 10 is_state 1 2 left
wait_for 10 is_state 3 2 left
registration() { ip netns exec node$1 gecko-ctl backups --json | gojq -c '.registrations'; }
ip netns exec node2 gecko-ctl backups --json |
	gojq -e '.registrations[0] | .member == "node1" and .seq > 0 and .left_s > 0 and .age_ms < 2500' > /dev/null ||
	fail "node2 does not hold node1's home registration: $(registration 2)"
expect_eq "node3's registrations held (it is no backup of node1's)" "$(registration 3)" "[]"
pretty "node2 holds node1's home registration: $(registration 2)"

pretty "node2 left: node1 mirrors to node3, and node2 and node3 forget what moved"
expect_eq "node1's backup" "$(backup_of 1)" node3
wait_for 5 mirrored 3 2 0
wait_for 5 mirrored 2 1 0
all_mirrored() { (($(mirrors_of 3 1) + $(mirrors_of 1 3) == 30)); }
poll 5 all_mirrored ||
	fail "node3 holds $(mirrors_of 3 1) mirrors of node1's and node1 $(mirrors_of 1 3) of node3's, not 30 in all"
ip netns exec node3 gecko-ctl backups
clients 81 30 15 0 15

pretty "the contact node does not drain"
if out=$(ip netns exec node1 gecko-ctl drain 2>&1); then
	fail "node1 drained: $out"
fi
grep -q "node1 is the contact node" <<< "$out" || fail "node1's refusal does not say why: $out"
# Refused, it serves as before: its next heartbeats say so (one a second).
sleep 2.5
expect_eq "node2's view of node1 after the refused drain" "$(state 2 1)" alive

pretty "node2's program restarts and rejoins"
kill "${AGENT[2]}"
wait "${AGENT[2]}" 2> /dev/null || true
LOG[2]=$GECKO_OUT/node2-again.log
start 2
wait_for 10 is_state 1 2 alive
clients 111 30 10 10 10

touch "$RUN/sessions-end"
wait $SESSIONS || { cat "$RUN/sessions.out"; fail "sessions broken while node2 drained and restarted"; }
cat "$RUN/sessions.out"

pretty "node1 and node2 on a file without node3: node3 joins at runtime"
sed '/^\[member.node3\]/,$d' "$CONF" > "$RUN/two.conf"
for k in 1 2; do
	kill "${AGENT[$k]}"
	wait "${AGENT[$k]}" 2> /dev/null || true
	LOG[$k]=$GECKO_OUT/node$k-two.log
	start $k "$RUN/two.conf"
done
wait_for 10 grep -q "registered with the home agent" "${LOG[1]}"
wait_for 10 is_state 1 2 alive
expect_eq "node1's view of node3, not in its file" "$(state 1 3)" ""
for k in 1 2; do ip netns exec node$k gecko-ctl join node3 fd00:13::2; done
wait_for 10 is_state 1 3 alive
wait_for 10 is_state 2 3 alive
ip netns exec node1 gecko-ctl members
clients 141 30 10 10 10

pretty "join and leave refuse members of the file"
if out=$(ip netns exec node1 gecko-ctl join node2 fd00:19::2 2>&1); then fail "joined node2 twice"; fi
grep -q "node2 is a member already" <<< "$out" || fail "the refusal does not say why: $out"
if out=$(ip netns exec node1 gecko-ctl join node9 fd00:12::2 2>&1); then fail "joined node2's address"; fi
grep -q "fd00:12::2 is node2's address already" <<< "$out" || fail "the refusal does not say why: $out"
if out=$(ip netns exec node1 gecko-ctl leave node2 2>&1); then fail "node2 of the file left"; fi
grep -q "node2 is a member in" <<< "$out" || fail "the refusal does not say why: $out"

pretty "node3 leaves node1's agent: no new client goes to it"
ip netns exec node1 gecko-ctl leave node3
expect_eq "node1's view of node3 after leave" "$(state 1 3)" ""
clients 171 30 15 15 0
