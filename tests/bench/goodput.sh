# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 480
# Benchmark (make bench): goodput of one TCP stream between the client and
# G while the client is bound to node2 (route optimisation through gecko's
# hooks), against plain IPv6 TCP between the client and node2's own
# address, on the same links, in the same boot; both directions (upload:
# client to node2, through the client's RH2 and gecko's RH2-in; download:
# node2 to the client, through gecko's HAO-out and the client's HAO-in).
# Runs alternate so drift in the (emulated) machine hits both alike;
# medians are compared.
#
# Then the CPU each side spends per octet moved, in runs of their own (the
# figures above keep Linux's defaults): the client's iperf3 and every
# packet the client and the router receive on CPU 0, node2's iperf3 and
# every packet node2 receives on CPU 1 (RPS steers each interface's
# receive work to its side's CPU), each CPU's busy time from /proc/stat
# over the run. A veth's transmit runs the receiver's work in the sender's
# context unless RPS moves it, so without the steering each side would be
# charged for the other's. Plain and gecko runs go at the same rate, 60 %
# of the slower one's goodput above: a side that is not the bottleneck
# spends more per octet the less it has to do at once (fewer packets a
# wake-up), so octets at different rates would not compare. Result:
# $GECKO_OUT/result.json and a line each.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"

ROUNDS=${ROUNDS:-3}
# The CPU figures vary more from run to run than the goodput.
CPU_ROUNDS=${CPU_ROUNDS:-5}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-8}

topo_up
client_binds_g $NODE2
n2 ip -6 addr add $G/128 dev lo
n2 gecko-ctl service add $G coa $NODE2 contact-coa $NODE1
n2 gecko-ctl binding set $G $CLIENT state bound seq 1 lifetime 420

n2 iperf3 -s -D -p 5201
wait_for 10 sh -c "ip netns exec node2 ss -Hltn | grep -q 5201"

# goodput TARGET [-R]: bits per second received over one run.
goodput() {
	client iperf3 -c "$1" -p 5201 -t "$SECONDS_PER_RUN" -J "${@:2}" |
		jq '.end.sum_received.bits_per_second'
}

# direction NAME [-R]: alternate plain and gecko runs; one JSON object.
direction() {
	local name=$1 plain=() gecko=() i
	shift
	for ((i = 0; i < ROUNDS; i++)); do
		plain+=("$(goodput $NODE2 "$@")")
		gecko+=("$(goodput $G "$@")")
	done
	jq -n --arg name "$name" --argjson plain "$(printf '%s\n' "${plain[@]}" | jq -s .)" \
		--argjson gecko "$(printf '%s\n' "${gecko[@]}" | jq -s .)" '{
		direction: $name,
		plain_bps: ($plain | sort | .[length / 2 | floor]),
		gecko_bps: ($gecko | sort | .[length / 2 | floor]),
		plain_runs: $plain, gecko_runs: $gecko
	} | .ratio = (.gecko_bps / .plain_bps)'
}

# cpu_busy: each CPU's busy clock ticks so far (all but idle and iowait), as a JSON array.
cpu_busy() { awk '/^cpu[0-9]/ { printf "%s%d", n++ ? "," : "[", $2 + $3 + $4 + $7 + $8 + $9 } END { print "]" }' /proc/stat; }

# steer: the receive work of the client's and the router's interfaces on CPU 0, node2's on CPU 1.
steer() {
	local ns q mask
	for ns in client router node2; do
		mask=1
		[[ $ns == node2 ]] && mask=2
		for q in $(ip netns exec $ns sh -c 'ls -d /sys/class/net/*/queues/rx-*'); do
			[[ $q == */lo/* ]] || ip netns exec $ns sh -c "echo $mask > $q/rps_cpus"
		done
	done
}

# pinned TARGET RATE [-R]: one run at RATE bits a second with each side on its CPU;
# {bps, bytes, ticks: [client side, node side]}.
pinned() {
	local before out after
	before=$(cpu_busy)
	out=$(client taskset -c 0 iperf3 -c "$1" -p 5202 -t "$SECONDS_PER_RUN" -b "$2" -J "${@:3}")
	after=$(cpu_busy)
	jq -n --argjson out "$out" --argjson b "$before" --argjson a "$after" \
		'{ bps: $out.end.sum_received.bits_per_second, bytes: $out.end.sum_received.bytes,
		   ticks: [$a[0] - $b[0], $a[1] - $b[1]] }'
}

# per_octet NAME [-R]: alternate pinned plain and gecko runs at one rate; nanoseconds of CPU an octet,
# each side, medians.
per_octet() {
	local name=$1 runs=() i rate
	shift
	rate=$(jq -s --arg name "$name" '.[] | select(.direction == $name) | [.plain_bps, .gecko_bps] | min * 0.6 | floor' \
		<<< "$goodput_runs")
	for ((i = 0; i < CPU_ROUNDS; i++)); do
		runs+=("$(pinned $NODE2 $rate "$@" | jq -c '.path = "plain"')" "$(pinned $G $rate "$@" | jq -c '.path = "gecko"')")
	done
	printf '%s\n' "${runs[@]}" | jq -s --arg name "$name" --argjson hz "$(getconf CLK_TCK)" --argjson rate $rate '
		def median: sort | .[length / 2 | floor];
		def ns(side): .ticks[side] * 1e9 / $hz / .bytes;
		def sides(p): map(select(.path == p)) | { client_ns: (map(ns(0)) | median), node_ns: (map(ns(1)) | median),
			bps: (map(.bps) | median) };
		def ratios(side): [range(0; length; 2) as $i | .[$i + 1] as $g | .[$i] as $p | ($g | ns(side)) / ($p | ns(side))]
			| sort | { least: .[0], most: .[-1] };
		{ direction: $name, rate_bps: $rate, plain: sides("plain"), gecko: sides("gecko"),
		  client_ratio_rounds: ratios(0), node_ratio_rounds: ratios(1), runs: . }
		| .client_ratio = (.gecko.client_ns / .plain.client_ns) | .node_ratio = (.gecko.node_ns / .plain.node_ns)'
}

goodput_runs=$(direction upload; direction download -R)
steer
n2 taskset -c 1 iperf3 -s -D -p 5202
wait_for 10 sh -c "ip netns exec node2 ss -Hltn | grep -q 5202"
cpu_runs=$(per_octet upload; per_octet download -R)
jq -n --argjson goodput "$(jq -s . <<< "$goodput_runs")" --argjson cpu "$(jq -s . <<< "$cpu_runs")" '{
	benchmark: "TCP goodput, client <-> G bound to node2 vs client <-> node2", results: $goodput,
	cpu_per_octet: $cpu }' > "$GECKO_OUT/result.json"
(( $(n2 gecko-ctl info --json | jq .counters.hao_out) > 0 )) ||
	fail "the G runs did not go through the hooks"
jq -r '(.results[] | "goodput ratio \(.direction) gecko/plain: \(.ratio * 1000 | round / 1000) (\(.gecko_bps / 1e6 | round) / \(.plain_bps / 1e6 | round) Mbit/s)"),
	(.cpu_per_octet[] | "CPU per octet \(.direction), each side on its CPU: client and router \(.client_ratio * 1000 | round / 1000) × plain (\(.gecko.client_ns * 100 | round / 100) / \(.plain.client_ns * 100 | round / 100) ns), node \(.node_ratio * 1000 | round / 1000) × plain (\(.gecko.node_ns * 100 | round / 100) / \(.plain.node_ns * 100 | round / 100) ns), at \(.rate_bps / 1e6 | round) Mbit/s (reached: \(.gecko.bps / 1e6 | round) / \(.plain.bps / 1e6 | round))")' \
	"$GECKO_OUT/result.json"
