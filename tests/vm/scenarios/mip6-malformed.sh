# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 240
# Malformed Mobility Headers at both daemons: node3 sends a battery of
# broken messages (tests/vm/tools/mh-malformed: truncated, oversized, bad
# lengths, bad checksums, bad option alignment, bogus Home Address
# options, random bytes), plain and with an HAO, to gecko-had on the HA
# and gecko-cnd on the client. Neither may crash; each logs and counts its
# drops; both keep serving: node1 registers and binds afterwards. What the
# kernel rejects before any daemon (a header cut short, lengths below a
# type's minimum, a payload protocol other than 59, bogus HAOs) never
# reaches them: its counters are shown for the record.
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

pretty "node3 sends the battery to both"
n3 mh-malformed --src $NODE3 --dst $HA --dst $CLIENT --home $G > "$GECKO_OUT/sent.log"
sent=$(grep -c '^sent' "$GECKO_OUT/sent.log")
echo "$sent messages sent"
(( sent >= 150 )) || fail "only $sent messages sent"

pretty "both daemons are alive and serve after"
kill -0 $HAD_PID || fail "gecko-had died"
kill -0 $CND_PID || fail "gecko-cnd died"
serves 2

pretty "each logged and counted its drops"
kill -USR1 $CND_PID
wait_for 5 grep -q "dropped: malformed" "$CND_LOG"
kill -TERM $HAD_PID && wait $HAD_PID || fail "gecko-had exited with status $?"
HAD_PID=
grep "malformed" "$HAD_LOG" | tail -n1
grep "dropped: malformed" "$CND_LOG" | tail -n1
for log in "$HAD_LOG" "$CND_LOG"; do
	n=$(grep -c "dropped a malformed Mobility Header" "$log" || true)
	echo "$(basename "$log"): $n malformed messages logged"
	(( n >= 10 )) || fail "$(basename "$log") logged only $n malformed messages"
done
had=$(sed -n 's/.*, malformed \([0-9]*\) .*/\1/p' "$HAD_LOG" | tail -n1)
cnd=$(sed -n 's/.*dropped: malformed \([0-9]*\).*/\1/p' "$CND_LOG" | tail -n1)
(( had >= 10 && cnd >= 10 )) || fail "malformed counters: gecko-had $had, gecko-cnd $cnd"

pretty "what the kernel rejected before the daemons"
for h in ha client; do
	echo "$h:"
	ip netns exec $h nstat -az Icmp6OutParmProblems Ip6InHdrErrors Ip6InDiscards Ip6InReasmOKs
done
