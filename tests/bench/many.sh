# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 900
# Benchmark (make bench): many clients handed off at once. Each node runs
# gecko-echo-server (the node agent inside); links as tests/bench/handoff.sh:
# client to nodes 20 ms round trip, node to node 2 ms.
#
#   - one: a client with one connection, handed to the next node every
#     0.5 s, 40 times (RFC 6275 lets a client take three Binding Updates
#     a second: closer handoffs of one client wait for that, which those
#     of "many", each client's 10 s apart, never do);
#   - many: 100 clients with 10 connections each, 1000 at once, a client
#     handed to the next node every 0.1 s (10 a second), 300 times.
#
# gecko-many-handoffs asks for the handoffs (the donor's agent, from a pool of
# threads, so that no request waits for another's answer) and keeps every
# connection busy: a 16-octet record a second each, and on a client's
# first connection, its probe, a record every 4 ms around its client's
# handoff. Reported: the largest gap between two echoes on the probe, from
# the handoff's time until 0.5 s after its end, median and p99, many's to
# one's (the goal: within 10 %); how long the handoffs took, and how long
# a request waited before it was asked.
# Result: $GECKO_OUT/result.json and a line each. Every record must come
# back, in order, on its own connection; every handoff must complete.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"

trap anycast_down EXIT

CLIENTS=${CLIENTS:-100}
CONNS=${CONNS:-10}

# node1 serves every new client: the 1000 connections and the agent's own.
agent_cmd() { echo "prlimit --nofile=65536 gecko-echo-server --port 7000"; }

topo_up
link_netem client delay 9500us
for k in 1 2 3; do link_netem node$k delay 250us; done
# The clients of "many", then the one of "one".
client_addresses $((CLIENTS + 1))
anycast_up 1 2 3
for k in 1 2 3; do wait_for 10 grep -q "serving port 7000" "$GECKO_OUT/agent$k.log"; done
n1 gecko-ctl register $G lifetime 900 > /dev/null
rtt_nodes=$(rtt node1 $NODE2)
rtt_client=$(rtt client $NODE2)
nodes="node1=fd00:11::2 node2=fd00:12::2 node3=fd00:13::2"

pretty "one: a client with one connection, a handoff every 0.5 s"
client gecko-many-handoffs $G 7000 $PREFIX $((CLIENTS + 1)) 1 1 500 40 $nodes > "$GECKO_OUT/one.out" ||
	fail "one: $(tail -n1 "$GECKO_OUT/one.out")"
tail -n1 "$GECKO_OUT/one.out"
pretty "many: $CLIENTS clients with $CONNS connections each, a handoff every 0.1 s"
client gecko-many-handoffs $G 7000 $PREFIX 1 $CLIENTS $CONNS 100 300 $nodes > "$GECKO_OUT/many.out" ||
	fail "many: $(tail -n1 "$GECKO_OUT/many.out")"
tail -n1 "$GECKO_OUT/many.out"

/usr/bin/python3 - "$GECKO_OUT/one.out" "$GECKO_OUT/many.out" "$rtt_nodes" "$rtt_client" $CLIENTS $CONNS \
	> "$GECKO_OUT/result.json" <<'EOF'
import json, statistics, sys


def load(path):
    return [json.loads(line) for line in open(path) if line.startswith("{")]


def summary(values):
    values = sorted(values)
    return {"median": round(statistics.median(values), 1), "p99": round(values[int(0.99 * (len(values) - 1))], 1),
            "max": round(values[-1], 1)}


def phase(records):
    done = [r for r in records if r["ok"]]
    return {"handoffs": len(records), "completed": len(done), "errors": sorted({r["error"] for r in records if not r["ok"]}),
            "gap_ms": summary([r["gap_ms"] for r in done]), "took_ms": summary([r["took_ms"] for r in done]),
            "queued_ms": summary([r["queued_ms"] for r in records]),
            "gap_each_ms": [r["gap_ms"] for r in done]}


one, many = phase(load(sys.argv[1])), phase(load(sys.argv[2]))
bound = float(sys.argv[3]) / 2 + float(sys.argv[4]) / 2
print(json.dumps({
    "benchmark": "many at once: client handoffs at 10 a second among 1000 busy connections, against one connection",
    "clients": int(sys.argv[5]), "connections_each": int(sys.argv[6]), "bound_ms": round(bound, 2),
    "one": one, "many": many,
    "ratio_median": round(many["gap_ms"]["median"] / one["gap_ms"]["median"], 2),
    "ratio_p99": round(many["gap_ms"]["p99"] / one["gap_ms"]["p99"], 2),
}, indent=1))
EOF
jq -r '"one connection: \(.one.completed) of \(.one.handoffs) handoffs; gap median \(.one.gap_ms.median) ms, p99 \(.one.gap_ms.p99) ms; handoff \(.one.took_ms.median) ms",
	"\(.clients) clients × \(.connections_each): \(.many.completed) of \(.many.handoffs) handoffs; gap median \(.many.gap_ms.median) ms, p99 \(.many.gap_ms.p99) ms; handoff \(.many.took_ms.median) ms (p99 \(.many.took_ms.p99)); waited for a thread: p99 \(.many.queued_ms.p99) ms",
	"many-at-once gap ratio to one connection: median \(.ratio_median), p99 \(.ratio_p99)"' "$GECKO_OUT/result.json"
for phase in one many; do
	jq -e ".$phase.completed == .$phase.handoffs" "$GECKO_OUT/result.json" > /dev/null ||
		fail "$phase: not every handoff completed: $(jq -c ".$phase.errors" "$GECKO_OUT/result.json")"
done
