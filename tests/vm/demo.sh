# SPDX-License-Identifier: GPL-2.0-only
# "make demo": the reference topology in the VM, with gecko.ko loaded;
# each node's view of the module. Grows with the project.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"

pretty "building the reference topology (client, router, ha, node1..3)"
topo_up
sed -n '/^#  client/,/^#    node1/p' "$GECKO_REPO/tests/vm/lib/topology.sh" | sed 's/^#//'

pretty "client -> node1: $(client ping -6 -c1 -W2 $NODE1 | sed -n 's/.*time=/rtt /p')"

pretty "node1: gecko-ctl info"
n1 gecko-ctl info

pretty "node1: gecko-ctl info --json"
n1 gecko-ctl info --json | jq .

pretty "node2 has its own counters: gecko-ctl info"
n2 gecko-ctl info
