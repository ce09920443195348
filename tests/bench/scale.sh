# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 900
# Benchmark (make bench): the binding table from a thousand entries to a
# million. In one namespace G is a service on lo, P a plain address beside
# it, and the clients' prefix routes to a dummy device. The table is filled
# with bound bindings (gecko-fill-bindings: Client::set_bindings, 64
# requests a system call) to 10^3, 10^4, 10^5 and 10^6 entries. At each size:
#   - the fill rate: entries a second over the step;
#   - the memory per entry: what the kernel's kmalloc and vmalloc gained
#     (octets, below) over the entries added since the start: noisy at
#     10^3, where what other work frees or takes weighs as much;
#   - the kernel time per UDP packet from G to a random bound client (its
#     service and binding lookups at POST_ROUTING, then its Home Address
#     option) and from P to the same clients (no service: the hook returns
#     at once), alternating, medians of 5 runs; the ratio of G's to its
#     figure at 10^3 is the lookup's growth.
# Then the services, from G alone to the most a namespace may hold (4096,
# created by gecko-fill-services, all at G's care-of address): the kernel
# time per packet from the service created last (H, on lo, bound to the
# first 1000 clients; G itself while it is the only one) to one of its
# clients, and from P to P over lo, whose every packet the hooks look up
# both ways (as a care-of address, as a G) and find nothing: every packet
# a node receives pays that. The ratio of each to its figure with one
# service is the service lookups' growth.
# Result: $GECKO_OUT/result.json and a line each.
. "$GECKO_REPO/tests/vm/lib/common.sh"

G=fd00:a::100
P=fd00:a::200
SIZES=(1000 10000 100000 1000000)
PACKETS=${PACKETS:-20000}
RUN=$(mktemp -d)

trap 'ip netns delete scale 2> /dev/null' EXIT
ip netns add scale
s() { ip netns exec scale "$@"; }
s ip link set lo up
s ip -6 addr add $G/128 dev lo
s ip -6 addr add $P/128 dev lo
s ip link add d0 type dummy
s ip link set d0 up
s ip -6 addr add fd00:1::2/64 dev d0 nodad
s ip -6 route add fd00:c::/64 via fd00:1::1 dev d0	# one neighbour, not one per client
s gecko-ctl service add $G coa fd00:1::2 contact-coa fd00:1::1
s gecko-ctl limits set bindings $((SIZES[-1] + 1000))

# The kmalloc caches' object sizes: slabinfo's own size includes
# slub_debug's red zones and tracking.
awk '{ cache = FILENAME; sub("/object_size$", "", cache); sub(".*/", "", cache); print cache, $1 }' \
	/sys/kernel/slab/kmalloc-*/object_size > "$RUN/sizes"
PAGE=$(getconf PAGESIZE)

# octets: what the kernel holds in kmalloc and vmalloc: the kmalloc caches'
# objects at their object size, the allocations too large for those
# caches (the page allocator's, which the kernel counts as slab but
# slabinfo does not list: the hash table's buckets from 1024 to 512 Ki),
# and vmalloc (the buckets past that).
octets() {
	awk -v page="$PAGE" '
		FILENAME == "/proc/slabinfo" {
			if (FNR > 2) { listed += $15 * $6 * page; if ($1 in size) objects += $2 * size[$1] }
			next
		}
		FILENAME == "/proc/meminfo" { m[$1] = $2 * 1024; next }
		{ size[$1] = $2 }
		END { printf "%d\n", objects + m["Slab:"] - listed + m["VmallocUsed:"] }' "$RUN/sizes" /proc/slabinfo /proc/meminfo
}

# sender: sends PACKETS datagrams from SOURCE to clients drawn from the
# bound ones (COUNT: to SOURCE itself, where a socket that never reads
# takes them), and prints its kernel time per packet in ns.
cat > "$RUN/sender.py" <<'EOF'
import random, resource, socket, sys
source, count, packets = sys.argv[1], sys.argv[2], int(sys.argv[3])
if count == "self":
    sink = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sink.bind((source, 9))
    targets = [source] * packets
else:
    rng = random.Random(7)
    targets = ["fd00:c::%x:%x" % (n >> 16, n & 0xffff)
               for n in (rng.randrange(1, int(count) + 1) for _ in range(packets))]
sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
sock.bind((source, 0))
payload = b"x" * 64
before = resource.getrusage(resource.RUSAGE_SELF).ru_stime
for t in targets:
    sock.sendto(payload, (t, 9))
print(round((resource.getrusage(resource.RUSAGE_SELF).ru_stime - before) * 1e9 / packets))
EOF

# median: the middle one of the numbers on standard input.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# per_packet SOURCE COUNT PLAIN: the medians of 5 runs from SOURCE to COUNT
# clients, and from P to PLAIN (a count, or self), alternating.
per_packet() {
	local run
	for run in 1 2 3 4 5; do
		s /usr/bin/python3 "$RUN/sender.py" "$1" "$2" $PACKETS >> "$RUN/g"
		s /usr/bin/python3 "$RUN/sender.py" $P "$3" $PACKETS >> "$RUN/p"
	done
	echo "$(median < "$RUN/g") $(median < "$RUN/p")"
	rm "$RUN/g" "$RUN/p"
}

sleep 2	# what RCU still had to free
base=$(octets)
have=0
: > "$RUN/steps"
for size in "${SIZES[@]}"; do
	start=$(date +%s.%N)
	out=$(s gecko-fill-bindings $G $((have + 1)) $((size - have))) || fail "filling to $size: $out"
	end=$(date +%s.%N)
	have=$size
	expect_eq "bindings in use" "$(s gecko-ctl limits show --json | jq .bindings.used)" $size
	# A table that grew moves its entries to the new one in the background,
	# lookups searching both meanwhile, then frees the old one: measure once
	# the kernel's memory stops falling.
	grown=$(octets)
	for _ in $(seq 40); do
		sleep 0.5
		now=$(octets)
		((now < grown)) || break
		grown=$now
	done
	hao0=$(s gecko-ctl info --json | jq .counters.hao_out)
	read -r g p <<< "$(per_packet $G $size $size)"
	hao=$(( $(s gecko-ctl info --json | jq .counters.hao_out) - hao0 ))
	# Every packet from G found its client's binding and left with the option.
	expect_eq "packets from G with a Home Address option at $size" $hao $((5 * PACKETS))
	echo "$size $start $end $base $grown $g $p" >> "$RUN/steps"
	pretty "$size bindings: $g ns a packet from G, $p from P"
done
# Lifetimes are 420 s: none may have expired before the last measure.
expect_eq "bindings at the end" "$(s gecko-ctl limits show --json | jq .bindings.used)" ${SIZES[-1]}

SERVICES=4096
H=fd00:b::$(printf '%x' $((SERVICES - 1)))	# the last gecko-fill-services creates
read -r g p <<< "$(per_packet $G 1000 self)"
echo "1 $g $p" > "$RUN/services"
pretty "1 service: $g ns a packet from G, $p from P to P"
s ip -6 addr add $H/128 dev lo
s gecko-ctl limits set services $SERVICES
out=$(s gecko-fill-services fd00:b:: 1 $((SERVICES - 1)) fd00:1::2 fd00:1::1) || fail "creating services: $out"
expect_eq "services in use" "$(s gecko-ctl limits show --json | jq .services.used)" $SERVICES
out=$(s gecko-fill-bindings $H 1 1000) || fail "binding H's clients: $out"
hao0=$(s gecko-ctl info --json | jq .counters.hao_out)
read -r g p <<< "$(per_packet $H 1000 self)"
expect_eq "packets from H with a Home Address option" $(( $(s gecko-ctl info --json | jq .counters.hao_out) - hao0 )) \
	$((5 * PACKETS))
echo "$SERVICES $g $p" >> "$RUN/services"
pretty "$SERVICES services: $g ns a packet from the last one's G, $p from P to P"

/usr/bin/python3 - "$RUN/steps" $PACKETS "$RUN/services" > "$GECKO_OUT/result.json" <<'EOF'
import json, sys
steps, prev = [], 0
services = []
for line in open(sys.argv[3]):
    n, g, p = map(int, line.split())
    services.append({"services": n, "ns_per_packet_from_g": g, "ns_per_packet_plain": p})
for s in services:
    s["lookup_ratio_from_g"] = round(s["ns_per_packet_from_g"] / services[0]["ns_per_packet_from_g"], 3)
    s["lookup_ratio_plain"] = round(s["ns_per_packet_plain"] / services[0]["ns_per_packet_plain"], 3)
for line in open(sys.argv[1]):
    size, start, end, base, grown, g, p = line.split()
    size = int(size)
    steps.append({"entries": size,
                  "fill_per_second": round((size - prev) / (float(end) - float(start))),
                  "octets_per_entry": round((int(grown) - int(base)) / size, 1),
                  "ns_per_packet_from_g": int(g), "ns_per_packet_plain": int(p)})
    prev = size
first = steps[0]["ns_per_packet_from_g"]
for s in steps:
    s["lookup_ratio"] = round(s["ns_per_packet_from_g"] / first, 3)
print(json.dumps({
    "benchmark": "binding table at scale: fill rate, memory per entry, kernel time per packet from G",
    "packets_per_run": int(sys.argv[2]),
    "steps": steps,
    "lookup_ratio_largest": max(s["lookup_ratio"] for s in steps),
    "octets_per_entry_at_largest": steps[-1]["octets_per_entry"],
    "services": services,
    "service_lookup_ratio": max(services[-1]["lookup_ratio_from_g"], services[-1]["lookup_ratio_plain"]),
}, indent=2))
EOF
jq -r '.steps[] | "\(.entries) bindings: per packet from G \(.ns_per_packet_from_g) ns (plain \(.ns_per_packet_plain)), lookup ratio to 10^3 \(.lookup_ratio), \(.octets_per_entry) octets an entry, filled at \(.fill_per_second) a second"' \
	"$GECKO_OUT/result.json"
jq -r '.services[] | "\(.services) services: per packet from G \(.ns_per_packet_from_g) ns (P to P \(.ns_per_packet_plain)), lookup ratios to one service \(.lookup_ratio_from_g), \(.lookup_ratio_plain)"' \
	"$GECKO_OUT/result.json"
