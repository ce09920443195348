# SPDX-License-Identifier: GPL-2.0-only
# vm-beside
# vm-timeout: 240
# gecko-cnd, the correspondent node, on a stock client, with gecko-had on
# the HA and a scripted mobile node (gecko-mn):
#
#  client fd00:c::2 (gecko-cnd) ── router ── home link ── ha fd00:a::1 (gecko-had)
#                                   │  │  │                 G = fd00:a::100
#              node1 fd00:11::2 (contact)  node2 fd00:12::2   node3 fd00:13::2 (junk)
#
# node1 registers G with the HA, then runs return routability with the
# client (HoTI through the HA, CoTI direct) and binds G to its care-of
# address: the client's kernel sends to node1 with a type 2 routing header
# and takes node1's datagrams with a Home Address option as G's. node2
# takes the binding over with a Home Test relayed by node1; lifetime 0
# removes it. Then each rejection, refresh request and expiry, junk,
# two daemons in one namespace, SIGTERM leaving nothing, a restart, and
# a start after kill -9 removing what the killed one left.
# Every MH gecko-cnd sends must decode in tshark and carry the RFC checksum.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/capture.sh"

PATH=$GECKO_REPO/build/tools/gecko-had:$GECKO_REPO/build/tools/gecko-cnd:$PATH
HAD_CONF=$GECKO_OUT/gecko-had.conf
CND_CONF=$GECKO_OUT/gecko-cnd.conf
LOG=$GECKO_OUT/cnd.log
HAD_PID=
CND_PID=

cleanup() {
	kill $HAD_PID $CND_PID 2> /dev/null || true
	topo_down
}

# cnd_start: gecko-cnd in the client, logging to cnd.log; waits for its Nth start.
cnd_start() {
	local starts=$(($(grep -c "^correspondent node" "$LOG" 2> /dev/null || true) + 1))
	# Not through client(): $! must be the daemon itself.
	ip netns exec client gecko-cnd --config "$CND_CONF" >> "$LOG" 2>&1 &
	CND_PID=$!
	wait_for 10 logged "^correspondent node" "$starts"
}

cnd_stop() {
	kill -TERM "$CND_PID"
	wait "$CND_PID" || fail "gecko-cnd exited with status $? on SIGTERM"
	CND_PID=
}

# logged PATTERN [N]: cnd.log has at least N (1) lines matching PATTERN.
logged() { (($(grep -c -- "$1" "$LOG" || true) >= ${2:-1})); }

# counters: gecko-cnd's counters, logged on SIGUSR1.
counters() {
	local n=$(($(grep -c "^bindings " "$LOG" || true) + 1))
	kill -USR1 "$CND_PID"
	wait_for 5 logged "^bindings " "$n"
	grep "^bindings " "$LOG" | tail -n1
}

# ro HOST COA SEQ LIFETIME [gecko-mn ro options]: gecko-mn's answer, never fails.
ro() {
	local host=$1 coa=$2 seq=$3 lifetime=$4
	shift 4
	ip netns exec "$host" gecko-mn ro --home $G --coa "$coa" --cn $CLIENT --seq "$seq" \
		--lifetime "$lifetime" "$@" 2>> "$GECKO_OUT/mn.log" || true
}

# relayed: node1's Home Test, as a contact node relays it: "--home-nonce N --home-token HEX".
relayed() { n1 gecko-mn hot --home $G --cn $CLIENT | sed 's/^/--/; s/ home-token/ --home-token/'; }

# The care-of address of the client's route2 and hao states for G (none: empty).
state_coa() {
	client ip xfrm state list src "$2" dst "$3" proto "$1" | sed -n 's/^\s*coa \(\S*\).*/\1/p'
}
bound_to() {
	[[ $(state_coa route2 $CLIENT $G) == "$1" && $(state_coa hao $G $CLIENT) == "$1" ]] ||
		fail "binding at '$(state_coa route2 $CLIENT $G)'/'$(state_coa hao $G $CLIENT)', want '$1'"
}

# from_g_via_node1 PORT TEXT: a datagram from G to the client, sent from
# node1's CoA with a Home Address option, as a node bound at the client does.
from_g_via_node1() {
	n1 ip xfrm state add src $G dst $CLIENT proto hao mode ro coa $NODE1
	n1 ip xfrm policy add src $G/128 dst $CLIENT/128 proto udp dir out tmpl proto hao mode ro level use
	echo "$2" | n1 socat -u - UDP6-SENDTO:[$CLIENT]:"$1",bind=[$G]
	n1 ip xfrm policy del src $G/128 dst $CLIENT/128 proto udp dir out
	n1 ip xfrm state del src $G dst $CLIENT proto hao
}

# udp_to_g PORT: one datagram from the client to G.
udp_to_g() { echo "to-g-$1" | client socat -u - UDP6-SENDTO:[$G]:"$1"; }

trap cleanup EXIT
pretty "topology; gecko-had on the HA, node1 registers G"
topo_up
cat > "$HAD_CONF" <<EOC
interface = eth0
home-prefix = fd00:a::/64
address = $HA
allow-coa = fd00:11::/64
EOC
# Short nonces, so that an expired one is a few seconds away.
cat > "$CND_CONF" <<EOC
max-lifetime = 120
nonce-lifetime = 4
nonce-renewal = 1
refresh-advance = 2
EOC
capture client node1 node2
had_start "$HAD_CONF"
mn_at_home node1 $NODE1
mn_at_home node2 $NODE2
out=$(n1 gecko-mn register --home $G --coa $NODE1 --ha $HA --seq 1 --lifetime 120)
[[ $out == "status 0 "* ]] || fail "home registration: $out"

pretty "gecko-cnd starts: the wildcard HAO state and the inbound MH policy exist before any BU"
cnd_start
[[ $(client ip xfrm state) == *"proto hao"*"flag wildrecv"* ]] || fail "no wildcard HAO state"
[[ $(client ip xfrm policy) == *"proto mobility-header"*"dir in"*"ptype sub"* ]] || fail "no inbound MH policy"

pretty "node1: HoTI through the HA, CoTI direct, BU from its CoA with HAO = G: accepted, BA signed"
out=$(ro node1 $NODE1 1 60)
echo "$out"
expect_eq "BA" "$out" "status 0 seq 1 lifetime 60 signed"
bound_to $NODE1
expect "the HoTI did not go through the HA" seen node1 mh=1 src=$NODE1 dst=$HA src=$G
expect "the HoT did not come through the HA" seen node1 mh=3 src=$HA dst=$NODE1 dst=$G
expect "the CoTI did not come directly" seen client mh=2 src=$NODE1 hao=
expect "the BU did not carry G in a Home Address option" seen client mh=5 src=$NODE1 hao=$G
expect "the BA did not go to node1's CoA with a routing header" seen client mh=6 src=$CLIENT dst=$NODE1 rt=2 rth=$G
# Tests while bound (below) must still take the home path, not the binding.
expect "a Home Test took the binding's routing header" unseen node1 mh=3 rt=2

pretty "client -> G leaves to node1's CoA with a type 2 routing header"
udp_to_g 6001
expect "no routing header to node1" seen node1 udp=6001 src=$CLIENT dst=$NODE1 rt=2 rth=$G

pretty "node1 -> client from its CoA with HAO = G is delivered as coming from G"
client socat -u UDP6-RECVFROM:7000 SYSTEM:"echo \$SOCAT_PEERADDR > $GECKO_OUT/hao-peer; cat > $GECKO_OUT/hao-data" &
wait_for 5 sh -c "ip netns exec client ss -uln | grep -q ':7000'"
from_g_via_node1 7000 from-g-via-coa
wait_for 5 test -s "$GECKO_OUT/hao-data"
expect_eq "payload" "$(cat "$GECKO_OUT/hao-data")" from-g-via-coa
peer=$(tr -d '[]' < "$GECKO_OUT/hao-peer")
expect_eq "sender" "$(/usr/bin/python3 -c "import ipaddress; print(ipaddress.ip_address('$peer'))")" $G
expect "the datagram did not come from node1's CoA with an HAO" seen client udp=7000 src=$NODE1 hao=$G

pretty "rejections keep the binding: stale seq 135, nonces 136/137/138, H flag 131, wrong authenticator dropped"
check_reject() {
	local want=$1
	shift
	out=$(ro node1 $NODE1 "$@")
	echo "$out"
	expect_eq "BA for $*" "$out" "$want"
	bound_to $NODE1
}
check_reject "status 135 seq 1 lifetime 0 signed" 1 60
check_reject "status 136 seq 2 lifetime 0 unsigned" 2 60 --wrong-nonce home
check_reject "status 137 seq 2 lifetime 0 unsigned" 2 60 --wrong-nonce care-of
check_reject "status 138 seq 2 lifetime 0 unsigned" 2 60 --wrong-nonce both
check_reject "status 138 seq 2 lifetime 0 unsigned" 2 60 --wait 5
check_reject "status 131 seq 2 lifetime 0 unsigned" 2 60 --h-flag
check_reject "" 2 60 --bad-auth --timeout 1
[[ $(counters) == *"bad authenticator 1;"* ]] || fail "the wrong authenticator was not counted"
logged "wrong authenticator" || fail "the wrong authenticator was not logged"

pretty "node2 takes over with node1's relayed Home Test: the binding moves in place"
# shellcheck disable=SC2046
out=$(ro node2 $NODE2 2 60 $(relayed))
echo "$out"
expect_eq "BA" "$out" "status 0 seq 2 lifetime 60 signed"
bound_to $NODE2
udp_to_g 6002
expect "no routing header to node2" seen node2 udp=6002 src=$CLIENT dst=$NODE2 rt=2 rth=$G

pretty "lifetime 0 removes the binding: client -> G goes through the HA and node1's tunnel again"
# shellcheck disable=SC2046
out=$(ro node2 $NODE2 3 0 $(relayed))
echo "$out"
expect_eq "BA" "$out" "status 0 seq 3 lifetime 0 signed"
[[ -z $(client ip xfrm state list proto route2) ]] || fail "route2 state left after deregistration"
[[ -z $(client ip xfrm state list src $G dst $CLIENT proto hao) ]] || fail "hao state left after deregistration"
udp_to_g 6003
expect "no datagram through the HA's tunnel" seen node1 udp=6003 src=$HA dst=$NODE1 dst=$G rt=
expect "a datagram still went to node2" unseen node2 udp=6003

pretty "without a binding, a datagram with HAO = G is dropped by the kernel and answered with a Binding Error (1)"
from_g_via_node1 7001 no-binding
wait_for 5 logged "claimed home address $G without a binding"
expect "no Binding Error (status 1) to node1's CoA" seen client mh=7 be=1 src=$CLIENT dst=$NODE1

pretty "a short binding gets a Binding Refresh Request, then expires"
out=$(ro node1 $NODE1 4 4)
expect_eq "BA" "$out" "status 0 seq 4 lifetime 4 signed"
wait_for 10 logged "to refresh its binding"
wait_for 10 logged "^binding of .* expired$"
[[ -z $(client ip xfrm state list proto route2) ]] || fail "route2 state left after expiry"
expect "no Binding Refresh Request to node1's CoA" seen client mh=0 src=$CLIENT dst=$NODE1 rt=2 rth=$G

pretty "junk from node3 (bad checksum, unknown type, bad length, missing options, a BA) is counted and survived"
n3 /usr/bin/python3 -c "
import socket
def sock(kernel_checksum=True):
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 135)
    if not kernel_checksum:
        s.setsockopt(255, 7, -1)  # SOL_RAW, IPV6_CHECKSUM: off
    return s
bu = [59, 1, 5, 0, 0, 0, 0, 9, 0x80, 0, 0, 15]
# a Binding Update with a wrong checksum
sock(False).sendto(bytes(bu[:4] + [0x12, 0x34] + bu[6:] + [1, 2, 0, 0]), ('$CLIENT', 0))
# an unknown MH Type: answered with a Binding Error
sock().sendto(bytes([59, 1, 42, 0] + [0] * 12), ('$CLIENT', 0))
# Nonce Indices running past the end of the message
sock().sendto(bytes(bu + [4, 4, 0, 1]), ('$CLIENT', 0))
# a Binding Update without Nonce Indices or authorization data
sock().sendto(bytes(bu + [1, 2, 0, 0]), ('$CLIENT', 0))
# a Binding Acknowledgement, which a correspondent never expects
sock().sendto(bytes([59, 1, 6, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ('$CLIENT', 0))"
out=$(ro node1 $NODE1 5 60)
expect_eq "BA after the junk" "$out" "status 0 seq 5 lifetime 60 signed"
c=$(counters)
echo "$c"
[[ $c == *"malformed 1, bad checksum 1, unknown type 1, unexpected 1,"*"missing options 1,"* ]] ||
	fail "junk not counted: $c"
expect "no Binding Error (status 2) for the unknown MH type" seen client mh=7 be=2 src=$CLIENT dst=$NODE3

pretty "gecko-cnd beside gecko-had in one namespace: the shared objects stay while one of them runs"
ip netns exec ha gecko-cnd --lock-dir /run/gecko > "$GECKO_OUT/cnd-in-ha.log" 2>&1 &
pid=$!
wait_for 10 grep -q "^correspondent node" "$GECKO_OUT/cnd-in-ha.log"
kill -TERM $pid
wait $pid || fail "gecko-cnd in the HA's namespace exited with $?"
[[ $(ha ip xfrm state) == *"flag wildrecv"* ]] || fail "gecko-cnd removed gecko-had's wildcard HAO state"
[[ $(ha ip xfrm policy) == *"proto mobility-header"* ]] || fail "gecko-cnd removed gecko-had's MH policy"

pretty "SIGTERM with a binding installed leaves no xfrm state or policy behind"
bound_to $NODE1
cnd_stop
expect_eq "xfrm states" "$(client ip xfrm state)" ""
expect_eq "xfrm policies" "$(client ip xfrm policy)" ""
logged "^bindings 1, " || fail "no counters at exit"

pretty "restart: the binding was soft state, the mobile node registers again with any sequence number"
cnd_start
out=$(ro node1 $NODE1 1 60)
expect_eq "BA after restart" "$out" "status 0 seq 1 lifetime 60 signed"
bound_to $NODE1

pretty "after kill -9 the kernel keeps the binding; the next start removes it"
kill -KILL "$CND_PID"
wait "$CND_PID" || true
bound_to $NODE1
cnd_start
logged "^removed 1 binding a previous run left" || fail "the stale binding was not reported"
[[ -z $(client ip xfrm state list proto route2) ]] || fail "stale route2 state after restart"
[[ $(client ip xfrm policy) != *"proto route2"* ]] || fail "stale route2 policy after restart"
cnd_stop
expect_eq "xfrm states" "$(client ip xfrm state)" ""
expect_eq "xfrm policies" "$(client ip xfrm policy)" ""
cat "$LOG"

pretty "the captures: what went where"
capture_stop
tables client node1 node2
run_checks

pretty "every Mobility Header gecko-cnd sent: tshark decodes it, its checksum is right"
tshark -V -r "$GECKO_OUT/client.pcap" -Y "mipv6 && ipv6.src == $CLIENT" > "$GECKO_OUT/client.tshark" 2>&1
for msg in "Home Test (3)" "Care-of Test (4)" "Binding Acknowledgement (6)" "Binding Error (7)" \
	"Binding Refresh Request (0)"; do
	grep -q "Mobility Header Type: $msg" "$GECKO_OUT/client.tshark" || fail "tshark saw no $msg"
done
! grep -i malformed "$GECKO_OUT/client.tshark" || fail "tshark: malformed packet"
"$GECKO_REPO/tests/vm/tools/mh-checksum" "$GECKO_OUT/client.pcap" $CLIENT
pretty "PASS"
