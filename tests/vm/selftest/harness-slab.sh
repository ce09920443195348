# SPDX-License-Identifier: GPL-2.0-only
# Harness self-test: a heap overrun that crashes nothing, reported only by
# slub_debug, must fail the scenario (tests/vm/selftest/check).
. "$GECKO_REPO/tests/vm/lib/common.sh"
insmod "$GECKO_REPO/tests/vm/selftest/slab_overrun.ko"
echo "still running after the overrun"
