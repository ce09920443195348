# SPDX-License-Identifier: GPL-2.0-only
# gecko-ctl info from inside the namespaces of the reference topology:
# text and JSON, and counters that belong to each namespace.
. "$GECKO_REPO/tests/vm/lib/common.sh"
. "$GECKO_REPO/tests/vm/lib/topology.sh"

topo_up
version=$(cat /sys/module/gecko/version)

pretty "gecko-ctl info in node1"
n1 gecko-ctl info | tee /tmp/info.txt
grep -q "^gecko $version (protocol 1)$" /tmp/info.txt || fail "unexpected text output"

pretty "gecko-ctl info --json parses with jq"
n1 gecko-ctl info --json | tee /tmp/info.json
jq -e --arg v "$version" '.module_version == $v and .protocol_version == 1
	and (.counters.nl_requests | type) == "number"' /tmp/info.json > /dev/null ||
	fail "JSON output lacks the expected fields"
expect_eq "--json after the command" "$(n1 gecko-ctl --json info | jq -c 'del(.counters)')" \
	"$(jq -c 'del(.counters)' /tmp/info.json)"

pretty "counters are per namespace"
requests() { "$@" gecko-ctl info --json | jq .counters.nl_requests; }
before_n2=$(requests n2)
before_n1=$(requests n1)
for _ in 1 2 3 4 5; do n1 gecko-ctl info > /dev/null; done
expect_eq "node1 requests" "$(requests n1)" $((before_n1 + 6))
expect_eq "node2 requests" "$(requests n2)" $((before_n2 + 1))
expect_eq "a new namespace starts at one request" "$(unshare --net gecko-ctl info --json | jq .counters.nl_requests)" 1

pretty "a refused request counts as an error, in its namespace only"
n3 gecko-kernel-tests --gtest_filter='GeckoRequest.ReplyOnlyAttributeIsRefused' > /dev/null
n3 gecko-ctl info --json | jq -e '.counters.nl_errors == 0' > /dev/null ||
	fail "policy rejections happen before the module counts anything"
