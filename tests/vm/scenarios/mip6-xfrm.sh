# SPDX-License-Identifier: GPL-2.0-only
# vm-beside
# libgeckoctl's xfrm programming (gecko/xfrm.h) on the stock kernel, role by
# role through gecko-xfrm, as gecko-cnd and a mobile node will use it:
#
#  client fd00:c::2 (CN: cn-init, cn-bind) ── router ── node1 fd00:11::2, node2 fd00:12::2
#                                                        (G = fd00:a::100 as home address)
#
# - RH2 out: UDP from the client to G leaves to the care-of address with a
#   type 2 routing header, and node1 delivers it to a socket bound to G;
# - HAO in: a datagram node1 sends from G (the kernel moves G into a HAO)
#   reaches the client's socket as coming from G;
# - binding again with node2's CoA updates the state in place;
# - the Mobility Header bypass: MH from the client to G leaves to G itself;
# - a user's own main-type policy on the same selector coexists with ours;
# - twenty bindings made and removed in one call, past one netlink batch;
# - removal leaves no state or policy behind.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"

trap topo_down EXIT
pretty "topology; node1 and node2 hold G as a home address and accept RH2"
topo_up
for n in node1 node2; do
	ip -n $n -6 addr add $G/128 dev lo home nodad
	ip netns exec $n gecko-xfrm mn-init
done
ip netns exec client tcpdump -i eth0 -U -w "$GECKO_OUT/client.pcap" ip6 2> "$GECKO_OUT/tcpdump.log" &
tcpdump_pid=$!
wait_for 10 grep -q listening "$GECKO_OUT/tcpdump.log"

pretty "the client as a correspondent: wildcard HAO state, MH policy, binding G -> node1"
client gecko-xfrm cn-init
client gecko-xfrm cn-bind $CLIENT $G $NODE1
client gecko-xfrm cn-bind $CLIENT $G $NODE1	# idempotent
client ip xfrm state
client ip xfrm policy
expect_eq "states" "$(client ip xfrm state | grep -c '^src')" 3
expect_eq "sub policies" "$(client ip xfrm policy | grep -c 'ptype sub')" 4
# A user's own policy for the same traffic (main type) stays and applies too.
client ip xfrm policy add src $CLIENT/128 dst $G/128 dir out action allow

pretty "RH2 out: UDP from the client to G reaches node1's socket bound to G"
n1 socat -u UDP6-RECV:7000,bind=[$G] OPEN:/tmp/n1-udp,creat,trunc &
wait_for 5 sh -c "ip netns exec node1 ss -uln | grep -q ':7000'"
echo to-node1 | client socat -u - UDP6-SENDTO:[$G]:7000
wait_for 5 grep -q to-node1 /tmp/n1-udp

pretty "HAO in: node1 sends from G with a HAO, the client's socket sees G"
n1 gecko-xfrm mn-hao $G $CLIENT $NODE1
client socat -u UDP6-RECV:7001,range=[$G]/128 OPEN:/tmp/client-udp,creat,trunc &
wait_for 5 sh -c "ip netns exec client ss -uln | grep -q ':7001'"
echo from-G | n1 socat -u - UDP6-SENDTO:[$CLIENT]:7001,bind=[$G]
wait_for 5 grep -q from-G /tmp/client-udp
n1 gecko-xfrm mn-hao-del $G $CLIENT $NODE1

pretty "binding G -> node2 updates the care-of address in place"
client gecko-xfrm cn-bind $CLIENT $G $NODE2
states=$(client ip xfrm state)
expect_eq "states" "$(grep -c '^src' <<< "$states")" 3
expect_eq "states with node2's care-of address" "$(grep -c "coa $NODE2" <<< "$states")" 2
[[ $states != *"coa $NODE1"* ]] || fail "node1's care-of address left"
n2 socat -u UDP6-RECV:7000,bind=[$G] OPEN:/tmp/n2-udp,creat,trunc &
wait_for 5 sh -c "ip netns exec node2 ss -uln | grep -q ':7000'"
echo to-node2 | client socat -u - UDP6-SENDTO:[$G]:7000
wait_for 5 grep -q to-node2 /tmp/n2-udp

pretty "Mobility Header bypass: a BRR from the client to G leaves to G, without RH2"
client /usr/bin/python3 -c "
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 135)
s.sendto(bytes([59, 0, 0, 0, 0, 0, 0, 0]), ('$G', 0))"
brr_captured() { [[ -n $(tcpdump -r "$GECKO_OUT/client.pcap" "ip6[6] == 135" 2> /dev/null) ]]; }
wait_for 10 brr_captured
kill $tcpdump_pid
wait $tcpdump_pid || true
tshark -r "$GECKO_OUT/client.pcap" -T fields -e ipv6.dst -e ipv6.routing.type -e mip6.mhtype -e udp.dstport \
	> "$GECKO_OUT/client.fields" 2> /dev/null
cat "$GECKO_OUT/client.fields"
grep -qP "^$NODE1\t2\t\t7000$" "$GECKO_OUT/client.fields" || fail "no UDP to node1 with RH2 on the wire"
grep -qP "^$NODE2\t2\t\t7000$" "$GECKO_OUT/client.fields" || fail "no UDP to node2 with RH2 on the wire"
grep -qP "^$G\t\t0\t$" "$GECKO_OUT/client.fields" || fail "the BRR did not leave directly to G"

pretty "20 bindings in one Xfrm::apply(), 140 requests in three netlink batches: all made, then all removed"
homes=()
for i in $(seq 1 20); do homes+=(fd00:a::$((1000 + i)) $NODE1); done
client gecko-xfrm cn-bind $CLIENT "${homes[@]}"
expect_eq "states" "$(client ip xfrm state | grep -c '^src')" $((3 + 2 * 20))
expect_eq "states of the last binding" "$(client ip xfrm state | grep -c "^src.*fd00:a::1020")" 2
expect_eq "sub policies" "$(client ip xfrm policy | grep -c 'ptype sub')" $((4 + 3 * 20))
client gecko-xfrm cn-unbind $CLIENT "${homes[@]}"
client gecko-xfrm cn-unbind $CLIENT "${homes[@]}"	# what is gone, in every batch, succeeds
expect_eq "states" "$(client ip xfrm state | grep -c '^src')" 3
expect_eq "sub policies" "$(client ip xfrm policy | grep -c 'ptype sub')" 4

pretty "removal leaves only the user's policy"
client gecko-xfrm cn-unbind $CLIENT $G $NODE2
client gecko-xfrm cn-unbind $CLIENT $G $NODE2	# removing what is gone succeeds
client gecko-xfrm cn-fini
expect_eq "client states" "$(client ip xfrm state)" ""
expect_eq "client policies" "$(client ip xfrm policy | grep -c '^src')" 1
for n in node1 node2; do
	ip netns exec $n gecko-xfrm mn-fini
	expect_eq "$n states" "$(ip netns exec $n ip xfrm state)" ""
	expect_eq "$n policies" "$(ip netns exec $n ip xfrm policy)" ""
done
pretty "PASS"
