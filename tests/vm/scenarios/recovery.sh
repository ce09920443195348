# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 420
# Crash recovery: a node dies mid-download and its backup takes its
# connection over, under an unmodified curl.
#
#   client ── router ── node1 (contact)   node2   node3
#                       each: gecko-agent --cluster FILE, gecko-file-server (port 8080)
#
# The client downloads a file at full speed with Linux's default buffers;
# node1 hands it to node2, which mirrors the connection (with the file
# server's state: the file and the response head) to node3, the next
# member in the file. Then node2 dies as a machine does: its link goes and
# its processes are killed, nothing of it reaches the client again. Node3
# hears no heartbeat for the failure bound, declares node2 dead, and takes
# the connection over: return routability and a Binding Update to the
# client, a probe its stack answers with its numbers, the connection
# restored from the mirror there, and its file server continues the
# response at the octet the client had. curl must exit 0 with the file
# byte for byte, and no reset on the wire.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"

trap anycast_down EXIT

SIZE=$((128 << 20))
RUN=$(mktemp -d)
CONF=$RUN/gecko.conf
WWW=$RUN/www
framework_conf "$CONF"
# A member silent for 1 s is dead.
sed -i '1i heartbeat-period = 250ms\nheartbeat-misses = 4' "$CONF"
mkdir -p "$WWW"
head -c $SIZE /dev/urandom > "$WWW/blob"
want=$(sha256sum < "$WWW/blob")

agent_cmd() { echo "gecko-agent --cluster $CONF"; }
credentials() { :; }

topo_up
client_addresses 2
anycast_up 1 2 3
declare -A SERVER
for k in 1 2 3; do
	ip netns exec node$k gecko-file-server --port 8080 --root "$WWW" > "$GECKO_OUT/server$k.log" 2>&1 &
	SERVER[$k]=$!
	PIDS+=($!)
done
for k in 1 2 3; do
	wait_for 10 grep -q "serving port 8080" "$GECKO_OUT/server$k.log"
done
n1 gecko-ctl register $G > /dev/null
wait_for 10 members_alive

A=${PREFIX}1
pretty "the client downloads $((SIZE >> 20)) MB at full speed; node1 hands it to node2"
capture_client
client curl -sS -g -m 120 --interface $A -o "$RUN/got" "http://[$G]:8080/blob" 2> "$GECKO_OUT/curl.err" &
CURL=$!
serves() { grep -q "^$A: GET /blob" "$GECKO_OUT/server$1.log"; }
wait_for 30 serves 1
n1 gecko-ctl handoff $A to fd00:12::2 > /dev/null || fail "the handoff to node2 failed"
# mirrored_at K OF: node K holds node OF's mirror of the download, with the file server's state.
mirrored_at() {
	ip netns exec node$1 gecko-ctl backups --json |
		jq -e --arg c $A ".held | any(.member == \"node$2\" and .client == \$c and .port == 8080 and .state_len > 0)" \
			> /dev/null
}
wait_for 10 mirrored_at 3 2
kill -0 $CURL 2> /dev/null || fail "the download ended before the crash: make it longer"
got=$(stat -c %s "$RUN/got")
pretty "node2 dies at octet $got of the download: its link goes, its processes are killed"
ip -n node2 link set eth0 down
kill -9 "${AGENT[2]}" "${SERVER[2]}"
recovered() {
	ip netns exec node3 gecko-ctl backups --json |
		jq -e --arg c $A '.recoveries | any(.member == "node2" and .client == $c and .recovered == 1)' > /dev/null
}
wait_for 20 recovered
ip netns exec node3 gecko-ctl backups
wait $CURL || fail "curl exited with status $?: $(cat "$GECKO_OUT/curl.err")"
expect_eq "downloaded size" "$(stat -c %s "$RUN/got")" $SIZE
expect_eq "download sha256" "$(sha256sum < "$RUN/got")" "$want"
grep -q "^$A: continuing /blob at octet" "$GECKO_OUT/server3.log" ||
	fail "node3's file server did not continue the download: $(cat "$GECKO_OUT/server3.log")"
pretty "node3: $(grep "^$A: continuing" "$GECKO_OUT/server3.log")"
ip netns exec node3 gecko-ctl backups --json |
	jq -r '.recoveries[] | "took over in \(.total_us / 1000) ms after \(.silent_ms) ms of silence: signalling \(.signalling_us / 1000) ms, probes \(.probe_us / 1000) ms"'
expect_eq "node3: connections recovered" "$(ip netns exec node3 gecko-ctl agent show --json | jq .counters.recovered)" 1
expect_no_reset
pretty "PASS"
