# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 480
# rmmod gecko while packets go through its hooks and while it holds a
# frozen connection, 20 times, under the harness's panic_on_warn:
#
#   client ──(10 ms)── router ──(1 ms)── node2: G, the client's binding
#     ├─ download from G:8000, route-optimised (RH2 in, HAO out: the hooks)
#     └─ stream to G:7000, gecko-handoff-echo's connection, frozen
#
# Each round loads the module (but the first) and sets node2 up again,
# waits until the download goes through the hooks and the stream is
# echoed, freezes the stream's connection (and commits it, on odd rounds),
# waits until the module holds the client's packets for it, and unloads.
# The module must unload every time, nothing may oops, and the owner must
# find its connection thawed (frozen: it is echoed again in the next
# round) or aborted (committed: its state may run elsewhere, so the module
# never thaws it), never anything else.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"

ROUNDS=20
RUN=$(mktemp -d)	# Unix sockets cannot live on the results share (9p)
ECHO=$RUN/echo.sock

# ctl COMMAND: the echo's owner answers COMMAND; ok COMMAND: which must succeed.
ctl() { socat -t 30 - UNIX-CONNECT:"$ECHO" <<< "$1"; }
ok() {
	local out
	out=$(ctl "$1") || fail "echo $1: no answer"
	[[ $out == ok* ]] || fail "echo $1: $out"
}
counter() { n2 gecko-ctl info --json | gojq ".counters.$1"; }
loaded() { grep -q '^gecko ' /proc/modules; }
# above WHAT N: wait until WHAT (a command printing a number) prints more than N.
above() { wait_for 30 bash -c "(( \$($1) > $2 ))"; }
ECHOED="socat - UNIX-CONNECT:$ECHO <<< stats | cut -d' ' -f2"
HAO_OUT="ip netns exec node2 gecko-ctl info --json | gojq .counters.hao_out"
HELD="ip netns exec node2 gecko-ctl flow show --json | gojq '[.[].held] | add // 0'"

topo_up
client_binds_g $NODE2
n2 ip -6 addr add $G/128 dev lo
n2 socat -u OPEN:/dev/zero TCP6-LISTEN:8000,bind=[$G],reuseaddr,fork &
n2 gecko-handoff-echo 7000 "$ECHO" > "$GECKO_OUT/echo.log" 2>&1 &
wait_for 10 sh -c "ip netns exec node2 ss -Hltn | grep -q 8000"
wait_for 10 grep -q "^handoff echo" "$GECKO_OUT/echo.log"
# The download lives through every round: it stalls while the module is out.
client socat -u TCP6:[$G]:8000 OPEN:/dev/null &
STREAM=

# node2's side of the path through the hooks (the client's is set once),
# then the echo's owner talks to the module loaded again. In that order:
# it may be waiting to write until the client's acknowledgements come back.
serve() {
	local fresh=0
	loaded || { insmod "$GECKO_KO" && fresh=1; }
	n2 gecko-ctl service add $G coa $NODE2 contact-coa $NODE1
	n2 gecko-ctl binding set $G $CLIENT state bound seq "$1" lifetime 420
	((!fresh)) || ok reopen
}

# A stream to the echo, reading what comes back (or the owner would block writing it).
stream() {
	client socat OPEN:/dev/zero!!OPEN:/dev/null TCP6:[$G]:7000 &
	STREAM=$!
}

round() {
	local k=$1 mode=frozen out
	((k % 2)) && mode=committed
	serve "$k"
	[[ -n $STREAM ]] || stream
	above "$HAO_OUT" 200
	above "$ECHOED" "$(ctl stats | cut -d' ' -f2) + 16384"
	ok "give $RUN/state"
	[[ $mode == frozen ]] || ok "commit 60000"
	above "$HELD" 0
	pretty "round $k: $mode, held $(eval "$HELD"), rmmod"

	rmmod gecko || fail "round $k: rmmod failed"
	! loaded || fail "round $k: gecko is still loaded"

	out=$(ctl state) || fail "round $k: the echo's owner does not answer"
	if [[ $mode == frozen ]]; then
		# Thawed by the module; echoed again once the route through it is back.
		expect_eq "round $k: the frozen connection after unload" "$out" "ok established 0"
		ok unfrozen
	else
		# Dropped, silently: its owner is told the connection was aborted.
		expect_eq "round $k: the committed connection after unload" "$out" "ok close 103"
		ok close
		kill "$STREAM" 2> /dev/null || true
		STREAM=
	fi
}

for ((k = 1; k <= ROUNDS; k++)); do
	round $k
done

pretty "the module loads again: the download and the last frozen stream go on through it"
serve 99
above "$HAO_OUT" 200
above "$ECHOED" "$(ctl stats | cut -d' ' -f2) + 65536"
