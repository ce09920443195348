# SPDX-License-Identifier: GPL-2.0-only
# The route-optimisation data path on a node: the client's stock kernel
# holds a binding of G to node2's care-of address (set with iproute2, as a
# correspondent node daemon would), node2 serves G with a binding for the
# client. UDP and a 20 MB TCP transfer each way must flow through the
# hooks: RH2 stripped in, HAO added out, checksums right on links without
# offload, no fragment, nothing dropped for size.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"

topo_up

pretty "client: binding of G to node2's care-of address in the stock kernel"
client_binds_g $NODE2

pretty "node2: G on lo, the service and the client's binding"
n2 ip -6 addr add $G/128 dev lo
n2 gecko-ctl service add $G coa $NODE2 contact-coa $NODE1
n2 gecko-ctl binding set $G $CLIENT state bound seq 1 lifetime 420
n2 gecko-ctl binding show

counter() { n2 gecko-ctl info --json | jq ".counters.$1"; }

pretty "UDP to G is answered by node2, from G"
# The first 4000 packets: the UDP exchange, the start of each transfer.
n2 tcpdump -i eth0 -U -c 4000 -w "$GECKO_OUT/node2.pcap" ip6 2> /dev/null &
wait_for 10 test -s "$GECKO_OUT/node2.pcap"
n2 socat UDP6-RECVFROM:7007,bind=[$G],fork SYSTEM:'echo node2' &
wait_for 10 sh -c "ip netns exec node2 ss -Hlun | grep -q 7007"
reply=$(client timeout 10 socat -t 5 - UDP6:[$G]:7007 <<< hello)
expect_eq "UDP reply" "$reply" node2

pretty "20 MB of TCP from G to the client and back"
head -c 20000000 /dev/urandom > /tmp/blob
want=$(sha256sum < /tmp/blob)
n2 socat -u OPEN:/tmp/blob TCP6-LISTEN:8000,bind=[$G],reuseaddr &
wait_for 10 sh -c "ip netns exec node2 ss -Hltn | grep -q 8000"
got=$(client timeout 60 socat -u TCP6:[$G]:8000 - | sha256sum)
expect_eq "download sha256" "$got" "$want"
n2 socat -u TCP6-LISTEN:8001,bind=[$G],reuseaddr CREATE:/tmp/upload &
wait_for 10 sh -c "ip netns exec node2 ss -Hltn | grep -q 8001"
client timeout 60 socat -u OPEN:/tmp/blob TCP6:[$G]:8001
wait_for 10 sh -c '[ "$(sha256sum < /tmp/upload)" = "'"$want"'" ]'
kill %1 2> /dev/null || true
sleep 0.5

pretty "counters: stripped, added, clamped, nothing failed"
n2 gecko-ctl info
(( $(counter rh2_in) > 14000 )) || fail "too few RH2 packets stripped"
(( $(counter hao_out) > 14000 )) || fail "too few HAO packets"
expect_eq "HAO failures" "$(counter hao_failed)" 0
expect_eq "MSS clamped" "$(counter mss_clamped)" 2
expect_eq "RH2 without binding" "$(counter rh2_no_binding)" 0

pretty "no fragment, no drop for size"
for h in client node2; do
	frag=$(ip netns exec $h nstat -az Ip6FragCreates Ip6ReasmReqds Icmp6OutPktTooBigs Icmp6InPktTooBigs |
		awk 'NR > 1 { n += $2 } END { print n + 0 }')
	expect_eq "$h fragments and too-big messages" "$frag" 0
done

pretty "captures: RH2 in, HAO out, checksums right"
tshark -r "$GECKO_OUT/node2.pcap" -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE \
	-Y 'ipv6.routing.type == 2' -T fields -e ipv6.src 2> /dev/null | sort -u > /tmp/rh2-src
expect_eq "RH2 senders" "$(cat /tmp/rh2-src)" "$CLIENT"
tshark -r "$GECKO_OUT/node2.pcap" -Y 'ipv6.opt.mipv6.home_address' -T fields -e ipv6.src 2> /dev/null | sort -u > /tmp/hao-src
expect_eq "HAO senders" "$(cat /tmp/hao-src)" "$NODE2"
# tshark takes the pseudo-header's addresses from the HAO and the RH2.
checked() {
	tshark -r "$GECKO_OUT/node2.pcap" -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE \
		-Y "$1" 2> /dev/null | wc -l
}
expect_eq "packets with a bad checksum or malformed" \
	"$(checked 'tcp.checksum.status == 0 || udp.checksum.status == 0 || _ws.malformed')" 0
(( $(checked 'ipv6.opt.mipv6.home_address && tcp.checksum.status == 1') > 1000 )) ||
	fail "too few HAO segments with a verified checksum"
# The client's ACKs of the download: how many depends on GRO and load (364 to 2000 seen).
(( $(checked 'ipv6.routing.type == 2 && tcp.checksum.status == 1') > 100 )) ||
	fail "too few RH2 segments with a verified checksum"
