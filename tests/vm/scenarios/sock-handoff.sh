# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 480
# vm-beside
# TCP connections handed off at the socket level, with the real signalling
# and the stock client. Each node runs gecko-handoff-echo (the application:
# it owns the sockets) and gecko-agent; the client streams to G's echo at
# 500 KB/s until the steps below are done, and checks what comes back,
# byte for byte.
#
#   client ── router ── node1 (contact)   node2   node3
#
# While the stream runs, the connection goes node1 -> node2 -> node3 ->
# node1 -> node2 -> node3 -> node1: RR ahead by the acceptor's agent, then
# the donor freezes and captures the socket (gecko.ko holds its packets),
# the acceptor restores it frozen, its agent sends the BU, the acceptor
# thaws and the donor drops its socket without a word. Then two rollbacks:
# the donor thaws when no acceptor took the state, and when the acceptor
# gave its restored socket up. Then a recovery on node1: its socket goes
# without a word (frozen, captured, dropped), node1 probes the client
# (gecko-ctl flow probe), whose answer must say it has every octet node1
# sent, then restores the connection and the stream goes on. Then a
# recovery from a snapshot node1 took earlier, as a backup's mirror would
# be: node1's last echoes are lost on the way and its socket goes without
# a word; probed, the client says where it stands, the snapshot is
# restored there, and node1's own record of what it echoed (the
# application's state) sends the client what it lacks. The client
# must see every octet once, in order, and no reset; the modules' counters and flow tables must say what
# happened; bad requests get clear errors.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"

trap anycast_down EXIT

SIZE=$((256 << 20))	# an upper bound: the client stops when told
RATE=500000
# Unix sockets cannot live on the results share (9p).
RUN=$(mktemp -d)
STATE=$RUN/state.bin

counter() { ip netns exec "node$1" gecko-ctl info --json | gojq ".counters.$2"; }
seq_at() { ip netns exec "node$1" gecko-ctl binding show $G --json | gojq "[.[] | select(.peer == \"$CLIENT\")][0].seq // 0"; }

# ctl K COMMAND: node K's echo server answers COMMAND.
ctl() { socat -t 60 - UNIX-CONNECT:"$RUN/echo$1.sock" <<< "$2"; }
# ok K COMMAND: the same, which must succeed.
ok() {
	local out
	out=$(ctl "$1" "$2")
	[[ $out == ok* ]] || fail "node$1 $2: $out" >&2
	echo "$out"
}
echoed() { ctl "$1" stats | cut -d' ' -f2; }
# echoing K: node K's server has echoed 64 KB more than it had.
echoing() {
	local from
	from=$(echoed "$1")
	wait_for 30 bash -c "(( \$(socat - UNIX-CONNECT:$RUN/echo$1.sock <<< stats | cut -d' ' -f2) > $from + 65536 ))"
}

# move DONOR ACCEPTOR: the handoff, step by step.
move() {
	local d=$1 a=$2 seq t0 size
	seq=$(seq_at "$d")
	ip netns exec "node$a" gecko-ctl rr $G $CLIENT > /dev/null
	t0=$(date +%s%N)
	size=$(ok "$d" "give $STATE" | cut -d' ' -f2)
	ok "$a" "take $STATE" > /dev/null
	ip netns exec "node$a" gecko-ctl bu $G $CLIENT seq $((seq + 1)) > /dev/null
	ok "$a" resume > /dev/null
	ok "$d" drop > /dev/null
	((seq == 0)) || ip netns exec "node$d" gecko-ctl binding del $G $CLIENT
	pretty "node$d -> node$a: state $size octets, frozen for $((($(date +%s%N) - t0) / 1000000)) ms"
	echoing "$a"
}

topo_up
anycast_up 1 2 3
n1 gecko-ctl register $G lifetime 300 > /dev/null
for k in 1 2 3; do
	ip netns exec node$k gecko-handoff-echo 7000 "$RUN/echo$k.sock" > "$GECKO_OUT/echo$k.log" 2>&1 &
	PIDS+=($!)
done
for k in 1 2 3; do wait_for 10 grep -q "^handoff echo" "$GECKO_OUT/echo$k.log"; done
capture_client

pretty "bad requests are refused with a reason"
out=$(ctl 1 "give $STATE")
expect_eq "give without a connection" "$out" "error no connection to give"
out=$(ctl 2 "take /dev/null")
[[ $out == "error restore: "*"too short"* ]] || fail "empty state: $out"

pretty "the client streams through node1"
client env STREAM_STOP="$RUN/stop" STREAM_PAUSE="$RUN/pause" "$GECKO_REPO/tests/vm/tools/stream-echo-client" $G 7000 $SIZE $RATE \
	> "$GECKO_OUT/client.out" 2>&1 &
CLIENT_PID=$!
wait_for 30 bash -c "(( \$(socat - UNIX-CONNECT:$RUN/echo1.sock <<< stats | cut -d' ' -f2) > 262144 ))"

pretty "handoffs while it runs"
move 1 2
move 2 3
move 3 1
move 1 2
move 2 3
move 3 1
out=$(n3 gecko-ctl flow show --json | gojq -r '.[0] | "\(.state) \(.remote)"')
expect_eq "node3, the last donor, drops what still comes" "$out" "moved $CLIENT"

pretty "rollback: nobody takes the state, node1 thaws"
ok 1 "give $STATE" > /dev/null
out=$(ctl 1 "give $STATE")
[[ $out == "error no connection to give" ]] || fail "a frozen connection was given twice: $out"
ok 1 thaw > /dev/null
echoing 1

pretty "rollback: node2 restores, gives up, node1 thaws"
ok 1 "give $STATE" > /dev/null
ok 2 "take $STATE" > /dev/null
out=$(n2 gecko-ctl flow show --json | gojq -r '.[0].state')
expect_eq "node2's flow while restored" "$out" restored
ok 2 abort > /dev/null
ok 1 thaw > /dev/null
echoing 1

pretty "recovery: node1's socket goes without a word, node1 probes the client, then restores"
read -r _ _ una nxt rcv ts <<< "$(ok 1 "give $STATE")"
ok 1 drop > /dev/null
port=$(n1 gecko-ctl flow show --json | gojq -r '.[0]["remote-port"]')
# Out of the client's window, so that its stack must answer; its own timestamp, so that PAWS lets it by.
probe=(seq $(((una - (1 << 30)) & 0xffffffff)) ack $rcv timeout 10000)
((ts == 0)) || probe+=(tsval $ts tsecr 0)
n1 gecko-ctl flow probe $G 7000 $CLIENT $port "${probe[@]}" || fail "the probe was refused"
answer() { n1 gecko-ctl flow show --json | gojq -r '.[0].answer | select(. != null) | "\(.seq) \(.ack) \(.window) \(.tsecr // 0)"'; }
wait_for 5 bash -c "[[ -n \$(ip netns exec node1 gecko-ctl flow show --json | gojq '.[0].answer // empty') ]]"
read -r aseq aack awin atsecr <<< "$(answer)"
ahead=$(((aseq - rcv) & 0xffffffff))
pretty "the client answered: it expects $aack (node1 had sent up to $nxt), has sent $ahead octets past node1's $rcv, window $awin, TSecr $atsecr"
expect_eq "the client has every octet node1 sent" "$aack" "$nxt"
((ahead < 1 << 31)) || fail "the client's next octet $aseq is before node1's $rcv"
((ts == 0 || (atsecr > 0 && atsecr <= ts))) || fail "the client's TSecr $atsecr is not one node1 sent (up to $ts)"
expect_eq "node1: probes sent" "$(counter 1 probes_sent)" 1
(($(counter 1 probe_answers) >= 1)) || fail "node1 counted no answer"
ok 1 "take $STATE" > /dev/null
ok 1 resume > /dev/null
echoing 1
out=$(n1 gecko-ctl flow probe $G 7000 $CLIENT $port seq 1 ack 1 2>&1) && fail "a running connection was probed"
[[ $out == *"runs here"* ]] || fail "probe of a running connection: $out"
out=$(n1 gecko-ctl flow probe fd00:a::99 7000 $CLIENT $port seq 1 ack 1 2>&1) && fail "a probe from no service's address was sent"
[[ $out == *"no service"* ]] || fail "probe from no service's address: $out"

pretty "recovery from a snapshot: node1 snapshots the connection, which goes on, then dies without a word"
# ... its last echoes lost on the way: the client has less than node1 sent.
SNAP=$RUN/snap.bin
read -r _ _ suna _ srcv sts <<< "$(ok 1 "snap $SNAP")"
echoing 1
# Whatever way they take (straight to the client, or through the home agent).
tc -n node1 qdisc replace dev eth0 root netem loss 100%
sleep 0.5
touch "$RUN/pause"
# Node1 has read all the client sent once its count stays and nothing waits in its receive queue.
unread() { n1 ss -Htn state established '( sport = :7000 )' | awk '{ n += $1 } END { print n + 0 }'; }
settled() { local was; was=$(echoed 1); sleep 0.5; [[ $(echoed 1) == "$was" && $(unread) == 0 ]]; }
poll 15 settled || fail "node1's server left $(unread) octets unread"
read -r _ _ _ nxt _ _ <<< "$(ok 1 "give $STATE")"
ok 1 drop > /dev/null
tc -n node1 qdisc del dev eth0 root
probe=(seq $(((suna - (1 << 30)) & 0xffffffff)) ack $srcv timeout 10000)
((sts == 0)) || probe+=(tsval $sts tsecr 0)
n1 gecko-ctl flow probe $G 7000 $CLIENT $port "${probe[@]}" || fail "the probe was refused"
wait_for 5 bash -c "[[ -n \$(ip netns exec node1 gecko-ctl flow show --json | gojq '.[0].answer // empty') ]]"
read -r aseq aack awin atsecr <<< "$(answer)"
lacks=$(((nxt - aack) & 0xffffffff))
pretty "the client answered: it expects $aack, $lacks octets short of what node1 sent; it has sent up to $aseq"
((lacks > 0 && lacks < 1 << 31)) || fail "the client is not short of node1's lost echoes (it expects $aack, node1 sent up to $nxt)"
read -r _ acked received resent <<< "$(ok 1 "recover $SNAP")"
pretty "restored from the snapshot: the client has $acked octets and sent $received; node1's own record echoed $resent again"
((resent >= lacks)) || fail "node1 echoed $resent octets again, the client lacked $lacks"
rm "$RUN/pause"
echoing 1
out=$(ctl 1 "recover $SNAP")
expect_eq "recover beside a connection" "$out" "error a connection is here already"

kill -0 $CLIENT_PID 2> /dev/null || fail "the stream ended before the handoffs: $(cat "$GECKO_OUT/client.out")"
pretty "the stream completes"
touch "$RUN/stop"
wait $CLIENT_PID || fail "client: $(cat "$GECKO_OUT/client.out")"
cat "$GECKO_OUT/client.out"

for k in 1 2 3; do
	expect_eq "node$k: flows expired" "$(counter $k flow_expired)" 0
	pretty "node$k: $(ip netns exec node$k gecko-ctl info --json |
		gojq -r '.counters | to_entries | map(select(.key | startswith("flow_"))) |
		map("\(.key) \(.value)") | join(", ")')"
done
expect_no_reset
