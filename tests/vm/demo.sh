# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 240
# "make demo": one IPv6 address, three servers, and a TCP stream that moves
# between them under a stock client. The reference topology in the VM with
# gecko.ko loaded and the real signalling: gecko-had on the HA, gecko-cnd
# on the client, and on each node gecko-agent --cluster with
# gecko-file-server joined to it; node1 is the contact node. The client
# plays a video from G at a player's pace (curl into tests/vm/tools/player,
# 2 MB/s until the story is told, however slow the machine); a second after
# each handoff, the node that serves it hands the connection to the next
# one, a line each (from, to, how long the connection was frozen, how much
# the client has); then the serving node crashes (its processes killed),
# its backup takes the stream over, and the video plays to its end: its
# SHA-256 must be the file's.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/recovery.sh"

trap anycast_down EXIT

SIZE=$((128 << 20))
HANDOFFS=5
RUN=$(mktemp -d)
# played: the megabytes the client has.
played() { awk '{ printf "%.1f MB", $1 / 1048576 }' <<< "$(stat -c %s "$RUN/video" 2> /dev/null || echo 0)"; }
# frozen K: how long node K's last handoff of the client kept the connection frozen.
frozen() {
	ip netns exec node$1 gecko-ctl handoff show --json |
		gojq -r --arg c $A '[.[] | select(.direction == "out" and .client == $c)] | last | "\(.["frozen-us"] / 100 | round / 10) ms"'
}

pretty "the reference topology: a client, a router, the home agent of G's prefix, three server nodes"
topo_up
sed -n '/^#  client/,/^#    node1/p' "$GECKO_REPO/tests/vm/lib/topology.sh" | sed 's/^#//'
client_addresses 1
A=${PREFIX}1

recovery_conf $SIZE
want=$(sha256sum < "$WWW/blob" | cut -d' ' -f1)
anycast_up 1 2 3
recovery_up
pretty "G = $G on all three: gecko-agent --cluster and gecko-file-server on each; node1 the contact node"

pretty "the client ($A) plays a $((SIZE >> 20)) MB video from G at 2 MB/s (curl)"
play "$RUN/video" "$GECKO_OUT/curl.err" 2097152 "http://[$G]:8080/blob" -m 200 --interface $A &
CURL_PID=$!
wait_for 30 grep -q "^$A: GET /blob" "$GECKO_OUT/server1.log"

serving=1
for i in $(seq $HANDOFFS); do
	sleep 1
	next=$((serving % 3 + 1))
	out=$(ip netns exec node$serving gecko-ctl handoff $A to fd00:1$next::2 2>&1) ||
		fail "node$serving -> node$next: $out"
	pretty "node$serving -> node$next: frozen $(frozen $serving), $(played) played"
	serving=$next
done

backup=$((serving % 3 + 1))
wait_for 10 mirrored_at $backup $serving
sleep 1
pretty "node$serving crashes (its processes killed) at $(played); node$backup holds its mirror"
kill -9 "${AGENT[$serving]}" "${SERVER[$serving]}"
wait "${AGENT[$serving]}" "${SERVER[$serving]}" 2> /dev/null || true
wait_for 20 more_than $backup $serving 0
recoveries $backup $serving | tail -1 |
	gojq -r '"node'$backup' took the stream over \(.total_us / 1000 | round) ms after \(.silent_ms) ms of silence from node'$serving'"' |
	while read -r line; do pretty "$line, $(played) played"; done
pretty "the player fills its buffer: the rest at full speed"
touch "$RUN/hurry"

wait $CURL_PID || fail "curl exited with status $?: $(cat "$GECKO_OUT/curl.err")"
got=$(sha256sum < "$RUN/video" | cut -d' ' -f1)
expect_eq "the video's SHA-256" "$got" "$want"
pretty "the video played to its end: $(played), SHA-256 ${got:0:16}... the file's, byte for byte"
