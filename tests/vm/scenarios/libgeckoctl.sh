# SPDX-License-Identifier: GPL-2.0-only
# libgeckoctl against the real module: the kernel-facing GoogleTest suite
# (tests/unit/kernel_test.cpp), in a namespace of its own.
. "$GECKO_REPO/tests/vm/lib/common.sh"

pretty "gecko-kernel-tests in a fresh network namespace"
unshare --net gecko-kernel-tests

pretty "the host-side suites also pass with the module loaded"
# One process per test case: in parallel, or they outgrow the time limit.
ctest --test-dir "$GECKO_REPO/build" --output-on-failure -j"$(nproc)"
