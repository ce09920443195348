# SPDX-License-Identifier: GPL-2.0-only
# Harness self-test: a WARN in a namespace's teardown, after the scenario
# ended with status 0, must fail it (tests/vm/selftest/check).
. "$GECKO_REPO/tests/vm/lib/common.sh"
insmod "$GECKO_REPO/tests/vm/selftest/warn_on_netns_exit.ko"
ip netns add doomed
ip netns exec doomed ip link set lo up
ip netns del doomed
echo "namespace deleted; exiting with status 0"
