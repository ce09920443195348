# SPDX-License-Identifier: GPL-2.0-only
# vm-beside
# libgeckoctl against the real module: the kernel-facing GoogleTest suite
# (tests/unit/kernel_test.cpp), in a namespace of its own.
. "$GECKO_REPO/tests/vm/lib/common.sh"

pretty "gecko-kernel-tests in a fresh network namespace"
unshare --net gecko-kernel-tests

pretty "the host-side suites also pass with the module loaded"
# Each suite's program once: ctest's process per case took a minute and a
# half under emulation.
for suite in "$GECKO_REPO"/build/tests/unit/*-tests; do
	[[ $suite != */gecko-kernel-tests ]] || continue
	"$suite" --gtest_brief=1 > "$GECKO_OUT/${suite##*/}.log" 2>&1 ||
		fail "${suite##*/}: $(grep -m1 -A3 '\[  FAILED  \]' "$GECKO_OUT/${suite##*/}.log")"
	pretty "${suite##*/}: $(grep -m1 '\[  PASSED  \]' "$GECKO_OUT/${suite##*/}.log")"
done
