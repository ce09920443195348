# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 240
# vm-beside
# handoff-upload over a lossy, jittery client link: 10 ms ± 2 ms each way
# and 1 % loss on both ends (netem), a 20 MB upload at 500 KB/s (some 30
# handoffs) that moves node1 -> node2 -> node3 -> node1 ... every 0.5 s.
# The same checks: the server's count and Adler-32 are the client's, no
# reset on the client's link, every handoff completes, every node read at
# least 20 % of the upload.
NETEM="delay 10ms 2ms loss 1%"
SIZE=$((20 << 20))
RATE=500000
. "$GECKO_REPO/tests/vm/scenarios/handoff-upload.sh"
