# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 240
# vm-beside
# handoff-download over a lossy, jittery client link: 10 ms ± 2 ms each
# way and 1 % loss on both ends (netem), a 20 MB download at 500 KB/s
# (some 30 handoffs) that moves node1 -> node2 -> node3 -> node1 ... every
# 0.5 s. The same checks: the file byte for byte, no reset on the client's
# link, every handoff completes; every node served at least 20 % of the
# file.
NETEM="delay 10ms 2ms loss 1%"
SIZE=$((20 << 20))
RATE=500K
. "$GECKO_REPO/tests/vm/scenarios/handoff-download.sh"
