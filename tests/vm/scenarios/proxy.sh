# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 600
# geckoproxy in front of an unmodified web server on each of the three
# nodes (lib/proxy.sh): python3's http.server on ::1 port 8000, the proxies
# on G port 80.
#
#   client  fd00:c::1:N ──┐
#   client2 fd00:d::1:N ── router ── node1 (contact)   node2   node3
#
#   - 1000 requests by curl, 500 from each client host: 50 addresses on
#     each (each a new client for the contact node, which places it), one
#     curl per address fetching the file 10 times, a connection each, 8
#     curls at a time from each host: every response is the file byte for
#     byte, the proxies relayed 1000 connections, and the contact node
#     placed its new clients round-robin (a third on each node, give or
#     take 3 for a placement the policy had to retry). A client placed on
#     node2 or node3 keeps its binding there for its next connections; one
#     the contact node kept is a new client again once its connection ended;
#   - bad input: the web servers become gecko-request-rate's (one thread,
#     epoll: http.server's thread per connection starves this guest's
#     agents at these numbers); 1000 connections held open without a
#     request, from 20 addresses (spread over the nodes by their
#     placement), 100 of them after half a request, and 100 that send
#     half a request and reset: a new client is served meanwhile; once the
#     held ones close, every proxy holds as many descriptors as before
#     (/proc/PID/fd, besides the empty pipes it keeps for the next
#     connections, 512 at most), and the resets are logged as such.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/proxy.sh"

trap anycast_down EXIT
mkdir -p "$RUN/got1" "$RUN/got2"

# held.py PREFIX FIRST ADDRESSES PER: PER connections from each of ADDRESSES addresses, each
# address's first alone (its placement), then the rest; says "held N" and waits for a line on
# standard input, then closes them with a FIN, except the 100 that send half a request and reset.
cat > "$RUN/held.py" <<-'EOF'
	import resource, socket, struct, sys, time
	resource.setrlimit(resource.RLIMIT_NOFILE, (65536, 65536))
	prefix, first, addresses, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
	g = sys.argv[5]
	conns = []
	def open_from(i):
	    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
	    s.bind((f"{prefix}{i:x}", 0))
	    s.settimeout(30)
	    s.connect((g, 80))
	    conns.append(s)
	for i in range(first, first + addresses):
	    open_from(i)
	time.sleep(2)
	for _ in range(per - 1):
	    for i in range(first, first + addresses):
	        open_from(i)
	for s in conns[:100]:
	    s.sendall(b"GET /fi")
	resets = conns[100:200]
	for s in resets:
	    s.sendall(b"GET /fi")
	    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
	    s.close()
	print(f"held {len(conns)}", flush=True)
	sys.stdin.readline()
	for s in conns[200:] + conns[:100]:
	    s.close()
	print("closed", flush=True)
EOF

proxy_up

pretty "1000 requests by curl, 500 from each client host: 10 from each of 50 addresses, 8 addresses at a time"
requests client $PREFIX "$RUN/got1" 1 50 2> "$RUN/errors1" &
first=$!
requests client2 $PREFIX2 "$RUN/got2" 1 50 2> "$RUN/errors2"
wait $first
cat "$RUN"/errors[12]
[[ ! -s $RUN/errors1 && ! -s $RUN/errors2 ]] || fail "$(cat "$RUN"/errors[12] | wc -l) request(s) failed"
exact=$(sha256sum "$RUN"/got[12]/* | grep -c "^$WANT " || true)
expect_eq "responses exact" "$exact" 1000
placed=$(grep -c "stays on node1" "$GECKO_OUT/agent1.log" || true)
placements=$((placed + $(grep -c "hand-off: .* to node[23]," "$GECKO_OUT/agent1.log" || true)))
total=0
for k in 1 2 3; do
	n=$(relayed $k)
	((k == 1)) || placed=$(grep -c "hand-off: .* to node$k," "$GECKO_OUT/agent1.log" || true)
	pretty "node$k: $placed of $placements placements, relayed $n (http.server logged $(grep -c '"GET /file' "$GECKO_OUT/http$k.log"))"
	((placed * 3 >= placements - 9 && placed * 3 <= placements + 9)) ||
		fail "node$k got $placed of $placements placements by round-robin"
	total=$((total + n))
done
expect_eq "connections relayed" $total 1000

PATH=$GECKO_REPO/build/tests/vm/tools:$PATH
http_cmd() { echo "gecko-request-rate serve ::1 8000 100000"; }
for k in 1 2 3; do
	kill ${HTTP[$k]}
	wait_for 10 sh -c "! ip netns exec node$k ss -Hltn | grep -q '\[::1\]:8000'"
	http_start $k
done
WANT=$(head -c 100000 /dev/zero | tr '\0' x | sha256sum | cut -d' ' -f1)

# sockets K: what node K's proxy holds besides pipes.
sockets() { ls -l /proc/${AGENT[$1]}/fd | grep -vc 'pipe:' || true; }
pipes() { ls -l /proc/${AGENT[$1]}/fd | grep -c 'pipe:' || true; }
declare -A BEFORE
for k in 1 2 3; do BEFORE[$k]=$(sockets $k); done
pretty "descriptors of the proxies but pipes: ${BEFORE[1]} ${BEFORE[2]} ${BEFORE[3]}"
pretty "1000 connections held from 20 addresses without a request (100 with half a request), 100 that reset"
mkfifo "$RUN/release"
client python3 "$RUN/held.py" $PREFIX 51 20 50 $G < "$RUN/release" > "$RUN/held.out" 2>&1 &
HELD=$!
exec 3> "$RUN/release"
wait_for 200 grep -q "^held" "$RUN/held.out" || { cat "$RUN/held.out"; fail "the connections were not all opened"; }
pretty "$(cat "$RUN/held.out"); descriptors of the proxies: $(fds 1) $(fds 2) $(fds 3)"
# threads K: what each thread of node K's proxy waits in.
threads() { for t in /proc/${AGENT[$1]}/task/*; do printf '%s:%s ' "$(cat $t/comm)" "$(cat $t/wchan)"; done; }
took=$(client2 curl -sS --fail --max-time 60 --interface ${PREFIX2}33 -o "$RUN/during" -w '%{time_total}' \
	http://[$G]/file) || fail "a new client was not served while the connections were held;" \
	"threads: node1 $(threads 1); node2 $(threads 2); node3 $(threads 3)"
pretty "a new client served in $took s"
expect_eq "the response during the hold" "$(sha256sum < "$RUN/during" | cut -d' ' -f1)" "$WANT"
echo >&3
exec 3>&-
wait $HELD || { cat "$RUN/held.out"; fail "the held connections failed"; }
# What a proxy's descriptors are, by kind.
fd_kinds() { ls -l /proc/${AGENT[$1]}/fd | awk 'NR > 1 { sub(/:.*/, "", $NF); print $NF }' | sort | uniq -c | tr -s ' \n' ' '; }
for k in 1 2 3; do
	(wait_for 120 sh -c "[ \$(ls -l /proc/${AGENT[$k]}/fd | grep -vc 'pipe:') -le ${BEFORE[$k]} ]") ||
		fail "node$k's proxy holds $(sockets $k) descriptors besides pipes after the held connections closed (${BEFORE[$k]} before): $(fd_kinds $k); $(ip netns exec node$k ss -Htn state syn-sent | wc -l) connections to the program under way"
	(($(pipes $k) <= 512)) || fail "node$k's proxy keeps $(pipes $k) pipe descriptors"
done
resets=$(cat "$GECKO_OUT"/agent[123].log | grep -c 'end="client reset"' || true)
pretty "descriptors of the proxies: $(fds 1) $(fds 2) $(fds 3), of which pipes $(pipes 1) $(pipes 2) $(pipes 3); client resets logged: $resets"
expect_eq "client resets logged" "$resets" 100
