# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 420
# vm-beside
# A host on the node network without the cluster key, running the same
# programs, tries what an attacker would while a client downloads from G:
#
#   client ── router ── node1 (contact)   node2   node3
#                │
#              rogue fd00:14::2 (G on lo, its own service and key; its care-of
#                                address is not allowed at the home agent)
#
#   - a Home Test relay from the contact node (gecko-ctl rr, then bu);
#   - in plaintext to node1: a Home Test request, a handoff of the client
#     with no connections, a forged reply;
#   - the same over TLS with its own key, to node2;
#   - 1000 handoff requests to node2, 8 connections at a time.
# Each connection is refused and counted (agent counter peer_refused, by
# exactly the number made), each node logs the rogue once, and nothing
# reaches the agents: no relay, no handoff, no answer. Then a member that
# holds the key but has gone bad hands node2 another client's connection,
# one on a port node2 does not serve, and none at all, and sends a reply to
# no handoff: node2 refuses each itself and counts them. Meanwhile the
# download stays byte-exact and is never moved, the client's binding for G
# never names the rogue, and no agent is reachable on G.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"

ROGUE=fd00:14::2
SIZE=$((16 << 20))
RUN=$(mktemp -d)
WWW=$RUN/www

cleanup() {
	kill ${SAMPLER:-} 2> /dev/null || true
	anycast_down
}
trap cleanup EXIT

rogue() { ip netns exec rogue "$@"; }

# attempt NAME ARGS...: gecko-rogue ARGS in the rogue host, its lines in
# $RUN/NAME.out; its failure (something was not refused) stops the scenario.
attempt() {
	local name=$1
	shift
	rogue gecko-rogue "$@" > "$RUN/$name.out" || {
		cat "$RUN/$name.out"
		fail "$name: not refused: $(grep -E 'ANSWERED|NOT REFUSED' "$RUN/$name.out" | head -n1)"
	}
	cat "$RUN/$name.out"
}

# refused K: node K's count of node channel connections refused.
refused() { agent_counter "$1" peer_refused; }

agent_cmd() { echo "gecko-file-server --port 80 --root $WWW --stats $RUN/served$1"; }

mkdir -p "$WWW"
head -c $SIZE /dev/urandom > "$WWW/blob"
want=$(sha256sum < "$WWW/blob")

topo_up
pretty "the rogue host: a link of its own to the router, as a node has"
HOSTS="$HOSTS rogue"
ip netns add rogue
ip -n rogue link set lo up
ip netns exec rogue sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
ip link add eth0 netns rogue type veth peer eth-rogue netns router
ip -n rogue addr add $ROGUE/64 dev eth0 nodad
ip -n router addr add fd00:14::1/64 dev eth-rogue nodad
ip -n rogue link set eth0 up
ip -n router link set eth-rogue up
ip -n rogue -6 route add default via fd00:14::1
wait_for 10 rogue ping -6 -c1 -W1 $NODE1

client sysctl -qw net.ipv4.tcp_rmem="4096 131072 524288"
anycast_up 1 2 3
for k in 1 2 3; do wait_for 10 grep -q "serving port 80" "$GECKO_OUT/agent$k.log"; done
n1 gecko-ctl register $G lifetime 300 > /dev/null

pretty "no agent listens on G, only on its care-of address"
! client timeout 5 socat -u /dev/null "TCP6:[$G]:7433,connect-timeout=3" 2> /dev/null ||
	fail "a node agent answered on G"
expect_eq "node1's node channel listener" "$(n1 ss -Hltn '( sport = :7433 )' | awk '{ print $4 }')" "[$NODE1]:7433"

pretty "the client downloads $SIZE octets from G at 1 MB/s; its binding for G is sampled meanwhile"
client curl -sS -g --limit-rate 1M -o "$RUN/got" "http://[$G]/blob" 2> "$GECKO_OUT/curl.err" &
CURL=$!
PIDS+=($CURL)
(while :; do echo "sample"; client ip xfrm state; sleep 0.2; done) > "$GECKO_OUT/client-xfrm.log" 2>&1 &
SAMPLER=$!
wait_for 30 bash -c "(( \$(cut -d' ' -f2 $RUN/served1) > 0 ))"

before1=$(refused 1) before2=$(refused 2)
refused_in2=$(agent_counter 2 handoffs_refused) errors2=$(agent_counter 2 peer_errors)

pretty "the rogue runs the same programs: G, a service with node1 as contact, gecko-agent with a key of its own"
ROGUE_KEY=$(umask 077 && mktemp /tmp/rogue.XXXXXX)
gecko-ctl genkey > "$ROGUE_KEY"
rogue ip -6 addr add $G/128 dev lo nodad
rogue ip -6 route add default via fd00:14::1 from $G
rogue gecko-ctl service add $G coa $ROGUE contact-coa $NODE1 ha $HA
ip netns exec rogue gecko-agent --key-file "$ROGUE_KEY" > "$GECKO_OUT/rogue-agent.log" 2>&1 &
PIDS+=($!)
wait_for 10 grep -q "^node agent" "$GECKO_OUT/rogue-agent.log"

pretty "a Home Test relay through the contact node: refused at the handshake"
! out=$(rogue timeout 30 gecko-ctl rr $G $CLIENT 2>&1) || fail "the rogue's return routability succeeded: $out"
echo "rr: $out"
[[ $out == *"TLS"* ]] || fail "rr: the reason should be the TLS handshake: $out"
! out=$(rogue timeout 30 gecko-ctl bu $G $CLIENT 2>&1) || fail "the rogue's Binding Update succeeded: $out"
echo "bu: $out"

pretty "plaintext frames to node1: a Home Test request, an empty handoff, a forged reply"
attempt plain plain $NODE1 $G $CLIENT
plain=$(sed -n 's/^attempts //p' "$RUN/plain.out")

pretty "the same over TLS with the rogue's own key, to node2"
attempt tls tls "$ROGUE_KEY" $NODE2 $G $CLIENT
tls=$(sed -n 's/^attempts //p' "$RUN/tls.out")

pretty "1000 handoff requests to node2"
attempt flood flood 1000 $NODE2 $G $CLIENT
flood=$(sed -n 's/^attempts //p' "$RUN/flood.out")
expect_eq "flood attempts" "$flood" 1000

pretty "each connection was refused and counted, exactly"
# The rogue agent's rr and bu made one connection each to node1.
wait_for 10 bash -c "(( \$(ip netns exec node1 gecko-ctl agent show --json | gojq .counters.peer_refused) == \
	$before1 + 2 + $plain ))"
expect_eq "node1: connections refused" "$(refused 1)" $((before1 + 2 + plain))
wait_for 20 bash -c "(( \$(ip netns exec node2 gecko-ctl agent show --json | gojq .counters.peer_refused) >= \
	$before2 + $tls + $flood ))"
expect_eq "node2: connections refused" "$(refused 2)" $((before2 + tls + flood))
for k in 1 2; do
	expect_eq "node$k: log lines about the rogue" "$(grep -c "refused $ROGUE" "$GECKO_OUT/agent$k.log")" 1
done
expect_eq "node1: Home Tests relayed" "$(agent_counter 1 hot_relayed)" 0

pretty "a member gone bad, with the cluster key: node2 refuses each handoff itself"
attempt member member "$KEY" $NODE2 $G $CLIENT
expect_eq "node2: handoffs refused" "$(agent_counter 2 handoffs_refused)" $((refused_in2 + 3))
expect_eq "node2: peer errors (the reply to no handoff)" "$(agent_counter 2 peer_errors)" $((errors2 + 1))

pretty "the download completes, byte for byte, never moved"
wait $CURL || fail "curl exited with status $?: $(cat "$GECKO_OUT/curl.err")"
expect_eq "download sha256" "$(sha256sum < "$RUN/got")" "$want"
for k in 1 2 3; do
	expect_eq "node$k: handoffs made" "$(agent_counter $k handoffs_out)" 0
	expect_eq "node$k: handoffs taken" "$(agent_counter $k handoffs_in)" 0
done
kill $SAMPLER
samples=$(grep -c '^sample' "$GECKO_OUT/client-xfrm.log")
((samples >= 10)) || fail "only $samples samples of the client's xfrm states"
! grep -q "$ROGUE" "$GECKO_OUT/client-xfrm.log" || fail "the client's binding named the rogue"
pretty "PASS"
