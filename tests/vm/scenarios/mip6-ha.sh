# SPDX-License-Identifier: GPL-2.0-only
# vm-beside
# gecko-had, the home agent, with a scripted mobile node (gecko-mn):
#
#  client fd00:c::2 ── router ── home link fd00:a::/64 ── ha fd00:a::1 (gecko-had on eth0)
#                        │  │                               G = fd00:a::100
#            node1 fd00:11::2     node2 fd00:12::2 (care-of prefix not allowed)
#
# node1 registers G; the client's ping and UDP to G reach node1 through the
# ip6ip6 tunnel, replies come back through the reverse tunnel. Then: a stale
# sequence number (135), a care-of address not allowed (129), a home
# address off the home prefix (132), deregistration, expiry, malformed
# input, SIGTERM
# leaving nothing behind, and a restart. Every MH on the home link must
# decode in tshark and carry the RFC checksum.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"

PATH=$GECKO_REPO/build/tools/gecko-had:$PATH
OFF_PREFIX=fd00:b::1	# a home address outside the home prefix
CONF=/tmp/gecko-had.conf
HAD_PID=

had_stop() {
	kill -TERM "$HAD_PID"
	wait "$HAD_PID" || fail "gecko-had exited with status $? on SIGTERM"
	HAD_PID=
}

# register HOST COA SEQ LIFETIME [HOME]: prints gecko-mn's answer, never fails.
# Without an answer, what the kernels counted goes to the log.
register() {
	local rc=0
	ip netns exec "$1" gecko-mn register --home "${5:-$G}" --coa "$2" --ha $HA --seq "$3" --lifetime "$4" || rc=$?
	if ((rc == 3)); then
		{
			echo "--- no answer: xfrm and IPv6 counters on $1 and ha"
			ip netns exec "$1" grep -v ' 0$' /proc/net/xfrm_stat || true
			ip netns exec ha grep -v ' 0$' /proc/net/xfrm_stat || true
			ip netns exec ha nstat -az Ip6InDiscards Ip6InNoRoutes Ip6InUnknownProtos Ip6InAddrErrors || true
			ip -n ha xfrm state; ip -n ha xfrm policy; ip -n "$1" xfrm state; ip -n "$1" xfrm policy
		} >&2
	fi
}

tunnel_to() { ha ip -6 -d -j link show | gojq -r --arg r "$1" '.[] | select(.linkinfo.info_data.remote == $r) | .ifname'; }
route_dev() { ha ip -6 -j route show "$G/128" | gojq -r '.[0].dev // empty'; }
# Not "| grep -q": with pipefail, ip dies of SIGPIPE when grep stops reading.
proxied() { [[ $(ha ip -6 neigh show proxy) == *"$G dev eth0"* ]]; }
unrouted() { [[ -z $(route_dev) && -z $(tunnel_to $NODE1) ]]; }
logged_from_client() { (( $(grep -c "from $CLIENT" "$GECKO_OUT/had.log") >= $1 )); }
rx_packets() { ip -n "$1" -j -s link show "$2" | gojq '.[0].stats64.rx.packets'; }

pretty "topology, forwarding sysctls set by gecko-had itself"
topo_up	# its EXIT trap also stops gecko-had
cat > "$CONF" <<EOC
interface = eth0
home-prefix = fd00:a::/64
address = $HA
allow-coa = fd00:11::/64
allow-coa = fd00:13::/64
max-lifetime = 600
EOC
ip netns exec ha tcpdump -i eth0 -U -w "$GECKO_OUT/home.pcap" ip6 2> "$GECKO_OUT/tcpdump.log" &
tcpdump_pid=$!
wait_for 10 grep -q listening "$GECKO_OUT/tcpdump.log"
had_start "$CONF"

pretty "the mobile node side: G (home flag) and an ip6ip6 tunnel to the HA on node1 and node2"
mn_at_home node1 $NODE1
mn_at_home node2 $NODE2
n1 ip -6 addr add $OFF_PREFIX/128 dev lo home nodad

pretty "node1 registers G: BA status 0, tunnel, route and proxy entry on the HA"
out=$(register node1 $NODE1 10 60)
echo "$out"
[[ $out == "status 0 seq 10 lifetime 60 from $HA rh2 $NODE1" ]] || fail "registration: $out"
tnl=$(tunnel_to $NODE1)
[[ -n $tnl ]] || fail "no tunnel to node1 on the HA"
expect_eq "route to G" "$(route_dev)" "$tnl"
proxied || fail "no proxy entry for G"

pretty "client -> G reaches node1 through the tunnel, and the reverse tunnel carries the replies"
before=$(rx_packets node1 mip6)
client ping -6 -c3 -i0.2 -W2 $G
(( $(rx_packets node1 mip6) >= before + 3 )) || fail "the echo requests did not come through node1's tunnel"
(( $(rx_packets ha "$tnl") >= 3 )) || fail "the echo replies did not come back through the HA's tunnel"
# Tunnel MTU 1452 (40 octets of outer header, 8 of encapsulation limit): a full-size packet fits both ways.
expect_eq "HA tunnel MTU" "$(ha ip -j link show "$tnl" | gojq .[0].mtu)" 1452
client ping -6 -c1 -W2 -M do -s $((1452 - 48)) $G > /dev/null
n1 socat -u UDP6-RECV:5000,bind=[$G] OPEN:/tmp/udp-received,creat,trunc &
udp_pid=$!
n1 socat UDP6-RECVFROM:5001,bind=[$G],fork SYSTEM:cat &
echo_pid=$!
wait_for 10 sh -c "ip netns exec node1 ss -uln | grep -q ':5000'"
wait_for 10 sh -c "ip netns exec node1 ss -uln | grep -q ':5001'"
echo datagram-to-G | client socat -u - UDP6-SENDTO:[$G]:5000
wait_for 5 grep -q datagram-to-G /tmp/udp-received
expect_eq "UDP echo from G" "$(echo udp-echo | client socat -T3 - UDP6:[$G]:5001)" udp-echo
kill $udp_pid $echo_pid 2> /dev/null || true

pretty "a stale sequence number gets 135 with the last accepted one; the binding stays"
out=$(register node1 $NODE1 5 60)
echo "$out"
[[ $out == "status 135 seq 10 "* ]] || fail "stale sequence number: $out"
expect_eq "route to G" "$(route_dev)" "$tnl"

pretty "node2's care-of address is not allowed: 129; the binding stays"
out=$(register node2 $NODE2 20 60)
echo "$out"
[[ $out == "status 129 seq 20 "* ]] || fail "care-of address not allowed: $out"
expect_eq "route to G" "$(route_dev)" "$tnl"
[[ -z $(tunnel_to $NODE2) ]] || fail "a tunnel to node2 was made"
client ping -6 -c1 -W2 $G > /dev/null

pretty "a home address outside the home prefix: 132"
out=$(register node1 $NODE1 1 60 $OFF_PREFIX)
echo "$out"
[[ $out == "status 132 seq 1 "* ]] || fail "not home subnet: $out"

pretty "deregistration (lifetime 0) removes tunnel, route and proxy entry"
out=$(register node1 $NODE1 11 0)
echo "$out"
[[ $out == "status 0 seq 11 lifetime 0 "* ]] || fail "deregistration: $out"
[[ -z $(tunnel_to $NODE1) && -z $(route_dev) ]] || fail "tunnel or route left after deregistration"
! proxied || fail "proxy entry left after deregistration"

pretty "a binding expires after its lifetime"
out=$(register node1 $NODE1 12 4)
[[ $out == "status 0 seq 12 lifetime 4 "* ]] || fail "short registration: $out"
[[ -n $(route_dev) ]] || fail "no route after registration"
wait_for 10 unrouted
grep -q "expired" "$GECKO_OUT/had.log" || fail "the expiry was not logged"

pretty "malformed input from the client is counted, logged, answered where the RFC says, and survived"
client /usr/bin/python3 -c "
import socket
def sock(kernel_checksum=True):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 135)
    if not kernel_checksum:
        s.setsockopt(255, 7, -1)  # SOL_RAW, IPV6_CHECKSUM: off
    return s
# a Binding Update with a wrong checksum
sock(False).sendto(bytes([59, 1, 5, 0, 0x12, 0x34, 0, 1, 0xc0, 0, 0, 15, 1, 2, 0, 0]), ('$HA', 0))
# an unknown MH Type: answered with a Binding Error
sock().sendto(bytes([59, 1, 42, 0] + [0] * 12), ('$HA', 0))
# a Binding Update whose Alternate CoA option runs past its end
sock().sendto(bytes([59, 1, 5, 0, 0, 0, 0, 2, 0xc0, 0, 0, 15, 3, 16, 0, 0]), ('$HA', 0))"
wait_for 10 logged_from_client 3

pretty "SIGTERM leaves no tunnel, route, proxy entry or xfrm state/policy behind"
out=$(register node1 $NODE1 13 60)
[[ $out == "status 0 "* ]] || fail "registration before SIGTERM: $out"
[[ $(ha ip xfrm state) == *"proto hao"*"flag wildrecv"* ]] || fail "no HAO receive state while running"
[[ $(ha ip xfrm policy) == *"proto mobility-header"*"ptype sub"* ]] || fail "no MH policy while running"
had_stop
grep -q "malformed 3 (bad checksum 1)" "$GECKO_OUT/had.log" || fail "malformed input not counted"
[[ -z $(ha ip -6 -d -j link show | gojq -r '.[] | select(.ifname | startswith("gha")) | .ifname') ]] ||
	fail "tunnel left after SIGTERM"
[[ -z $(route_dev) ]] || fail "route left after SIGTERM"
! proxied || fail "proxy entry left after SIGTERM"
expect_eq "xfrm states" "$(ha ip xfrm state)" ""
expect_eq "xfrm policies" "$(ha ip xfrm policy)" ""

pretty "restart with the same configuration serves again"
had_start "$CONF"
out=$(register node1 $NODE1 1 60)
echo "$out"
[[ $out == "status 0 seq 1 "* ]] || fail "registration after restart: $out"
client ping -6 -c1 -W2 $G > /dev/null
had_stop
cat "$GECKO_OUT/had.log"

pretty "every Mobility Header on the home link: tshark decodes it, its checksum is right"
sleep 0.5
kill $tcpdump_pid
wait $tcpdump_pid || true
# The client's deliberately broken messages aside.
tshark -V -r "$GECKO_OUT/home.pcap" -Y "mipv6 && ipv6.src != $CLIENT" > "$GECKO_OUT/home.tshark" 2>&1
grep -q "Binding Acknowledgement" "$GECKO_OUT/home.tshark" || fail "tshark saw no BA"
grep -q "Binding Error" "$GECKO_OUT/home.tshark" || fail "tshark saw no BE"
! grep -i malformed "$GECKO_OUT/home.tshark" || fail "tshark: malformed packet"
"$GECKO_REPO/tests/vm/tools/mh-checksum" "$GECKO_OUT/home.pcap" $HA $NODE1
pretty "PASS"
