# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 300
# geckoproxy at its --max-connections (2), node1 the only member. Its
# relay threads accept new clients from the listening socket themselves,
# and at the limit they stop: the framework's thread then takes the
# clients that wait there into its own queue (within 50 ms and its 100 ms
# turn), so that none waits unseen by the node agent, which hands a
# client's connections off together:
#
#   - two clients hold a connection each without a word: the proxy relays
#     two sessions;
#   - a third connects and sends a request: within 2.5 s the listening
#     socket's accept queue is empty (the framework took it), the proxy
#     still relays two sessions and the request waits unanswered;
#   - one of the first two closes: the third's request is answered,
#     exactly, and the proxy counts three clients accepted.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"

trap anycast_down EXIT
RUN=$(mktemp -d)
CONF=$RUN/gecko.conf
PATH=$GECKO_REPO/build/tools/geckoproxy:$GECKO_REPO/build/tests/vm/tools:$PATH
framework_conf "$CONF" 1
agent_cmd() { echo "geckoproxy -g $CONF -a 8000 -p 80 --max-connections 2 --check-interval 0"; }
credentials() { :; }

topo_up
n1 gecko-request-rate serve ::1 8000 1000 &
PIDS+=($!)
anycast_up 1
wait_for 10 grep -q "registered with the home agent" "$GECKO_OUT/agent1.log"

# counter NAME: the proxy's counter NAME, as gecko-ctl programs shows it.
counter() { ip netns exec node1 gecko-ctl programs --json | gojq '.[] | select(.name == "geckoproxy") | .counters.'"$1"; }
counter_is() { [[ $(counter $1) == "$2" ]]; }
# waiting: connections in the accept queue of the listening socket on port 80.
waiting() { ip netns exec node1 ss -Hltn 'sport = :80' | awk '{ print $2 }'; }

pretty "two clients hold a connection each"
for i in 1 2; do
	# Not through client(): $! is then python's own process, which kill ends.
	ip netns exec client python3 -c 'import socket, sys, time
s = socket.create_connection((sys.argv[1], 80))
time.sleep(300)' $G &
	HELD[$i]=$!
done
wait_for 10 counter_is sessions 2

pretty "a third sends a request"
client python3 -c 'import socket, sys
s = socket.create_connection((sys.argv[1], 80))
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
got = b""
while True:
    more = s.recv(65536)
    if not more:
        break
    got += more
sys.stdout.buffer.write(got)' $G > "$RUN/third" &
third=$!
queue_empty() { [[ $(waiting) == 0 ]]; }
sleep 0.5
wait_for 2 queue_empty
expect_eq "sessions at the limit" "$(counter sessions)" 2
kill -0 $third 2> /dev/null || fail "the third client's request was answered beyond the limit"

pretty "one of the first two closes"
kill ${HELD[1]}
wait $third || fail "the third client's request failed"
# gecko-request-rate serve's response: its header, then 1000 octets.
{ printf 'HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n'; head -c 1000 /dev/zero | tr '\0' x; } > "$RUN/want"
cmp -s "$RUN/want" "$RUN/third" || fail "the third client's response: $(head -c 200 "$RUN/third" | od -c | head -3)"
wait_for 10 counter_is accepted 3
pretty "$(grep -c 'geckoproxy: client=' "$GECKO_OUT/agent1.log") sessions logged, 3 clients accepted"
kill ${HELD[2]}
wait_for 10 counter_is sessions 0
