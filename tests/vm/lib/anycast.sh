# SPDX-License-Identifier: GPL-2.0-only
# A Gecko service on the reference topology, with the real signalling;
# source after lib/topology.sh and lib/mip6.sh.
#
#   anycast_up K...   gecko-had on the HA (care-of addresses of nodes K...
#                     allowed), gecko-cnd on the client, and on each node K:
#                     G on lo with a route of its own, the service (contact node: node1), the
#                     node agent logging to agentK.log (PID in AGENT[K]) with the cluster
#                     key $KEY, and a UDP echo on G port 7007 answering "nodeK"; every pid
#                     in PIDS
#   KEY               the service's cluster key (gecko-ctl genkey), mode 0600
#   CERTS=1           the node channel with certificates instead: a CA, and for
#                     each node a certificate naming its care-of address
#   credentials K     the agent options for node K's credentials
#   agent_cmd K       the node agent's command line on node K: gecko-agent. A
#                     scenario whose servers run the agent themselves (gecko::Node)
#                     redefines it to start such a server instead: two agents
#                     cannot share a namespace (control socket, port 7433)
#   anycast_down      stops them and the topology
#   had_conf FILE K...    gecko-had's file for that home agent, nodes K... allowed
#   serve_g K         G on node K's lo with a route of its own, and the service
#   echo_reply TEXT   the UDP echo's answer to the client's TEXT
#
# For programs on the high-level API (gecko/framework.h), which run the
# node agent themselves and read the distributed server's file:
#   framework_conf FILE [N]   that file (gecko.conf(5)): G, the home agent, $KEY,
#                     node1 the contact node, round-robin, the three nodes
#                     (or node1 to nodeN)
#   client_addresses N [HOST PREFIX]   $PREFIX1 .. $PREFIXN (hexadecimal) on
#                     the client (or PREFIX's on HOST), each a client of its
#                     own for the contact node; the guest's neighbour table
#                     (one for all namespaces) sized for them
#   client2_anycast   a second client host (client2_up) running gecko-cnd,
#                     its addresses under $PREFIX2
#   members_alive     node1's agent sees the two other members alive
#   state K OF        node K's view of member nodeOF (alive, dead, left...; empty if no member)
#   is_state K OF S   whether it is S

PATH=$GECKO_REPO/build/tools/gecko-had:$GECKO_REPO/build/tools/gecko-cnd:$GECKO_REPO/build/tools/gecko-agent:$PATH
PATH=$GECKO_REPO/build/tools/examples:$PATH
PIDS=()
declare -A AGENT
# In the guest's own /tmp: the node channel refuses a key others may read.
KEY=$(umask 077 && mktemp /tmp/gecko-cluster.XXXXXX)
gecko-ctl genkey > "$KEY"

agent_cmd() { echo gecko-agent; }

# had_conf FILE K...: gecko-had's configuration for G's home link, nodes K... allowed as care-of.
had_conf() {
	local conf=$1 k
	shift
	printf 'interface = eth0\nhome-prefix = fd00:a::/64\naddress = %s\n' $HA > "$conf"
	for k; do echo "allow-coa = fd00:1$k::/64" >> "$conf"; done
}

# serve_g K: G on node K's lo with a route of its own, and the service in node K's module.
serve_g() {
	ip -n node$1 -6 addr add $G/128 dev lo nodad
	# G's own route, so that its path MTU is its own (Documentation/datapath.md).
	ip -n node$1 -6 route add default via fd00:1$1::1 from $G
	ip netns exec node$1 gecko-ctl service add $G coa fd00:1$1::2 contact-coa $NODE1 ha $HA
}

anycast_up() {
	local k cmd conf=$GECKO_OUT/gecko-had.conf
	had_conf "$conf" "$@"
	had_start "$conf"
	# Not through client(): $! must be the daemon itself.
	ip netns exec client gecko-cnd > "$GECKO_OUT/cnd.log" 2>&1 &
	PIDS+=($!)
	wait_for 10 grep -q "^correspondent node" "$GECKO_OUT/cnd.log"
	for k; do
		serve_g $k
		read -ra cmd <<< "$(agent_cmd $k) $(credentials $k)"
		ip netns exec node$k "${cmd[@]}" > "$GECKO_OUT/agent$k.log" 2>&1 &
		AGENT[$k]=$!
		PIDS+=($!)
		ip netns exec node$k socat UDP6-RECVFROM:7007,bind=[$G],fork SYSTEM:"echo node$k" &
		PIDS+=($!)
	done
	for k; do
		wait_for 10 grep -q "^node agent" "$GECKO_OUT/agent$k.log"
		wait_for 10 sh -c "ip netns exec node$k ss -Hlun | grep -q 7007"
	done
}

# A CA of the test's, and node K's key and certificate for its care-of address.
node_certificate() {
	local dir=${KEY}.certs
	(
		umask 077
		cd "$dir"
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=node$1 \
			-keyout node$1.key -out node$1.csr 2> /dev/null
		echo "subjectAltName = IP:fd00:1$1::2" > node$1.ext
		openssl x509 -req -in node$1.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile node$1.ext -out node$1.pem 2> /dev/null
	)
}

credentials() {
	local dir=${KEY}.certs
	if [[ ${CERTS:-0} != 1 ]]; then
		echo "--key-file $KEY"
		return
	fi
	if [[ ! -f $dir/ca.pem ]]; then
		mkdir -p -m 700 "$dir"
		(cd "$dir" && umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-days 2 -subj /CN=gecko-test-ca -keyout ca.key -out ca.pem 2> /dev/null)
	fi
	[[ -f $dir/node$1.pem ]] || node_certificate $1
	echo "--cert $dir/node$1.pem --cert-key $dir/node$1.key --ca $dir/ca.pem"
}

anycast_down() {
	kill ${HAD_PID:-} "${PIDS[@]}" 2> /dev/null || true
	topo_down
}

PREFIX=fd00:c::1:
PREFIX2=fd00:d::1:

framework_conf() {
	local k
	cat > "$1" <<-EOF
		service = $G
		home-agent = $HA
		key-file = $KEY
		contact = node1
		policy = round-robin
	EOF
	for ((k = 1; k <= ${2:-3}; k++)); do printf '[member.node%s]\naddress = fd00:1%s::2\n' $k $k >> "$1"; done
}

client_addresses() {
	local i batch
	sysctl -qw net.ipv6.neigh.default.gc_thresh2=8192 net.ipv6.neigh.default.gc_thresh3=16384
	batch=$(mktemp)
	for i in $(seq 1 "$1"); do printf 'addr add %s%x/64 dev eth0 nodad\n' "${3:-$PREFIX}" $i; done > "$batch"
	ip -n "${2:-client}" -batch "$batch"
	rm -f "$batch"
}

client2_anycast() {
	client2_up
	ip netns exec client2 gecko-cnd > "$GECKO_OUT/cnd2.log" 2>&1 &
	PIDS+=($!)
	wait_for 10 grep -q "^correspondent node" "$GECKO_OUT/cnd2.log"
}

state() { ip netns exec node$1 gecko-ctl members --json | gojq -r ".[] | select(.name == \"node$2\") | .state"; }
is_state() { [[ $(state $1 $2) == "$3" ]]; }

members_alive() {
	[[ $(ip netns exec node1 gecko-ctl members --json | gojq '[.[] | select(.state == "alive")] | length') == 2 ]]
}

# A datagram may go unanswered (a starved guest's echo once failed to
# write its answer: "echo: I/O error"): asked three times at most, as a
# UDP client would; an answer from the wrong node still ends the asking.
echo_reply() {
	local got i
	for i in 1 2 3; do
		got=$(client timeout 10 socat -t 5 - UDP6:[$G]:7007 <<< "$1") || true
		[[ -z $got ]] || break
	done
	echo "$got"
}
