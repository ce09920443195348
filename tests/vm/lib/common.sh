# SPDX-License-Identifier: GPL-2.0-only
# Helpers every scenario sources: assertions that stop the script, polling
# instead of sleeping. The harness (tests/vm/guest) has loaded gecko.ko and
# put gecko-ctl and the test binaries on PATH.

set -eu -o pipefail

GECKO_KO=$GECKO_REPO/kmod/gecko.ko

# sleep as a builtin (Debian's bash-builtins): under TCG the program costs
# 40-75 ms of CPU, most of what a poll's 0.1 s pause is meant to leave free.
enable -f /usr/lib/bash/sleep sleep

# pretty MSG: a step, in the log, with the seconds since the scenario began.
pretty() { printf '[+%4d s] %s\n' "$SECONDS" "$*"; }

# fail MSG: stop the scenario; the harness reports the last line.
fail() { printf 'FAIL: %s\n' "$*"; exit 1; }

# expect_eq WHAT GOT WANT
expect_eq() { [[ $2 == "$3" ]] || fail "$1: got '$2', want '$3'"; }

# poll SECONDS CMD...: run CMD every 0.1 s until it succeeds; false if it never does.
poll() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" > /dev/null 2>&1; do
		((SECONDS < deadline)) || return 1
		sleep 0.1
	done
}

# wait_for SECONDS CMD...: poll, and stop the scenario if CMD never succeeds.
wait_for() { poll "$@" || fail "timed out waiting for: ${*:2}"; }
