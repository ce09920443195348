# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 1200
# vm-beside
# vm-background
# handoff-partition on a lossy network: 1 % loss on every link (and the
# client's 10 ms, the nodes' 1 ms of delay), partitions and all.
NETEM="loss 1%"
. "$GECKO_REPO/tests/vm/scenarios/handoff-partition.sh"
