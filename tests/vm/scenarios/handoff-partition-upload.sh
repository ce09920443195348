# SPDX-License-Identifier: GPL-2.0-only
# vm-timeout: 900
# vm-beside
# handoff-partition the other way: the client uploads to
# gecko-echo-server --sink, which counts and checksums what it reads.
UPLOAD=1
. "$GECKO_REPO/tests/vm/scenarios/handoff-partition.sh"
