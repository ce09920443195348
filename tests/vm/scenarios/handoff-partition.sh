# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 900
# vm-beside
# vm-background
# Partitions after the state left the donor: one owner per connection,
# whatever the network does. Each node runs gecko-file-server (the node
# agent inside); for each case the client downloads a file from G at
# 1 MB/s, and the node that serves it is asked to hand it to the next one.
# The acceptor's agent holds at PHASE for 3 s (gecko-ctl agent fault
# hold-PHASE, tests only), and while it holds the router
#
#   cut  drops everything between the donor's link and the acceptor's, for
#        8 s (and once for 60 s, past the donor's last deadline)
#   ba   drops the client's Binding Acknowledgements, for 20 s: past the
#        acceptor's last retransmission of its Binding Update
#
#   client ── router ── node1 (contact)   node2   node3
#                 ^ the partition
#
# at each PHASE after the state left the donor: before the Binding Update
# (hold-before-bu), after it (hold-after-bu), after the client accepted it
# (hold-after-ba), after the thaw (hold-after-thaw). Each stream must end
# byte for byte, or with a reset the client sees, its octets until then a
# prefix of the file: never a stream that diverged. And never two owners:
# the servers together write each download exactly once (two running copies
# of a connection would both write its rest). NETEM (netem
# arguments for every link, e.g. "loss 1%") runs the eight cases on a lossy
# network (handoff-partition-netem), without the long cut, whose logic
# loss does not change. UPLOAD=1 (handoff-partition-upload) runs the eight
# cases the other way: the client uploads to gecko-echo-server --sink,
# whose count and Adler-32 of what it read the client checks, and the
# servers together read each upload exactly once.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"

trap anycast_down EXIT

SIZE=$((6 << 20))
HOLD=3000
RUN=$(mktemp -d)
WWW=$RUN/www
EXACT=0 RESET=0 AGAIN=0

if [[ ${UPLOAD:-0} == 1 ]]; then
	PORT=7
	agent_cmd() { echo "gecko-echo-server --sink --port $PORT --stats $RUN/served$1"; }
else
	PORT=80
	agent_cmd() { echo "gecko-file-server --port $PORT --root $WWW --stats $RUN/served$1"; }
fi
# written: the octets the three servers have written (a download) or read (an upload), together.
written() { cat "$RUN"/served[123] | awk '{ n += $2 } END { print n + 0 }'; }

# transfer: the client's download of the file, or its upload of as much, at 1 MB/s;
# one that stalls (two owners can leave the client waiting) fails the case.
# The client connects, then reads (or sends) nothing until $RUN/go exists:
# opened once the handoff is asked, so that a slow guest cannot let the
# transfer end before its case starts.
transfer() {
	if [[ ${UPLOAD:-0} == 1 ]]; then
		client timeout 180 "$GECKO_REPO/tests/vm/tools/stream-sink-client" --after "$RUN/go" \
			$G $PORT $SIZE 1000000 > "$RUN/curl.err" 2>&1 || { echo "exit status $?" >> "$RUN/curl.err"; return 1; }
	else
		client timeout 180 bash -c "curl -sS -g --limit-rate 1M -o - 'http://[$G]/blob' 2> '$RUN/curl.err' |
			{ until [[ -e '$RUN/go' ]]; do sleep 0.1; done; cat > '$RUN/got'; }; exit \${PIPESTATUS[0]}" ||
			{ echo "exit status $?" >> "$RUN/curl.err"; return 1; }
	fi
}

# serving: the node whose server holds the client's download now, if any.
serving() {
	local k
	for k in 1 2 3; do
		if [[ -n $(ip netns exec node$k ss -Htn state established "( sport = :$PORT )") ]]; then
			echo $k
			return 0
		fi
	done
	return 1
}

# served_or_ended PID: the transfer PID is served now, or has ended.
served_or_ended() { serving || ! kill -0 "$1" 2> /dev/null; }

# node_path ACTION A B: insert (-I) or delete (-D) the router's rules dropping A <-> B.
node_path() {
	router ip6tables -w "$1" FORWARD -s fd00:1$2::/64 -d fd00:1$3::/64 -j DROP
	router ip6tables -w "$1" FORWARD -s fd00:1$3::/64 -d fd00:1$2::/64 -j DROP
}

# client_bas ACTION: insert or delete the rule dropping the client's Binding Acknowledgements.
client_bas() { router ip6tables -w "$1" FORWARD -s $CLIENT -p ipv6-mh -m mh --mh-type binding-ack -j DROP; }

# ended_early: the handoff found no connection of the client, in the agent's
# table or, a moment later, at the server (the transfer ended in between).
ended_early() { grep -q -e "has no connection of" -e "no connection to hand off" "$RUN/handoff.out"; }

# ask_handoff FROM TO TRANSFER: node FROM hands the client to node TO. The
# server may not have taken the new connection from its listening socket
# yet when ss shows it established: then the agent knows of no connection,
# and the request is asked again while the process TRANSFER runs.
ask_handoff() {
	local tries=50
	until ip netns exec node$1 timeout 150 gecko-ctl handoff $CLIENT to fd00:1$2::2 > "$RUN/handoff.out" 2>&1; do
		ended_early && ((--tries > 0)) && kill -0 $3 2> /dev/null || return 1
		sleep 0.1
	done
}

# ended_first PHASE FAULT PID NODE: a slow guest's transfer PID ended,
# untouched, before the donor's agent knew its connection: counted, and
# NODE's fault injection cleared; the caller runs the case again (three
# times at most).
ended_first() {
	wait "$3" || fail "$1/$2: the transfer failed before any handoff: $(cat "$RUN/curl.err")"
	ip netns exec node$4 gecko-ctl agent fault none
	EXACT=$((EXACT + 1))
	((++AGAIN <= 3)) || fail "$1/$2: $AGAIN transfers ended before their handoff was asked"
	echo "$1/$2: the transfer ended before its handoff was asked: the case again"
}

# partition_case PHASE FAULT SECONDS
partition_case() {
	local phase=$1 fault=$2 seconds=$3 from to holds rc size out ask
	pretty "$fault for $seconds s while the acceptor holds at $phase"
	rm -f "$RUN/got" "$RUN/go"
	transfer &
	local curl=$!
	if ! poll 30 served_or_ended $curl || ! from=$(serving); then
		fail "$phase/$fault: no node serves the client's transfer; the client's sockets to G:" \
			"$(client ss -Htna dst $G | tr -s ' \n' ' ')" "$(cat "$RUN/curl.err")"
	fi
	to=$((from % 3 + 1))
	holds=$(grep -c "fault injection: holding" "$GECKO_OUT/agent$to.log" || true)
	ip netns exec node$to gecko-ctl agent fault "$phase" $HOLD
	# No Binding Acknowledgement comes before the Binding Update: for a hold
	# before it, the rule goes in first, so that a slow guest cannot let the
	# hold end before the rule is there.
	local early=0
	if [[ $fault == ba && $phase == hold-before-bu ]]; then
		client_bas -I
		early=1
	fi
	ask_handoff $from $to $curl &
	ask=$!
	touch "$RUN/go"
	wait_for 30 bash -c "(( \$(grep -c 'fault injection: holding' $GECKO_OUT/agent$to.log) > $holds )) ||
		! kill -0 $ask"
	# The transfer ended before the server's agent knew its connection.
	if (($(grep -c 'fault injection: holding' "$GECKO_OUT/agent$to.log") <= holds)) &&
		ended_early && ! kill -0 $curl 2> /dev/null; then
		((!early)) || client_bas -D
		ended_first "$phase" "$fault" $curl $to
		partition_case "$@"
		return
	fi
	(($(grep -c 'fault injection: holding' "$GECKO_OUT/agent$to.log") > holds)) ||
		fail "node$from -> node$to ended before node$to held: $(cat "$RUN/handoff.out")"
	if [[ $fault == cut ]]; then
		node_path -I $from $to
		(sleep "$seconds"; node_path -D $from $to) &
	else
		((early)) || client_bas -I
		(sleep "$seconds"; client_bas -D) &
	fi
	local healer=$!
	wait $ask && out="moved: $(cat "$RUN/handoff.out")" || out="not moved: $(cat "$RUN/handoff.out")"
	echo "node$from -> node$to: $out"
	wait $curl && rc=0 || rc=$?
	wait $healer
	ip netns exec node$to gecko-ctl agent fault none
	size=$(stat -c %s "$RUN/got" 2> /dev/null || echo 0)
	if [[ ${UPLOAD:-0} == 1 ]]; then
		# The client checked the sink's count and Adler-32 of what it read.
		if ((rc == 0)); then
			EXACT=$((EXACT + 1))
			echo "$phase/$fault: byte for byte: $(cat "$RUN/curl.err")"
		else
			grep -q -E "Connection reset|Broken pipe" "$RUN/curl.err" ||
				fail "$phase/$fault: the upload failed otherwise: $(tail -n1 "$RUN/curl.err")"
			RESET=$((RESET + 1))
			echo "$phase/$fault: reset ($(tail -n1 "$RUN/curl.err"))"
		fi
	elif ((rc == 0)); then
		expect_eq "$phase/$fault: download sha256" "$(sha256sum < "$RUN/got")" "$WANT"
		EXACT=$((EXACT + 1))
		echo "$phase/$fault: byte for byte"
	else
		# A reset, seen by the client: what came until then is the file's own beginning.
		grep -q -E "reset|Recv failure|transfer closed|Failed reading" "$RUN/curl.err" ||
			fail "$phase/$fault: curl failed otherwise: $(cat "$RUN/curl.err")"
		cmp -s -n "$size" "$RUN/got" "$WWW/blob" || fail "$phase/$fault: the stream diverged before octet $size"
		RESET=$((RESET + 1))
		echo "$phase/$fault: reset after $size octets, a prefix of the file ($(cat "$RUN/curl.err"))"
	fi
	# The next case starts with no handoff under way anywhere.
	wait_for 90 bash -c "for k in 1 2 3; do ip netns exec node\$k gecko-ctl flow show --json |
		gojq -e 'all(.state == \"moved\" or .state == \"arrived\")' > /dev/null || exit 1; done"
}

mkdir -p "$WWW"
head -c $SIZE /dev/urandom > "$WWW/blob"
WANT=$(sha256sum < "$WWW/blob")

topo_up
# With Linux's default receive buffer the client would take most of the
# file ahead of its reading pace, before the handoff; with 512 KB most of
# it is still to come when the partition starts.
client sysctl -qw net.ipv4.tcp_rmem="4096 131072 524288"
if [[ -n ${NETEM-} ]]; then
	link_netem client delay 10ms $NETEM
	for k in 1 2 3; do link_netem node$k delay 1ms $NETEM; done
fi
anycast_up 1 2 3
for k in 1 2 3; do wait_for 10 grep -q "serving port $PORT" "$GECKO_OUT/agent$k.log"; done
n1 gecko-ctl register $G lifetime 300 > /dev/null

for phase in hold-before-bu hold-after-bu hold-after-ba hold-after-thaw; do
	partition_case $phase cut 8
	partition_case $phase ba 20
done
summary() {
	pretty "$EXACT streams ended byte for byte, $RESET with a reset; none diverged"
	if ((RESET == 0)); then
		# The servers rewrite their counts within 0.2 s of a change.
		wait_for 5 bash -c "(( \$(cat $RUN/served[123] | awk '{ n += \$2 } END { print n + 0 }') >= $EXACT * $SIZE ))"
		expect_eq "octets the servers wrote, together" "$(written)" $((EXACT * SIZE))
	fi
}
[[ -z ${NETEM-} && ${UPLOAD:-0} != 1 ]] || { summary; exit 0; }

pretty "a partition past the donor's last deadline: the donor drops its copy, the acceptor serves"
lost=0
for k in 1 2 3; do lost=$((lost + $(agent_counter $k handoffs_lost))); done
partition_case hold-before-bu cut 60
summary
now=0
for k in 1 2 3; do now=$((now + $(agent_counter $k handoffs_lost))); done
expect_eq "handoffs the donors lost" $now $((lost + 1))
