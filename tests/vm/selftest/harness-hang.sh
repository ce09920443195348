# SPDX-License-Identifier: GPL-2.0-only
# Harness self-test: a scenario that never ends must fail within its time limit.
echo "sleeping forever"
sleep infinity
