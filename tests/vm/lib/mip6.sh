# SPDX-License-Identifier: GPL-2.0-only
# Mobile IPv6 on the reference topology; source after lib/topology.sh.
#
#   mn_at_home NODE COA   NODE as a mobile node at home: G on lo (home flag),
#                         an ip6ip6 tunnel "mip6" from COA to the HA, and
#                         what G sends leaving through it (table 100)
#   had_start CONF        gecko-had with CONF in the ha namespace, appending
#                         to $GECKO_OUT/had.log; sets HAD_PID and waits for
#                         one more "serving home prefix" line than the log
#                         had, so that it also waits out a restart
#   client_binds_g COA    the client's stock kernel binds G to COA (RH2 out,
#                         HAO in), with iproute2, as gecko-cnd would

mn_at_home() {
	ip -n "$1" -6 addr add $G/128 dev lo home nodad
	ip -n "$1" -6 tunnel add mip6 mode ip6ip6 local "$2" remote $HA
	ip -n "$1" link set mip6 up
	# What G sends leaves through the reverse tunnel.
	ip -n "$1" -6 rule add from $G table 100
	ip -n "$1" -6 route add default dev mip6 table 100
}

had_start() {
	local started
	started=$(grep -c "serving home prefix" "$GECKO_OUT/had.log" 2> /dev/null || true)
	# Not through ha(): $! must be gecko-had itself (ip netns exec execs it).
	ip netns exec ha gecko-had --config "$1" >> "$GECKO_OUT/had.log" 2>&1 &
	HAD_PID=$!
	wait_for 10 had_serving $((started + 1))
}

# had_serving N: had.log says "serving home prefix" at least N times.
had_serving() { (($(grep -c "serving home prefix" "$GECKO_OUT/had.log" || true) >= $1)); }

client_binds_g() {
	client ip xfrm state add src $CLIENT dst $G proto route2 mode ro coa "$1"
	client ip xfrm policy add src $CLIENT/128 dst $G/128 dir out \
		tmpl src $CLIENT dst $G proto route2 mode ro level use
	client ip xfrm state add src $G dst $CLIENT proto hao mode ro coa "$1"
	client ip xfrm policy add src $G/128 dst $CLIENT/128 dir in \
		tmpl src $G dst $CLIENT proto hao mode ro level use
}
