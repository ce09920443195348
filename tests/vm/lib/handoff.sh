# SPDX-License-Identifier: GPL-2.0-only
# Handoffs of a client between the three nodes, asked of the servers that
# run the node agent inside (gecko::Node, agent_cmd of lib/anycast.sh);
# source after lib/anycast.sh.
#
#   handoff_next            asks node $AT, which serves $CLIENT, to hand it to
#                           the next node: node1 -> node2 -> node3 -> node1 ...;
#                           prints gecko-ctl's answer (also in HANDOFF_OUT), and
#                           on success AT is the acceptor
#   handoff_while PID       handoff_next every 0.5 s while PID runs, counting
#                           ASKED and MOVED (the last request is not counted if
#                           it found no connection: the server had closed it,
#                           PID was ending)
#   expect_handoffs_completed WHAT   at least 10 handoffs were asked for while
#                           WHAT ran, and at least 90 % of them completed
#   agent_counter K NAME    node K's agent counter NAME (gecko-ctl agent show)
#   handoff_summary         both ends' agent counters of all nodes agree with
#                           MOVED; prints how long the moved handoffs took
#                           (prepare, frozen, total: min / median / max over the
#                           donors' records; each agent keeps its last 64, in and
#                           out) and each module's flow counters
#   capture_client / expect_no_reset   tcpdump on the client's link; no TCP
#                           reset in it but from a side that had closed

AT=1
ASKED=0
MOVED=0
HANDOFF_OUT=

handoff_next() {
	local next=$((AT % 3 + 1))
	if HANDOFF_OUT=$(ip netns exec node$AT timeout 60 gecko-ctl handoff $CLIENT to fd00:1$next::2 2>&1); then
		echo "node$AT -> node$next: $HANDOFF_OUT"
		AT=$next
		return 0
	fi
	echo "node$AT -> node$next failed: $HANDOFF_OUT"
	return 1
}

handoff_while() {
	local gone=0
	while kill -0 "$1" 2> /dev/null; do
		ASKED=$((ASKED + 1))
		gone=0
		if handoff_next; then
			MOVED=$((MOVED + 1))
		elif [[ $HANDOFF_OUT == *"has no connection of"* ]]; then
			gone=1
		fi
		sleep 0.5
	done
	# Asked as the client ended: it had no connection left to move.
	((!gone)) || ASKED=$((ASKED - 1))
}

expect_handoffs_completed() {
	pretty "$MOVED of $ASKED handoffs completed"
	((ASKED >= 10)) || fail "only $ASKED handoffs were asked for: the $1 was too quick"
	((MOVED * 10 >= ASKED * 9)) || fail "only $MOVED of $ASKED handoffs completed"
}

agent_counter() { ip netns exec "node$1" gecko-ctl agent show --json | jq ".counters.$2"; }

handoff_summary() {
	local k out=0 in=0 rollbacks=0
	for k in 1 2 3; do
		out=$((out + $(agent_counter $k handoffs_out)))
		in=$((in + $(agent_counter $k handoffs_in)))
		rollbacks=$((rollbacks + $(agent_counter $k rollbacks)))
	done
	expect_eq "handoffs the donors counted" $out $MOVED
	expect_eq "handoffs the acceptors counted" $in $MOVED
	echo "rollbacks counted on either side: $rollbacks"
	for k in 1 2 3; do ip netns exec node$k gecko-ctl handoff show --json; done |
		jq -rs 'def ms: . / 1000 | . * 10 | round / 10;
			def stats: sort | "\(.[0] | ms) / \(.[length / 2 | floor] | ms) / \(.[-1] | ms) ms";
			[.[][] | select(.direction == "out" and .moved)] |
			"\(length) donor records: prepare \(map(.["prepare-us"]) | stats), " +
			"frozen \(map(.["frozen-us"]) | stats), total \(map(.["total-us"]) | stats) (min / median / max)"'
	for k in 1 2 3; do
		echo "node$k: $(ip netns exec node$k gecko-ctl info --json | jq -r '.counters | to_entries |
			map(select(.key | startswith("flow_")) | "\(.key) \(.value)") | join(", ")')"
	done
}

capture_client() {
	client tcpdump -i eth0 -U -s 160 -w "$GECKO_OUT/client.pcap" ip6 2> "$GECKO_OUT/tcpdump.log" &
	TCPDUMP=$!
	PIDS+=($TCPDUMP)
	wait_for 10 grep -q listening "$GECKO_OUT/tcpdump.log"
}

expect_no_reset() {
	local resets
	# What is still in flight reaches the capture first.
	sleep 1
	kill $TCPDUMP
	wait $TCPDUMP 2> /dev/null || true
	# A reset from a side that had sent its FIN answers a segment the link
	# reordered after the close (plain TCP, with netem): not a handoff's.
	resets=$(tshark -r "$GECKO_OUT/client.pcap" -Y "tcp.flags.fin == 1 || tcp.flags.reset == 1" \
		-T fields -e tcp.stream -e tcp.srcport -e tcp.flags.fin -e tcp.flags.reset 2> /dev/null |
		awk '$3 == 1 || $3 == "True" { fin[$1 " " $2] = 1 }
		     ($4 == 1 || $4 == "True") && !fin[$1 " " $2] { n++ }
		     END { print n + 0 }')
	expect_eq "resets on the client's link" "$resets" 0
}
