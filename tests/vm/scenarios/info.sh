# SPDX-License-Identifier: GPL-2.0-only
# vm-beside
# gecko-ctl info from inside the namespaces of the reference topology:
# text and JSON, and counters that belong to each namespace: each command
# is one request; each one the module refuses is one error too, in its
# namespace only; one the netlink policy refuses is neither.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"

topo_up
version=$(cat /sys/module/gecko/version)

pretty "gecko-ctl info in node1"
n1 gecko-ctl info | tee /tmp/info.txt
grep -q "^gecko $version (protocol 1)$" /tmp/info.txt || fail "unexpected text output"

pretty "gecko-ctl info --json parses as JSON"
n1 gecko-ctl info --json | tee /tmp/info.json
gojq -e --arg v "$version" '.module_version == $v and .protocol_version == 1
	and (.counters.nl_requests | type) == "number"' /tmp/info.json > /dev/null ||
	fail "JSON output lacks the expected fields"
expect_eq "--json after the command" "$(n1 gecko-ctl --json info | gojq -c 'del(.counters)')" \
	"$(gojq -c 'del(.counters)' /tmp/info.json)"

pretty "counters are per namespace"
requests() { "$@" gecko-ctl info --json | gojq .counters.nl_requests; }
before_n2=$(requests n2)
before_n1=$(requests n1)
for _ in 1 2 3 4 5; do n1 gecko-ctl info > /dev/null; done
expect_eq "node1 requests" "$(requests n1)" $((before_n1 + 6))
expect_eq "node2 requests" "$(requests n2)" $((before_n2 + 1))
expect_eq "a new namespace starts at one request" "$(unshare --net gecko-ctl info --json | gojq .counters.nl_requests)" 1

pretty "a refused request counts as an error, in its namespace only"
# counters NS: "requests errors" of NS, read by one request of its own.
counters() { "$@" gecko-ctl info --json | gojq -r '.counters | "\(.nl_requests) \(.nl_errors)"'; }
read -r requests_n3 errors_n3 <<< "$(counters n3)"
read -r requests_n1 errors_n1 <<< "$(counters n1)"
# The module itself refuses these (no such service): one request and one error each.
for _ in 1 2 3; do
	! n3 gecko-ctl service del $G 2> /tmp/refused || fail "deleting a service that does not exist succeeded"
done
grep -q "^Error: " /tmp/refused || fail "the refusal gave no reason: $(cat /tmp/refused)"
expect_eq "node3 requests and errors after 3 refusals" "$(counters n3)" "$((requests_n3 + 4)) $((errors_n3 + 3))"
expect_eq "node1 requests and errors" "$(counters n1)" "$((requests_n1 + 1)) $errors_n1"

pretty "a request the policy refuses is counted neither as a request nor as an error"
n3 gecko-kernel-tests --gtest_filter='GeckoRequest.ReplyOnlyAttributeIsRefused' > /tmp/gtest.out
# A filter that matches nothing passes too: the case must have run.
grep -q "^\[  PASSED  \] 1 test\.$" /tmp/gtest.out || fail "the policy refusal did not run: $(tail -n3 /tmp/gtest.out)"
expect_eq "node3 requests and errors after a policy refusal" "$(counters n3)" \
	"$((requests_n3 + 5)) $((errors_n3 + 3))"
