# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 900
# Benchmark (make bench): the client-visible stall of crash recoveries.
# Each node runs gecko-agent --cluster and gecko-file-server; the client
# reads one download at 1 MB/s and notes when each read returns. Whichever
# node serves it has its processes killed once its backup holds the
# connection's mirror, and starts again (the contact node, node1, hands
# the client to node2 first: its own failover is not there yet). Links:
# client to nodes 20 ms round trip, node to node 2 ms; failure bound 1 s
# (heartbeats every 250 ms, 4 missed).
#
# Reported, from the same boot, over CRASHES crashes (50 by default): the
# largest gap between two reads at the client from the kill to 5 s after
# it, as median and 99th percentile, next to the same measure over 0.5 s
# windows of the download before any crash (at a player's pace, what the
# client's receive buffer holds hides most of the outage from its reads);
# the outage itself, from the member's last heartbeat to the connection
# running at its backup, as the agents measured it; and next to them what
# a takeover cannot do without: the silence that declared the member
# dead, plus the return routability and Binding Update, plus one round
# trip to the client for the probe. The body must be the file's, octet
# for octet (download-probe).
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/recovery.sh"

trap anycast_down EXIT

CRASHES=${CRASHES:-50}
RUN=$(mktemp -d)
# Read at 1 MB/s, the body must outlast the crashes: under load each takes
# up to 10 s (the stop file ends the read after the last).
recovery_conf $(((40 + 10 * CRASHES) << 20)) 4

topo_up
link_netem client delay 9500us
for k in 1 2 3; do link_netem node$k delay 250us; done
anycast_up 1 2 3
recovery_up
rtt_client=$(rtt client $NODE2)

A=$CLIENT
client "$GECKO_REPO/tests/bench/download-probe" $G 8080 /blob 1000000 "$WWW/blob" "$RUN/stop" "$RUN/arrivals" \
	> "$GECKO_OUT/probe.out" 2>&1 &
CURL_PID=$!
wait_for 30 grep -q "^$A: GET /blob" "$GECKO_OUT/server1.log"
n1 gecko-ctl handoff $A to fd00:12::2 > /dev/null || fail "the handoff to node2 failed"
# The download alone first: the baseline.
start=$(date +%s.%N)
sleep 10

serving=2
for i in $(seq 1 $CRASHES); do crash $i; done
sleep 5
touch "$RUN/stop"
wait $CURL_PID || fail "the download: $(cat "$GECKO_OUT/probe.out")"
cat "$GECKO_OUT/probe.out"

/usr/bin/python3 - "$RUN/arrivals" "$RUN/crashes" "$RUN/records" "$start" "$rtt_client" > "$GECKO_OUT/result.json" <<'EOF'
import bisect, json, statistics, sys

arrivals = [float(line.split()[0]) for line in open(sys.argv[1])]
crashes = [float(line) for line in open(sys.argv[2])]
records = [json.loads(line) for line in open(sys.argv[3])]
start, rtt_client = float(sys.argv[4]), float(sys.argv[5])


def largest_gap(lo, hi):
    """The longest wait between reads in [lo, hi], the read before lo included."""
    i = max(bisect.bisect_left(arrivals, lo) - 1, 0)
    j = bisect.bisect_right(arrivals, hi)
    times = arrivals[i:j]
    return max((b - a for a, b in zip(times, times[1:])), default=hi - lo) * 1000


def summary(values):
    values = sorted(values)
    return {"median": round(statistics.median(values), 1), "p99": round(values[int(0.99 * (len(values) - 1))], 1),
            "max": round(values[-1], 1)}


each = [largest_gap(t, t + 5) for t in crashes]
stalls = summary(each)
baseline = summary([largest_gap(t, t + 0.5) for t in [start + 0.5 * k for k in range(int((crashes[0] - start) / 0.5))]])
least = summary([r["silent_ms"] + r["signalling_us"] / 1000 + rtt_client for r in records])
# From the member's last heartbeat to the connection running here again, as the agents measured it.
outage = summary([r["silent_ms"] + r["total_us"] / 1000 for r in records])
print(json.dumps({
    "benchmark": "client-visible stall of crash recoveries (download, 1 MB/s)",
    "crashes": len(crashes), "recovered": len(records), "rtt_client_ms": rtt_client,
    "stall_ms": stalls, "baseline_gap_ms": baseline, "stall_each_ms": [round(g, 1) for g in each],
    "detection_ms": summary([r["silent_ms"] for r in records]),
    "signalling_ms": summary([r["signalling_us"] / 1000 for r in records]),
    "probe_ms": summary([r["probe_us"] / 1000 for r in records]),
    "takeover_ms": summary([r["total_us"] / 1000 for r in records]),
    "least_ms": least, "outage_ms": outage,
    "ratio_median": round(stalls["median"] / least["median"], 2), "ratio_p99": round(stalls["p99"] / least["median"], 2),
}, indent=1))
EOF
jq -r '"crashes recovered: \(.recovered) of \(.crashes); largest gap in the client'"'"'s reads median \(.stall_ms.median) ms, p99 \(.stall_ms.p99) ms (download alone: \(.baseline_gap_ms.median) / \(.baseline_gap_ms.p99) ms; what its receive buffer held hides the rest)",
	"outage, from the member'"'"'s last heartbeat to the connection running at its backup: median \(.outage_ms.median) ms, p99 \(.outage_ms.p99) ms",
	"detection \(.detection_ms.median) ms + RR/BU \(.signalling_ms.median) ms + one probe RTT \(.rtt_client_ms) ms = \(.least_ms.median) ms (medians); takeover after detection \(.takeover_ms.median) ms, of which probes \(.probe_ms.median) ms",
	"read gap ratio to detection + RR/BU + probe RTT: median \(.ratio_median), p99 \(.ratio_p99)"' "$GECKO_OUT/result.json"
expect_eq "crashes recovered" "$(jq .recovered "$GECKO_OUT/result.json")" $CRASHES
