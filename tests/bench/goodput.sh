# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 300
# Benchmark (make bench): goodput of one TCP stream between the client and
# G while the client is bound to node2 (route optimisation through gecko's
# hooks), against plain IPv6 TCP between the client and node2's own
# address, on the same links, in the same boot; both directions (upload:
# client to node2, through the client's RH2 and gecko's RH2-in; download:
# node2 to the client, through gecko's HAO-out and the client's HAO-in).
# Runs alternate so drift in the (emulated) machine hits both alike;
# medians are compared. Result: $GECKO_OUT/result.json and a line each.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"

ROUNDS=${ROUNDS:-3}
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

{
	direction upload
	direction download -R
} | jq -s '{ benchmark: "TCP goodput, client <-> G bound to node2 vs client <-> node2", results: . }' \
	> "$GECKO_OUT/result.json"
(( $(n2 gecko-ctl info --json | jq .counters.hao_out) > 0 )) ||
	fail "the G runs did not go through the hooks"
jq -r '.results[] | "goodput ratio \(.direction) gecko/plain: \(.ratio * 1000 | round / 1000) (\(.gecko_bps / 1e6 | round) / \(.plain_bps / 1e6 | round) Mbit/s)"' \
	"$GECKO_OUT/result.json"
