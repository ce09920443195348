# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 600
# vm-beside
# The Debian packages "make deb" built (build/deb/), as an operator uses
# them on the reference topology:
#
#   - dpkg -i installs gecko-dkms, libgeckoctl0, libgeckoctl-dev and
#     gecko-tools; DKMS lists the module's sources (it builds them only for
#     a kernel whose headers are installed, which the dkms scenario does);
#     the packaged gecko-ctl runs on the packaged library and talks to the
#     module (the tree's, loaded by the harness);
#   - the services, each started with the command its unit names, on the
#     files under /etc/gecko the units read: gecko-had on the home agent,
#     gecko-cnd on the client, gecko-agent then gecko-policy-echo on each
#     node; a stock client's TCP session with G is echoed, then each
#     daemon stops on SIGTERM with status 0;
#   - dpkg --purge removes the four packages: none of their files is left,
#     and DKMS no longer knows the module.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"
. "$GECKO_REPO/tests/vm/lib/mip6.sh"
. "$GECKO_REPO/tests/vm/lib/anycast.sh"

trap anycast_down EXIT
version=$(cat "$GECKO_REPO/VERSION")
packages=(gecko-dkms libgeckoctl0 libgeckoctl-dev gecko-tools)
debs=()
for p in "${packages[@]}"; do
	debs+=("$GECKO_REPO"/build/deb/${p}_"$version"_*.deb)
	[[ -f ${debs[-1]} ]] || fail "no $p $version in build/deb: make deb builds it"
done
# The packaged programs, not the build tree's.
PATH=/usr/sbin:/usr/bin:$PATH

pretty "dpkg -i $(basename -a "${debs[@]}" | tr '\n' ' ')"
DEBIAN_FRONTEND=noninteractive dpkg -i "${debs[@]}" > "$GECKO_OUT/dpkg-install.log" 2>&1 ||
	fail "dpkg -i failed: $(tail -n 5 "$GECKO_OUT/dpkg-install.log")"
for p in "${packages[@]}"; do
	expect_eq "$p's status" "$(dpkg-query -W -f '${db:Status-Status} ${Version}' $p)" "installed $version"
done
status=$(dkms status -m gecko -v "$version")
pretty "dkms status: $status"
[[ $status == "gecko/$version"* ]] || fail "DKMS does not know gecko/$version"
[[ -f /usr/src/gecko-$version/dkms.conf ]] || fail "no /usr/src/gecko-$version/dkms.conf"
grep -q "^PACKAGE_VERSION=\"$version\"$" /usr/src/gecko-$version/dkms.conf ||
	fail "dkms.conf: $(grep PACKAGE_VERSION /usr/src/gecko-$version/dkms.conf)"
lib=$(ldd /usr/bin/gecko-ctl | awk '$1 == "libgeckoctl.so.0" { print $3 }')
expect_eq "the library /usr/bin/gecko-ctl runs on" "$(readlink -f "$lib")" \
	"$(readlink -f "/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/libgeckoctl.so.0")"
gecko-ctl info | grep -q "^gecko $version " || fail "gecko-ctl info: $(gecko-ctl info 2>&1)"
pkg-config --modversion libgeckoctl | grep -qx "$version" || fail "pkg-config does not find libgeckoctl $version"

# unit_start NAMESPACE UNIT LOG: UNIT's command (its ExecStart) in NAMESPACE, output to LOG; PID in $!.
unit_start() {
	local cmd
	cmd=$(sed -n 's/^ExecStart=//p' "/lib/systemd/system/$2.service")
	[[ $cmd == /usr/sbin/* ]] || fail "$2.service starts '$cmd'"
	read -ra cmd <<< "$cmd"
	ip netns exec "$1" "${cmd[@]}" > "$3" 2>&1 &
}
# stops PID NAME: PID ends on SIGTERM with status 0.
stops() {
	local rc=0
	kill -TERM "$1"
	wait "$1" || rc=$?
	expect_eq "$2's exit status on SIGTERM" $rc 0
}

pretty "the services, as their units start them, on /etc/gecko"
topo_up
mkdir -p /etc/gecko
had_conf /etc/gecko/gecko-had.conf 1 2 3
(umask 077 && gecko-ctl genkey > /etc/gecko/cluster.key)
KEY=cluster.key framework_conf /etc/gecko/gecko.conf
gecko-ctl config check /etc/gecko/gecko.conf > /dev/null || fail "$(gecko-ctl config check /etc/gecko/gecko.conf 2>&1)"

unit_start ha gecko-had "$GECKO_OUT/had.log"
HAD=$!
unit_start client gecko-cnd "$GECKO_OUT/cnd.log"
CND=$!
PIDS+=($HAD $CND)
wait_for 10 grep -q "serving home prefix" "$GECKO_OUT/had.log"
wait_for 10 grep -q "^correspondent node" "$GECKO_OUT/cnd.log"
declare -A ECHO
for k in 1 2 3; do
	serve_g $k
	unit_start node$k gecko-agent "$GECKO_OUT/agent$k.log"
	AGENT[$k]=$!
	PIDS+=($!)
	wait_for 10 grep -q "^node agent" "$GECKO_OUT/agent$k.log"
	unit_start node$k gecko-policy-echo "$GECKO_OUT/echo$k.log"
	ECHO[$k]=$!
	PIDS+=($!)
done
for k in 1 2 3; do wait_for 10 grep -q "gecko-policy-echo: serving port 7" "$GECKO_OUT/echo$k.log"; done
wait_for 10 grep -q "registered with the home agent" "$GECKO_OUT/echo1.log"
wait_for 10 members_alive

pretty "a client's TCP session with G, echoed"
got=$(printf 'one\ntwo\n' | client timeout 20 socat -t 5 - "TCP6:[$G]:7")
expect_eq "what G echoed" "$got" "$(printf 'one\ntwo')"

pretty "SIGTERM stops each daemon cleanly"
for k in 1 2 3; do stops ${ECHO[$k]} "node$k's gecko-policy-echo"; done
for k in 1 2 3; do stops ${AGENT[$k]} "node$k's gecko-agent"; done
stops $CND gecko-cnd
stops $HAD gecko-had
PIDS=()

pretty "dpkg --purge leaves none of the packages' files"
dpkg -L "${packages[@]}" | sort -u > "$GECKO_OUT/files.txt"
DEBIAN_FRONTEND=noninteractive dpkg --purge "${packages[@]}" > "$GECKO_OUT/dpkg-purge.log" 2>&1 ||
	fail "dpkg --purge failed: $(tail -n 5 "$GECKO_OUT/dpkg-purge.log")"
left=$(while read -r f; do [[ -d $f || ! -e $f ]] || echo "$f"; done < "$GECKO_OUT/files.txt")
[[ -z $left ]] || fail "left behind: $(head -n 5 <<< "$left")"
[[ ! -e /usr/src/gecko-$version ]] || fail "/usr/src/gecko-$version is still there"
[[ -z $(dkms status -m gecko) ]] || fail "dkms still lists gecko: $(dkms status -m gecko)"
pretty "PASS"
