# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 300
# vm-beside
# The contact node dies while a client downloads from it and holds an echo
# session with it, and while another connects: its first backup takes its
# place.
#
#   client ── router ── node1 (contact; backups node2, node3)   node2   node3
#                       each: gecko-agent --cluster FILE, gecko-file-server (port 8080),
#                       gecko-echo-server (port 7)
#
# The client reads its download at 1 MB/s (tests/vm/tools/player) until
# node1 is back, then as fast as it comes.
# node1 serves the download and the session itself (through the home
# agent, no binding) and mirrors them to node2, with its home registration
# of G. node1 crashes (its
# link is cut and its processes killed: nothing of it answers, as of a
# machine that died); a new client starts its download at once, and tries
# again each second while its SYNs are lost or the home agent's tunnel
# answers them with "address unreachable", until G has a contact node
# again. node2, node1's first
# backup, registers G with the home agent from its care-of address (the
# sequence number after node1's last), says in its heartbeats that it is
# the contact node (node3 follows), and takes the download and the session
# over: the session's next lines are echoed by node2. Both downloads end
# byte for byte, new clients reach G, and node1, back on its link and
# started again, follows node2 instead of taking G back.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"
. "$GECKO_REPO/tests/vm/lib/recovery.sh"

trap anycast_down EXIT

SIZE=$((48 << 20))
RUN=$(mktemp -d)
recovery_conf $SIZE
head -c $((1 << 20)) /dev/urandom > "$WWW/small"
want=$(sha256sum < "$WWW/blob")
small=$(sha256sum < "$WWW/small")

topo_up
client_addresses 8
anycast_up 1 2 3
recovery_up
for k in 1 2 3; do
	ip netns exec node$k gecko-echo-server --port 7 > "$GECKO_OUT/echo$k.log" 2>&1 &
	PIDS+=($!)
	ECHO[$k]=$!
	wait_for 10 grep -q "serving port 7" "$GECKO_OUT/echo$k.log"
done

# get I FILE [CURL OPTION...]: client address I downloads FILE from G to $RUN/FILE.I.
get() {
	local i=$1 file=$2
	shift 2
	client curl -sS -g -m 120 --interface ${PREFIX}$i "$@" -o "$RUN/$file.$i" "http://[$G]:8080/$file" \
		2> "$GECKO_OUT/curl.$file.$i.err"
}
# expect_got I FILE SHA256: what get I FILE wrote.
expect_got() { expect_eq "client ${PREFIX}$1: $2's sha256" "$(sha256sum < "$RUN/$2.$1")" "$3"; }
registered_at() { grep -q "registered $G at $1 " "$GECKO_OUT/had.log"; }
registration_mirrored() {
	n2 gecko-ctl backups --json | gojq -e '.registrations | any(.member == "node1" and .seq > 0)'
}
session_mirrored() { n2 gecko-ctl backups --json | gojq -e '.held | any(.member == "node1" and .port == 7)'; }
follows() { grep -q "the contact node is node2" "$(ls -t "$GECKO_OUT"/agent$1*.log | head -1)"; }

A=${PREFIX}1
pretty "the client downloads $((SIZE >> 20)) MB at 1 MB/s from node1, the contact node"
capture_client
play "$RUN/blob.1" "$GECKO_OUT/curl.blob.1.err" $((1 << 20)) "http://[$G]:8080/blob" -m 240 --interface $A &
CURL=$!
wait_for 30 grep -q "^$A: GET /blob" "$GECKO_OUT/server1.log"
pretty "an echo session with node1"
line_session_start
line "before the crash"
line "still before the crash"
wait_for 10 mirrored_at 2 1
wait_for 10 session_mirrored
wait_for 10 registration_mirrored
pretty "node2 holds node1's mirror of the download and of its registration: $(n2 gecko-ctl backups --json |
	gojq -c '.registrations[0] | {seq, left_s}')"

kill -0 $CURL 2> /dev/null || fail "the download ended before the crash: make it longer"
pretty "node1 crashes: its link is cut and its processes are killed; a new client connects at once"
link_netem node1 loss 100%
kill -9 "${AGENT[1]}" "${SERVER[1]}" "${ECHO[1]}"
wait "${AGENT[1]}" "${SERVER[1]}" "${ECHO[1]}" 2> /dev/null || true
get 2 small --connect-timeout 10 --retry 20 --retry-all-errors --retry-delay 1 &
NEW=$!

await 20 "node2 did not register G" registered_at fd00:12::2
pretty "node2 registered G: $(grep "registered $G at fd00:12::2 " "$GECKO_OUT/had.log")"
await 20 "node2 did not take the download over from node1" more_than 2 1 0
await 10 "node3 does not follow node2" follows 3
await 10 "node2's echo server did not continue the session" grep -q "continuing a recovered echo session" "$GECKO_OUT/echo2.log"
line "after the crash, from node2"
line "and once more"
line_session_end
pretty "the echo session went on with node2: $(grep "continuing a recovered echo session" "$GECKO_OUT/echo2.log")"
ip netns exec node2 gecko-ctl backups
wait $NEW || fail "the client that connected during the failover: curl exited with status $?: $(cat "$GECKO_OUT/curl.small.2.err")"
expect_got 2 small "$small"
pretty "the client that connected during the failover got its file after $(grep -c "Will retry" "$GECKO_OUT/curl.small.2.err") retries"

pretty "new clients reach G through node2"
for i in 3 4 5; do get $i small || fail "client $i: curl exited with status $?: $(cat "$GECKO_OUT/curl.small.$i.err")"; done
for i in 3 4 5; do expect_got $i small "$small"; done
grep -q "^${PREFIX}3: GET /small" "$GECKO_OUT/server2.log" || fail "node2 did not serve the new client"

pretty "node1 comes back: it follows node2 and leaves G where it is"
link_netem node1 delay 1ms
ip netns exec node1 gecko-agent --cluster "$CONF" > "$GECKO_OUT/agent1-again.log" 2>&1 &
AGENT[1]=$!
PIDS+=($!)
wait_for 10 grep -q "^node agent" "$GECKO_OUT/agent1-again.log"
server_start 1 "$GECKO_OUT/server1-again.log"
await 15 "the members do not all see each other alive" everyone_alive
await 10 "node1 does not follow node2" follows 1
sleep 2
expect_eq "home registrations of G from node1" "$(grep -c "registered $G at fd00:11::2 " "$GECKO_OUT/had.log")" 1
expect_eq "node1 is no longer G's contact node" "$(n1 gecko-ctl service show $G --json | gojq '.[0].contact')" false
get 6 small || fail "client 6: curl exited with status $?: $(cat "$GECKO_OUT/curl.small.6.err")"
expect_got 6 small "$small"
touch "$RUN/hurry"

finish $CURL "$RUN/blob.1" "$GECKO_OUT/curl.blob.1.err" 240
expect_got 1 blob "$want"
grep -q "^$A: continuing /blob at octet" "$GECKO_OUT/server2.log" ||
	fail "node2's file server did not continue the download: $(cat "$GECKO_OUT/server2.log")"
pretty "node2: $(grep "^$A: continuing" "$GECKO_OUT/server2.log")"
ip netns exec node2 gecko-ctl backups --json |
	gojq -r '.recoveries[] | "node2 took over from \(.member) in \(.total_us / 1000) ms after \(.silent_ms) ms of silence: signalling \(.signalling_us / 1000) ms, probes \(.probe_us / 1000) ms"'
expect_no_reset
pretty "PASS"
