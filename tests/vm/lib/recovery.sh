# SPDX-License-Identifier: GPL-2.0-only
# Crash recovery on the reference topology: gecko-agent --cluster and
# gecko-file-server on each node, one download crashes move between nodes.
# Source after lib/anycast.sh.
#
#   recovery_conf SIZE [MISSES]
#                         $CONF (heartbeats every 250 ms, a member dead
#                         after MISSES missed, 8 by default: a 2 s failure
#                         bound, since under emulation a loaded guest's
#                         agent can spend most of a second on a handoff's
#                         state in one turn of its loop; node2 then node3
#                         take the contact node's place) and $WWW/blob, SIZE
#                         random octets, in $RUN; the agents' command line
#                         is gecko-agent with it
#   recovery_up           after anycast_up 1 2 3: a file server on each
#                         node (PID in SERVER[K], log serverK.log), G
#                         registered, every member alive
#   server_start K LOG    node K's file server, joined to its agent
#   mirrored_at K OF      node K holds node OF's mirror of $A's connection,
#                         with the file server's state
#   recoveries K OF       node K's takeovers of $A's connection from node
#                         OF, one JSON object per line (gecko-ctl backups)
#   everyone_alive        every node sees the two others alive
#   registered_coa        the care-of address of the home agent's last
#                         registration of G
#   crash I               kills the processes of $serving once its backup
#                         holds the mirror, waits for the backup's takeover,
#                         starts the node again as a fresh member, and
#                         makes the backup $serving; the kill's time is
#                         appended to $RUN/crashes and the takeover's
#                         record to $RUN/records; fails saying so if the
#                         download ended first
#   hole_at_client        the client acknowledges nothing from G's port
#                         8080, loses the next segment from it, takes the
#                         30 KB after it and nothing more: it holds 30 KB
#                         past a loss the serving node never hears of
#                         (nor fills it, its timeout's retransmission
#                         dropped); returns once a segment past the 30 KB
#                         was dropped and the client took 16 or more out of
#                         order (else it tries again, three times at most);
#                         hole_done lets everything by again
#   finish PID FILE ERR SECONDS
#                         waits for the download PID writing FILE (curl's
#                         errors in ERR) to end well; fails if it does not,
#                         and, saying where the connection stands
#                         everywhere, if FILE stops growing for 30 s or the
#                         download is not done within SECONDS

recovery_conf() {
	CONF=$RUN/gecko.conf
	WWW=$RUN/www
	framework_conf "$CONF"
	sed -i "1i heartbeat-period = 250ms\nheartbeat-misses = ${2:-8}\nbackup = node2\nbackup = node3" "$CONF"
	mkdir -p "$WWW"
	head -c "$1" /dev/urandom > "$WWW/blob"
	agent_cmd() { echo "gecko-agent --cluster $CONF"; }
	credentials() { :; }
}

declare -A SERVER
server_start() {
	ip netns exec node$1 gecko-file-server --port 8080 --root "$WWW" > "$2" 2>&1 &
	SERVER[$1]=$!
	PIDS+=($!)
	wait_for 10 grep -q "serving port 8080" "$2"
}

recovery_up() {
	local k
	for k in 1 2 3; do server_start $k "$GECKO_OUT/server$k.log"; done
	n1 gecko-ctl register $G > /dev/null
	wait_for 10 members_alive
}

mirrored_at() {
	ip netns exec node$1 gecko-ctl backups --json |
		gojq -e --arg c $A ".held | any(.member == \"node$2\" and .client == \$c and .port == 8080 and .state_len > 0)" \
			> /dev/null
}

recoveries() {
	ip netns exec node$1 gecko-ctl backups --json |
		gojq -c --arg c $A ".recoveries[] | select(.member == \"node$2\" and .client == \$c and .recovered == 1)"
}

# more_than K OF N: node K took $A over from node OF more than N times.
more_than() { (($(recoveries $1 $2 | wc -l) > $3)); }

everyone_alive() {
	local k
	for k in 1 2 3; do
		(($(ip netns exec node$k gecko-ctl members --json | gojq '[.[] | select(.state == "alive")] | length') == 2)) ||
			return 1
	done
}

crash() {
	local backup before
	backup=$((serving % 3 + 1))
	if ! poll 10 mirrored_at $backup $serving; then
		! download_ended || fail "the download ended after $(($1 - 1)) crashes: make it longer"
		fail "node$backup holds no mirror of node$serving's connection"
	fi
	before=$(recoveries $backup $serving | wc -l)
	pretty "crash $1: node$serving's processes are killed"
	date +%s.%N >> "$RUN/crashes"
	kill -9 "${AGENT[$serving]}" "${SERVER[$serving]}"
	wait "${AGENT[$serving]}" "${SERVER[$serving]}" 2> /dev/null || true
	if ! poll 20 more_than $backup $serving "$before"; then
		! download_ended || fail "the download ended as crash $1 came: nothing to take over, make it longer"
		agents_state
		fail "node$backup did not take the download over from node$serving"
	fi
	recoveries $backup $serving | tail -1 >> "$RUN/records"
	# Before the node comes back: the members know who the contact node is (the one killed may have been).
	await 10 "no member says it is the contact node" contact_known
	ip netns exec node$serving gecko-agent --cluster "$CONF" > "$GECKO_OUT/agent$serving-$1.log" 2>&1 &
	AGENT[$serving]=$!
	PIDS+=($!)
	wait_for 10 grep -q "^node agent" "$GECKO_OUT/agent$serving-$1.log"
	server_start $serving "$GECKO_OUT/server$serving-$1.log"
	await 15 "the members do not all see each other alive" everyone_alive
	serving=$backup
}

registered_coa() { grep "^registered $G at " "$GECKO_OUT/had.log" | tail -1 | cut -d' ' -f4; }

# contact_known: a member alive says it is G's contact node, and its registration is the home agent's last.
contact_known() {
	local coa
	coa=$(registered_coa)
	[[ -n $coa ]] && ip netns exec node${coa:6:1} gecko-ctl service show $G --json | gojq -e '.[0].contact' &&
		[[ ${coa:6:1} != "$serving" ]]
}

# await SECONDS WHY CMD...: wait_for, saying WHY and what each agent does if CMD never succeeds.
await() {
	local why=$2
	poll "$1" "${@:3}" || { agents_state; fail "$why"; }
}

# download_ended: the server that served $A last saw it close.
download_ended() {
	grep -q "^closed $A " "$(ls -t "$GECKO_OUT"/server$serving*.log | head -1)"
}

# What each agent does and sees, for a failure that says nothing else.
agents_state() {
	local k pid
	for k in 1 2 3; do
		pid=${AGENT[$k]}
		echo "node$k: agent $pid $(awk '{ print "state", $3 }' /proc/$pid/stat 2>/dev/null || echo gone)," \
			"waits in $(cat /proc/$pid/wchan 2>/dev/null); members:" \
			"$(ip netns exec node$k timeout 2 gecko-ctl members --json 2>&1 | gojq -c 'map("\(.name) \(.state)")' 2>&1)"
		cat /proc/$pid/task/*/stack 2>/dev/null | head -30 || true
		echo "node$k: the last lines of its agent's log:"
		tail -8 "$(ls -t "$GECKO_OUT"/agent$k*.log | head -1)" || true
	done
}

hole_at_client() {
	local before took
	for _ in 1 2 3; do
		before=$(out_of_order)
		client ip6tables-restore --noflush <<-EOF
			*filter
			-A INPUT -p tcp --sport 8080 -m length --length 1000:65535 -m quota --quota 2000 -j DROP
			-A INPUT -p tcp --sport 8080 -m quota --quota 30000 -j ACCEPT
			-A INPUT -p tcp --sport 8080 -j DROP
			-A OUTPUT -p tcp --dport 8080 -j DROP
			COMMIT
		EOF
		poll 10 hole_formed ||
			fail "the client's last rule dropped nothing in 10 s: did the download end? (make it longer)"
		# The dropped segment may have been one the client had (a
		# retransmission), and what came after, old octets: no hole then.
		took=$(( $(out_of_order) - before ))
		((took < 16)) || return 0
		echo "the client took $took segments past the loss, not 16: its octets may be old ones; again"
		hole_done
		sleep 1
	done
	fail "the client never held 16 segments past a loss"
}

# The last rule dropped a segment: the loss and the 30 KB after it went by.
hole_formed() { client ip6tables -L INPUT -v -x -n | tail -1 | awk '{ exit !($1 > 0) }'; }

# The segments the client's connection to G's port 8080 took out of order, so far.
out_of_order() {
	client ss -tinH dst "[$G]:8080" | grep -o 'rcv_ooopack:[0-9]*' | cut -d: -f2 | awk '{ n += $1 } END { print n + 0 }'
}

hole_done() { client ip6tables -F; }

finish() {
	local size last=-1 still=0 end=$((SECONDS + $4))
	while kill -0 "$1" 2> /dev/null; do
		size=$(stat -c %s "$2" 2> /dev/null || echo 0)
		if ((size != last)); then
			last=$size still=0
		elif ((++still == 30)); then
			connection_state || true
			fail "the download stalled at octet $size for 30 s"
		fi
		if ((SECONDS > end)); then
			connection_state || true
			fail "the download is not done after $4 s: octet $size"
		fi
		sleep 1
	done
	wait "$1" || fail "curl exited with status $?: $(cat "$3")"
}

# Where $A's connection stands: at the client, in each node's kernel and agent, at the home agent.
# Called with || true, so that a part that cannot be shown does not hide the rest.
connection_state() {
	local k
	echo "client: its socket, its bindings, its counters:"
	client ss -tinom dst "[$G]"
	client ip -6 xfrm policy | grep -B1 -A3 "$G"
	client nstat -a | grep '^Tcp'
	tail -n 5 "$GECKO_OUT/cnd.log"
	for k in 1 2 3; do
		echo "node$k: its sockets, its flows, its bindings, its counters:"
		ip netns exec node$k ss -tinom sport = :8080
		ip netns exec node$k gecko-ctl flow show
		ip netns exec node$k gecko-ctl binding show $G
		ip netns exec node$k gecko-ctl info | grep -vE ' 0$'
		tail -n 5 "$(ls -t "$GECKO_OUT"/agent$k*.log | head -1)" "$(ls -t "$GECKO_OUT"/server$k*.log | head -1)"
	done
	tail -n 5 "$GECKO_OUT/had.log"
}
