#!/bin/bash
# Self-tests of the kernel lab: a failure in the lab must show as a failure,
# never as a hang or a silent pass. Run by scripts/lab-stage; prints one
# "ok"/"not ok" line per test and ends with "selftest: N passed, N failed".
set -uo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd -P)
cd "$ROOT" || exit 1
KERNEL_LAB="$ROOT/scripts/kernel-lab"
# shellcheck disable=SC2206
EXTRA=(${WEFT_LAB_ARGS:-})
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

passed=0 failed=0
# result NAME OK SECONDS: report one test; on failure show its output.
result() {
    local name=$1 ok=$2 t=$3
    if [ "$ok" = 1 ]; then
        passed=$((passed + 1))
        echo "ok - $name (${t}s)"
    else
        failed=$((failed + 1))
        echo "not ok - $name (${t}s)"
        sed 's/^/    # /' "$OUT/log" | tail -n 25
    fi
}

# lab EXPECTED_RC PATTERN NAME -- KERNEL-LAB-ARGS...: run kernel-lab; the
# test passes if it exits EXPECTED_RC and its output matches PATTERN.
lab() {
    local want=$1 pattern=$2 name=$3
    shift 4
    local t0=$SECONDS rc=0
    timeout -k 10 300 "$KERNEL_LAB" run "$@" >"$OUT/log" 2>&1 || rc=$?
    echo "(exit $rc)" >>"$OUT/log"
    local ok=0
    [ "$rc" = "$want" ] && grep -Eq "$pattern" "$OUT/log" && ok=1
    result "$name" "$ok" $((SECONDS - t0))
}

# stage_fails SUITES_DIR EXTRA_ARGS PATTERN NAME: run the stage itself on fixture
# suites; the test passes if the stage fails, reports the failure and ends
# with the right summary line.
stage_fails() {
    local dir=$1 args=$2 pattern=$3 name=$4
    local t0=$SECONDS rc=0
    WEFT_LAB_SUITES_DIR="$ROOT/Tests/Lab/fixtures/$dir" WEFT_LAB_ARGS="${EXTRA[*]} $args" \
        timeout -k 10 300 "$ROOT/scripts/lab-stage" --no-selftest >"$OUT/log" 2>&1 || rc=$?
    echo "(exit $rc)" >>"$OUT/log"
    local ok=0
    [ "$rc" != 0 ] &&
        [ "$(grep -v '^(exit' "$OUT/log" | tail -n 1)" = "lab: 0 passed, 1 failed" ] &&
        grep -Eq "$pattern" "$OUT/log" && ok=1
    result "$name" "$ok" $((SECONDS - t0))
}

lab 3 '^selftest-marker$' "a command that exits 3 makes kernel-lab exit 3, with its output streamed" \
    -- "${EXTRA[@]}" -- sh -c 'echo selftest-marker; exit 3'

lab 125 'boot did not reach the command within 1s' "a boot time-out is an error (exit 125), not a hang" \
    -- "${EXTRA[@]}" --boot-timeout 1 -- true

lab 125 'guest kernel panic' "a guest kernel panic is an error (exit 125) although QEMU exits 0" \
    -- "${EXTRA[@]}" -- sh -c 'echo c >/proc/sysrq-trigger; sleep 30'

lab 124 'ran past 3s' "a command past --timeout is stopped (exit 124)" \
    -- "${EXTRA[@]}" --timeout 3 -- sleep 300

lab 125 'QEMU .* is not available' "a missing QEMU is an error (exit 125)" \
    -- "${EXTRA[@]}" --qemu /nonexistent/qemu-system-x86_64 -- true

lab 5 'node 1 was stopped after node 2 failed' "a failing node's status wins; its peers are stopped after --grace" \
    -- "${EXTRA[@]}" --nodes 2 --no-wait-peers --grace 2 -- \
    sh -c 'if [ "$WEFT_LAB_NODE" = 2 ]; then exit 5; fi; sleep 300'

stage_fails failing "" 'FAIL exits-3: node 1 exit 3' \
    "the stage fails when a suite's command exits 3"

stage_fails passing "--boot-timeout 1" 'boot did not reach the command' \
    "the stage fails when the boot times out"

echo "selftest: $passed passed, $failed failed"
[ "$failed" = 0 ]
