# SPDX-License-Identifier: GPL-2.0-only
# What in a kernel log fails a scenario, whatever its verdict: warnings,
# BUGs and oopses, stack dumps, and the reports of the memory debuggers
# (slub_debug on every boot; KASAN and kmemleak where a kernel has them).
# Sourced by tests/vm/run for the console and tests/vm/guest for dmesg.

# One alternative per kind of report. slub_debug's reports do not panic
# and have no colon after BUG: "BUG kmalloc-64 (Tainted: G O): Poison
# overwritten", then the object and where it was allocated and freed.
GECKO_KLOG_ERRORS='WARNING:|BUG:|kernel BUG at|Oops|general protection fault|Kernel panic'
GECKO_KLOG_ERRORS+='|Call Trace:|UBSAN|KASAN|unreferenced object'
GECKO_KLOG_ERRORS+='|BUG [^ ]+ \(.*\): |Poison overwritten|Object padding overwritten'
GECKO_KLOG_ERRORS+='|Redzone overwritten|Freepointer corrupt|Object already free'
# A device whose references never drop (a held packet or route, say).
GECKO_KLOG_ERRORS+='|waiting for .* to become free'

# klog_error FILE...: print the first such line, without its timestamp,
# after a WARN's own message when it has one; false when there is none.
klog_error() {
	sed 's/^\[ *[0-9.]*\] //' "$@" 2> /dev/null | awk -v re="$GECKO_KLOG_ERRORS" '
		/cut here/ { getline msg; if (msg ~ re) { print msg; found = 1; exit } next }
		$0 ~ re { if (msg != "") printf "%s | ", msg; print; found = 1; exit }
		END { exit !found }'
}
