# SPDX-License-Identifier: GPL-2.0-only
# vm-beside
# ICMPv6 errors and Home Address options at a node serving G for a bound
# client (the set-up of the hooks scenario). The client's link carries
# only 1400 octets: the router's Packet Too Big about node2's packets,
# which left from its care-of address with the option, must reach G's
# socket with 24 octets less, or a download from G stalls in a black hole.
# Packets with a Home Address option to node2's care-of address or to G
# are dropped, each counted once, and the data path works on.
#
#  client fd00:c::2 ──(10 ms, MTU 1400)── router ──(1 ms)── node2 fd00:12::2
#   binds G to node2's care-of address                      G on lo, serves G
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"

topo_up

pretty "client: binding of G to node2's care-of address in the stock kernel"
client_binds_g $NODE2

pretty "node2: G on lo with a route of its own, the service and the client's binding"
n2 ip -6 addr add $G/128 dev lo
# Linux caches a learnt path MTU per route: G's, 24 octets below the care-of
# address's, must not limit what leaves from the care-of address.
n2 ip -6 route add default via fd00:12::1 from $G
n2 gecko-ctl service add $G coa $NODE2 contact-coa $NODE1
n2 gecko-ctl binding set $G $CLIENT state bound seq 1 lifetime 420

counter() { n2 gecko-ctl info --json | gojq ".counters.$1"; }
# route_mtu SRC: the MTU node2's route to the client from SRC has learnt.
route_mtu() { n2 ip -6 route get $CLIENT from "$1" | sed -n 's/.* mtu \([0-9]*\).*/\1/p'; }

pretty "the client's link carries 1400 octets"
router ip link set eth-client mtu 1400
client ip link set eth0 mtu 1400

pretty "5 MB from G to the client"
head -c 5000000 /dev/urandom > /tmp/blob
want=$(sha256sum < /tmp/blob)
n2 socat -u OPEN:/tmp/blob TCP6-LISTEN:8000,bind=[$G],reuseaddr &
wait_for 10 sh -c "ip netns exec node2 ss -Hltn | grep -q 8000"
got=$(client timeout 30 socat -u TCP6:[$G]:8000 - | sha256sum) ||
	fail "the download did not complete in 30 s"
expect_eq "download sha256" "$got" "$want"

pretty "each Packet Too Big reached G's socket; G's route learnt 1400 - 24"
n2 gecko-ctl info
toobig=$(nstat_sum node2 Icmp6InPktTooBigs)
(( toobig > 0 )) || fail "no Packet Too Big arrived"
expect_eq "errors rewritten" "$(counter icmp_err_in)" "$toobig"
expect_eq "G's path MTU to the client" "$(route_mtu $G)" 1376
expect_eq "the care-of address's path MTU to the client" "$(route_mtu $NODE2)" ""
expect_eq "node2 packets dropped or fragmented for size" \
	"$(nstat_sum node2 Ip6FragFails Ip6FragCreates Icmp6OutPktTooBigs)" 0
expect_eq "client reassemblies" "$(nstat_sum client Ip6ReasmReqds)" 0

pretty "packets with a Home Address option to node2 and to G: dropped, counted"
n2 socat UDP6-RECVFROM:7007,bind=[$G],fork SYSTEM:'echo node2' &
wait_for 10 sh -c "ip netns exec node2 ss -Hlun | grep -q 7007"
# The client reaches G by its binding only: here the router delivers G to
# node2, as the home agent's tunnel does for the contact node.
router ip -6 route add $G/128 via $NODE2
before=$(counter hao_in_dropped)
mac=$(router cat /sys/class/net/eth-client/address)
client /usr/bin/python3 - > /tmp/sent <<EOF
from scapy.all import (Ether, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, HAO, UDP, Raw,
                       sendp)

udp = UDP(sport=40000, dport=7007) / Raw(b"forged\n")
def hao(hoa):
    return IPv6ExtHdrDestOpt(options=[HAO(hoa=hoa)])
kinds = [
    IPv6(src="$CLIENT", dst="$NODE2") / hao("$G") / udp,
    IPv6(src="$CLIENT", dst="$NODE2") / hao("fd00:c::99") / udp,
    # The client's routing header through its binding, and an option.
    IPv6(src="$CLIENT", dst="$NODE2") / IPv6ExtHdrRouting(type=2, segleft=1, addresses=["$G"])
        / hao("$CLIENT") / udp,
    IPv6(src="$CLIENT", dst="$G") / hao("$G") / udp,
    IPv6(src="$CLIENT", dst="$G") / hao("fd00:c::99") / udp,
]
packets = [Ether(dst="$mac") / p for p in kinds] * 4
sendp(packets, iface="eth0", verbose=False)
print(len(packets))
EOF
sent=$(cat /tmp/sent)
# dropped_at_least N: hao_in_dropped has reached N.
dropped_at_least() { (( $(counter hao_in_dropped) >= $1 )); }
wait_for 5 dropped_at_least $((before + sent))
expect_eq "packets dropped for a Home Address option" "$(counter hao_in_dropped)" $((before + sent))
router ip -6 route del $G/128 via $NODE2

pretty "UDP to G is still answered by node2, from G"
reply=$(client timeout 10 socat -t 5 - UDP6:[$G]:7007 <<< hello)
expect_eq "UDP reply" "$reply" node2
