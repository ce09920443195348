# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 420
# vm-beside
# vm-background
# Versatile anycast at the IP level with the real signalling: gecko-had on
# the HA, gecko-cnd on the stock client, gecko.ko and gecko-agent on the
# three nodes, each serving G with a UDP echo that answers its own name.
#
# node1 registers as contact node (home registration, reverse tunnel); UDP
# and ping to G are answered by node1. gecko-ctl then hands the client to
# node2, node3 and back to node1, each time with the donor's sequence
# number + 1: HoTI sent from G by the contact node, HoT relayed by its
# agent, CoTI direct, BU from the acceptor's CoA with HAO = G. The answers
# switch and always come from G; the acceptor's counters move. Then RR
# ahead and the BU later, a 20 MB TCP download from G bound to node2 (no
# fragment, no drop for size), a binding clear that returns the client
# to the contact node, a short binding refreshed on the client's request,
# a BU whose seq comes from the client's "out of window" answer, and the
# contact node's agent stopped (an acceptor's RR fails at once) and
# restarted (it resumes the home registration). The client link is captured
# until the TCP download: each UDP echo to a node's care-of address carries
# RH2 = G and its reply, from that address, HAO = G (every reply checked,
# its UDP checksum verified by tshark); every MH checksum verified.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/capture.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"

trap anycast_down EXIT

counter() { ip netns exec "$1" gecko-ctl info --json | gojq ".counters.$2"; }
agent_counter() { ip netns exec "$1" gecko-ctl agent show --json | gojq ".counters.$2"; }
# seq_at NODE: the sequence number of the client's last BU that NODE knows, 0 for none.
seq_at() { ip netns exec "$1" gecko-ctl binding show $G --json | gojq "[.[] | select(.peer == \"$CLIENT\")][0].seq // 0"; }

# The care-of address the client's kernel sends G's traffic to (none: empty).
client_coa() { client ip xfrm state list src $CLIENT dst $G proto route2 | sed -n 's/^\s*coa \(\S*\).*/\1/p'; }

# hand_off DONOR ACCEPTOR ACCEPTOR_COA: the seed's low-level handoff.
hand_off() {
	local donor=$1 acceptor=$2 coa=$3 seq out rh2 hao
	seq=$(seq_at "$donor")
	rh2=$(counter "$acceptor" rh2_in)
	hao=$(counter "$acceptor" hao_out)
	out=$(ip netns exec "$acceptor" gecko-ctl bu $G $CLIENT seq $((seq + 1)))
	echo "$acceptor: $out"
	[[ $out == "seq $((seq + 1)) lifetime 420 in "* ]] || fail "BU from $acceptor: $out"
	((seq == 0)) || ip netns exec "$donor" gecko-ctl binding del $G $CLIENT
	expect_eq "client's binding" "$(client_coa)" "$coa"
	expect_eq "UDP echo after the handoff to $acceptor" "$(echo_reply "to-$acceptor")" "$acceptor"
	(($(counter "$acceptor" rh2_in) > rh2)) || fail "$acceptor stripped no RH2"
	(($(counter "$acceptor" hao_out) > hao)) || fail "$acceptor added no HAO"
	expect_eq "$acceptor's binding" \
		"$(ip netns exec "$acceptor" gecko-ctl binding show $G $CLIENT --json | gojq -r '.[0].state')" bound
}

pretty "topology, gecko-had, gecko-cnd; on each node G, the service, an agent and a UDP echo"
topo_up
capture client
anycast_up 1 2 3

pretty "node1 registers as contact node: BA, reverse tunnel, contact flag"
out=$(n1 gecko-ctl register $G lifetime 120)
echo "$out"
[[ $out == "seq 1 lifetime 120 in "* ]] || fail "registration: $out"
expect_eq "contact flag" "$(n1 gecko-ctl service show $G --json | gojq '.[0].contact')" true
[[ $(n1 ip -6 rule) == *"from $G lookup"* ]] || fail "no rule for what G sends"

pretty "UDP and ping to G are answered by node1"
expect_eq "UDP echo" "$(echo_reply hello)" node1
replies=$(nstat_sum node1 Icmp6OutEchoReplies)
client ping -6 -c 3 -i 0.2 -W 2 $G > /dev/null || fail "ping to G"
(($(nstat_sum node1 Icmp6OutEchoReplies) >= replies + 3)) || fail "node1 did not answer the pings"
expect_eq "client binding before any handoff" "$(client_coa)" ""

pretty "handoffs node1 -> node2 -> node3 -> node1"
hand_off node1 node2 $NODE2
hand_off node2 node3 $NODE3
hand_off node3 node1 $NODE1
expect_eq "Home Tests relayed by node1" "$(agent_counter node1 hot_relayed)" 2

pretty "RR ahead: node2 tests while node1 serves, then only the BU"
out=$(n2 gecko-ctl rr $G $CLIENT)
echo "node2 rr: $out"
expect_eq "UDP echo while node1 still serves" "$(echo_reply still)" node1
hand_off node1 node2 $NODE2

pretty "20 MB of TCP from G, bound to node2: no fragment, no drop for size"
capture_stop
head -c 20000000 /dev/urandom > /tmp/blob
want=$(sha256sum < /tmp/blob)
n2 socat -u OPEN:/tmp/blob TCP6-LISTEN:8000,bind=[$G],reuseaddr &
PIDS+=($!)
wait_for 10 sh -c "ip netns exec node2 ss -Hltn | grep -q 8000"
# The first 3000 packets of the transfer, for tshark's TCP checksums.
client tcpdump -i eth0 -U -c 3000 -w "$GECKO_OUT/tcp.pcap" ip6 2> "$GECKO_OUT/tcpdump-tcp.log" &
wait_for 10 grep -q listening "$GECKO_OUT/tcpdump-tcp.log"
got=$(client timeout 90 socat -u TCP6:[$G]:8000 - | sha256sum)
expect_eq "download sha256" "$got" "$want"
for h in client node2; do
	frag=$(ip netns exec $h nstat -az Ip6FragCreates Ip6ReasmReqds Icmp6OutPktTooBigs Icmp6InPktTooBigs |
		awk 'NR > 1 { n += $2 } END { print n + 0 }')
	expect_eq "$h fragments and too-big messages" "$frag" 0
done
expect_eq "HAO failures at node2" "$(counter node2 hao_failed)" 0

pretty "a BU with a stale seq is refused; the binding stays where it was"
! out=$(n3 gecko-ctl bu $G $CLIENT seq 1 2>&1) || fail "a stale seq was accepted"
[[ $out == *"sequence number out of window"* ]] || fail "stale seq: $out"
expect_eq "node3's bindings after the refusal" "$(n3 gecko-ctl binding show --json)" "[]"
expect_eq "UDP echo after the refusal" "$(echo_reply again)" node2

pretty "binding clear: the client returns to the contact node"
out=$(n2 gecko-ctl clear $G $CLIENT)
echo "node2 clear: $out"
expect_eq "client binding after clear" "$(client_coa)" ""
expect_eq "node2's bindings" "$(n2 gecko-ctl binding show --json)" "[]"
expect_eq "UDP echo after clear" "$(echo_reply back)" node1

pretty "errors: a clear where the client is not served, no agent"
! out=$(n3 gecko-ctl clear $G $CLIENT 2>&1) || fail "clear without a binding succeeded"
[[ $out == *"no binding"* ]] || fail "clear without a binding: $out"
! out=$(client gecko-ctl rr $G $CLIENT 2>&1) || fail "rr without an agent succeeded"
[[ $out == *"no node agent"* ]] || fail "rr without an agent: $out"
for k in 1 2 3; do
	for c in mh_bad_checksum mh_malformed peer_errors; do
		expect_eq "node$k agent $c" "$(agent_counter node$k $c)" 0
	done
done

pretty "a short binding is refreshed on the client's Binding Refresh Request"
out=$(n1 gecko-ctl bu $G $CLIENT lifetime 8)
echo "node1: $out"
seq=$(seq_at node1)
wait_for 15 grep -q "refreshing the binding on the client's request" "$GECKO_OUT/agent1.log"
wait_for 5 bash -c "(( \$(ip netns exec node1 gecko-ctl binding show $G $CLIENT --json | gojq '.[0].seq') > $seq ))"
sleep 8
expect_eq "UDP echo after the first lifetime" "$(echo_reply refreshed)" node1
expect_eq "client binding after the refresh" "$(client_coa)" $NODE1

pretty "a BU without seq: the client's 'out of window' answer gives the number"
seq=$(seq_at node1)
out=$(n3 gecko-ctl bu $G $CLIENT)
echo "node3: $out"
[[ $out == "seq $((seq + 1)) lifetime 420 in "* ]] || fail "BU without seq: $out"
n1 gecko-ctl binding del $G $CLIENT
expect_eq "UDP echo" "$(echo_reply resync)" node3
n3 gecko-ctl clear $G $CLIENT

pretty "the contact node's agent stops: an acceptor's RR fails at once; restarted, it resumes the registration"
# Counted now: a slow run may have seen a refresh already.
registered=$(grep -c 'registered with' "$GECKO_OUT/agent1.log")
kill -TERM "${AGENT[1]}"
wait "${AGENT[1]}" || fail "gecko-agent exited with status $? on SIGTERM"
! out=$(n3 gecko-ctl rr $G $CLIENT 2>&1) || fail "RR without the contact node's agent succeeded"
echo "$out"
[[ $out == *"contact node's agent at fd00:11::2"* ]] || fail "RR without the contact node's agent: $out"
ip netns exec node1 gecko-agent --key-file "$KEY" >> "$GECKO_OUT/agent1.log" 2>&1 &
AGENT[1]=$!
PIDS+=($!)
wait_for 10 bash -c "(( \$(grep -c 'registered with' $GECKO_OUT/agent1.log) > $registered ))"
out=$(n3 gecko-ctl rr $G $CLIENT)
echo "node3 rr: $out"

pretty "deregistration: the tunnel and the rule go"
n1 gecko-ctl deregister $G
expect_eq "contact flag" "$(n1 gecko-ctl service show $G --json | gojq '.[0].contact')" false
[[ $(n1 ip -6 rule) != *"from $G lookup"* ]] || fail "the rule for G is still there"

pretty "the captures"
for k in 1 2 3; do cat "$GECKO_OUT/agent$k.log"; done
tables client
run_checks
# Every echo the capture holds, in order, its request and reply paired by the
# client's port: a request to a care-of address with RH2 = G must be answered
# from that care-of address with HAO = G, one to G from G itself. A request
# left unanswered and asked again (echo_reply) to the same address is the
# same echo.
tshark -r "$GECKO_OUT/client.pcap" -Y "udp.port == 7007 && !icmpv6" -T fields -E separator='|' -e udp.srcport -e udp.dstport \
	-e ipv6.src -e ipv6.dst -e ipv6.routing.mipv6.home_address -e ipv6.opt.mipv6.home_address \
	> "$GECKO_OUT/echo.fields" 2> "$GECKO_OUT/tshark.err" || fail "tshark: $(grep -v '^Running as user' "$GECKO_OUT/tshark.err" | tr -s '\n\t' '  ')"
awk -F'|' -v g=$G '
	function via(a, what) { return a == "" ? "" : a == g ? " " what : " " what " " a }
	$2 == 7007 && !req[$1]++ { port[++n] = $1; to[$1] = $4 via($5, "via RH2") }
	$1 == 7007 && !rep[$2]++ { from[$2] = $3 via($6, "with HAO") }
	END { for (i = 1; i <= n; i++) {
		p = port[i]
		if (!rep[p] && i < n && to[port[i + 1]] == to[p])
			continue
		printf "%s -> %s%s\n", to[p], from[p], req[p] == 1 && rep[p] == 1 ? "" : " (" req[p] " requests, " rep[p] " replies)" } }' \
	"$GECKO_OUT/echo.fields" > "$GECKO_OUT/echoes.txt"
cat "$GECKO_OUT/echoes.txt"
# hello, then after each handoff (to node2, node3, node1), with RR ahead (still), and to node2.
expect_eq "echoes on the client's link" "$(paste -sd';' "$GECKO_OUT/echoes.txt")" "$G -> $G;$NODE2 via RH2 -> $NODE2 with HAO;\
$NODE3 via RH2 -> $NODE3 with HAO;$NODE1 via RH2 -> $NODE1 with HAO;$NODE1 via RH2 -> $NODE1 with HAO;\
$NODE2 via RH2 -> $NODE2 with HAO"
for k in 1 2 3; do
	seen client src=$CLIENT dst=fd00:1$k::2 rt=2 rth=$G || fail "no RH2 to node$k"
	seen client src=fd00:1$k::2 mh=5 hao=$G || fail "no BU from node$k with HAO = G"
	seen client src=fd00:1$k::2 mh=2 || fail "no CoTI from node$k"
done
unseen client mh=1 src=fd00:12::2 || fail "node2 sent a HoTI itself"
# One test for the first handoff to node2, one run ahead; none for the BU after
# it. Counted by cookie: on a slow machine a test may be sent again (same cookie).
cotis=$(tshark -r "$GECKO_OUT/client.pcap" -Y "ipv6.src == $NODE2 && mip6.mhtype == 2" -T fields -e mip6.coti.cookie 2> /dev/null)
echo "CoTIs from node2: $(echo $cotis)"
expect_eq "Care-of tests from node2" "$(sort -u <<< "$cotis" | grep -c .)" 2
# A bad TCP checksum; 0xffff where tshark computes 0 is the same one's
# complement sum (RFC 1624), which Linux writes for a sum of 0.
BAD_TCP='tcp.checksum.status == "Bad" && !(tcp.checksum == 0xffff && tcp.checksum_calculated == 0)'
tshark -r "$GECKO_OUT/client.pcap" -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE \
	-Y "udp.checksum.status == \"Bad\" || ($BAD_TCP) || _ws.malformed" > "$GECKO_OUT/bad.txt" 2> /dev/null
expect_eq "packets with a bad checksum or malformed" "$(wc -l < "$GECKO_OUT/bad.txt")" 0
tshark -r "$GECKO_OUT/tcp.pcap" -o tcp.check_checksum:TRUE \
	-Y "($BAD_TCP) || _ws.malformed" > "$GECKO_OUT/bad-tcp.txt" 2> /dev/null
expect_eq "TCP segments with a bad checksum or malformed" "$(wc -l < "$GECKO_OUT/bad-tcp.txt")" 0
for want in "ipv6.opt.mipv6.home_address == $G" "ipv6.routing.mipv6.home_address == $G"; do
	n=$(tshark -r "$GECKO_OUT/tcp.pcap" -o tcp.check_checksum:TRUE -Y "tcp.checksum.status == \"Good\" && $want" 2> /dev/null | wc -l)
	((n > 100)) || fail "tshark verified only $n TCP checksums with $want"
done
n=$(tshark -r "$GECKO_OUT/client.pcap" -o udp.check_checksum:TRUE \
	-Y "udp.checksum.status == \"Good\" && ipv6.opt.mipv6.home_address == $G" | wc -l)
expect_eq "UDP replies with HAO whose checksum tshark verified" "$n" "$(grep -c "with HAO$" "$GECKO_OUT/echoes.txt")"
"$GECKO_REPO/tests/vm/tools/mh-checksum" "$GECKO_OUT/client.pcap" $G $NODE1 $NODE2 $NODE3 > "$GECKO_OUT/mh-checksum.txt"
grep -c . "$GECKO_OUT/mh-checksum.txt"
pretty "PASS"
