# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 600
# Four Gecko programs on every node, under one node agent (gecko-agent
# --cluster), from one configuration file:
#
#   client fd00:c::1:N ── router ── node1 (contact)   node2   node3
#                                   each: gecko-agent --cluster FILE
#                                         gecko-policy-echo (port 7, round-robin)
#                                         gecko-policy-files (port 80, high-level API)
#                                         gecko-file-server (port 8080, gecko::Node)
#                                         geckoproxy (port 81, to gecko-request-rate)
#
#   - each program joins its node's agent (gecko-ctl programs lists them);
#     the agent mirrors their connections to the node's backup, with the
#     application state each file server gives it;
#     a program of another distributed server is refused, saying why;
#   - one client (one address) downloads 48 MB from G's port 8080 at
#     512 KB/s (curl into tests/vm/tools/player), then the same from port
#     80 (the contact node places it by the policy, the first download with
#     it), while an echo session from the same address sends a line every
#     0.2 s, one in 5 ending in H, until three handoffs moved the three
#     connections (90 s at most; then the downloads hurry): each
#     placement and each H moves the client as a whole, its downloads with
#     it (the binding is the client's, not a port's); both files arrive
#     byte for byte with no reset, every line is echoed, every handoff moved
#     every connection the client had;
#   - node2's echo program is killed: node2 stays in the cluster (the
#     others see it alive), its file server is not disturbed; restarted, it
#     rejoins, and new clients reach it again;
#   - requests through the proxies: their counters reach gecko-ctl programs
#     through the agents, and no program but the one killed left its agent;
#   - node1's proxy is stopped (SIGSTOP): four new clients, placed by node1,
#     all served; the placements waited a second at most for the stopped
#     program's connections not told yet, and said so;
#   - gecko-ctl drain on node3 while it serves a download of
#     gecko-file-server, which has no policy: the framework programs drain
#     themselves, the agent moves the download to a member with the fewest
#     connections, node3 leaves, the file arrives byte for byte.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"

trap anycast_down EXIT

# The downloads last until the echo session's handoffs are done: 48 MB is 96 s
# at the player's pace, then the player hurries. The drain's download (curl's
# --limit-rate) needs only outlast a handoff and the drain: 12 MB.
SIZE=$((48 << 20))
SIZE_B=$((12 << 20))
RUN=$(mktemp -d)
CONF=$RUN/gecko.conf
WWW=$RUN/www
framework_conf "$CONF"
# A 6 s failure bound: under emulation on a loaded host, restoring a handoff's
# state (the two downloads' send queues, megabytes) kept an agent's loop from
# its heartbeats for 3.5 s, its peers took it for dead, and a handoff rolled back.
sed -i '1i heartbeat-misses = 6' "$CONF"
mkdir -p "$WWW"
head -c $SIZE /dev/urandom > "$WWW/blob"
want=$(sha256sum < "$WWW/blob")
head -c $SIZE_B "$WWW/blob" > "$WWW/blobB"
want_b=$(sha256sum < "$WWW/blobB")

agent_cmd() { echo "gecko-agent --cluster $CONF"; }
PATH=$GECKO_REPO/build/tools/geckoproxy:$PATH
credentials() { :; }

# echo_start K [LOG]: node K's echo program.
declare -A ECHO
echo_start() {
	local log=${2:-$GECKO_OUT/echo$1.log}
	ip netns exec node$1 gecko-policy-echo --cluster "$CONF" > "$log" 2>&1 &
	ECHO[$1]=$!
	PIDS+=($!)
	wait_for 10 grep -q "gecko-policy-echo: serving port 7" "$log"
}
declare -A PROXY
joined() { (($(grep -c "programs: [-a-z]* ([0-9]*) joined" "$GECKO_OUT/agent$1.log") >= $2)); }

topo_up
client_addresses 20
anycast_up 1 2 3
for k in 1 2 3; do
	echo_start $k
	ip netns exec node$k gecko-policy-files --cluster "$CONF" --root "$WWW" > "$GECKO_OUT/files$k.log" 2>&1 &
	PIDS+=($!)
	ip netns exec node$k gecko-file-server --port 8080 --root "$WWW" \
		> "$GECKO_OUT/server$k.log" 2>&1 &
	PIDS+=($!)
	wait_for 10 grep -q "serving port 80 on node$k" "$GECKO_OUT/files$k.log"
	wait_for 10 grep -q "serving port 8080" "$GECKO_OUT/server$k.log"
	ip netns exec node$k gecko-request-rate serve ::1 8081 1024 &
	PIDS+=($!)
	ip netns exec node$k geckoproxy -g "$CONF" -p 81 -a 8081 > "$GECKO_OUT/proxy$k.log" 2>&1 &
	PROXY[$k]=$!
	PIDS+=($!)
	wait_for 10 grep -q "serves port 81" "$GECKO_OUT/proxy$k.log"
	wait_for 10 joined $k 4
done
wait_for 10 grep -q "registered with the home agent" "$GECKO_OUT/echo1.log"
wait_for 10 members_alive
pretty "four programs joined each node's agent"
# programs K: node K's programs, "name ports connections; ...", by name.
programs() {
	ip netns exec node$1 gecko-ctl programs --json |
		gojq -r '[.[] | "\(.name) \(.ports | join(",")) \(.connections)"] | sort | join("; ")'
}
programs_are() { [[ $(programs $1) == "$2" ]]; }
expect_eq "node2's programs" "$(programs 2)" "gecko-file-server 8080 0; gecko-policy-echo 7 0; gecko-policy-files 80 0; geckoproxy 81 0"

pretty "a program of another distributed server is refused"
sed "s/^service = .*/service = fd00:a::200/" "$CONF" > "$RUN/other.conf"
if out=$(ip netns exec node2 timeout 10 gecko-policy-echo --cluster "$RUN/other.conf" --port 8 2>&1); then
	fail "node2's agent took a program of another service: $out"
fi
grep -q "serves the cluster of $G, not of fd00:a::200" <<< "$out" || fail "the refusal does not say why: $out"

pretty "one client: two downloads at 512 KB/s and an echo session, moved together"
A=${PREFIX}1
capture_client
# download PORT NAME: the file from G's PORT, from $A, to $RUN/NAME.
download() { play "$RUN/$2" "$GECKO_OUT/$2.err" 524288 "http://[$G]:$1/blob" --interface $A; }
download 8080 got8080 &
CURL8080=$!
# Before the next connection: one the contact node has not accepted yet cannot move with the client.
server_serves() { grep -q "^$1: GET /blob" "$GECKO_OUT/server1.log"; }
wait_for 30 server_serves $A
download 80 got80 &
CURL80=$!
files_serving() { cat "$GECKO_OUT"/files[123].log | grep -q "^serving $A "; }
wait_for 10 files_serving
# One session from $A: a line every 0.2 s, 20 % with H, until told (on a loaded machine, 12 s of it moved the client twice).
client env SESSIONS_UNTIL="$RUN/session-end" "$GECKO_REPO/tests/vm/tools/policy-echo-client" $G 7 $PREFIX 1 1 1 120 20 0 0.2 \
	> "$RUN/session.out" &
SESSION=$!
# mirrored PORT FILTER: a node holds the mirror of the client's connection to PORT, as FILTER (a jq program) says.
mirrored() {
	local k
	for k in 1 2 3; do
		ip netns exec node$k gecko-ctl backups --json |
			gojq -e --arg c $A ".held | any(.client == \$c and .port == $1 and $2)" > /dev/null && return 0
	done
	return 1
}
# While the session moves the client around.
wait_for 10 mirrored 80 ".state_len > 0"
wait_for 10 mirrored 8080 ".state_len > 0"
pretty "both downloads mirrored at the serving node's backup, with their programs' state"
# The donors' records: the client's handoffs, each with every connection it had (3 once the session began).
handoff_records() {
	for k in 1 2 3; do ip netns exec node$k gecko-ctl handoff show --json; done |
		gojq -s --arg c $A '[.[][] | select(.direction == "out" and .client == $c)]'
}
moved_three() { (($(handoff_records | gojq '[.[] | select(.moved and .conns == 3)] | length') >= 3)); }
poll 90 moved_three || true
touch "$RUN/session-end" "$RUN/hurry"
wait $SESSION || { cat "$RUN/session.out"; fail "the echo session broke"; }
cat "$RUN/session.out"
for port in 8080 80; do
	pid=CURL$port
	wait ${!pid} || fail "curl of port $port exited with status $?: $(cat "$GECKO_OUT/got$port.err")"
	expect_eq "port $port: downloaded size" "$(stat -c %s "$RUN/got$port")" $SIZE
	expect_eq "port $port: download sha256" "$(sha256sum < "$RUN/got$port")" "$want"
done
expect_no_reset

records=$(handoff_records)
moved=$(gojq '[.[] | select(.moved)] | length' <<< "$records")
three=$(gojq '[.[] | select(.moved and .conns == 3)] | length' <<< "$records")
pretty "$moved handoffs of the client, $three with its three connections"
((moved >= 3)) || fail "only $moved handoffs of the client: the session's H did not move it"
((three >= 3)) || fail "only $three handoffs moved the three connections: $records"
gojq -e 'all(.[]; .moved and .conns >= 2)' <<< "$records" > /dev/null ||
	fail "a handoff failed or left a connection behind: $records"
moved_on=$(cat "$GECKO_OUT"/files[123].log | grep -c "^$A: moved on")
pretty "gecko-policy-files moved the port 80 download on $moved_on times"
((moved_on > 0)) || fail "the port 80 download never moved"
continued=$(cat "$GECKO_OUT"/server[123].log | grep -c "^$A: continuing /blob at octet")
pretty "gecko-file-server continued the port 8080 download $continued times"
((continued > 0)) || fail "the port 8080 download never moved"

pretty "node2's echo program dies: node2 stays in the cluster"
kill -9 "${ECHO[2]}"
wait "${ECHO[2]}" 2> /dev/null || true
wait_for 10 grep -q "programs: gecko-policy-echo (${ECHO[2]}) left" "$GECKO_OUT/agent2.log"
for i in 1 2 3 4 5 6; do
	expect_eq "node1's view of node2, $i/2 s after the kill" "$(state 1 2)" alive
	sleep 0.5
done
pretty "restarted, it rejoins: new clients reach node2 again"
echo_start 2 "$GECKO_OUT/echo2-again.log"
wait_for 10 joined 2 4
client "$GECKO_REPO/tests/vm/tools/policy-echo-client" $G 7 $PREFIX 2 6 2 0 0 > "$RUN/clients.out" ||
	{ cat "$RUN/clients.out"; fail "new clients failed after the restart"; }
n=$(grep -c "^serving $PREFIX" "$GECKO_OUT/echo2-again.log")
((n >= 1)) || fail "no new client reached node2's restarted echo program"
pretty "node2's restarted program served $n of 6 new clients"
# gecko-ctl programs: the contact node's echo says its policy and where it placed clients.
echo_detail() { ip netns exec node1 gecko-ctl programs --json | gojq -r '.[] | select(.name == "gecko-policy-echo") | .detail'; }
placed_everywhere() { [[ $(echo_detail) =~ ^policy\ round-robin\;\ placed\ node1\ [0-9]+,\ node2\ [0-9]+,\ node3\ [0-9]+ ]]; }
wait_for 5 placed_everywhere
pretty "node1's echo: $(echo_detail)"
ip netns exec node1 gecko-ctl programs

pretty "requests through the proxies: their counters reach the agents"
out=$(client gecko-request-rate load $G 81 4 2) || fail "requests through geckoproxy failed: $out"
requests=$(gojq .requests <<< "$out")
# closed: the sessions the proxies relayed to their end, as gecko-ctl programs shows them.
closed() {
	local k
	for k in 1 2 3; do
		ip netns exec node$k gecko-ctl programs --json | gojq '.[] | select(.name == "geckoproxy") | .counters.closed'
	done | gojq -s add
}
proxies_counted() { (($(closed) == requests)); }
wait_for 5 proxies_counted
pretty "$requests requests, the proxies' counters say $(closed) sessions closed"
left=$(cat "$GECKO_OUT"/agent[123].log | grep "programs: .* left" || true)
[[ $left == "programs: gecko-policy-echo ("*") left (it ended);"* && $(wc -l <<< "$left") == 1 ]] ||
	fail "programs other than the echo killed left their agent: $left"

pretty "node1's proxy stopped: its agent's placements wait for its new connections a second at most"
# Each placement asks every other program of node1 for the connections it has not told the agent of yet.
kill -STOP "${PROXY[1]}"
client "$GECKO_REPO/tests/vm/tools/policy-echo-client" $G 7 $PREFIX 10 4 4 0 0 > "$RUN/stopped.out" ||
	{ cat "$RUN/stopped.out"; kill -CONT "${PROXY[1]}"; fail "new clients failed while node1's proxy was stopped"; }
kill -CONT "${PROXY[1]}"
unsynced=$(grep -c "programs: geckoproxy (${PROXY[1]}) did not tell its new connections within 1 s" "$GECKO_OUT/agent1.log" || true)
pretty "$unsynced placement(s) went on without the stopped proxy's answer"
((unsynced >= 1)) || fail "no placement waited for the stopped proxy: $(grep programs: "$GECKO_OUT/agent1.log" | tail -5)"

pretty "node3 drains under a download of the program without a policy"
B=${PREFIX}9
client curl -sS -g --interface $B --limit-rate 512K -o "$RUN/gotB" "http://[$G]:8080/blobB" 2> "$GECKO_OUT/gotB.err" &
CURLB=$!
wait_for 10 server_serves $B
ip netns exec node1 gecko-ctl handoff $B to fd00:13::2
drained=$(ip netns exec node3 timeout 60 gecko-ctl drain) || fail "node3's drain failed: $drained"
pretty "node3: $drained"
[[ $drained == *"gecko-file-server ("*"): the agent moved 1 client(s)"* ]] ||
	fail "the agent did not move the download: $drained"
wait_for 10 is_state 1 3 left
wait $CURLB || fail "curl of port 8080 exited with status $?: $(cat "$GECKO_OUT/gotB.err")"
expect_eq "the drained download's sha256" "$(sha256sum < "$RUN/gotB")" "$want_b"
pretty "PASS"
