# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 240
# "make demo": the reference topology in the VM with gecko.ko loaded.
# The home agent (gecko-had) registers node1 as G's contact node, so the
# client reaches G through the HA's tunnel; then the client's stock kernel
# binds G to node2 (as gecko-cnd would after a Binding Update) and node2's
# gecko.ko serves the client directly. Grows with the project.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"

PATH=$GECKO_REPO/build/tools/gecko-had:$GECKO_REPO/tests/vm/tools:$PATH
HAD_PID=
cleanup() { kill $HAD_PID 2> /dev/null || true; topo_down; }
trap cleanup EXIT

pretty "building the reference topology (client, router, ha, node1..3)"
topo_up
sed -n '/^#  client/,/^#    node1/p' "$GECKO_REPO/tests/vm/lib/topology.sh" | sed 's/^#//'

pretty "node1: gecko-ctl info"
n1 gecko-ctl info

pretty "gecko-had on the HA; node1 registers G = $G as contact node"
cat > /tmp/had.conf <<EOC
interface = eth0
home-prefix = fd00:a::/64
address = $HA
allow-coa = fd00:11::/64
EOC
had_start /tmp/had.conf
mn_at_home node1 $NODE1
n1 gecko-mn register --home $G --coa $NODE1 --ha $HA --seq 1 --lifetime 300
cat "$GECKO_OUT/had.log"

pretty "a UDP echo service on G in node1 and node2, answering with the node's name"
for k in 1 2; do
	[[ $k == 1 ]] || ip -n node2 -6 addr add $G/128 dev lo
	ip netns exec node$k socat UDP6-RECVFROM:7007,bind=[$G],fork SYSTEM:"echo node$k" &
done
wait_for 10 sh -c "ip netns exec node2 ss -Hlun | grep -q 7007"
pretty "client -> G: $(client timeout 10 socat -t 5 - UDP6:[$G]:7007 <<< hi)  (through the HA's tunnel)"

pretty "node2 serves G for the client: a service and a binding in gecko.ko"
n2 gecko-ctl service add $G coa $NODE2 contact-coa $NODE1
n2 gecko-ctl binding set $G $CLIENT state bound seq 2 lifetime 300
n2 gecko-ctl service show
n2 gecko-ctl binding show --json | jq -c .

pretty "the client's stock kernel binds G to node2's care-of address"
client_binds_g $NODE2
pretty "client -> G: $(client timeout 10 socat -t 5 - UDP6:[$G]:7007 <<< hi)  (directly: RH2 in, HAO out)"

pretty "node2's counters"
n2 gecko-ctl info
