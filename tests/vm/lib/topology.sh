# SPDX-License-Identifier: GPL-2.0-only
#
# The reference topology (Documentation/testing.md), one network namespace
# per host:
#
#  client fd00:c::2 ──(10 ms)── router ──── home link fd00:a::/64 ──── ha fd00:a::1
#                                │  │  │        G = fd00:a::100 (proxy-ND by the HA)
#               ┌──(1 ms)────────┘  │  └──────────(1 ms)──┐
#    node1 fd00:11::2 (contact)   node2 fd00:12::2    node3 fd00:13::2
#
# The router owns ::1 on the client and node links and fd00:a::fe on the
# home link. Interfaces are eth0 in each host; on the router, eth-client,
# eth-home and eth-n1..3. Delays are one-way, on both ends of a link.
# Transmit checksum offload is off everywhere, so a wrong checksum is seen
# by the receiver instead of hidden by veth. MTU 1500.
#
#   topo_up                 build it with the default delays and wait until
#                           every host reaches every other
#   link_netem LINK ARGS    set netem on both ends of LINK (client, client2,
#                           home, node1..3), e.g. link_netem client delay 10ms 2ms loss 1%
#   client2_up              a second client host after topo_up: client2
#                           fd00:d::2, its link to the router (eth-client2,
#                           fd00:d::1) 5 ms each way
#   client/client2/router/ha/n1/n2/n3 CMD   run CMD in that host

G=fd00:a::100
CLIENT=fd00:c::2
CLIENT2=fd00:d::2
HA=fd00:a::1
NODE1=fd00:11::2
NODE2=fd00:12::2
NODE3=fd00:13::2
HOSTS="client router ha node1 node2 node3"

client() { ip netns exec client "$@"; }
client2() { ip netns exec client2 "$@"; }
router() { ip netns exec router "$@"; }
ha() { ip netns exec ha "$@"; }
n1() { ip netns exec node1 "$@"; }
n2() { ip netns exec node2 "$@"; }
n3() { ip netns exec node3 "$@"; }

topo_down() {
	local h
	for h in $HOSTS; do
		ip netns pids "$h" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "$h" 2>/dev/null || true
	done
}

# link_ends LINK: "host interface" of each end.
link_ends() {
	case $1 in
	client) echo "client eth0 router eth-client" ;;
	client2) echo "client2 eth0 router eth-client2" ;;
	home) echo "ha eth0 router eth-home" ;;
	node[123]) echo "$1 eth0 router eth-n${1#node}" ;;
	*) fail "unknown link $1" ;;
	esac
}

link_netem() {
	local link=$1 h1 i1 h2 i2
	shift
	read -r h1 i1 h2 i2 <<< "$(link_ends "$link")"
	# A large queue: at 10 ms a full-speed stream has hundreds in flight.
	tc -n "$h1" qdisc replace dev "$i1" root netem limit 100000 "$@"
	tc -n "$h2" qdisc replace dev "$i2" root netem limit 100000 "$@"
}

# add_link LINK ADDR1 ADDR2: veth between the two ends, addressed and up.
add_link() {
	local h1 i1 h2 i2
	read -r h1 i1 h2 i2 <<< "$(link_ends "$1")"
	ip link add "$i1" netns "$h1" type veth peer "$i2" netns "$h2"
	ip -n "$h1" addr add "$2" dev "$i1" nodad
	ip -n "$h2" addr add "$3" dev "$i2" nodad
	ip netns exec "$h1" ethtool -K "$i1" tx off > /dev/null
	ip netns exec "$h2" ethtool -K "$i2" tx off > /dev/null
	ip -n "$h1" link set "$i1" up
	ip -n "$h2" link set "$i2" up
}

# host_add NAME: an empty network namespace, torn down with the others.
host_add() {
	ip netns add "$1"
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.default.accept_ra=0
}

topo_up() {
	local h k
	# A scenario's own trap (anycast_down, say) stops its daemons first, then calls topo_down.
	[[ -n $(trap -p EXIT) ]] || trap topo_down EXIT
	for h in $HOSTS; do host_add "$h"; done
	router sysctl -qw net.ipv6.conf.all.forwarding=1

	add_link client fd00:c::2/64 fd00:c::1/64
	add_link home fd00:a::1/64 fd00:a::fe/64
	for k in 1 2 3; do
		add_link node$k fd00:1$k::2/64 fd00:1$k::1/64
		ip -n node$k -6 route add default via fd00:1$k::1
	done
	ip -n client -6 route add default via fd00:c::1
	ip -n ha -6 route add default via fd00:a::fe

	link_netem client delay 10ms
	for k in 1 2 3; do
		link_netem node$k delay 1ms
	done

	for h in $CLIENT $HA $NODE1 $NODE2 $NODE3; do
		wait_for 10 client ping -6 -c1 -W1 "$h"
	done
	for h in $HA $NODE2 $NODE3; do
		wait_for 10 n1 ping -6 -c1 -W1 "$h"
	done
}

client2_up() {
	HOSTS="$HOSTS client2"
	host_add client2
	add_link client2 $CLIENT2/64 fd00:d::1/64
	client2 ip -6 route add default via fd00:d::1
	link_netem client2 delay 5ms
	wait_for 10 client2 ping -6 -c1 -W1 $HA
	wait_for 10 client2 ping -6 -c1 -W1 $NODE1
}
