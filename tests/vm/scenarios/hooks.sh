# SPDX-License-Identifier: GPL-2.0-only
# vm-beside
# The route-optimisation data path on a node: the client's stock kernel
# holds a binding of G to node2's care-of address (set with iproute2, as a
# correspondent node daemon would), node2 serves G with a binding for the
# client. UDP and a 20 MB TCP transfer each way must flow through the
# hooks: RH2 stripped in, HAO added out, checksums right on links without
# offload, no fragment, nothing dropped for size. node2's link is captured
# for the UDP exchange and the start of each transfer (up to 4000 packets
# each): every checksum there is verified by tshark, more than a thousand
# data segments with HAO of the download and the ACKs with HAO of the
# upload among them.
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

counter() { n2 gecko-ctl info --json | gojq ".counters.$1"; }
RUN=$(mktemp -d)
# capture NAME COUNT: node2's link, at most COUNT packets, in NAME.pcap (PID in
# CAPTURE); in the guest's memory, which tcpdump keeps up with better than the
# results share. Under TCG it loses packets at full speed: capture_end NAME
# stops it where it is, and the checks below need only some thousand of them.
capture() {
	# Not through n2(): $! must be tcpdump itself.
	ip netns exec node2 tcpdump -i eth0 -B 32768 -c "$2" -w "$RUN/$1.pcap" ip6 2> "$GECKO_OUT/tcpdump-$1.log" &
	CAPTURE=$!
	wait_for 10 grep -q listening "$GECKO_OUT/tcpdump-$1.log"
}
capture_end() {
	kill $CAPTURE 2> /dev/null || true
	wait $CAPTURE || true
	cp "$RUN/$1.pcap" "$GECKO_OUT/"
	tail -n3 "$GECKO_OUT/tcpdump-$1.log"
}

# fields NAME: one line per packet of NAME.pcap, checksums verified (1 good, 0
# bad), in NAME.fields: "SRC|ROUTING TYPE|HAO|TCP PAYLOAD|TCP CHECKSUM|UDP
# CHECKSUM|UDP SOURCE PORT|UDP DESTINATION PORT|MALFORMED|TCP CHECKSUM FIELD|
# TCP CHECKSUM COMPUTED"; one tshark run, as
# it takes seconds to start under TCG. A failure of tshark stops the scenario.
fields() {
	tshark -r "$RUN/$1.pcap" -o tcp.check_checksum:TRUE -o udp.check_checksum:TRUE -T fields -E separator='|' \
		-e ipv6.src -e ipv6.routing.type -e ipv6.opt.mipv6.home_address -e tcp.len -e tcp.checksum.status \
		-e udp.checksum.status -e udp.srcport -e udp.dstport -e _ws.malformed \
		-e tcp.checksum -e tcp.checksum_calculated \
		> "$GECKO_OUT/$1.fields" 2> "$GECKO_OUT/tshark.err" ||
		fail "tshark on $1.pcap: $(grep -v '^Running as user' "$GECKO_OUT/tshark.err" | tr -s '\n\t' '  ')"
}
# count NAME CONDITION: sets N to how many packets of NAME.fields meet the awk CONDITION.
count() { N=$(awk -F'|' "$2 { n++ } END { print n + 0 }" "$GECKO_OUT/$1.fields"); }
# senders NAME CONDITION: the sources of those packets, each once.
senders() { awk -F'|' "$2 { print \$1 }" "$GECKO_OUT/$1.fields" | sort -u; }

pretty "UDP to G is answered by node2, from G"
# The UDP exchange and the start of the download, then the start of the
# upload: all of 20 MB each way would take tshark minutes under TCG.
capture download 4000
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
capture_end download
capture upload 4000
n2 socat -u TCP6-LISTEN:8001,bind=[$G],reuseaddr CREATE:/tmp/upload &
wait_for 10 sh -c "ip netns exec node2 ss -Hltn | grep -q 8001"
client timeout 60 socat -u OPEN:/tmp/blob TCP6:[$G]:8001
wait_for 10 sh -c '[ "$(sha256sum < /tmp/upload)" = "'"$want"'" ]'
capture_end upload

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

pretty "captures of both transfers: RH2 in, HAO out, checksums right"
# tshark takes the pseudo-header's addresses from the HAO and the RH2.
for c in download upload; do
	fields $c
	expect_eq "$c: RH2 senders" "$(senders $c '$2 == 2')" "$CLIENT"
	expect_eq "$c: HAO senders" "$(senders $c '$3 != ""')" "$NODE2"
	# 0xffff where tshark computes 0 is the same one's complement sum (RFC 1624):
	# the client's kernel writes it for about one segment in 65536.
	count $c '($5 == "0" && !(tolower($10) == "0xffff" && $11 ~ /^0x0*$/)) || $6 == "0" || $9 != ""'
	expect_eq "$c: packets with a bad checksum or malformed" $N 0
done
count download "\$2 == 2 && \$6 == 1 && \$8 == 7007"
expect_eq "UDP requests with RH2 and a verified checksum" $N 1
count download "\$3 == \"$G\" && \$6 == 1 && \$7 == 7007"
expect_eq "UDP replies with HAO = G and a verified checksum" $N 1
# Data one way, the other's ACKs back: how many ACKs depends on GRO and load (364 to 2000 seen).
count download '$3 != "" && $5 == 1 && $4 > 0'
((N > 1000)) || fail "download: only $N data segments with HAO and a verified checksum"
count download '$2 == 2 && $5 == 1'
((N > 100)) || fail "download: only $N ACKs with RH2 and a verified checksum"
count upload '$2 == 2 && $5 == 1 && $4 > 0'
((N > 1000)) || fail "upload: only $N data segments with RH2 and a verified checksum"
count upload '$3 != "" && $5 == 1'
((N > 100)) || fail "upload: only $N ACKs with HAO and a verified checksum"
