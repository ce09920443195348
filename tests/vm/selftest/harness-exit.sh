# SPDX-License-Identifier: GPL-2.0-only
# Harness self-test: a scenario that exits non-zero must fail (tests/vm/selftest/check).
echo "about to exit with status 3"
exit 3
