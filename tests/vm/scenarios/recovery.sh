# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 480
# Crash recovery: nodes die mid-download and their backups take the
# connection over, under an unmodified curl.
#
#   client ── router ── node1 (contact)   node2   node3
#                       each: gecko-agent --cluster FILE, gecko-file-server (port 8080)
#
# The client downloads a file at full speed with Linux's default buffers;
# node1 hands it to node2, which mirrors the connection (with the file
# server's state: the file and the response head) to node3, the next
# member in the file. Then node2's processes are killed (its kernel runs
# on: gecko.ko, which guards the connection, ends it without a word
# instead of the FIN the kernel would send). Node3 hears no heartbeat for
# the failure bound, declares node2 dead, and takes the connection over:
# return routability and a Binding Update to the client, a probe its
# stack answers with its numbers, the connection restored from the mirror
# there, and its file server continues the response at the octet the
# client has. Node3 mirrors it to node1 in turn; then node3's link is cut
# (its processes run on, cut off), and node1 takes the connection over
# the same way: the chain holds. Node3 dies past a loss it never heard
# of: the client lost one of its last segments and got 30 KB after it,
# so once node1 filled the loss the client acknowledges octets node1 has
# not sent yet (it starts with 14 KB), which gecko.ko lowers to what it
# sent (acks_lowered): TCP would discard them, and the download would
# stall for good. curl must exit 0 with the file byte for byte, and no
# reset on the wire. Before that, node2 is slow within the
# failure bound (50 ms more delay, its agent stopped for 0.4 s): nobody
# declares it dead, nothing is taken over.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"
. "$GECKO_REPO/tests/vm/lib/recovery.sh"

trap anycast_down EXIT

SIZE=$((320 << 20))
RUN=$(mktemp -d)
recovery_conf $SIZE
want=$(sha256sum < "$WWW/blob")

topo_up
client_addresses 2
anycast_up 1 2 3
recovery_up

A=${PREFIX}1
pretty "the client downloads $((SIZE >> 20)) MB at full speed; node1 hands it to node2"
capture_client
client curl -sS -g -m 120 --interface $A -o "$RUN/got" "http://[$G]:8080/blob" 2> "$GECKO_OUT/curl.err" &
CURL=$!
wait_for 30 grep -q "^$A: GET /blob" "$GECKO_OUT/server1.log"
n1 gecko-ctl handoff $A to fd00:12::2 > /dev/null || fail "the handoff to node2 failed"
wait_for 10 mirrored_at 3 2
# at_octet: how much the client has.
at_octet() { stat -c %s "$RUN/got"; }
alive() { kill -0 $CURL 2> /dev/null || fail "the download ended before the crash: make it longer"; }

pretty "node2 is slow within the bound: 50 ms more on its link, its agent stopped for 0.4 s"
link_netem node2 delay 51ms
kill -STOP "${AGENT[2]}"
sleep 0.4
kill -CONT "${AGENT[2]}"
sleep 2
link_netem node2 delay 1ms
for k in 1 3; do expect_eq "node$k's view of node2" "$(state $k 2)" alive; done
expect_eq "node3's takeovers of node2" "$(ip netns exec node3 gecko-ctl backups --json | gojq '.recoveries | length')" 0
mirrored_at 3 2 || fail "node3 no longer holds node2's mirror"

alive
pretty "node2's processes are killed at octet $(at_octet) of the download"
kill -9 "${AGENT[2]}" "${SERVER[2]}"
wait_for 20 more_than 3 2 0
ip netns exec node3 gecko-ctl backups
expect_eq "node2: connections ended without a word" "$(n2 gecko-ctl info --json | gojq .counters.fenced)" 1
wait_for 10 mirrored_at 1 3
alive
pretty "node3's link is cut at octet $(at_octet), its processes run on, past a loss it never heard of"
hole_at_client
ip -n node3 link set eth0 down
hole_done
wait_for 20 more_than 1 3 0
ip netns exec node1 gecko-ctl backups
finish $CURL "$RUN/got" "$GECKO_OUT/curl.err" 120
expect_eq "downloaded size" "$(stat -c %s "$RUN/got")" $SIZE
expect_eq "download sha256" "$(sha256sum < "$RUN/got")" "$want"
for k in 3 1; do
	grep -q "^$A: continuing /blob at octet" "$GECKO_OUT/server$k.log" ||
		fail "node$k's file server did not continue the download: $(cat "$GECKO_OUT/server$k.log")"
	pretty "node$k: $(grep "^$A: continuing" "$GECKO_OUT/server$k.log")"
	ip netns exec node$k gecko-ctl backups --json |
		gojq -r '.recoveries[] | "node'$k' took over from \(.member) in \(.total_us / 1000) ms after \(.silent_ms) ms of silence: signalling \(.signalling_us / 1000) ms, probes \(.probe_us / 1000) ms"'
	expect_eq "node$k: connections recovered" "$(ip netns exec node$k gecko-ctl agent show --json | gojq .counters.recovered)" 1
done
lowered=$(n1 gecko-ctl info --json | gojq .counters.acks_lowered)
((lowered > 0)) || fail "node1 lowered no acknowledgement: the client held nothing past the loss"
pretty "node1 lowered $lowered acknowledgements of octets node3 had sent past the loss"
expect_no_reset
pretty "PASS"
