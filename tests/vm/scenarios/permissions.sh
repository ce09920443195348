# SPDX-License-Identifier: GPL-2.0-only
# vm-beside
# Who may use gecko: CAP_NET_ADMIN over the network namespace, which the
# root of a user namespace has over the network namespaces it owns.
. "$GECKO_REPO/tests/vm/lib/common.sh"

# refused CMD...: CMD's gecko-ctl info must fail with EPERM.
refused() {
	local err rc=0
	err=$("$@" gecko-ctl info 2>&1 > /dev/null) || rc=$?
	expect_eq "exit status of '$*'" $rc 1
	expect_eq "error of '$*'" "$err" "Error: Operation not permitted"
}

pretty "root without CAP_NET_ADMIN is refused"
refused setpriv --inh-caps=-net_admin --bounding-set=-net_admin

pretty "an unprivileged user is refused"
refused setpriv --reuid=65534 --regid=65534 --clear-groups

pretty "the root of a user namespace may use the network namespace it owns"
unshare --user --map-root-user --net gecko-ctl info --json | gojq -e '.protocol_version == 1' > /dev/null

pretty "but not a network namespace it does not own"
refused unshare --user --map-root-user

pretty "an unprivileged user's own user and network namespaces work too"
setpriv --reuid=65534 --regid=65534 --clear-groups \
	unshare --user --map-root-user --net gecko-ctl info > /dev/null
