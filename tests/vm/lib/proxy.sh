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
#                     from each address PREFIX<FIRST>..PREFIX<LAST> (hexadecimal), the file
#                     fetched 10 times (a connection each: http.server closes after each
#                     response) into DIR/I-1..10; 8 curls at a time, each taking 4 addresses
#                     in turn (a curl costs 0.3 s of CPU to start under TCG); a line on
#                     standard error for each request that failed

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

# fetch_from HOST URL DIR ADDRESS I [ADDRESS I]...: one curl fetching URL (a range of 10) from each
# ADDRESS in turn into DIR/I-1..10; a line on standard error for each request that failed.
fetch_from() {
	local host=$1 url=$2 dir=$3 args=() out rc=0
	shift 3
	while (($#)); do
		args+=(--next -s --fail --max-time 60 --interface "$1" -o "$dir/$2-#1" -w "$1 %{exitcode} %{url} %{errormsg}\n" "$url")
		shift 2
	done
	# curl's status is its last request's: each request says how it ended.
	out=$(ip netns exec "$host" curl "${args[@]:1}") || rc=$?
	if ! awk '$2 != 0 { a = $1; e = $2; $1 = $2 = ""; sub(/^ +/, ""); print "address " a " failed (curl " e "): " $0; bad = 1 }
		END { exit !bad }' <<< "$out" >&2 &&
		((rc != 0)); then
		echo "curl in $host ended with status $rc: ${args[*]}" >&2
	fi
}
export -f fetch_from

requests() {
	local i
	for i in $(seq $4 $5); do
		printf '%s%x %d\n' $2 $i $i
	done | xargs -P 8 -n 8 bash -c 'fetch_from "$@"' _ $1 "http://[$G]/file?[1-10]" $3
}
