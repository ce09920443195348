# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 600
# Ten crashes in a row across the nodes, on a lossy client link, under one
# download of an unmodified curl.
#
#   client ── router ── node1 (contact)   node2   node3
#   (netem: 10 ms ± 2 ms, 1 % loss)      each: gecko-agent --cluster FILE, gecko-file-server (port 8080)
#
# The client downloads at a player's pace (2 MB/s). Whichever node serves
# it has its processes killed, as soon as its backup holds the
# connection's mirror: the backup (node2's is node3, node3's node1) takes
# the connection over, and the killed node starts again, a fresh member
# that resurrects nothing. The contact node is not killed (its failover is
# not there yet): when the connection lands on it, it hands the client to
# node2 first. Ten takeovers, each of the one connection, and the file
# arrives byte for byte with no reset.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"

trap anycast_down EXIT

CRASHES=10
SIZE=$((64 << 20))
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
# server_start K LOG: node K's file server, joined to its agent.
server_start() {
	ip netns exec node$1 gecko-file-server --port 8080 --root "$WWW" > "$2" 2>&1 &
	SERVER[$1]=$!
	PIDS+=($!)
	wait_for 10 grep -q "serving port 8080" "$2"
}
for k in 1 2 3; do server_start $k "$GECKO_OUT/server$k.log"; done
n1 gecko-ctl register $G > /dev/null
wait_for 10 members_alive
link_netem client delay 10ms 2ms loss 1%

A=${PREFIX}1
pretty "the client downloads $((SIZE >> 20)) MB at 2 MB/s; node1 hands it to node2"
capture_client
client curl -sS -g -m 300 --limit-rate 2M --interface $A -o "$RUN/got" "http://[$G]:8080/blob" \
	2> "$GECKO_OUT/curl.err" &
CURL=$!
wait_for 30 grep -q "^$A: GET /blob" "$GECKO_OUT/server1.log"
n1 gecko-ctl handoff $A to fd00:12::2 > /dev/null || fail "the handoff to node2 failed"

# mirrored_at K OF: node K holds node OF's mirror of the download, with the file server's state.
mirrored_at() {
	ip netns exec node$1 gecko-ctl backups --json |
		jq -e --arg c $A ".held | any(.member == \"node$2\" and .client == \$c and .port == 8080 and .state_len > 0)" \
			> /dev/null
}
# recoveries K OF: how many times node K took the download over from node OF.
recoveries() {
	ip netns exec node$1 gecko-ctl backups --json |
		jq --arg c $A "[.recoveries[] | select(.member == \"node$2\" and .client == \$c and .recovered == 1)] | length"
}
more_than() { (($(recoveries $1 $2) > $3)); }
everyone_alive() {
	local k
	for k in 1 2 3; do
		(($(ip netns exec node$k gecko-ctl members --json | jq '[.[] | select(.state == "alive")] | length') == 2)) ||
			return 1
	done
}

serving=2
for i in $(seq 1 $CRASHES); do
	if ((serving == 1)); then
		n1 gecko-ctl handoff $A to fd00:12::2 > /dev/null || fail "crash $i: the handoff to node2 failed"
		serving=2
	fi
	backup=$((serving % 3 + 1))
	wait_for 10 mirrored_at $backup $serving
	kill -0 $CURL 2> /dev/null || fail "the download ended after $((i - 1)) crashes: make it longer"
	before=$(recoveries $backup $serving)
	pretty "crash $i: node$serving's processes are killed at octet $(stat -c %s "$RUN/got")"
	kill -9 "${AGENT[$serving]}" "${SERVER[$serving]}"
	wait "${AGENT[$serving]}" "${SERVER[$serving]}" 2> /dev/null || true
	wait_for 20 more_than $backup $serving "$before"
	pretty "crash $i: $(ip netns exec node$backup gecko-ctl backups | grep "from node$serving" | tail -1)"
	# Again, a fresh member.
	ip netns exec node$serving gecko-agent --cluster "$CONF" > "$GECKO_OUT/agent$serving-$i.log" 2>&1 &
	AGENT[$serving]=$!
	PIDS+=($!)
	wait_for 10 grep -q "^node agent" "$GECKO_OUT/agent$serving-$i.log"
	server_start $serving "$GECKO_OUT/server$serving-$i.log"
	wait_for 15 everyone_alive
	serving=$backup
done

wait $CURL || fail "curl exited with status $?: $(cat "$GECKO_OUT/curl.err")"
expect_eq "downloaded size" "$(stat -c %s "$RUN/got")" $SIZE
expect_eq "download sha256" "$(sha256sum < "$RUN/got")" "$want"
resumed=$(cat "$GECKO_OUT"/server*.log | grep -c "^recovered: $A ")
expect_eq "recovered connections the file servers resumed" "$resumed" $CRASHES
expect_no_reset
pretty "PASS"
