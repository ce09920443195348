# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 900
# Benchmark (make bench): what placing clients costs. gecko-policy-echo
# (the high-level API, round-robin) on the three nodes; links: client to
# nodes 20 ms round trip, node to node 2 ms (as tests/bench/handoff.sh).
#
#   - accept-time handoff: 150 new clients one after the other, each from an
#     address of its own; for each, the time from connect() to the first
#     octet of its line's echo. Clients the contact node hands to node2 or
#     node3 against a plain TCP connection to an echo on node2's care-of
#     address (Python's threading server), measured the same way in the
#     same boot: ratio of the medians (and of the 90th percentiles);
#   - sustained handoff rate of one node: 1000 clients connected and held
#     open for a minute (placed on the three nodes), then every client on
#     node1 sends an "H" at once; node1 hands them all to the others (by the policy): how
#     many handoffs a second, from the first H to node1's last departure,
#     with its 1000-connection share still open around it.
# Result: $GECKO_OUT/result.json and a line each. Every echo must be exact.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"

trap anycast_down EXIT

RUN=$(mktemp -d)
CONF=$RUN/gecko.conf
PLACED=150
HELD=1000
framework_conf "$CONF"
agent_cmd() { echo "gecko-policy-echo --cluster $CONF"; }
credentials() { :; }

# first_octet.py HOST PORT FIRST COUNT: for each client address FIRST.. (FIRST 0: the host's own), one
# connection after another: "ADDRESS MS", connect() to the first octet of the echo.
cat > "$RUN/first_octet.py" <<-'EOF'
	import socket, sys, time
	host, port, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
	for i in range(max(first, 1), max(first, 1) + count):
	    src = f"fd00:c::1:{i:x}" if first else ""
	    line = f"client {i}\n".encode()
	    t0 = time.monotonic()
	    with socket.create_connection((host, port), timeout=30, source_address=(src, 0)) as s:
	        s.sendall(line)
	        got = s.recv(len(line))
	        took = (time.monotonic() - t0) * 1000
	        while len(got) < len(line):
	            more = s.recv(len(line) - len(got))
	            if not more:
	                break
	            got += more
	    if got != line:
	        sys.exit(f"client {i}: sent {line!r}, got {got!r}")
	    print(f"{src or 'plain'} {took:.2f}", flush=True)
EOF

topo_up
link_netem client delay 9500us
for k in 1 2 3; do link_netem node$k delay 250us; done
client_addresses $((PLACED + HELD))
anycast_up 1 2 3
wait_for 10 grep -q "registered with the home agent" "$GECKO_OUT/agent1.log"
wait_for 10 members_alive
# The baseline's echo: threads, not a process per connection, as gecko-policy-echo.
ip netns exec node2 /usr/bin/python3 -c '
import socketserver, sys
class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(line)
class Server(socketserver.ThreadingTCPServer):
    address_family, allow_reuse_address, daemon_threads = socketserver.socket.AF_INET6, True, True
Server((sys.argv[1], 7001), Echo).serve_forever()' $NODE2 &
PIDS+=($!)
wait_for 10 sh -c "ip netns exec node2 ss -Hltn | grep -q 7001"

pretty "plain connections to node2: $PLACED"
client /usr/bin/python3 "$RUN/first_octet.py" $NODE2 7001 0 $PLACED > "$RUN/plain" ||
	fail "plain connections: $(tail -n1 "$RUN/plain")"
pretty "new clients through G, placed round-robin: $PLACED"
client /usr/bin/python3 "$RUN/first_octet.py" $G 7 1 $PLACED > "$RUN/placed" ||
	fail "placed connections: $(tail -n1 "$RUN/placed")"
# Which node served which client.
for k in 1 2 3; do
	grep -o "^serving ${PREFIX}[0-9a-f]*" "$GECKO_OUT/agent$k.log" | sed "s/^serving //; s/\$/ node$k/"
done > "$RUN/where"

pretty "$HELD clients held open, then node1's send H at once"
client "$GECKO_REPO/tests/vm/tools/policy-echo-client" $G 7 $PREFIX $((PLACED + 1)) $HELD 20 -60 0 \
	> "$GECKO_OUT/held.out" 2>&1 &
HELD_PID=$!
held_from=$SECONDS
all_held() { (($(grep -c "^serving ${PREFIX}" "$GECKO_OUT/agent"[123].log | awk -F: '{ n += $2 } END { print n }') >= PLACED + HELD)); }
wait_for 600 all_held
pretty "$HELD clients placed and held in $((SECONDS - held_from)) s"
# node1's clients among the held: those it serves and never handed off.
held_on1=$(ip netns exec node1 ss -Htn state established "( sport = :7 )" | awk '{ print $4 }' |
	sed 's/^\[\(.*\)\]:.*/\1/' | sort -u)
echo "$held_on1" > "$GECKO_OUT/held-on-node1"
n1=$(grep -c . <<< "$held_on1" || true)
((n1 > 0)) || fail "node1 holds none of the $HELD clients"
departed() { grep -c "^departure: .* moved" "$GECKO_OUT/agent1.log" || true; }
before=$(departed)
t0=$(date +%s.%N)
# Each of node1's clients, on a connection of its own, sends an H: the client has one connection more on node1,
# and both move together.
client /usr/bin/python3 - "$G" $held_on1 <<-'EOF' > "$GECKO_OUT/h.out" 2>&1 &
	import socket, sys, threading
	host = sys.argv[1]
	def hand(src):
	    with socket.create_connection((host, 7), timeout=60, source_address=(src, 0)) as s:
	        s.sendall(b"H\n")
	        got = b""
	        while len(got) < 2:
	            more = s.recv(2 - len(got))
	            if not more:
	                break
	            got += more
	        assert got == b"H\n", got
	threads = [threading.Thread(target=hand, args=(a,)) for a in sys.argv[2:]]
	for t in threads: t.start()
	for t in threads: t.join()
EOF
H_PID=$!
moved_all() { (($(departed) - before >= n1)); }
wait_for 300 moved_all
t1=$(date +%s.%N)
wait $H_PID || fail "the H connections: $(cat "$GECKO_OUT/h.out")"
wait $HELD_PID || fail "held clients: $(tail -n3 "$GECKO_OUT/held.out")"

/usr/bin/python3 - "$RUN/plain" "$RUN/placed" "$RUN/where" "$n1" "$t0" "$t1" > "$GECKO_OUT/result.json" <<'EOF'
import json, statistics, sys

plain = [float(line.split()[1]) for line in open(sys.argv[1])]
where = dict(line.split() for line in open(sys.argv[3]))
placed = {"elsewhere": [], "contact": []}
for line in open(sys.argv[2]):
    addr, ms = line.split()
    placed["contact" if where.get(addr) == "node1" else "elsewhere"].append(float(ms))
n1, t0, t1 = int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])


def summary(values):
    values = sorted(values)
    return {"count": len(values), "median": round(statistics.median(values), 1),
            "p90": round(values[int(0.9 * (len(values) - 1))], 1), "max": round(values[-1], 1)}


p, e, c = summary(plain), summary(placed["elsewhere"]), summary(placed["contact"])
print(json.dumps({
    "benchmark": "placement: accept-time handoff cost and sustained handoff rate",
    "plain_first_octet_ms": p, "placed_elsewhere_first_octet_ms": e, "kept_on_contact_first_octet_ms": c,
    "ratio_median": round(e["median"] / p["median"], 2), "ratio_p90": round(e["p90"] / p["p90"], 2),
    "sustained": {"handoffs": n1, "seconds": round(t1 - t0, 2), "per_second": round(n1 / (t1 - t0), 1),
                  "open_connections": 1000},
}, indent=1))
EOF
jq -r '"accept-time handoff: first octet median \(.placed_elsewhere_first_octet_ms.median) ms, p90 \(.placed_elsewhere_first_octet_ms.p90) ms; plain TCP to the node \(.plain_first_octet_ms.median) / \(.plain_first_octet_ms.p90) ms; kept on the contact node \(.kept_on_contact_first_octet_ms.median) ms",
	"accept-time handoff ratio to a plain connection: median \(.ratio_median), p90 \(.ratio_p90)",
	"sustained handoffs of one node with 1000 connections open: \(.sustained.handoffs) in \(.sustained.seconds) s = \(.sustained.per_second) per second"' "$GECKO_OUT/result.json"
