# SPDX-License-Identifier: GPL-2.0-only
# Packet captures on the reference topology, read once at the end (tshark
# takes seconds under TCG); source after lib/topology.sh.
#
#   capture HOST...        everything on each HOST's link, in HOST.pcap
#   capture_stop           ends the captures, with what is in flight
#   expect WHY CMD...      runs CMD at run_checks, failing with WHY if it fails
#   tables HOST...         one line per packet of HOST.pcap in HOST.table
#   seen HOST KEY=VALUE... / unseen ...   a packet had (none had) those values;
#                          KEY= with no value matches a packet without that
#                          field (hao= : no Home Address option; udp= : any
#                          packet that is not UDP)

PCAPS=()
CHECKS=()

capture() {
	local h
	for h; do
		ip netns exec "$h" tcpdump -i eth0 -U -w "$GECKO_OUT/$h.pcap" ip6 2> "$GECKO_OUT/tcpdump-$h.log" &
		PCAPS+=($!)
	done
	for h; do
		wait_for 10 grep -q listening "$GECKO_OUT/tcpdump-$h.log"
	done
}

expect() { CHECKS+=("$(printf '%q ' "$@")"); }

# tables HOST...: one line per packet on each HOST's link, " key=value,value... ",
# in HOST.table; one tshark run for all, over the captures merged.
tables() {
	local h i=0 files=()
	for h; do files+=("$GECKO_OUT/$h.pcap"); done
	# -I none: one interface per file, numbered in order.
	mergecap -I none -F pcapng -w "$GECKO_OUT/all.pcapng" "${files[@]}"
	tshark -r "$GECKO_OUT/all.pcapng" -T fields -E separator='|' -e frame.interface_id -e ipv6.src -e ipv6.dst \
		-e ipv6.routing.type -e ipv6.routing.mipv6.home_address -e ipv6.opt.mipv6.home_address -e udp.dstport \
		-e mip6.mhtype -e mip6.be.status 2> /dev/null > "$GECKO_OUT/all.fields"
	for h; do
		awk -F'|' -v id=$i '$1 == id { printf " src=%s dst=%s rt=%s rth=%s hao=%s udp=%s mh=%s be=%s \n",
			$2, $3, $4, $5, $6, $7, $8, $9 }' "$GECKO_OUT/all.fields" > "$GECKO_OUT/$h.table"
		i=$((i + 1))
	done
}

# seen HOST KEY=VALUE...: a packet on HOST's link had each VALUE among its KEY's
# (an ip6ip6 packet has two sources and two destinations).
seen() {
	local host=$1
	shift
	awk -v want="$*" 'BEGIN { n = split(want, w, " ") }
		{ ok = 1
		  for (i = 1; i <= n; i++) { split(w[i], kv, "="); if ($0 !~ " " kv[1] "=([^ ]*,)?" kv[2] "[, ]") ok = 0 }
		  if (ok) { found = 1; exit } }
		END { exit !found }' "$GECKO_OUT/$host.table"
}
unseen() { ! seen "$@"; }

capture_stop() {
	sleep 0.5
	kill "${PCAPS[@]}"
	wait "${PCAPS[@]}" || true
	PCAPS=()
}

run_checks() {
	local c why
	for c in "${CHECKS[@]}"; do
		eval "set -- $c"
		why=$1
		shift
		"$@" || fail "$why"
	done
}
