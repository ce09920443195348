# SPDX-License-Identifier: GPL-2.0-only
# Harness self-test: a kernel WARN must fail the scenario (tests/vm/selftest/check).
. "$GECKO_REPO/tests/vm/lib/common.sh"
insmod "$GECKO_REPO/tests/vm/selftest/warn_on_load.ko"
echo "still running after the WARN"
