# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 900
# Benchmark (make bench): geckoproxy against HAProxy (TCP mode, its
# defaults: a thread per CPU) and socat (a process per connection), the
# three in front of the same programs on node1 in the same boot, reached by
# the client at G over the same path (node1 the only member and the
# contact node; no added delay on any link):
#
#   - request rate: gecko-request-rate keeps 64 connections going for
#     8 s, each a request and a 1 KiB response from gecko-request-rate
#     serve on [::1]:8000, closed by the server;
#   - throughput: one connection after another, each a 64 MiB response
#     from the same server on [::1]:8001, for 8 s.
#
# geckoproxy runs as two processes (ports 80 and 5201) joined to
# gecko-agent --cluster; HAProxy listens on G's ports 81 and 5202, socat on
# 82 and 5203. geckoproxy writes a log line per connection (to a file in
# the results share); HAProxy with its defaults writes none, so the
# request rate is also measured against HAProxy logging each connection
# as operators set it up (option tcplog, to standard output, the same
# share): port 84. Runs alternate so drift in the emulated machine hits all
# alike; medians are compared. Every request must succeed. Result:
# $GECKO_OUT/result.json and a line each.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"

trap anycast_down EXIT

ROUNDS=${ROUNDS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-8}
RUN=$(mktemp -d)
CONF=$RUN/gecko.conf
PATH=$GECKO_REPO/build/tools/geckoproxy:$GECKO_REPO/build/tests/vm/tools:$PATH
# node1 alone: every client is placed on it, by itself.
framework_conf "$CONF" 1
agent_cmd() { echo "gecko-agent --cluster $CONF"; }
credentials() { :; }

cat > "$RUN/haproxy.cfg" <<-EOF
	global
	    maxconn 20000
	defaults
	    mode tcp
	    timeout connect 5s
	    timeout client 60s
	    timeout server 60s
	listen rate
	    bind [$G]:81
	    server program [::1]:8000
	listen bulk
	    bind [$G]:5202
	    server program [::1]:8001
	listen rate_logged
	    bind [$G]:84
	    log stdout format raw daemon
	    option tcplog
	    server program [::1]:8000
EOF

topo_up
for link in client home node1; do link_netem $link delay 0ms; done
n1 gecko-request-rate serve ::1 8000 1024 &
PIDS+=($!)
n1 gecko-request-rate serve ::1 8001 $((64 << 20)) &
PIDS+=($!)
anycast_up 1
for port in 80:8000 5201:8001; do
	n1 geckoproxy -g "$CONF" -p ${port%:*} -a ${port#*:} > "$GECKO_OUT/geckoproxy-${port%:*}.log" 2>&1 &
	PIDS+=($!)
	wait_for 10 grep -q "serves port ${port%:*}" "$GECKO_OUT/geckoproxy-${port%:*}.log"
done
wait_for 10 grep -q "registered with the home agent" "$GECKO_OUT/geckoproxy-80.log"
n1 haproxy -f "$RUN/haproxy.cfg" > "$GECKO_OUT/haproxy.log" 2>&1 &
PIDS+=($!)
n1 socat TCP6-LISTEN:82,bind=[$G],fork,reuseaddr,backlog=4096 TCP6:[::1]:8000 &
PIDS+=($!)
n1 socat TCP6-LISTEN:5203,bind=[$G],fork,reuseaddr TCP6:[::1]:8001 &
PIDS+=($!)
for port in 81 82 84 5202 5203; do wait_for 10 sh -c "ip netns exec node1 ss -Hltn | grep -q ':$port '"; done

# measure PORT CONCURRENCY: one run of gecko-request-rate against G's PORT, its JSON.
measure() {
	local out
	out=$(client gecko-request-rate load $G $1 $2 $SECONDS_PER_RUN) || fail "port $1: requests failed: $out"
	echo "$out"
}

# metric NAME FIELD CONCURRENCY GECKO HAPROXY SOCAT [HAPROXY_LOGGING]: alternate them; one JSON object with their medians.
metric() {
	local name=$1 field=$2 conc=$3 i p
	local proxies=(geckoproxy:$4 haproxy:$5 socat:$6${7:+ haproxy_logging:$7})
	declare -A got=([geckoproxy]= [haproxy]= [socat]= [haproxy_logging]=)
	for ((i = 0; i < ROUNDS; i++)); do
		for p in ${proxies[@]}; do
			got[${p%:*}]+="$(measure ${p#*:} $conc | jq ".$field") "
		done
	done
	jq -n --arg name "$name" --argjson g "[${got[geckoproxy]// /,}0]" --argjson h "[${got[haproxy]// /,}0]" \
		--argjson s "[${got[socat]// /,}0]" --argjson l "[${got[haproxy_logging]// /,}0]" '
		def median: .[:-1] | sort | .[length / 2 | floor];
		{ metric: $name, geckoproxy: ($g | median), haproxy: ($h | median), socat: ($s | median),
		  runs: { geckoproxy: $g[:-1], haproxy: $h[:-1], socat: $s[:-1] } }
		| .vs_haproxy = (.geckoproxy / .haproxy) | .vs_socat = (.geckoproxy / .socat)
		| if ($l | length) > 1 then .haproxy_logging = ($l | median) | .runs.haproxy_logging = $l[:-1]
		  | .vs_haproxy_logging = (.geckoproxy / .haproxy_logging) else . end'
}

client gecko-request-rate load $G 80 1 1 > /dev/null || fail "no request through geckoproxy"
pretty "request rate, 64 connections at a time; then throughput, 64 MiB responses; $ROUNDS rounds of $SECONDS_PER_RUN s"
{
	metric "requests per second" per_second 64 80 81 82 84
	metric "throughput (bits per second)" bits_per_second 1 5201 5202 5203
} | jq -s '{ benchmark: "geckoproxy against HAProxy (TCP mode) and socat on node1, client at G", results: . }' \
	> "$GECKO_OUT/result.json"
# The figures hold for proxies joined to the agent, as deployed: neither left it.
joined=$(ip netns exec node1 gecko-ctl programs --json | jq '[.[] | select(.name == "geckoproxy")] | length')
[[ $joined == 2 ]] || fail "$joined of the 2 proxies still joined to node1's agent: $(grep 'programs:' "$GECKO_OUT/agent1.log")"
relayed=$(cat "$GECKO_OUT"/geckoproxy-*.log | grep -c 'end="closed"' || true)
pretty "geckoproxy relayed $relayed connections to their end"
logged=$(grep -c ' rate_logged ' "$GECKO_OUT/haproxy.log" || true)
((logged > 0)) || fail "HAProxy logged no connection of port 84: $(tail -3 "$GECKO_OUT/haproxy.log")"
pretty "HAProxy logged $logged connections of port 84"
jq -r '.results[] | "proxy ratio \(.metric) geckoproxy/haproxy: \(.vs_haproxy * 1000 | round / 1000), geckoproxy/socat: \(.vs_socat * 1000 | round / 1000) (\(.geckoproxy | round) / \(.haproxy | round) / \(.socat | round))\(if .vs_haproxy_logging then ", geckoproxy/HAProxy logging: \(.vs_haproxy_logging * 1000 | round / 1000) (\(.haproxy_logging | round))" else "" end)"' \
	"$GECKO_OUT/result.json"
