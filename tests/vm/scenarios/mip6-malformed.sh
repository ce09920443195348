# SPDX-License-Identifier: GPL-2.0-only
# vm-beside
# vm-timeout: 240
# Malformed Mobility Headers at both daemons: node3 sends a battery of
# broken messages (tests/vm/tools/mh-malformed: truncated, oversized, bad
# lengths, bad checksums, bad option alignment, bogus Home Address
# options, random bytes), plain and with an HAO, to gecko-had on the HA
# and gecko-cnd on the client. Neither may crash; both keep serving: node1
# registers and binds afterwards. Each message is counted where the fate
# mh-malformed printed for it says, exactly as many as were sent: the
# kernel's Parameter Problems (Icmp6OutParmProblems, unthrottled) and bogus
# HAOs dropped (Ip6InHdrErrors) in each daemon's namespace, each daemon's
# counters (received, and bad checksum, unknown type, malformed, and what
# it does with a well-formed BU or BA). What the kernel's Mobility Header
# filter drops silently (a header cut short) has no counter: that the
# daemons received exactly the rest shows it stayed in the kernel.
#
#  client fd00:c::2 (gecko-cnd) ── router ── home link ── ha fd00:a::1 (gecko-had)
#              node1 fd00:11::2 (mobile node)       node3 fd00:13::2 (sender of junk)
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"

PATH=$GECKO_REPO/build/tools/gecko-had:$GECKO_REPO/build/tools/gecko-cnd:$GECKO_REPO/tests/vm/tools:$PATH
HAD_LOG=$GECKO_OUT/had.log
CND_LOG=$GECKO_OUT/cnd.log
HAD_PID=
CND_PID=

cleanup() {
	kill $HAD_PID $CND_PID 2> /dev/null || true
	topo_down
}
trap cleanup EXIT

topo_up
cat > "$GECKO_OUT/had.conf" <<EOC
interface = eth0
home-prefix = fd00:a::/64
address = $HA
allow-coa = fd00:11::/64
EOC
had_start "$GECKO_OUT/had.conf"	# logs to $HAD_LOG
# Not through client(): $! must be the daemon itself.
ip netns exec client gecko-cnd > "$CND_LOG" 2>&1 &
CND_PID=$!
wait_for 10 grep -q "^correspondent node" "$CND_LOG"

# node1 as the mobile node: G at home through its tunnel to the HA.
mn_at_home node1 $NODE1

# serves SEQ: both daemons still answer node1 correctly.
serves() {
	local out
	out=$(n1 gecko-mn register --home $G --coa $NODE1 --ha $HA --seq "$1" --lifetime 120)
	[[ $out == "status 0 "* ]] || fail "home registration $1: $out"
	out=$(n1 gecko-mn ro --home $G --coa $NODE1 --cn $CLIENT --seq "$1" --lifetime 60)
	[[ $out == "status 0 "* ]] || fail "binding $1: $out"
}

pretty "both daemons serve before"
serves 1

# kernel_drops HOST: "PARAMETER_PROBLEMS BAD_HAOS" HOST has sent and dropped so far.
kernel_drops() {
	ip netns exec "$1" nstat -az Icmp6OutParmProblems Ip6InHdrErrors |
		awk 'NR > 1 { n[$1] = $2 } END { print n["Icmp6OutParmProblems"] + 0, n["Ip6InHdrErrors"] + 0 }'
}
# fates DST FATE: how many messages to DST mh-malformed sent with that fate.
fates() { grep -c "^sent to $1\( with HAO\)\?: .* -> $2\$" "$GECKO_OUT/sent.log" || true; }
# cnd_counters: gecko-cnd's counters, one "name=value" a line (SIGUSR1, cnd.log).
cnd_counters() {
	local n=$(($(grep -c "^bindings " "$CND_LOG" || true) + 1))
	kill -USR1 $CND_PID
	wait_for 5 bash -c "(( \$(grep -c '^bindings ' $CND_LOG) >= $n ))"
	grep "^bindings " "$CND_LOG" | tail -n1 | sed 's/; dropped:/,/; s/;/,/g' | tr ',' '\n' |
		sed 's/^ *//; s/ \([0-9]*\)$/=\1/'
}

pretty "node3 sends the battery to both"
# Every Parameter Problem is sent, so that each can be counted: none rate-limited.
for h in ha client; do
	ip netns exec $h sh -c 'echo > /proc/sys/net/ipv6/icmp/ratemask'
	expect_eq "$h: ICMPv6 types rate-limited" "$(ip netns exec $h sysctl -n net.ipv6.icmp.ratemask)" ""
done
read -r had_pp had_hao <<< "$(kernel_drops ha)"
read -r cnd_pp cnd_hao <<< "$(kernel_drops client)"
cnd_counters > "$GECKO_OUT/cnd.before"
n3 mh-malformed --src $NODE3 --dst $HA --dst $CLIENT --home $G > "$GECKO_OUT/sent.log"
sent=$(grep -c '^sent' "$GECKO_OUT/sent.log")
echo "$sent messages sent"
for d in $HA $CLIENT; do
	echo "to $d: $(sed -n "s/^sent to $d\( with HAO\)\?: .* -> //p" "$GECKO_OUT/sent.log" | sort | uniq -c |
		awk '{ n = $1; $1 = ""; printf "%s%s %d", sep, substr($0, 2), n; sep = ", " }')"
done

pretty "the kernel dropped what it must, each counted"
# sent_problems HOST N: HOST has sent N Parameter Problems.
sent_problems() { (($(kernel_drops "$1" | cut -d' ' -f1) >= $2)); }
wait_for 10 sent_problems ha $((had_pp + $(fates $HA "parameter problem")))
wait_for 10 sent_problems client $((cnd_pp + $(fates $CLIENT "parameter problem")))
expect_eq "HA: Parameter Problems and bad HAOs" "$(kernel_drops ha)" \
	"$((had_pp + $(fates $HA "parameter problem"))) $((had_hao + $(fates $HA "bad HAO")))"
expect_eq "client: Parameter Problems and bad HAOs" "$(kernel_drops client)" \
	"$((cnd_pp + $(fates $CLIENT "parameter problem"))) $((cnd_hao + $(fates $CLIENT "bad HAO")))"

pretty "gecko-cnd counted each message the kernel passed on, by its fate"
# What gecko-cnd does with each: a BU without Nonce Indices is missing options,
# a BA is unexpected at a correspondent.
reached=0
for f in "bad checksum" "unknown type" malformed BU BA; do reached=$((reached + $(fates $CLIENT "$f"))); done
# received=N: gecko-cnd's counters have grown by N messages since the battery began.
cnd_received() {
	local before now
	before=$(sed -n 's/^received=//p' "$GECKO_OUT/cnd.before")
	now=$(cnd_counters | sed -n 's/^received=//p')
	((now - before >= $1))
}
wait_for 10 cnd_received $reached
cnd_counters > "$GECKO_OUT/cnd.after"
got=$(awk -F= 'NR == FNR { before[$1] = $2; next } { moved[$1] = $2 - before[$1] }
	END { n = split("received,malformed,bad checksum,unknown type,unexpected,test with HAO,not routable," \
			"missing options,bad authenticator", name, ",")
	      for (i = 1; i <= n; i++) printf "%s%s %d", (i > 1 ? ", " : ""), name[i], moved[name[i]] }' \
	"$GECKO_OUT/cnd.before" "$GECKO_OUT/cnd.after")
expect_eq "gecko-cnd's counters, moved" "$got" "received $reached, malformed $(fates $CLIENT malformed), \
bad checksum $(fates $CLIENT "bad checksum"), unknown type $(fates $CLIENT "unknown type"), unexpected $(fates $CLIENT BA), \
test with HAO 0, not routable 0, missing options $(fates $CLIENT BU), bad authenticator 0"

expect_eq "gecko-cnd's log: malformed messages" "$(grep -c "dropped a malformed Mobility Header" "$CND_LOG" || true)" \
	"$(fates $CLIENT malformed)"

pretty "both daemons are alive and serve after"
kill -0 $HAD_PID || fail "gecko-had died"
kill -0 $CND_PID || fail "gecko-cnd died"
serves 2

pretty "gecko-had counted each message the kernel passed on, by its fate"
kill -TERM $HAD_PID && wait $HAD_PID || fail "gecko-had exited with status $?"
HAD_PID=
# Its own counting: malformed includes bad checksums and unknown types; it
# rejects a BU without the H flag and ignores a BA. Besides the battery, it
# accepted node1's two registrations.
bad=$(fates $HA "bad checksum")
malformed=$((bad + $(fates $HA "unknown type") + $(fates $HA malformed)))
reached=$((malformed + $(fates $HA BU) + $(fates $HA BA)))
expect_eq "gecko-had's counters at exit" "$(grep "^received " "$HAD_LOG" | tail -n1)" \
	"received $((reached + 2)), malformed $malformed (bad checksum $bad), ignored $(fates $HA BA), accepted 2, \
rejected $(fates $HA BU), expired 0, errors 0"
expect_eq "gecko-had's log: malformed messages" "$(grep -c "dropped a malformed Mobility Header" "$HAD_LOG" || true)" \
	"$(fates $HA malformed)"
