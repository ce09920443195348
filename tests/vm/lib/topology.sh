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
#   rtt HOST ADDRESS        the mean round trip from HOST to ADDRESS in ms
#                           (10 pings)
#   nstat_sum HOST NAME...  the sum of HOST's counters NAME... (nstat's
#                           names) since its namespace began
#   play FILE ERR RATE URL [CURL OPTION...]
#                           the client downloads URL with curl into FILE
#                           at a player's pace: through tests/vm/tools/player,
#                           RATE octets a second until $RUN/hurry exists;
#                           curl's errors in ERR; fails if curl or the
#                           player does

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
play() {
	local out=$1 err=$2 rate=$3 url=$4
	shift 4
	client bash -o pipefail -c 'curl -sS -g "${@:6}" -o - "$1" 2> "$2" | "$0" "$3" "$4" "$5"' \
		"$GECKO_REPO/tests/vm/tools/player" "$url" "$err" "$out" "$rate" "$RUN/hurry" "$@"
}
router() { ip netns exec router "$@"; }
rtt() { ip netns exec "$1" ping -6 -c 10 -i 0.2 -q "$2" | awk -F/ '/^rtt/ { print $5 }'; }
nstat_sum() { ip netns exec "$1" nstat -az "${@:2}" | awk 'NR > 1 { n += $2 } END { print n + 0 }'; }
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

# Under TCG every program started costs a tenth of a second: the hosts
# are built with few. "ip -batch" takes a host's commands at once, the
# links are made in this namespace (where ethtool reaches both ends) and
# then moved, and the IPv6 settings below come from this namespace's, which
# every new one inherits.
sysctl -qw net.core.devconf_inherit_init_net=1 \
	net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
	net.ipv6.conf.default.accept_ra=0

# links_add LINK ADDR1 ADDR2 [LINK ADDR1 ADDR2]...: veths between the ends
# of each LINK, addressed and up; then what SETUP[HOST] holds for an end's
# host (ip -batch commands: its loopback up, its routes) is run there.
links_add() {
	local h1 i1 h2 i2 k=0 h make=() move=()
	local -A cmds=()
	while (($#)); do
		read -r h1 i1 h2 i2 <<< "$(link_ends "$1")"
		k=$((k + 1))
		make+=("link add gecko-a$k type veth peer gecko-b$k")
		move+=("link set gecko-a$k netns $h1" "link set gecko-b$k netns $h2")
		cmds[$h1]+="link set gecko-a$k name $i1"$'\n'"addr add $2 dev $i1 nodad"$'\n'"link set $i1 up"$'\n'
		cmds[$h2]+="link set gecko-b$k name $i2"$'\n'"addr add $3 dev $i2 nodad"$'\n'"link set $i2 up"$'\n'
		shift 3
	done
	printf '%s\n' "${make[@]}" | ip -batch -
	for ((; k > 0; k--)); do
		ethtool -K "gecko-a$k" tx off > /dev/null
		ethtool -K "gecko-b$k" tx off > /dev/null
	done
	printf '%s\n' "${move[@]}" | ip -batch -
	for h in "${!cmds[@]}"; do
		ip -n "$h" -batch - <<< "${cmds[$h]}${SETUP[$h]:-}"
		unset "SETUP[$h]"
	done
}

# host_add NAME...: empty network namespaces, torn down with the others.
host_add() {
	local h
	for h in "$@"; do
		echo "netns add $h"
	done | ip -batch -
	for h in "$@"; do
		SETUP[$h]="link set lo up"$'\n'
	done
}
declare -A SETUP=()

# reaches HOST ADDRESS...: wait until HOST reaches each ADDRESS (neighbour
# discovery done), all at once.
reaches() {
	local h=$1 a pids=()
	shift
	for a in "$@"; do
		wait_for 10 ip netns exec "$h" ping -6 -c1 -W1 "$a" &
		pids+=($!)
	done
	for a in "${pids[@]}"; do
		wait "$a" || exit 1
	done
}

topo_up() {
	local k
	# A scenario's own trap (anycast_down, say) stops its daemons first, then calls topo_down.
	[[ -n $(trap -p EXIT) ]] || trap topo_down EXIT
	host_add $HOSTS
	router sysctl -qw net.ipv6.conf.all.forwarding=1
	SETUP[client]+="route add default via fd00:c::1"$'\n'
	SETUP[ha]+="route add default via fd00:a::fe"$'\n'
	for k in 1 2 3; do
		SETUP[node$k]+="route add default via fd00:1$k::1"$'\n'
	done
	links_add client fd00:c::2/64 fd00:c::1/64 home fd00:a::1/64 fd00:a::fe/64 \
		node1 fd00:11::2/64 fd00:11::1/64 node2 fd00:12::2/64 fd00:12::1/64 \
		node3 fd00:13::2/64 fd00:13::1/64

	# As link_netem, with fewer programs.
	tc -n client qdisc replace dev eth0 root netem limit 100000 delay 10ms
	for k in 1 2 3; do
		tc -n node$k qdisc replace dev eth0 root netem limit 100000 delay 1ms
	done
	tc -n router -batch - <<-EOF
		qdisc replace dev eth-client root netem limit 100000 delay 10ms
		qdisc replace dev eth-n1 root netem limit 100000 delay 1ms
		qdisc replace dev eth-n2 root netem limit 100000 delay 1ms
		qdisc replace dev eth-n3 root netem limit 100000 delay 1ms
	EOF

	reaches client $HA $NODE1 $NODE2 $NODE3
	reaches node1 $HA $NODE2 $NODE3
}

client2_up() {
	HOSTS="$HOSTS client2"
	host_add client2
	SETUP[client2]+="route add default via fd00:d::1"$'\n'
	links_add client2 $CLIENT2/64 fd00:d::1/64
	link_netem client2 delay 5ms
	reaches client2 $HA $NODE1
}
