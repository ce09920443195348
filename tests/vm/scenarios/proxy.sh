# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 600
# geckoproxy in HTTP mode in front of an unmodified web server on each of
# the three nodes (lib/proxy.sh): python3's http.server on ::1 port 8000,
# the proxies on G port 80.
#
#   client  fd00:c::1:N ──┐
#   client2 fd00:d::1:N ── router ── node1 (contact)   node2   node3
#
#   - 1000 requests by curl, 500 from each client host: 50 addresses on
#     each (each a new client for the contact node, which places it), the
#     file fetched 10 times from each, a connection each, by 8 curls at a
#     time from each host (4 addresses each, in turn: lib/proxy.sh's
#     requests): every response is the file byte for
#     byte, the proxies relayed 1000 connections, and the contact node
#     placed its new clients round-robin (a third on each node, give or
#     take 3 for a placement the policy had to retry). A client placed on
#     node2 or node3 keeps its binding there for its next connections; one
#     the contact node kept is a new client again once its connection ended;
#   - HTTP/1.1 keep-alive (http.server --protocol HTTP/1.1): one curl asks
#     for the file 200 times on one connection, 20 requests a second, while
#     the client is handed to the next node every 0.5 s (gecko-ctl handoff
#     on the node serving it, which waits for the connection to be between
#     two requests): every response is the file byte for byte, curl made
#     one connection, at least 10 handoffs moved it, each ended its donor's
#     session as "handed off between requests", and every node's program
#     answered some of the requests;
#   - bad input: the web servers become gecko-request-rate's (one thread,
#     epoll: http.server's thread per connection starves this guest's
#     agents at these numbers); 5000 connections held open without a
#     request, from 20 addresses (spread over the nodes by their
#     placement), 100 of them after half a request, and 100 that send
#     half a request and reset: a new client is served meanwhile, and every
#     node's backup holds a mirror of each, renewed within 2.5 periods (no
#     snapshot for a connection that did not move); once the held ones
#     close, no member was declared dead, every proxy holds as many
#     descriptors as before
#     (/proc/PID/fd, besides the empty pipes it keeps for the next
#     connections, 512 at most), and the resets are logged as such;
#   - a crash between requests: a keep-alive session of 100 requests (10 kB
#     each, 10 a second) on node2 or node3; curl stopped for a second, the
#     serving node's proxy (and the node agent in it) killed: the node's
#     backup takes the connection over and finds it between two requests
#     (the state the proxy set at the last boundary); curl continued, its
#     next requests go to the backup's program: every response exact on
#     one connection.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/proxy.sh"

trap anycast_down EXIT
mkdir -p "$RUN/got1" "$RUN/got2" "$RUN/kept"
PROXY_ARGS="--mode http"

# held.py PREFIX FIRST ADDRESSES PER: PER connections from each of ADDRESSES addresses, each
# address's first alone (its placement), then the rest, 200 connecting at a time; says "held N" and waits for a line on
# standard input, then closes them with a FIN, 250 every half second, except the 100 that send half a request and
# reset.
cat > "$RUN/held.py" <<-'EOF'
	import resource, selectors, socket, struct, sys, time
	resource.setrlimit(resource.RLIMIT_NOFILE, (65536, 65536))
	prefix, first, addresses, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
	g = sys.argv[5]
	conns = []
	def open_from(sources):
	    """A connection from each address of sources, 200 under way at a time."""
	    for at in range(0, len(sources), 200):
	        sel = selectors.DefaultSelector()
	        for i in sources[at:at + 200]:
	            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
	            s.bind((f"{prefix}{i:x}", 0))
	            s.setblocking(False)
	            s.connect_ex((g, 80))
	            sel.register(s, selectors.EVENT_WRITE)
	        deadline = time.monotonic() + 30
	        while sel.get_map():
	            ready = sel.select(max(deadline - time.monotonic(), 0))
	            if not ready:
	                sys.exit(f"{len(sel.get_map())} connections not established in 30 s")
	            for key, _ in ready:
	                s = key.fileobj
	                sel.unregister(s)
	                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
	                if err:
	                    raise OSError(err, "connect")
	                s.setblocking(True)
	                conns.append(s)
	for i in range(first, first + addresses):
	    open_from([i])
	time.sleep(2)
	open_from(list(range(first, first + addresses)) * (per - 1))
	for s in conns[:100]:
	    s.sendall(b"GET /fi")
	resets = conns[100:200]
	for s in resets:
	    s.sendall(b"GET /fi")
	    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
	    s.close()
	print(f"held {len(conns)}", flush=True)
	sys.stdin.readline()
	rest = conns[200:] + conns[:100]
	for at in range(0, len(rest), 250):
	    for s in rest[at:at + 250]:
	        s.close()
	    time.sleep(0.5)
	print("closed", flush=True)
EOF

proxy_up

pretty "1000 requests by curl, 500 from each client host: 10 from each of 50 addresses, 8 curls at a time"
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

pretty "HTTP/1.1 keep-alive: 200 requests on one connection, 20 a second, handed to the next node every 0.5 s"
http_cmd() { echo "python3 -m http.server --protocol HTTP/1.1 --bind ::1 --directory $WWW 8000"; }
declare -A BEFORE_KEPT
for k in 1 2 3; do
	http_restart $k
	BEFORE_KEPT[$k]=$(grep -c '"GET /file?[0-9]* HTTP/1.1" 200' "$GECKO_OUT/http$k.log" || true)
done
C=${PREFIX}60
client curl -sS --fail --max-time 120 --interface $C --rate 20/s -w '%{num_connects}\n' -o "$RUN/kept/#1" \
	"http://[$G]/file?[1-200]" > "$RUN/kept.out" 2> "$RUN/kept.err" &
CURL=$!
# serving: the node whose proxy holds C's connection; served: there is one.
serving() {
	local k
	for k in 1 2 3; do
		ip netns exec node$k ss -Htn state established '( sport = :80 )' | grep -qF "[$C]:" && echo $k && return
	done
	return 0
}
served() { [[ -n $(serving) ]]; }
wait_for 10 served
cur=$(serving)
moved=0
while kill -0 $CURL 2> /dev/null; do
	# The next handoff 0.5 s after this one began, or at its end if it took longer.
	sleep 0.5 &
	pause=$!
	next=$((cur % 3 + 1))
	if out=$(ip netns exec node$cur timeout 20 gecko-ctl handoff $C to fd00:1$next::2 2>&1); then
		moved=$((moved + 1))
		cur=$next
	elif kill -0 $CURL 2> /dev/null; then
		pretty "node$cur to node$next: $out"
		cur=$(serving)
		[[ -n $cur ]] || cur=1
	fi
	wait $pause
done
wait $CURL || fail "the keep-alive curl failed: $(cat "$RUN/kept.err")"
exact=$(sha256sum "$RUN"/kept/* | grep -c "^$WANT " || true)
expect_eq "keep-alive responses exact" "$exact" 200
expect_eq "connections curl made" "$(awk '{ n += $1 } END { print n }' "$RUN/kept.out")" 1
let_go=$(cat "$GECKO_OUT"/agent[123].log | grep -c 'end="handed off between requests"' || true)
spread=
for k in 1 2 3; do
	n=$(($(grep -c '"GET /file?[0-9]* HTTP/1.1" 200' "$GECKO_OUT/http$k.log" || true) - BEFORE_KEPT[$k]))
	spread+=" node$k $n"
	((n > 0)) || fail "node$k's program answered none of the keep-alive requests"
done
pretty "$moved handoffs between requests, $let_go donor sessions ended so; requests answered by$spread"
((moved >= 10)) || fail "only $moved handoffs moved the keep-alive connection"
expect_eq "donor sessions handed off" "$let_go" "$moved"

PATH=$GECKO_REPO/build/tests/vm/tools:$PATH
http_cmd() { echo "gecko-request-rate serve ::1 8000 100000"; }
for k in 1 2 3; do http_restart $k; done
WANT=$(head -c 100000 /dev/zero | tr '\0' x | sha256sum | cut -d' ' -f1)

# sockets K: what node K's proxy holds besides pipes.
sockets() { ls -l /proc/${AGENT[$1]}/fd | grep -vc 'pipe:' || true; }
pipes() { ls -l /proc/${AGENT[$1]}/fd | grep -c 'pipe:' || true; }
declare -A BEFORE
for k in 1 2 3; do BEFORE[$k]=$(sockets $k); done
pretty "descriptors of the proxies but pipes: ${BEFORE[1]} ${BEFORE[2]} ${BEFORE[3]}"
pretty "5000 connections held from 20 addresses without a request (100 with half a request), 100 that reset"
mkfifo "$RUN/release"
client python3 "$RUN/held.py" $PREFIX 51 20 250 $G < "$RUN/release" > "$RUN/held.out" 2>&1 &
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
# backups K: what node K mirrors to the next member, and what that member holds of it, as "N held M oldest T ms".
backups() {
	local mirrored held
	mirrored=$(ip netns exec node$1 gecko-ctl backups --json | gojq .mirrored)
	held=$(ip netns exec node$(($1 % 3 + 1)) gecko-ctl backups --json |
		gojq -r "[.members[] | select(.member == \"node$1\")][0] // {connections: 0, oldest_ms: 0} |
			\"\\(.connections) oldest \\(.oldest_ms) ms\"")
	echo "$mirrored held $held"
}
# Idle connections are renewed at their backups without a snapshot: all there, none older than 2.5 periods.
mirrored_all=0
for k in 1 2 3; do
	read -r mirrored _ held _ oldest _ <<< "$(backups $k)"
	pretty "node$k mirrors $mirrored connection(s); node$((k % 3 + 1)) holds $held, the oldest renewed $oldest ms ago"
	expect_eq "node$k's mirrors held at its backup" "$held" "$mirrored"
	((oldest < 2500)) || fail "node$k's mirrors are older than their period allows: $oldest ms"
	mirrored_all=$((mirrored_all + mirrored))
done
((mirrored_all >= 4900)) || fail "only $mirrored_all of the held connections are mirrored"
echo >&3
exec 3>&-
wait $HELD || { cat "$RUN/held.out"; fail "the held connections failed"; }
# What a proxy's descriptors are, by kind.
fd_kinds() { ls -l /proc/${AGENT[$1]}/fd | awk 'NR > 1 { sub(/:.*/, "", $NF); print $NF }' | sort | uniq -c | tr -s ' \n' ' '; }
# deaths: what the agents logged of members declared dead.
deaths() { cat "$GECKO_OUT"/agent[123].log | grep 'is dead' | tr '\n' ';' || true; }
for k in 1 2 3; do
	(wait_for 120 sh -c "[ \$(ls -l /proc/${AGENT[$k]}/fd | grep -vc 'pipe:') -le ${BEFORE[$k]} ]") ||
		fail "node$k's proxy holds $(sockets $k) descriptors besides pipes after the held connections closed (${BEFORE[$k]} before): $(fd_kinds $k); $(ip netns exec node$k ss -Htn state syn-sent | wc -l) connections to the program under way; deaths: $(deaths)"
	(($(pipes $k) <= 512)) || fail "node$k's proxy keeps $(pipes $k) pipe descriptors"
done
[[ -z $(deaths) ]] || fail "members were declared dead while the held connections closed: $(deaths)"
resets=$(cat "$GECKO_OUT"/agent[123].log | grep -c 'end="client reset"' || true)
pretty "descriptors of the proxies: $(fds 1) $(fds 2) $(fds 3), of which pipes $(pipes 1) $(pipes 2) $(pipes 3); client resets logged: $resets"
expect_eq "client resets logged" "$resets" 100

pretty "a crash between requests: the serving node's proxy killed under a keep-alive session, its backup goes on"
http_cmd() { echo "python3 -m http.server --protocol HTTP/1.1 --bind ::1 --directory $WWW 8000"; }
for k in 1 2 3; do http_restart $k; done
# 10 kB: a response the client's receive window takes whole while curl is stopped.
head -c 10000 /dev/urandom > "$WWW/small"
WANT=$(sha256sum < "$WWW/small" | cut -d' ' -f1)
mkdir -p "$RUN/crash"
C=${PREFIX}61
# Not through client(): $! is then curl itself, which SIGSTOP is to stop.
ip netns exec client curl -sS --fail --max-time 120 --interface $C --rate 10/s -w '%{num_connects}\n' -o "$RUN/crash/#1" \
	"http://[$G]/small?[1-100]" > "$RUN/crash.out" 2> "$RUN/crash.err" &
CURL=$!
wait_for 10 served
cur=$(serving)
# Not the contact node, whose own takeover is another story (recovery-contact).
if ((cur == 1)); then
	out=$(ip netns exec node1 timeout 20 gecko-ctl handoff $C to fd00:12::2 2>&1) || fail "node1 to node2: $out"
	cur=2
fi
backup=$((cur % 3 + 1))
mirrored() {
	ip netns exec node$backup gecko-ctl backups $C --json |
		gojq -e --arg c $C '.held | any(.member == "node'$cur'" and .client == $c and .port == 80 and .state_len > 0)'
}
if ! poll 10 mirrored; then
	echo "node$cur: $(ip netns exec node$cur gecko-ctl backups --json | gojq -c '{backup, mirrored}')"
	echo "node$backup: $(ip netns exec node$backup gecko-ctl backups $C --json | gojq -c '{members, held}')"
	fail "node$backup holds no mirror of $C's connection from node$cur"
fi
sleep 1
# curl stopped, the connection is between two requests once the last response arrived; the
# boundary's state reaches the backup within its mirror's next turn.
kill -STOP $CURL
sleep 1
before=$(ls "$RUN/crash" | wc -l)
kill -9 ${AGENT[$cur]}
# A request sent before the takeover would be lost with the node (the probe finds it sent, and the
# connection is reset then): curl continues once the backup holds the connection.
wait_for 30 grep -q "$C of $G: took over 1 of 1 connection(s) of node$cur" "$GECKO_OUT/agent$backup.log"
kill -CONT $CURL
wait $CURL || fail "the keep-alive curl failed across the crash of node$cur: $(cat "$RUN/crash.err")" \
	"$(grep -h "$C" "$GECKO_OUT"/agent$backup.log | tail -5)"
exact=$(sha256sum "$RUN"/crash/* | grep -c "^$WANT " || true)
expect_eq "responses exact across the crash" "$exact" 100
expect_eq "connections curl made across the crash" "$(awk '{ n += $1 } END { print n }' "$RUN/crash.out")" 1
grep -q "client=\[$C\]:.* recovered between requests" "$GECKO_OUT/agent$backup.log" ||
	fail "node$backup did not recover the connection between requests"
pretty "node$cur killed after $before responses; node$backup recovered the connection and served the rest"
