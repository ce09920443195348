# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 600
# vm-beside
# A 50 MB HTTP download from G that moves between the three nodes every
# half second while it runs, with the real signalling and a stock client.
# Each node runs gecko-file-server over the same file, with the node agent
# inside (gecko::Node, no gecko-agent); curl fetches the file at 512 KB/s.
#
#   client ── router ── node1 (contact)   node2   node3
#
# Every 0.5 s, "gecko-ctl handoff" in the namespace of the node that serves
# the client asks its server to hand the client to the next node: node1 ->
# node2 -> node3 -> node1 ... The server hands off the connection with the
# file's path and its response head; the acceptor's server goes on from
# the octets the donor wrote. The client must get the file byte for byte,
# with no reset on its link; the servers together must have written all of
# it once; every node must have served at least 20 % of it (what the client
# acknowledged while the node had the connection: what a node writes ahead
# waits in the socket, which moves), together exactly all of it; every
# handoff must complete (the last requests may find no connection: the
# client had its file), none rolled back, and both ends' agents count
# each.
#
# handoff-download-netem runs this with NETEM (netem arguments for the
# client's link) and a SIZE and RATE of its own.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"

trap anycast_down EXIT

SIZE=${SIZE:-$((50 << 20))}
RATE=${RATE:-512K}
# Each node's share of the file, at least, in percent.
SHARE=${SHARE:-20}
# The guest's /tmp is one tmpfs overlay, the same in every namespace.
RUN=$(mktemp -d)
WWW=$RUN/www

# The file server is each node's agent.
agent_cmd() { echo "gecko-file-server --port 80 --root $WWW --stats $RUN/served$1"; }

mkdir -p "$WWW"
head -c $SIZE /dev/urandom > "$WWW/blob"
want=$(sha256sum < "$WWW/blob")

topo_up
[[ -z ${NETEM-} ]] || link_netem client $NETEM
# curl keeps its rate by reading in bursts; with the default 6 MB receive
# buffer the window opens a few megabytes at a time, so that whichever
# node holds the connection at those moments serves most of it. A small
# buffer makes the client take the file steadily.
client sysctl -qw net.ipv4.tcp_rmem="4096 131072 524288"
anycast_up 1 2 3
for k in 1 2 3; do wait_for 10 grep -q "serving port 80" "$GECKO_OUT/agent$k.log"; done
n1 gecko-ctl register $G lifetime 300 > /dev/null
capture_client

pretty "the client downloads $SIZE octets at $RATE/s from node1${NETEM:+, netem $NETEM on its link}"
client curl -sS -g --limit-rate $RATE -o "$RUN/got" "http://[$G]/blob" 2> "$GECKO_OUT/curl.err" &
CURL=$!
wait_for 30 bash -c "(( \$(cut -d' ' -f2 $RUN/served1) > 0 ))"

pretty "a handoff every 0.5 s while it runs: node1 -> node2 -> node3 -> node1 ..."
handoff_while $CURL

pretty "the download completes, byte for byte"
wait $CURL || fail "curl exited with status $?: $(cat "$GECKO_OUT/curl.err")"
expect_eq "downloaded size" "$(stat -c %s "$RUN/got")" $SIZE
expect_eq "download sha256" "$(sha256sum < "$RUN/got")" "$want"

expect_handoffs_completed download
handoff_summary

pretty "every node served at least $SHARE %, together all of it; they wrote all of it once"
# The status lines: "served WRITTEN delivered ACKNOWLEDGED".
expect_node_shares served "$RUN/served" 4 $SHARE
expect_node_shares wrote "$RUN/served" 2 0

pretty "no reset on the client's link"
expect_no_reset
pretty "PASS"
