# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 600
# vm-beside
# Two stock clients download from G at once, at full speed and with
# Linux's default buffers (curl, no rate limit, no sysctl), while each is
# handed to the next node every 0.5 s: node1 -> node2 -> node3 -> node1 ...
# Each node runs gecko-file-server over the same file, with the node agent
# inside. The two clients' handoffs are asked side by side, each by its own
# loop (lib/handoff.sh), so that handoffs of one client run while the
# other's do. Each download must arrive byte for byte (its SHA-256), with
# no connection reset at either client; every handoff asked must complete, at
# least 10 for each client; the servers together must have written both
# files exactly once, and every node served some of them. The donors'
# records give how long the connections stayed frozen (handoff_summary).
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/handoff.sh"

trap anycast_down EXIT

# 128 MB each ended once after 8 handoffs of a client (handoffs freezing less made the download quicker): 256 MB.
SIZE=${SIZE:-$((256 << 20))}
RUN=$(mktemp -d)
WWW=$RUN/www

agent_cmd() { echo "gecko-file-server --port 80 --root $WWW --stats $RUN/served$1"; }

mkdir -p "$WWW"
head -c $SIZE /dev/urandom > "$WWW/blob"
want=$(sha256sum < "$WWW/blob" | cut -d' ' -f1)

topo_up
anycast_up 1 2 3
client2_anycast
for k in 1 2 3; do wait_for 10 grep -q "serving port 80" "$GECKO_OUT/agent$k.log"; done
n1 gecko-ctl register $G lifetime 300 > /dev/null

# download HOST NAME: HOST's download of the file into a digest (NAME.sha256), in the background.
download() {
	ip netns exec $1 sh -c "curl -sS -g 'http://[$G]/blob' 2> '$RUN/$2.err' | sha256sum | cut -d' ' -f1 > '$RUN/$2.sha256'" &
}

# handoffs_of ADDRESS PID NAME: handoff_while PID for the client at ADDRESS (from node1, which
# took it), in a subshell of its own; its counts go to NAME.handoffs, its failures to NAME.failures.
handoffs_of() {
	(
		CLIENT=$1 AT=1
		handoff_while $2 > "$RUN/$3.log"
		echo "$ASKED $MOVED" > "$RUN/$3.handoffs"
		printf '%s\n' "${FAILURES[@]}" > "$RUN/$3.failures"
	) &
}

pretty "two clients download $SIZE octets each at full speed, default buffers"
download client one
ONE=$!
download client2 two
TWO=$!
# Served by node1 at first, each: the handoffs start from there.
wait_for 30 bash -c "[[ -n \$(ip netns exec node1 ss -Htn state established '( sport = :80 )' dst '[$CLIENT]') &&
	-n \$(ip netns exec node1 ss -Htn state established '( sport = :80 )' dst '[$CLIENT2]') ]]"

pretty "a handoff of each every 0.5 s while it downloads, side by side"
handoffs_of $CLIENT $ONE one
LOOP1=$!
handoffs_of $CLIENT2 $TWO two
LOOP2=$!
wait $ONE
wait $TWO
wait $LOOP1 $LOOP2

pretty "both downloads complete, byte for byte"
for name in one two; do
	[[ ! -s $RUN/$name.err ]] || fail "client $name: $(cat "$RUN/$name.err")"
	expect_eq "client $name's download sha256" "$(cat "$RUN/$name.sha256")" "$want"
done

moved=0
for name in one two; do
	read -r ASKED MOVED < "$RUN/$name.handoffs"
	mapfile -t FAILURES < "$RUN/$name.failures"
	[[ -n ${FAILURES[0]-} ]] || FAILURES=()
	expect_handoffs_completed "download of client $name"
	moved=$((moved + MOVED))
done
# handoff_summary checks the agents' counters against both clients' handoffs together.
MOVED=$moved
handoff_summary

pretty "the nodes wrote both files once together, and each served some"
SIZE=$((2 * SIZE))
expect_node_shares served "$RUN/served" 4 1
expect_node_shares wrote "$RUN/served" 2 0

# No capture of these downloads (tcpdump in the guest would write hundreds of thousands
# of segments beside them): the clients' own count of connections reset while
# established says it.
pretty "no connection reset at either client"
for host in client client2; do
	expect_eq "$host's connections reset" "$(nstat_sum $host TcpEstabResets)" 0
done
pretty "PASS"
