# SPDX-License-Identifier: GPL-2.0-only
# vm-beside
# gecko-ctl service and binding in the nodes of the reference topology:
#
#  client fd00:c::2 ──(10 ms)── router ──── home link fd00:a::/64 ──── ha fd00:a::1
#                                │  │  │        G = fd00:a::100
#               ┌──(1 ms)────────┘  │  └──────────(1 ms)──┐
#    node1 fd00:11::2 (contact)   node2 fd00:12::2    node3 fd00:13::2
#
# node1 serves G as the contact node, node2 as a member; node3 serves
# nothing. Each namespace has services and bindings of its own.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"

# refused STATUS MESSAGE CMD...: CMD must exit with STATUS, printing MESSAGE first on stderr.
refused() {
	local status=$1 message=$2 err rc=0
	shift 2
	err=$("$@" 2>&1 > /dev/null) || rc=$?
	expect_eq "exit status of '$*'" $rc "$status"
	expect_eq "error of '$*'" "$(head -n1 <<< "$err")" "$message"
}

topo_up

pretty "node1 serves G as the contact node"
n1 gecko-ctl service add $G coa $NODE1 contact-coa $NODE1 ha $HA contact
expect_eq "node1's services" "$(n1 gecko-ctl service show)" \
	"$G coa $NODE1 contact-coa $NODE1 ha $HA contact bindings 0"

pretty "node2 serves G too, handing clients to itself"
n2 gecko-ctl service add $G coa $NODE2 contact-coa $NODE1
expect_eq "node2's service" "$(n2 gecko-ctl service show $G)" "$G coa $NODE2 contact-coa $NODE1 bindings 0"
n2 gecko-ctl service show --json | gojq -e --arg g $G --arg c $NODE1 \
	'length == 1 and .[0].home == $g and .[0]["contact-coa"] == $c and .[0].contact == false
	and (.[0] | has("ha") | not)' > /dev/null || fail "node2's service in JSON"

pretty "node1 binds the client, in text and JSON"
n1 gecko-ctl binding set $G $CLIENT state bound seq 7 lifetime 60
line=$(n1 gecko-ctl binding show $G $CLIENT)
[[ $line =~ ^"$G $CLIENT bound seq 7 lifetime "(59|60)s$ ]] || fail "binding line: '$line'"
expect_eq "node1's bindings of G" "$(n1 gecko-ctl binding show $G)" "$line"
n1 gecko-ctl -j binding show | gojq -e --arg g $G --arg c $CLIENT \
	'length == 1 and .[0].home == $g and .[0].peer == $c and .[0].state == "bound"
	and .[0].seq == 7 and .[0].lifetime <= 60' > /dev/null || fail "node1's bindings in JSON"
n1 gecko-ctl --json service show | gojq -e --arg ha $HA \
	'.[0].bindings == 1 and .[0].contact and .[0].ha == $ha' > /dev/null || fail "node1's service in JSON"

pretty "node2 and node3 see none of node1's bindings"
expect_eq "node2's bindings" "$(n2 gecko-ctl binding show)" ""
expect_eq "node2's bindings in JSON" "$(n2 gecko-ctl -j binding show)" "[]"
expect_eq "node3's services in JSON" "$(n3 gecko-ctl -j service show)" "[]"
refused 1 "Error: gecko: no such binding" n2 gecko-ctl binding show $G $CLIENT

pretty "add replaces: node1 hands the contact role to node2 and keeps its binding"
n1 gecko-ctl service add $G coa $NODE1 contact-coa $NODE2
expect_eq "node1's service" "$(n1 gecko-ctl service show $G)" "$G coa $NODE1 contact-coa $NODE2 bindings 1"
n1 gecko-ctl binding set $G $CLIENT state pending seq 8 lifetime 30
n1 gecko-ctl binding show | grep -q "^$G $CLIENT pending seq 8 lifetime [0-9]*s$" || fail "binding not replaced"

pretty "the kernel's refusals: exit 1 and its message"
refused 1 "Error: gecko: no service for this address" \
	n3 gecko-ctl binding set $G $CLIENT state bound seq 1 lifetime 60
refused 1 "Error: integer out of range" n1 gecko-ctl binding set $G $CLIENT state bound seq 1 lifetime 421
refused 1 "Error: not a global or unique-local unicast address" \
	n3 gecko-ctl service add fe80::100 coa $NODE3 contact-coa $NODE1
refused 1 "Error: gecko: no service for this address" n3 gecko-ctl service del $G

pretty "bad arguments: exit 2 naming the argument"
refused 2 "gecko-ctl: service add: 'coa': not an IPv6 address: 'xyz'" \
	n3 gecko-ctl service add $G coa xyz contact-coa $NODE1
refused 2 "gecko-ctl: binding set: 'state': not bound or pending: 'up'" \
	n1 gecko-ctl binding set $G $CLIENT state up seq 1 lifetime 60

pretty "deleting node1's service drops its bindings; node2's stays"
n1 gecko-ctl service del $G
expect_eq "node1's services" "$(n1 gecko-ctl service show)" ""
expect_eq "node1's bindings" "$(n1 gecko-ctl -j binding show)" "[]"
expect_eq "node2's service" "$(n2 gecko-ctl service show)" "$G coa $NODE2 contact-coa $NODE1 bindings 0"
