# SPDX-License-Identifier: GPL-2.0-only
# vm-beside
# The reference topology itself: every host reaches every other, delays
# and offload settings are what lib/topology.sh promises.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"

pretty "building the reference topology"
topo_up

pretty "round trip client -> node1 crosses 2 x (10 + 1) ms"
rtt=$(client ping -6 -c3 -i0.2 -q $NODE1 | sed -n 's|.*= \([0-9.]*\)/.*|\1|p')
echo "rtt client-node1: $rtt ms"
awk -v r="$rtt" 'BEGIN { exit !(r >= 22 && r < 60) }' || fail "rtt $rtt ms, want about 22"

pretty "round trip node1 -> node2 crosses 2 x (1 + 1) ms"
rtt=$(n1 ping -6 -c3 -i0.2 -q $NODE2 | sed -n 's|.*= \([0-9.]*\)/.*|\1|p')
echo "rtt node1-node2: $rtt ms"
awk -v r="$rtt" 'BEGIN { exit !(r >= 4 && r < 30) }' || fail "rtt $rtt ms, want about 4"

pretty "transmit checksum offload is off and MTU is 1500 on every link"
for h in client ha node1 node2 node3; do
	expect_eq "$h tx offload" "$(ip netns exec $h ethtool -k eth0 | sed -n 's/^tx-checksumming: //p')" off
	expect_eq "$h mtu" "$(ip -n $h -j link show eth0 | gojq .[0].mtu)" 1500
done

pretty "netem settings apply per link"
link_netem node2 delay 5ms
rtt=$(n1 ping -6 -c3 -i0.2 -q $NODE2 | sed -n 's|.*= \([0-9.]*\)/.*|\1|p')
echo "rtt node1-node2 with node2 at 5 ms: $rtt ms"
awk -v r="$rtt" 'BEGIN { exit !(r >= 12 && r < 40) }' || fail "rtt $rtt ms, want about 12"

pretty "a full-size packet crosses without fragmentation"
client ping -6 -c1 -W2 -M do -s 1452 $NODE3 > /dev/null
