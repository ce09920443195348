# SPDX-License-Identifier: GPL-2.0-only
# Harness self-test: a guest hung in the kernel, where its own time limit
# cannot act, must fail with where it hung (tests/vm/selftest/check).
. "$GECKO_REPO/tests/vm/lib/common.sh"
insmod "$GECKO_REPO/tests/vm/selftest/spin_on_load.ko"
echo "still running after the spin"
