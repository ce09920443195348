# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 1200
# vm-beside
# DKMS as an operator runs it, for the guest's own kernel: the source tree
# "make dkms-install" puts under /usr/src, then dkms add, build and
# install; modprobe loads the module DKMS built (not the tree's, which the
# harness loaded and this scenario unloads first), gecko-ctl talks to it,
# rmmod unloads it, and dkms remove leaves no trace of it. The guest's
# /lib/modules/$KVER is the extracted kernel package's, without the
# headers' "build" link: the headers' folder is named to dkms.
. "$GECKO_REPO/tests/vm/lib/common.sh"

version=$(cat "$GECKO_REPO/VERSION")
headers=/usr/src/linux-headers-$GECKO_KVER
dkms_run() { dkms "$@" -m gecko -v "$version" -k "$GECKO_KVER" --kernelsourcedir "$headers"; }

rmmod gecko
pretty "the source tree in /usr/src/gecko-$version, as make dkms-install puts it"
make -s -C "$GECKO_REPO" dkms-install
[[ -f /usr/src/gecko-$version/dkms.conf ]] || fail "no dkms.conf in /usr/src/gecko-$version"
grep -q "^PACKAGE_VERSION=\"$version\"$" /usr/src/gecko-$version/dkms.conf ||
	fail "dkms.conf: $(grep PACKAGE_VERSION /usr/src/gecko-$version/dkms.conf), want $version"

pretty "dkms add"
dkms add -m gecko -v "$version"
pretty "dkms build for $GECKO_KVER (the compiler under emulation: minutes)"
dkms_run build > /tmp/dkms-build.log 2>&1 || { tail -n 20 /tmp/dkms-build.log; fail "dkms build failed"; }
pretty "dkms install"
dkms_run install > /tmp/dkms-install.log 2>&1 || { tail -n 20 /tmp/dkms-install.log; fail "dkms install failed"; }
status=$(dkms status -m gecko -v "$version" -k "$GECKO_KVER")
echo "$status"
[[ $status == *": installed"* ]] || fail "dkms status: '$status', want installed"

pretty "modprobe loads the module DKMS installed"
path=$(modinfo -n gecko)
[[ $path == /lib/modules/$GECKO_KVER/updates/dkms/gecko.ko* ]] || fail "modinfo names $path"
modprobe gecko
expect_eq "the loaded module's version" "$(cat /sys/module/gecko/version)" "$version"
info=$(gecko-ctl info) || fail "gecko-ctl info failed"
echo "$info"
grep -q "^gecko $version " <<< "$info" || fail "gecko-ctl info does not name version $version"

pretty "rmmod, then dkms remove leaves nothing behind"
rmmod gecko
dkms remove -m gecko -v "$version" --all
[[ -z $(dkms status -m gecko) ]] || fail "dkms still lists gecko: $(dkms status -m gecko)"
[[ ! -e /var/lib/dkms/gecko ]] || fail "/var/lib/dkms/gecko is still there"
[[ -z $(find "/lib/modules/$GECKO_KVER" -name 'gecko.ko*') ]] || fail "a gecko.ko is left in /lib/modules"
! modinfo gecko > /dev/null 2>&1 || fail "modinfo still finds gecko"
pretty "PASS"
