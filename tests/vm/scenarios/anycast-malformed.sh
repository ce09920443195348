# SPDX-License-Identifier: GPL-2.0-only
# vm-beside
# vm-timeout: 360
# Malformed input at a node (scapy): the client, bound to node2 by the
# real signalling, and node3, bound nowhere, send node2 type 2 routing
# headers cut short, too long, with segments left other than 1, with a
# multicast or foreign address, from an unbound source; packets with a Home
# Address option; packets inside an IPv6 header to the care-of address from
# no donor (the client itself, another node); and the Mobility Header
# battery of mh-malformed at the agent. Each case is dropped and counted by exactly the counter for its
# reason, nothing WARNs (the harness panics on a WARN), and node2 keeps
# serving: the UDP echo answers from G afterwards. Of the battery, each
# message is counted where the fate mh-malformed printed for it says,
# exactly: node2's Parameter Problems (unthrottled), the bogus HAOs in
# gecko's hao_in_dropped or the kernel's Ip6InHdrErrors, the agent's
# received, bad checksum, malformed and unexpected; what the kernel's
# Mobility Header filter drops silently has no counter, and that the agent
# received exactly the rest shows it stayed in the kernel.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"

PATH=$GECKO_REPO/tests/vm/tools:$PATH
trap anycast_down EXIT

counter() { n2 gecko-ctl info --json | gojq ".counters.$1"; }


# scapy_start HOST: a Python with scapy in HOST's namespace, started once
# (importing scapy takes seconds in the guest), which sends 5 packets of
# each expression written to SEND[HOST] and then answers on SENT[HOST].
declare -A SEND SENT
RUN=$(mktemp -d)
scapy_start() {
	local host=$1 fd
	mkfifo "$RUN/$host.in" "$RUN/$host.out"
	ip netns exec "$host" /usr/bin/python3 - "$RUN/$host.in" "$RUN/$host.out" <<EOP &
import logging, sys
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import IPv6, IPv6ExtHdrDestOpt, HAO, TCP, UDP, Raw, conf, send
import struct, socket
conf.verb = 0
G, COA, CLIENT = "$G", "$NODE2", "$CLIENT"
src = {"client": "$CLIENT", "node3": "$NODE3"}["$host"]
a = lambda s: socket.inet_pton(socket.AF_INET6, s)
udp = bytes(UDP(sport=4000, dport=7007) / Raw(b"junk"))
def rh2(segleft=1, addr=G, hdrlen=2, nh=17, extra=b""):
    return struct.pack("!BBBB4x", nh, hdrlen, 2, segleft) + a(addr) + extra
with open(sys.argv[1]) as codes, open(sys.argv[2], "w", buffering=1) as sent:
    for code in codes:
        for _ in range(5):
            send(eval(code))
        print("sent", file=sent)
EOP
	exec {fd}> "$RUN/$host.in"
	SEND[$host]=$fd
	exec {fd}< "$RUN/$host.out"
	SENT[$host]=$fd
}

# junk HOST COUNTER WHAT PYTHON: HOST sends 5 packets scapy builds from
# PYTHON (src, G, COA, rh2() and udp are in scope); node2's COUNTER must
# grow by exactly 5 and no other drop counter may move.
DROPS="rh2_truncated rh2_bad_length rh2_bad_segments rh2_bad_address rh2_no_binding hao_in_dropped
	fwd_in_dropped"
# moved BEFORE AFTER: "COUNTER GROWTH" for each of DROPS, from two gecko-ctl info --json.
moved() {
	gojq -nr --argjson b "$1" --argjson a "$2" --arg names "$DROPS" \
		'$names | splits("\\s+") | select(. != "") |
		 "\(.) \(($a.counters[.] // error("no counter \(.)")) - $b.counters[.])"'
}
junk() {
	local host=$1 name=$2 what=$3 code=$4 before after deltas grew c ack i
	before=$(n2 gecko-ctl info --json)
	echo "$code" >&"${SEND[$host]}"
	read -r -t 60 ack <&"${SENT[$host]}" || fail "$what: scapy in $host sent nothing (see the scenario's output)"
	# node2 counts each packet as it takes it, a moment after scapy sent it: 5 s at most.
	for ((i = 0; i < 50; i++)); do
		after=$(n2 gecko-ctl info --json)
		deltas=$(moved "$before" "$after") || fail "$what: node2's drop counters are not all there"
		(($(awk '{ n += $2 } END { print n }' <<< "$deltas") >= 5)) && break
		sleep 0.1
	done
	while read -r c grew; do
		if [[ $c == "$name" ]]; then
			expect_eq "$what: $c" "$grew" 5
		else
			expect_eq "$what: $c (not its counter)" "$grew" 0
		fi
	done <<< "$deltas"
	pretty "  $what: 5 dropped, counted in $name"
}

pretty "topology; node1 contact, node2 serves the client (bound by gecko-ctl bu)"
topo_up
scapy_start client
scapy_start node3
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

pretty "tunnelled to the care-of address by no donor: nothing is taken out"
junk client fwd_in_dropped "the bound client's SYN, tunnelled by itself" \
	'IPv6(src=src, dst=COA) / IPv6(src=src, dst=G) / TCP(sport=40000, dport=7000, flags="S")'
junk node3 fwd_in_dropped "the bound client's SYN, tunnelled by another node" \
	'IPv6(src=src, dst=COA) / IPv6(src=CLIENT, dst=G) / TCP(sport=40000, dport=7000, flags="S")'
junk node3 fwd_in_dropped "the bound client's UDP, tunnelled by another node" \
	'IPv6(src=src, dst=COA) / IPv6(src=CLIENT, dst=G) / UDP(sport=4000, dport=7007) / Raw(b"x")'
junk node3 fwd_in_dropped "a packet for another address, tunnelled" \
	'IPv6(src=src, dst=COA) / IPv6(src=src, dst="fd00:b::1") / UDP(sport=4000, dport=7007) / Raw(b"x")'
expect_eq "packets taken out of a tunnel" "$(counter fwd_in)" 0

pretty "the Mobility Header battery at node2's agent"
# Every Parameter Problem is sent, so that each can be counted: none rate-limited.
n2 sh -c 'echo > /proc/sys/net/ipv6/icmp/ratemask'
expect_eq "node2: ICMPv6 types rate-limited" "$(n2 sysctl -n net.ipv6.icmp.ratemask)" ""
# kernel_drops: "PARAMETER_PROBLEMS BAD_HAOS" node2 has sent and dropped so far.
kernel_drops() {
	n2 nstat -az Icmp6OutParmProblems Ip6InHdrErrors |
		awk 'NR > 1 { n[$1] = $2 } END { print n["Icmp6OutParmProblems"] + 0, n["Ip6InHdrErrors"] + 0 }'
}
agent_counters() {
	n2 gecko-ctl agent show --json | gojq -r '.counters | "\(.mh_received) \(.mh_bad_checksum) \(.mh_malformed) \(.mh_unexpected)"'
}
# fates FATE: how many messages mh-malformed sent with that fate (tests/vm/tools/mh-malformed).
fates() { grep -c -- "-> $1\$" "$GECKO_OUT/sent.log" || true; }
read -r pp hdr <<< "$(kernel_drops)"
read -r received bad malformed unexpected <<< "$(agent_counters)"
before=$(n2 gecko-ctl info --json)
n3 mh-malformed --src $NODE3 --dst $NODE2 > "$GECKO_OUT/sent.log"
echo "$(grep -c '^sent' "$GECKO_OUT/sent.log") messages sent: $(sed 's/.* -> //' "$GECKO_OUT/sent.log" | sort | uniq -c |
	awk '{ n = $1; $1 = ""; printf "%s%s %d", sep, substr($0, 2), n; sep = ", " }')"
# The agent counts all it takes as received, bad checksum, malformed (unknown
# types too) or unexpected (a BU or a BA nothing waited for).
reached=0
for f in "bad checksum" "unknown type" malformed BU BA; do reached=$((reached + $(fates "$f"))); done
agent_received() { (($(agent_counters | cut -d' ' -f1) >= received + reached)); }
wait_for 10 agent_received
n2 gecko-ctl agent show
expect_eq "the agent's received, bad checksum, malformed, unexpected" "$(agent_counters)" \
	"$((received + reached)) $((bad + $(fates "bad checksum"))) \
$((malformed + $(fates "unknown type") + $(fates malformed))) $((unexpected + $(fates BU) + $(fates BA)))"
expect_eq "the agent's log: messages dropped as malformed" \
	"$(grep "dropped a Mobility Header message from $NODE3: " "$GECKO_OUT/agent2.log" | grep -vc ": bad checksum$")" \
	"$((malformed + $(fates "unknown type") + $(fates malformed)))"
# Of the bogus Home Address options, gecko's hook drops the well-formed ones
# (a node is nobody's correspondent); the kernel's parser, the one of a bad length.
bad_length=$(grep -c "HAO with a bad length -> bad HAO$" "$GECKO_OUT/sent.log")
expect_eq "node2: Parameter Problems sent, packets dropped for a bad extension header" "$(kernel_drops)" \
	"$((pp + $(fates "parameter problem"))) $((hdr + bad_length))"
after=$(n2 gecko-ctl info --json)
deltas=$(moved "$before" "$after") || fail "battery: node2's drop counters are not all there"
while read -r c grew; do
	if [[ $c == hao_in_dropped ]]; then
		expect_eq "battery: $c" "$grew" $(($(fates "bad HAO") - bad_length))
	else
		expect_eq "battery: $c" "$grew" 0
	fi
done <<< "$deltas"

pretty "node2 still serves, the agent still answers"
expect_eq "UDP echo after" "$(echo_reply after)" node2
kill -0 "${AGENT[1]}" "${AGENT[2]}" || fail "an agent died"
out=$(n2 gecko-ctl bu $G $CLIENT)
[[ $out == "seq 2 lifetime 420 in "* ]] || fail "BU after the battery: $out"
n2 gecko-ctl info
pretty "PASS"
