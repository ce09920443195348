# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 240
# "make demo": the reference topology in the VM with gecko.ko loaded and
# the real signalling. gecko-had on the HA, gecko-cnd on the stock client,
# gecko-agent on three nodes that serve G with a UDP echo answering their
# name. node1 registers as contact node; gecko-ctl then hands the client
# to node2 and node3 (return routability with the Home Test relayed by
# node1, a Binding Update with the donor's sequence number + 1), and clears
# the binding, which returns the client to node1. Grows with the project.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"

trap anycast_down EXIT

ask() { pretty "client -> G: $(echo_reply hi)  ($1)"; }
seq_at() { ip netns exec "$1" gecko-ctl binding show $G $CLIENT --json | jq '.[0].seq'; }

pretty "building the reference topology (client, router, ha, node1..3)"
topo_up
sed -n '/^#  client/,/^#    node1/p' "$GECKO_REPO/tests/vm/lib/topology.sh" | sed 's/^#//'

pretty "gecko-had on the HA, gecko-cnd on the client; on each node: G, the service, gecko-agent, a UDP echo"
anycast_up 1 2 3
n1 gecko-ctl info
n2 gecko-ctl service show

pretty "node1 registers G = $G as contact node: $(n1 gecko-ctl register $G)"
ask "node1, through the HA's tunnel"

pretty "node2 takes the client: $(n2 gecko-ctl bu $G $CLIENT seq 1)"
ask "node2, directly: RH2 in, HAO out"

pretty "node3 runs return routability ahead: $(n3 gecko-ctl rr $G $CLIENT)"
ask "still node2"
pretty "then only the Binding Update, seq $(($(seq_at node2) + 1)): $(n3 gecko-ctl bu $G $CLIENT seq $(($(seq_at node2) + 1)))"
n2 gecko-ctl binding del $G $CLIENT
ask "node3"
n3 gecko-ctl binding show

pretty "node3 clears the binding: $(n3 gecko-ctl clear $G $CLIENT)"
ask "back on the contact node"

pretty "counters: node3's module and node1's agent"
n3 gecko-ctl info
n1 gecko-ctl agent show
