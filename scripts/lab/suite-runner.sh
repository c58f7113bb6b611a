#!/bin/bash
# Runs lab suites inside a guest, on every node of a boot:
#   suite-runner.sh SUITE_FILE...
# Each suite's lab_run runs in its own bash, in its own process group, under
# the suite's time-out (LAB_TIMEOUT). Its output goes to the console and to
# $WEFT_LAB_RESULTS/NAME/output.nodeN, its exit status to
# $WEFT_LAB_RESULTS/NAME/status.nodeN (read by scripts/lab-stage). With
# several nodes, all nodes start and end each suite together.
set -u
lib="$(dirname "$(readlink -f "$0")")/suite-lib.sh"
node=$WEFT_LAB_NODE

# Barriers of the runner itself, kept apart from the suites' own.
runner_barrier() {
    (
        WEFT_LAB_SUITE="$1" WEFT_LAB_SUITE_RESULTS="$WEFT_LAB_RESULTS/.runner/$1"
        # shellcheck source=suite-lib.sh
        . "$lib" && lab_barrier "$2" "$3"
    ) || true
}

failed=0
for suite in "$@"; do
    name=$(basename "$suite" .sh)
    dir="$WEFT_LAB_RESULTS/$name"
    mkdir -p "$dir"
    limit=$(bash -c '. "$1" >/dev/null 2>&1; echo "${LAB_TIMEOUT:-120}"' _ "$suite")
    export WEFT_LAB_SUITE="$name" WEFT_LAB_SUITE_RESULTS="$dir"
    runner_barrier "$name" begin $((limit + 120))
    echo "=== lab suite $name (node $node of $WEFT_LAB_NODES)"
    start=$SECONDS
    out="/tmp/lab-suite-$name.out"
    (cd "$WEFT_LAB_ROOT" &&
        exec timeout -k 10 "$limit" bash -c '. "$1" && . "$2" && lab_run' _ "$lib" "$suite") \
        </dev/null >"$out" 2>&1 &
    group=$!
    tail -n +1 -s 0.2 -f --pid="$group" "$out" &
    streamer=$!
    wait "$group"
    rc=$?
    # Whatever the suite left running goes with its process group.
    kill -KILL -- "-$group" 2>/dev/null
    wait "$streamer"
    [ "$rc" = 124 ] && echo "=== lab suite $name: time-out after ${limit}s (LAB_TIMEOUT)" >>"$out"
    cp "$out" "$dir/output.node$node"
    echo "$rc" >"$dir/status.node$node"
    echo "=== lab suite $name: exit $rc after $((SECONDS - start))s"
    [ "$rc" = 0 ] || failed=1
    runner_barrier "$name" end $((limit + 120))
done
exit "$failed"
