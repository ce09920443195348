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
#     logged each request under its client's own address, and the proxies'
#     counters (gecko-ctl programs --json) count 300 sessions closed;
#   - node2's web server is stopped: node2's proxy finds it down and node1
#     sees node2 unavailable (gecko-ctl members) within 2 s. Then 600
#     requests from 60 addresses, 30 of them the earlier ones (those placed
#     on node2 still have their binding there: node2 places them elsewhere
#     as they come), all exact, and node2's proxy relays none; its
#     counters say the program is down, once;
#   - node2's web server starts again: node1 sees it alive within 2 s, and
#     300 requests from 30 new addresses, all exact, reach node2 again;
#   - checks once a minute (a reload), node2's web server stops again: the
#     300 requests of those 30 addresses all succeed, the clients that
#     reach node2 before it knows are sent to other members untouched;
#   - reload: while a client downloads 24 MiB at 2 MiB/s and another holds
#     a connection without a word, an idle timeout of 5 s goes into the
#     proxies' --config file and they get SIGHUP: the download arrives
#     byte for byte, the idle connection is reset by the timeout (which a
#     second reload takes away);
#   - graceful stop (drain timeout 120 s): two clients download, reading
#     at 1 MiB/s until the drain's requests have ended, and the proxy of
#     a node other than node1 that serves one of them gets SIGTERM: 100
#     requests meanwhile from the first 10 addresses (some bound to that
#     node) all succeed, none through that node; its
#     download ends byte for byte, then the proxy exits, sending the
#     clients still bound to it back to the contact node (binding clear):
#     the download's client is then served again, 10 requests exact.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"
. "$GECKO_REPO/tests/vm/lib/proxy.sh"

trap anycast_down EXIT
PROXY_ARGS="--proxy-protocol --check-fall 2 --check-rise 2 --drain-timeout 120s --config $RUN/proxy.conf"
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
# reload_all: SIGHUP to the three proxies, and wait until each said it reloaded.
RELOADS=0
reloaded() { [[ $(grep -c 'geckoproxy: reloaded' "$GECKO_OUT/agent$1.log") == "$RELOADS" ]]; }
reload_all() {
	local k
	RELOADS=$((RELOADS + 1))
	for k in 1 2 3; do kill -HUP ${AGENT[$k]}; done
	for k in 1 2 3; do wait_for 5 reloaded $k; done
}
# counter K NAME: node K's proxy's counter NAME, as gecko-ctl programs shows it.
counter() { ip netns exec node$1 gecko-ctl programs --json | gojq ".[] | select(.name == \"geckoproxy\") | .counters.$2"; }
counter_is() { [[ $(counter $1 $2) == "$3" ]]; }
closed_sum() { [[ $(($(counter 1 closed) + $(counter 2 closed) + $(counter 3 closed))) == "$1" ]]; }
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
wait_for 3 closed_sum 300
pretty "node2's counters: $(ip netns exec node2 gecko-ctl programs --json | gojq -c '.[0].counters')"

pretty "node2's web server stops"
kill ${HTTP[2]}
stopped=$SECONDS
wait_for 10 is_state 1 2 unavailable
pretty "node1 sees node2 unavailable after $((SECONDS - stopped)) s: $(grep -m1 'the program is down' "$GECKO_OUT/agent2.log")"
((SECONDS - stopped <= 2)) || fail "node2 was seen unavailable only after $((SECONDS - stopped)) s"
wait_for 3 counter_is 2 program_up 0
expect_eq "node2's program_down counter" "$(counter 2 program_down)" 1
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

pretty "checks once a minute; node2's web server stops again"
sed -i 's/^check-interval = .*/check-interval = 60s/' "$RUN/proxy.conf"
reload_all
kill ${HTTP[2]}
wait_for 10 sh -c "! ip netns exec node2 ss -Hltn | grep -q '\[::1\]:8000'"
mkdir -p "$RUN/refused"
requests client $PREFIX "$RUN/refused" 61 90 2> "$RUN/errors"
[[ ! -s $RUN/errors ]] || fail "$(wc -l < "$RUN/errors") address(es) failed: $(head -3 "$RUN/errors")"
expect_eq "responses exact" "$(exact "$RUN/refused")" 300
counter_above() { (($(counter $1 $2) > $3)); }
wait_for 3 counter_above 2 sent_elsewhere 0
pretty "node2 sent $(counter 2 sent_elsewhere) client(s) its program refused to other members: $(grep -m1 'sent to another member' "$GECKO_OUT/agent2.log")"
http_start 2
sed -i 's/^check-interval = .*/check-interval = 500ms/' "$RUN/proxy.conf"
reload_all
wait_for 10 is_state 1 2 alive

pretty "reload: an idle timeout of 5 s while a download and an idle connection go on"
download ${PREFIX}5b "$RUN/big1"
fetch=$!
client python3 -c 'import socket, sys, time
s = socket.create_connection((sys.argv[1], 80), source_address=(sys.argv[2], 0))
time.sleep(30)' $G ${PREFIX}5c &
idle=$!
sleep 2
# Longer than a client at 2 MiB/s takes to read its socket's buffer (6 MiB at most) once the proxy is done.
echo "idle-timeout = 5s" >> "$RUN/proxy.conf"
reload_all
wait $fetch || fail "the download failed across the reload"
expect_eq "the download across the reload" "$(sha256sum < "$RUN/big1" | cut -d' ' -f1)" "$BIG"
wait_for 15 grep -q 'end="idle for 5000 ms"' "$GECKO_OUT"/agent[123].log
pretty "$(grep -h 'end="idle for' "$GECKO_OUT"/agent[123].log)"
kill $idle 2> /dev/null || true
# Off again: a client still reading what the proxy has passed on (its socket's buffer) looks idle too.
sed -i '/^idle-timeout/d' "$RUN/proxy.conf"
reload_all

pretty "graceful stop of a node that serves a download"
# Read at 1 MiB/s until the 100 requests of the drain have ended, however
# long they take: the proxy stops only after its download, so they all meet
# it draining.
play "$RUN/big2" "$RUN/big2.err" $((1 << 20)) "http://[$G]/big" --fail --interface ${PREFIX}5d &
fetch2=$!
play "$RUN/big3" "$RUN/big3.err" $((1 << 20)) "http://[$G]/big" --fail --interface ${PREFIX}5e &
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
kill -0 ${AGENT[$k]} 2> /dev/null || fail "node$k's proxy stopped before the requests of its drain had ended"
touch "$RUN/hurry"
wait $fetch2 || fail "a download failed: $(cat "$RUN/big2.err")"
wait $fetch3 || fail "a download failed: $(cat "$RUN/big3.err")"
for f in big2 big3; do expect_eq "download $f" "$(sha256sum < "$RUN/$f" | cut -d' ' -f1)" "$BIG"; done
wait_for 10 sh -c "! kill -0 ${AGENT[$k]} 2> /dev/null"
expect_eq "connections node$k relayed during its drain" "$(relayed $k)" $((before + 1))
pretty "node$k: $(tail -1 "$GECKO_OUT/agent$k.log")"
# The download ended as every download does, and only then the proxy.
sed -n '/stopping on signal 15/,$p' "$GECKO_OUT/agent$k.log" | grep 'geckoproxy: client=\|geckoproxy: stopped' |
	grep -v "moved to another member" > "$RUN/drain.log"
grep -q 'end="closed"' "$RUN/drain.log" || fail "node$k's download did not end cleanly: $(cat "$RUN/drain.log")"
expect_eq "node$k's last words" "$(tail -1 "$RUN/drain.log")" "geckoproxy: stopped: every connection ended"
# Its download's client was still bound there: sent back to G's home path, it is served again.
grep -q "client(s) bound here sent back to the contact node" "$GECKO_OUT/agent$k.log" ||
	fail "node$k left its clients bound to it: $(grep 'stopping: ' "$GECKO_OUT/agent$k.log")"
pretty "node$k: $(grep -h 'sent back to the contact node' "$GECKO_OUT/agent$k.log")"
rm -rf "$RUN/after" && mkdir "$RUN/after"
client curl -sS --fail --max-time 30 --interface $address -o "$RUN/after/#1" "http://[$G]/file?[1-10]" ||
	fail "$address, bound to node$k, found no server after node$k stopped"
expect_eq "responses exact to $address after node$k stopped" "$(exact "$RUN/after")" 10
