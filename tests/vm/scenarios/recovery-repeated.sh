# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 600
# Ten crashes in a row across the nodes, the contact node's included, on
# a lossy client link, under one download of an unmodified curl.
#
#   client ── router ── node1 (contact; backups node2, node3)   node2   node3
#   (netem: 10 ms ± 2 ms, 1 % loss)      each: gecko-agent --cluster FILE, gecko-file-server (port 8080)
#
# The client downloads at a player's pace (curl writing into
# tests/vm/tools/player, which reads 768 KB/s until told to hurry once the
# ten crashes are done, however long a loaded machine takes for them). Whichever node serves it has its processes killed, as soon
# as its backup holds the connection's mirror: the backup (node1's is
# node2, node2's node3, node3's node1) takes the connection over, and the
# killed node starts again, a fresh member that resurrects nothing. When
# the killed node is the contact node (node1 at the third crash, then
# whichever backup took its place), the first of node2 and node3 alive
# registers G in its place before the connection is taken over, and the
# node started again follows it. Ten takeovers, each of the one
# connection, and the file arrives byte for byte with no reset.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"
. "$GECKO_REPO/tests/vm/lib/recovery.sh"

trap anycast_down EXIT

CRASHES=10
RUN=$(mktemp -d)
recovery_conf $((192 << 20))
want=$(sha256sum < "$WWW/blob")

topo_up
client_addresses 2
anycast_up 1 2 3
recovery_up
link_netem client delay 10ms 2ms loss 1%

A=${PREFIX}1
pretty "the client downloads 192 MB at 768 KB/s; node1 hands it to node2"
capture_client
play "$RUN/got" "$GECKO_OUT/curl.err" 786432 "http://[$G]:8080/blob" -m 600 --interface $A &
CURL_PID=$!
wait_for 30 grep -q "^$A: GET /blob" "$GECKO_OUT/server1.log"
n1 gecko-ctl handoff $A to fd00:12::2 > /dev/null || fail "the handoff to node2 failed"

serving=2
for i in $(seq 1 $CRASHES); do
	crash $i
	pretty "crash $i: taken over $(gojq -r '"from \(.member) in \(.total_us / 1000 | floor) ms after \(.silent_ms) ms of silence"' \
		< <(tail -1 "$RUN/records")), the client at octet $(stat -c %s "$RUN/got"), G registered at" \
		"$(registered_coa)"
done
# node1 at the 3rd crash, then the contact node at the 4th, 5th, 7th, 8th and 10th: each time the next registered G.
expect_eq "home registrations of G" "$(grep -c "^registered $G at " "$GECKO_OUT/had.log")" 7
pretty "the crashes are done: the rest of the file at full speed, on a clean link"
link_netem client delay 1ms
touch "$RUN/hurry"

finish $CURL_PID "$RUN/got" "$GECKO_OUT/curl.err" 240
expect_eq "downloaded size" "$(stat -c %s "$RUN/got")" $((192 << 20))
expect_eq "download sha256" "$(sha256sum < "$RUN/got")" "$want"
resumed=$(cat "$GECKO_OUT"/server*.log | grep -c "^recovered: $A ")
expect_eq "recovered connections the file servers resumed" "$resumed" $CRASHES
expect_no_reset
pretty "PASS"
