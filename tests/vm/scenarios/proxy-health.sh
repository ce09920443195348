# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 600
# geckoproxy's health check of the program behind it, and the PROXY
# protocol (lib/proxy.sh). The proxies run with --proxy-protocol and check
# their web server every 500 ms (down after 2 failures, up after 2
# successes); each web server is python3's http.server taught to read the
# PROXY protocol v2 header that starts each connection, so that its log
# names the client it answers:
#
#   - 300 requests from 30 client addresses, all exact: the web servers
#     logged each request under its client's own address;
#   - node2's web server is stopped: node2's proxy finds it down and node1
#     sees node2 unavailable (gecko-ctl members) within 2 s. Then 600
#     requests from 60 addresses, 30 of them the earlier ones (those placed
#     on node2 still have their binding there: node2 places them elsewhere
#     as they come), all exact, and node2's proxy relays none;
#   - node2's web server starts again: node1 sees it alive within 2 s, and
#     300 requests from 30 new addresses, all exact, reach node2 again;
#   - reload: while a client downloads 24 MiB at 2 MiB/s and another holds
#     a connection without a word, an idle timeout of 3 s goes into the
#     proxies' --config file and they get SIGHUP: the download arrives
#     byte for byte, the idle connection is reset by the timeout (which a
#     second reload takes away);
#   - graceful stop: two clients download the same way, and the proxy of
#     a node other than node1 that serves one of them gets SIGTERM: 100
#     requests meanwhile from the first 10 addresses (some bound to that
#     node) all succeed, none through that node; its
#     download ends byte for byte, then the proxy exits.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/proxy.sh"

trap anycast_down EXIT
PROXY_ARGS="--proxy-protocol --check-fall 2 --check-rise 2 --config $RUN/proxy.conf"
echo "check-interval = 500ms" > "$RUN/proxy.conf"
http_cmd() { echo "python3 $RUN/proxied_http.py $WWW"; }

# http.server behind a PROXY protocol v2 header; a connection that closes before one is the proxy's health check.
cat > "$RUN/proxied_http.py" <<-'EOF'
	import functools, http.server, socket, struct, sys
	SIGNATURE = b"\r\n\r\n\0\r\nQUIT\n"
	def recv_exact(s, n):
	    got = b""
	    while len(got) < n:
	        more = s.recv(n - len(got))
	        if not more:
	            return None
	        got += more
	    return got
	class Handler(http.server.SimpleHTTPRequestHandler):
	    def setup(self):
	        self.proxied = False
	        head = recv_exact(self.request, 16)
	        if head is not None:
	            if head[:12] != SIGNATURE or head[12] != 0x21:
	                raise ValueError("not a PROXY protocol v2 header")
	            body = recv_exact(self.request, struct.unpack("!H", head[14:16])[0])
	            family, size = (socket.AF_INET6, 16) if head[13] == 0x21 else (socket.AF_INET, 4)
	            port = struct.unpack("!H", body[2 * size:2 * size + 2])[0]
	            self.client_address = (socket.inet_ntop(family, body[:size]), port)
	            self.proxied = True
	        super().setup()
	    def handle(self):
	        if self.proxied:
	            super().handle()
	class Server(http.server.ThreadingHTTPServer):
	    address_family = socket.AF_INET6
	Server(("::1", 8000), functools.partial(Handler, directory=sys.argv[1])).serve_forever()
EOF

# exact DIR: how many files of DIR are the file.
exact() { sha256sum "$1"/* | grep -c "^$WANT " || true; }
# served K: requests node K's web server logged.
served() { grep -c '"GET /file' "$GECKO_OUT/http$1.log" || true; }

# download ADDRESS FILE: 24 MiB at 2 MiB/s from the client's ADDRESS into FILE, in the background.
download() {
	client curl -sS --fail --max-time 60 --limit-rate 2M --interface $1 -o "$2" "http://[$G]/big" &
}
# serving ADDRESS: the node whose proxy relays ADDRESS's connection (empty if none).
serving() {
	local k
	for k in 1 2 3; do
		[[ -z $(ip netns exec node$k ss -Htn state established "( sport = :80 )" dst "[$1]") ]] || echo $k
	done
}
on_a_node() { [[ -n $(serving $1) ]]; }

head -c $((24 << 20)) /dev/urandom > "$WWW/big"
BIG=$(sha256sum < "$WWW/big" | cut -d' ' -f1)
proxy_up
mkdir -p "$RUN/before" "$RUN/down" "$RUN/again" "$RUN/drain"

pretty "300 requests from 30 addresses"
requests client $PREFIX "$RUN/before" 1 30 2> "$RUN/errors"
[[ ! -s $RUN/errors ]] || fail "$(cat "$RUN/errors")"
expect_eq "responses exact" "$(exact "$RUN/before")" 300
logged=$(cat "$GECKO_OUT"/http[123].log | grep '"GET /file' | grep -c "^$PREFIX" || true)
pretty "the web servers logged $(served 1) $(served 2) $(served 3) requests, $logged under the client's address"
expect_eq "requests logged under the client's address" "$logged" 300

pretty "node2's web server stops"
kill ${HTTP[2]}
stopped=$SECONDS
wait_for 10 is_state 1 2 unavailable
pretty "node1 sees node2 unavailable after $((SECONDS - stopped)) s: $(grep -m1 'the program is down' "$GECKO_OUT/agent2.log")"
((SECONDS - stopped <= 2)) || fail "node2 was seen unavailable only after $((SECONDS - stopped)) s"
relayed2=$(relayed 2)
replaced2=$(grep -c "hand-off: .* to node[13]," "$GECKO_OUT/agent2.log" || true)

pretty "600 requests from 60 addresses, the first 30 as before"
requests client $PREFIX "$RUN/down" 1 60 2> "$RUN/errors"
[[ ! -s $RUN/errors ]] || fail "$(wc -l < "$RUN/errors") address(es) failed: $(head -3 "$RUN/errors")"
expect_eq "responses exact" "$(exact "$RUN/down")" 600
expect_eq "connections node2's proxy relayed meanwhile" "$(relayed 2)" "$relayed2"
replaced=$(($(grep -c "hand-off: .* to node[13]," "$GECKO_OUT/agent2.log" || true) - replaced2))
pretty "node2 placed $replaced client(s) its bindings brought on other members"
((replaced > 0)) || fail "no client bound to node2 came back to it: the test proves nothing of them"

pretty "node2's web server starts again"
http_start 2
started=$SECONDS
wait_for 10 is_state 1 2 alive
pretty "node1 sees node2 alive after $((SECONDS - started)) s"
((SECONDS - started <= 2)) || fail "node2 was seen alive again only after $((SECONDS - started)) s"
requests client $PREFIX "$RUN/again" 61 90 2> "$RUN/errors"
[[ ! -s $RUN/errors ]] || fail "$(cat "$RUN/errors")"
expect_eq "responses exact" "$(exact "$RUN/again")" 300
pretty "node2's proxy relayed $(($(relayed 2) - relayed2)) of them"
(($(relayed 2) - relayed2 >= 50)) || fail "node2 took too few new clients again"

pretty "reload: an idle timeout of 3 s while a download and an idle connection go on"
download ${PREFIX}5b "$RUN/big1"
fetch=$!
client python3 -c 'import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), source_address=(sys.argv[2], 0))
time.sleep(30)' $G ${PREFIX}5c &
idle=$!
sleep 2
echo "idle-timeout = 3s" >> "$RUN/proxy.conf"
for k in 1 2 3; do kill -HUP ${AGENT[$k]}; done
for k in 1 2 3; do wait_for 5 grep -q "geckoproxy: reloaded" "$GECKO_OUT/agent$k.log"; done
wait $fetch || fail "the download failed across the reload"
expect_eq "the download across the reload" "$(sha256sum < "$RUN/big1" | cut -d' ' -f1)" "$BIG"
wait_for 10 grep -q 'end="idle for 3000 ms"' "$GECKO_OUT"/agent[123].log
pretty "$(grep -h 'end="idle for' "$GECKO_OUT"/agent[123].log)"
kill $idle 2> /dev/null || true
# Off again: a client still reading what the proxy has passed on (its socket's buffer) looks idle too.
sed -i '/^idle-timeout/d' "$RUN/proxy.conf"
for k in 1 2 3; do kill -HUP ${AGENT[$k]}; done
for k in 1 2 3; do wait_for 5 sh -c "[ \$(grep -c 'geckoproxy: reloaded' $GECKO_OUT/agent$k.log) = 2 ]"; done

pretty "graceful stop of a node that serves a download"
download ${PREFIX}5d "$RUN/big2"
fetch2=$!
download ${PREFIX}5e "$RUN/big3"
fetch3=$!
for address in ${PREFIX}5d ${PREFIX}5e; do
	wait_for 10 on_a_node $address
	k=$(serving $address)
	((k == 1)) || break
done
((k != 1)) || fail "both downloads are on node1"
before=$(relayed $k)
kill -TERM ${AGENT[$k]}
wait_for 5 grep -q "geckoproxy: stopping on signal 15" "$GECKO_OUT/agent$k.log"
pretty "node$k: $(grep -h 'stopping on signal' "$GECKO_OUT/agent$k.log")"
requests client $PREFIX "$RUN/drain" 1 10 2> "$RUN/errors"
[[ ! -s $RUN/errors ]] || fail "$(cat "$RUN/errors")"
expect_eq "responses exact during the drain" "$(exact "$RUN/drain")" 100
kill -0 ${AGENT[$k]} 2> /dev/null || fail "node$k's proxy stopped before its download ended"
wait $fetch2 || fail "a download failed"
wait $fetch3 || fail "a download failed"
for f in big2 big3; do expect_eq "download $f" "$(sha256sum < "$RUN/$f" | cut -d' ' -f1)" "$BIG"; done
wait_for 10 sh -c "! kill -0 ${AGENT[$k]} 2> /dev/null"
expect_eq "connections node$k relayed during its drain" "$(relayed $k)" $((before + 1))
pretty "node$k: $(tail -1 "$GECKO_OUT/agent$k.log")"
grep -q "geckoproxy: stopped: every connection ended" "$GECKO_OUT/agent$k.log" || fail "node$k did not say it drained"
