# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 360
# Malformed input at a node (scapy): the client, bound to node2 by the
# real signalling, and node3, bound nowhere, send node2 type 2 routing
# headers cut short, too long, with segments left other than 1, with a
# multicast or foreign address, from an unbound source; packets with a Home
# Address option; and the Mobility Header battery of mh-malformed at the
# agent. Each case is dropped and counted by exactly the counter for its
# reason, nothing WARNs (the harness panics on a WARN), and node2 keeps
# serving: the UDP echo answers from G afterwards.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"

PATH=$GECKO_REPO/tests/vm/tools:$PATH
trap anycast_down EXIT


# junk HOST COUNTER WHAT PYTHON: HOST sends 5 packets scapy builds from
# PYTHON (src, G, COA, rh2() and udp are in scope); node2's COUNTER must
# grow by exactly 5 and no other drop counter may move.
DROPS="rh2_truncated rh2_bad_length rh2_bad_segments rh2_bad_address rh2_no_binding hao_in_dropped"
junk() {
	local host=$1 name=$2 what=$3 code=$4 before after moved c
	before=$(n2 gecko-ctl info --json)
	ip netns exec "$host" /usr/bin/python3 - "$code" <<EOP
import logging, sys
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IPv6, IPv6ExtHdrDestOpt, HAO, UDP, Raw, conf, send
import struct, socket
conf.verb = 0
G, COA = "$G", "$NODE2"
src = {"client": "$CLIENT", "node3": "$NODE3"}["$host"]
a = lambda s: socket.inet_pton(socket.AF_INET6, s)
udp = bytes(UDP(sport=4000, dport=7007) / Raw(b"junk"))
def rh2(segleft=1, addr=G, hdrlen=2, nh=17, extra=b""):
    return struct.pack("!BBBB4x", nh, hdrlen, 2, segleft) + a(addr) + extra
for _ in range(5):
    send(eval(sys.argv[1]))
EOP
	after=$(n2 gecko-ctl info --json)
	for c in $DROPS; do
		moved=$(($(jq ".counters.$c" <<< "$after") - $(jq ".counters.$c" <<< "$before")))
		if [[ $c == "$name" ]]; then
			expect_eq "$what: $c" "$moved" 5
		else
			expect_eq "$what: $c (not its counter)" "$moved" 0
		fi
	done
	pretty "  $what: 5 dropped, counted in $name"
}

pretty "topology; node1 contact, node2 serves the client (bound by gecko-ctl bu)"
topo_up
anycast_up 1 2
n1 gecko-ctl register $G
n2 gecko-ctl bu $G $CLIENT seq 1
expect_eq "UDP echo before" "$(echo_reply before)" node2

pretty "type 2 routing headers at node2's care-of address"
junk client rh2_truncated "RH2 cut short" 'IPv6(src=src, dst=COA, nh=43, plen=12) / Raw(rh2()[:12])'
junk client rh2_bad_length "RH2 of length 4" 'IPv6(src=src, dst=COA, nh=43) / Raw(rh2(hdrlen=4, extra=bytes(16)) + udp)'
junk client rh2_bad_segments "RH2 with segments left 0" 'IPv6(src=src, dst=COA, nh=43) / Raw(rh2(segleft=0) + udp)'
junk client rh2_bad_segments "RH2 with segments left 2" 'IPv6(src=src, dst=COA, nh=43) / Raw(rh2(segleft=2) + udp)'
junk client rh2_bad_address "RH2 to a multicast address" 'IPv6(src=src, dst=COA, nh=43) / Raw(rh2(addr="ff02::1") + udp)'
junk client rh2_no_binding "RH2 to another home address" 'IPv6(src=src, dst=COA, nh=43) / Raw(rh2(addr="fd00:a::200") + udp)'
junk node3 rh2_no_binding "RH2 from a client bound elsewhere" 'IPv6(src=src, dst=COA, nh=43) / Raw(rh2() + udp)'

pretty "Home Address options: nodes are nobody's correspondent"
junk client hao_in_dropped "HAO to the care-of address" 'IPv6(src=src, dst=COA) / IPv6ExtHdrDestOpt(options=[HAO(hoa="fd00:c::99")]) / UDP(dport=7007) / Raw(b"x")'
junk node3 hao_in_dropped "HAO from elsewhere" 'IPv6(src=src, dst=COA) / IPv6ExtHdrDestOpt(options=[HAO(hoa="fd00:c::99")]) / UDP(dport=7007) / Raw(b"x")'

pretty "the Mobility Header battery at node2's agent"
n3 mh-malformed --src $NODE3 --dst $NODE2 > "$GECKO_OUT/sent.log"
wc -l < "$GECKO_OUT/sent.log"
wait_for 5 bash -c "(( \$(ip netns exec node2 gecko-ctl agent show --json | jq .counters.mh_bad_checksum) > 0 ))"
wait_for 5 bash -c "(( \$(ip netns exec node2 gecko-ctl agent show --json | jq .counters.mh_malformed) > 0 ))"
n2 gecko-ctl agent show
grep -q "dropped a Mobility Header message" "$GECKO_OUT/agent2.log" || fail "the agent logged no drop"

pretty "node2 still serves, the agent still answers"
expect_eq "UDP echo after" "$(echo_reply after)" node2
kill -0 "${AGENT[1]}" "${AGENT[2]}" || fail "an agent died"
out=$(n2 gecko-ctl bu $G $CLIENT)
[[ $out == "seq 2 lifetime 420 in "* ]] || fail "BU after the battery: $out"
n2 gecko-ctl info
pretty "PASS"
