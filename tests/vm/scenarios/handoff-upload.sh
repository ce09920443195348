# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 240
# vm-beside
# A 20 MB upload to G that moves between the three nodes every half second
# while it runs, with the real signalling and a stock client. Each node
# runs gecko-echo-server --sink, with the node agent inside (gecko::Node,
# no gecko-agent): it folds every octet it reads into an Adler-32 and
# counts them, and hands that on as the connection's application state.
#
#   client ── router ── node1 (contact)   node2   node3
#
# The client sends pseudo-random octets at 500 KB/s, shuts its side down and
# reads the server's "COUNT ADLER32", which must be what it sent: every
# octet arrived once, in order. Every 0.5 s, "gecko-ctl handoff" in the
# namespace of the node that serves the client asks for the next move:
# node1 -> node2 -> node3 -> node1 ... Every handoff must complete (the
# last requests may find no connection: the client was ending), none rolled
# back, both ends' agents counting each, with no reset on the client's
# link; every node must have read at least 20 % of the upload, together
# exactly all of it. On a clean link the client must not send segments
# again for nothing (D-SACKs): the acceptor has what the client sent the
# donor when it thaws.
#
# handoff-upload-netem runs this with NETEM (netem arguments for the
# client's link) and a SIZE and RATE of its own.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"

trap anycast_down EXIT

SIZE=${SIZE:-$((20 << 20))}
RATE=${RATE:-500000}
# The guest's /tmp is one tmpfs overlay, the same in every namespace.
RUN=$(mktemp -d)

# The sink is each node's agent.
agent_cmd() { echo "gecko-echo-server --sink --port 7 --stats $RUN/received$1"; }


topo_up
[[ -z ${NETEM-} ]] || link_netem client $NETEM
anycast_up 1 2 3
for k in 1 2 3; do wait_for 10 grep -q "serving port 7" "$GECKO_OUT/agent$k.log"; done
n1 gecko-ctl register $G lifetime 300 > /dev/null
capture_client

pretty "the client uploads $SIZE octets at $RATE/s to node1${NETEM:+, netem $NETEM on its link}"
client "$GECKO_REPO/tests/vm/tools/stream-sink-client" $G 7 $SIZE $RATE > "$GECKO_OUT/client.out" 2>&1 &
UPLOAD=$!
wait_for 30 bash -c "(( \$(cut -d' ' -f2 $RUN/received1) > 0 ))"

pretty "a handoff every 0.5 s while it runs: node1 -> node2 -> node3 -> node1 ..."
handoff_while $UPLOAD

pretty "the server counted every octet once, in order"
wait $UPLOAD || fail "client: $(cat "$GECKO_OUT/client.out")"
cat "$GECKO_OUT/client.out"

expect_handoffs_completed upload
handoff_summary
client_tcp_summary
# The donor passes copies of what the client sends it on as soon as the
# acceptor restored the connection, so the acceptor's first ACKs leave no
# hole for the client to fill. A segment sent at the instant the client
# takes the update may still come the long way, after one sent the short
# way: 0.03 spurious retransmissions a handoff in the benchmark, 0.26 in a
# loaded rehearsal, against four or five a handoff without the copies; one
# in two handoffs at most. (A link that reorders and loses, NETEM, makes
# its own.)
dsacks=$(nstat_sum client TcpExtTCPDSACKRecv TcpExtTCPDSACKOfoRecv)
[[ -n ${NETEM-} ]] || ((dsacks * 2 <= MOVED)) ||
	fail "the client sent $dsacks segments again needlessly in $MOVED handoffs"
# What the client still sent a donor reached the acceptor: each restored
# its connections naming the donor, whose tunnel it alone takes.
taken=0
for k in 1 2 3; do taken=$((taken + $(ip netns exec node$k gecko-ctl info --json | gojq .counters.fwd_in))); done
((taken > 0)) || fail "no packet a donor passed on was taken out of its tunnel"

pretty "every node read at least 20 %, together all of it"
expect_node_shares read "$RUN/received" 2 20

pretty "no reset on the client's link"
expect_no_reset
pretty "PASS"
