# SPDX-License-Identifier: GPL-2.0-only
# geckoproxy (geckoproxy(8)) in front of a web server on each of the three
# nodes, from one configuration file (framework_conf: node1 the contact
# node, round-robin); source after lib/anycast.sh.
#
#   RUN, CONF, WWW    the scenario's directory, the distributed server's file, the web root
#   WANT              the SHA-256 of $WWW/file (100000 random octets)
#   http_cmd          the web server's command line: python3's http.server on [::1]:8000
#   PROXY_ARGS        more options for the proxies (geckoproxy -g $CONF -a 8000 -p 80)
#   http_start K      the web server on node K, logging to httpK.log (PID in HTTP[K])
#   http_restart K    node K's web server stopped, then started again as http_cmd says
#   proxy_up          the web servers, the client hosts (client2 with gecko-cnd), the
#                     proxies, node1 registered and every member alive
#   relayed K         connections node K's proxy relayed to their end without a reset
#   fds K             descriptors node K's proxy holds
#   requests HOST PREFIX DIR FIRST LAST
#                     from each address PREFIX<FIRST>..PREFIX<LAST> (hexadecimal), one curl
#                     fetching the file 10 times (a connection each: http.server closes
#                     after each response) into DIR/I-1..10, 8 addresses at a time; a line
#                     on standard error for each that failed

RUN=$(mktemp -d)
CONF=$RUN/gecko.conf
WWW=$RUN/www
PROXY_ARGS=
declare -A HTTP
framework_conf "$CONF"
PATH=$GECKO_REPO/build/tools/geckoproxy:$PATH
agent_cmd() { echo "geckoproxy -g $CONF -a 8000 -p 80 $PROXY_ARGS"; }
credentials() { :; }
http_cmd() { echo "python3 -m http.server --bind ::1 --directory $WWW 8000"; }

mkdir -p "$WWW"
head -c 100000 /dev/urandom > "$WWW/file"
WANT=$(sha256sum < "$WWW/file" | cut -d' ' -f1)

relayed() { grep -c 'end="closed"' "$GECKO_OUT/agent$1.log" || true; }
fds() { ls /proc/${AGENT[$1]}/fd | wc -l; }

http_start() {
	local cmd
	read -ra cmd <<< "$(http_cmd)"
	ip netns exec node$1 "${cmd[@]}" >> "$GECKO_OUT/http$1.log" 2>&1 &
	HTTP[$1]=$!
	PIDS+=($!)
	# python3 takes seconds to start under emulation, more on a loaded host.
	poll 30 sh -c "ip netns exec node$1 ss -Hltn | grep -q '\[::1\]:8000'" ||
		fail "node$1's web server does not listen on [::1]:8000 after 30 s: $(tail -3 "$GECKO_OUT/http$1.log")"
}

http_restart() {
	kill ${HTTP[$1]}
	wait_for 10 sh -c "! ip netns exec node$1 ss -Hltn | grep -q '\[::1\]:8000'"
	http_start $1
}

proxy_up() {
	local k
	topo_up
	client_addresses 100
	client2_anycast
	client_addresses 51 client2 $PREFIX2
	for k in 1 2 3; do http_start $k; done
	anycast_up 1 2 3
	for k in 1 2 3; do wait_for 10 grep -q "geckoproxy: node$k serves port 80" "$GECKO_OUT/agent$k.log"; done
	wait_for 10 grep -q "registered with the home agent" "$GECKO_OUT/agent1.log"
	wait_for 10 members_alive
}

requests() {
	local i
	for i in $(seq $4 $5); do
		printf '%s%x %s/%s-#1\n' $2 $i $3 $i
	done | xargs -P 8 -n 2 sh -c "ip netns exec $1 curl -sS --fail --max-time 60 --interface \$0 -o \$1 \
		'http://[$G]/file?[1-10]' || echo \"address \$0 failed\" >&2"
}
