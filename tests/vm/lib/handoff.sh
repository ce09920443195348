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
#                           ASKED and MOVED, each failure's answer in FAILURES
#                           (the last requests are not counted if they found no
#                           connection: the server had closed it, PID was
#                           ending)
#   expect_handoffs_completed WHAT   at least 10 handoffs were asked for while
#                           WHAT ran, and every one completed: with no fault
#                           injected, a failed handoff is a failure
#   expect_node_shares VERB FILE FIELD PERCENT   once the three nodes' counts
#                           (field FIELD of the --stats lines FILE1..FILE3) add
#                           up to $SIZE: each is at least PERCENT % of $SIZE,
#                           together exactly $SIZE ("node1 VERB N octets")
#   line_session_start / line TEXT / line_session_end   the client's line
#                           session with G's echo on port 7
#                           (tests/vm/tools/line-echo-client, coprocess
#                           SESSION): TEXT's echo must come back whole within
#                           1 s (lines.log keeps each answer and its time);
#                           the end closes the client's input, which must
#                           then end cleanly; LINES[K] counts the octets
#                           sent while node K ($AT) had the connection
#   expect_lines_echoed FILE   each node echoed exactly LINES[K] octets
#                           (FILE1..FILE3: gecko-echo-server --stats)
#   agent_counter K NAME    node K's agent counter NAME (gecko-ctl agent show)
#   handoff_summary         both ends' agent counters of all nodes agree with
#                           MOVED, and no node counted a rollback (none failed:
#                           a scenario that injects faults checks its own);
#                           prints how long the moved handoffs took
#                           (prepare, frozen, total: min / median / max over the
#                           donors' records; each agent keeps its last 64, in and
#                           out) and each module's flow and fwd counters
#   capture_client / expect_no_reset   tcpdump on the client's link; no TCP
#                           reset in it but from a side that had closed

AT=1
ASKED=0
MOVED=0
FAILURES=()
HANDOFF_OUT=
LINES=([1]=0 [2]=0 [3]=0)

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
		if handoff_next; then
			MOVED=$((MOVED + 1))
			gone=0
		else
			FAILURES+=("node$AT: $HANDOFF_OUT")
			if [[ $HANDOFF_OUT == *"has no connection of"* ]]; then
				gone=$((gone + 1))
			else
				gone=0
			fi
		fi
		sleep 0.5
	done
	# Asked once the server had closed the connection while the client took
	# the rest: nothing left to move. Only at the end; earlier, a failure.
	ASKED=$((ASKED - gone))
	FAILURES=("${FAILURES[@]:0:${#FAILURES[@]} - gone}")
}

expect_handoffs_completed() {
	local f
	pretty "$MOVED of $ASKED handoffs completed"
	for f in "${FAILURES[@]}"; do echo "failed: $f"; done
	((ASKED >= 10)) || fail "only $ASKED handoffs were asked for: the $1 was too quick"
	((MOVED == ASKED)) || fail "$((ASKED - MOVED)) of $ASKED handoffs failed, the first at ${FAILURES[0]}"
}

expect_node_shares() {
	local verb=$1 file=$2 field=$3 share=$4 k n total=0
	# The servers rewrite their counts within 0.2 s of a change.
	wait_for 5 bash -c "(( \$(cut -d' ' -f$field ${file}1) + \$(cut -d' ' -f$field ${file}2) + \
		\$(cut -d' ' -f$field ${file}3) >= $SIZE ))"
	for k in 1 2 3; do
		n=$(cut -d' ' -f"$field" "$file$k")
		echo "node$k $verb $n octets"
		((n * 100 >= SIZE * share)) || fail "node$k $verb only $n of $SIZE octets"
		total=$((total + n))
	done
	expect_eq "octets the three nodes $verb" $total $SIZE
}

line_session_start() {
	local reply
	coproc SESSION { ip netns exec client "$GECKO_REPO/tests/vm/tools/line-echo-client" $G 7 2>&1; }
	PIDS+=($SESSION_PID)
	read -r -t 10 reply <&"${SESSION[0]}" || fail "the client did not connect"
	expect_eq "the client" "$reply" connected
}

line() {
	local reply
	echo "$1" >&"${SESSION[1]}"
	read -r -t 5 reply <&"${SESSION[0]}" || fail "no answer from the client for: $1"
	echo "$reply" >> "$GECKO_OUT/lines.log"
	[[ $reply == "ok "* ]] || fail "line '$1': $reply"
	LINES[AT]=$((LINES[AT] + ${#1} + 1))
}

expect_lines_echoed() {
	local k
	# The servers rewrite their counts within 0.2 s of a change.
	for k in 1 2 3; do
		[[ ! -e $1$k ]] || wait_for 5 bash -c "(( \$(cut -d' ' -f2 $1$k) >= ${LINES[k]} ))"
	done
	for k in 1 2 3; do
		[[ ! -e $1$k ]] || expect_eq "octets node$k echoed" "$(cut -d' ' -f2 "$1$k")" "${LINES[k]}"
	done
}

line_session_end() {
	local reply
	# The end of its input: it shuts its side down and waits for the server's close.
	eval "exec ${SESSION[1]}>&-"
	read -r -t 10 reply <&"${SESSION[0]}" || fail "the client did not end"
	expect_eq "the client at the end" "$reply" bye
	wait $SESSION_PID || fail "the client exited with status $?"
}

agent_counter() { ip netns exec "node$1" gecko-ctl agent show --json | gojq ".counters.$2"; }

handoff_summary() {
	local k out=0 in=0 rollbacks=0
	for k in 1 2 3; do
		out=$((out + $(agent_counter $k handoffs_out)))
		in=$((in + $(agent_counter $k handoffs_in)))
		rollbacks=$((rollbacks + $(agent_counter $k rollbacks)))
	done
	expect_eq "handoffs the donors counted" $out $MOVED
	expect_eq "handoffs the acceptors counted" $in $MOVED
	expect_eq "rollbacks counted on either side" $rollbacks 0
	for k in 1 2 3; do ip netns exec node$k gecko-ctl handoff show --json; done |
		gojq -rs 'def ms: . / 1000 | . * 10 | round / 10;
			def stats: sort | "\(.[0] | ms) / \(.[length / 2 | floor] | ms) / \(.[-1] | ms) ms";
			[.[][] | select(.direction == "out" and .moved)] |
			"\(length) donor records: prepare \(map(.["prepare-us"]) | stats), " +
			"frozen \(map(.["frozen-us"]) | stats), total \(map(.["total-us"]) | stats) (min / median / max)"'
	for k in 1 2 3; do
		echo "node$k: $(ip netns exec node$k gecko-ctl info --json | gojq -r '.counters | to_entries |
			map(select(.key | startswith("flow_") or startswith("fwd_")) | "\(.key) \(.value)") |
			join(", ")')"
	done
}

client_tcp_summary() {
	echo "the client: $(nstat_sum client TcpRetransSegs) segments sent again," \
		"$(nstat_sum client TcpExtTCPDSACKRecv TcpExtTCPDSACKOfoRecv) of them needlessly (D-SACKs received)," \
		"$(nstat_sum client TcpExtTCPTimeouts) retransmission timeouts"
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
	resets=$(gecko-pcap-resets "$GECKO_OUT/client.pcap" 2> "$GECKO_OUT/resets.txt") ||
		fail "cannot read client.pcap: $(cat "$GECKO_OUT/resets.txt")"
	[[ $resets == 0 ]] || cat "$GECKO_OUT/resets.txt"
	expect_eq "resets on the client's link" "$resets" 0
}
