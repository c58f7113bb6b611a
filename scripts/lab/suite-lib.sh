# shellcheck shell=bash
# Helpers for lab suites (Tests/Lab/suites/*.sh). Sourced before the suite
# file, inside the guest, by scripts/lab/suite-runner.sh. See
# docs/kernel-lab.md for the suite contract.

lab_log() { echo "[$WEFT_LAB_SUITE node$WEFT_LAB_NODE] $*"; }

# lab_check DESCRIPTION COMMAND [ARG...]: run COMMAND, print ok/not ok and
# remember a failure; lab_run ends with 'lab_checks_done' to return it.
_lab_failures=0
lab_check() {
    local what=$1
    shift
    if "$@"; then
        echo "ok - $what"
    else
        echo "not ok - $what (exit $?)"
        _lab_failures=$((_lab_failures + 1))
    fi
}
lab_checks_done() {
    [ "$_lab_failures" = 0 ] || { lab_log "$_lab_failures check(s) failed"; return 1; }
}

# lab_barrier NAME [TIMEOUT]: wait until every node has reached the barrier
# NAME (default time-out 120 s; returns 1 on time-out). Barriers are
# counted, so every node must call the same barriers in the same order.
_lab_barrier_seq=0
lab_barrier() {
    local name=$1 limit=${2:-120}
    [ "$WEFT_LAB_NODES" -gt 1 ] || return 0
    _lab_barrier_seq=$((_lab_barrier_seq + 1))
    local dir="$WEFT_LAB_SUITE_RESULTS/.barriers"
    local tag="$_lab_barrier_seq-$name"
    mkdir -p "$dir"
    : >"$dir/$tag.node$WEFT_LAB_NODE"
    local deadline=$((SECONDS + limit)) n i
    while :; do
        n=0
        for ((i = 1; i <= WEFT_LAB_NODES; i++)); do
            [ -e "$dir/$tag.node$i" ] && n=$((n + 1))
        done
        [ "$n" = "$WEFT_LAB_NODES" ] && return 0
        if [ "$SECONDS" -ge "$deadline" ]; then
            lab_log "barrier '$name': $n of $WEFT_LAB_NODES nodes after ${limit}s"
            return 1
        fi
        sleep 0.2
    done
}

# lab_peer_addr N: IPv4 address of node N on the lab link.
lab_peer_addr() { echo "${WEFT_LAB_ADDR%.*}.$1"; }

# lab_wait_for_line FILE PATTERN [SECONDS]: waits until FILE (a started process's output)
# holds PATTERN; fails after SECONDS (default 30), saying what it waited for.
lab_wait_for_line() {
    local file=$1 pattern=$2 limit=${3:-30} deadline
    deadline=$((SECONDS + limit))
    until grep -q "$pattern" "$file" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || { lab_log "no '$pattern' in $file after ${limit}s"; return 1; }
        sleep 0.1
    done
}

# lab_wait_tcp_listen PORT [TIMEOUT]: wait until something on this node
# listens on TCP PORT (a server is ready for its client).
lab_wait_tcp_listen() {
    local port=$1 deadline=$((SECONDS + ${2:-60}))
    until ss -Htln "sport = :$port" 2>/dev/null | grep -q .; do
        [ "$SECONDS" -lt "$deadline" ] || { lab_log "nothing listens on TCP $port"; return 1; }
        sleep 0.2
    done
}

# lab_binary NAME: path of the project's built program NAME, from
# .build/release or .build/debug (the newer one when both exist), or from
# $WEFT_LAB_BUILD_DIR when set (a second build folder, for example
# `WEFT_LAB_ARGS="--env WEFT_LAB_BUILD_DIR=$PWD/.build-x" scripts/lab-stage`).
lab_binary() {
    local best="" f build=${WEFT_LAB_BUILD_DIR:-$WEFT_LAB_ROOT/.build}
    for f in "$build/release/$1" "$build/debug/$1"; do
        [ -x "$f" ] || continue
        if [ -z "$best" ] || [ "$f" -nt "$best" ]; then best=$f; fi
    done
    [ -n "$best" ] || { lab_log "no built $1 under $build/{release,debug}"; return 1; }
    echo "$best"
}

# lab_rnr_events: the sum of the RDMA device's receiver-not-ready counters (rxe:
# /sys/class/infiniband/DEV/ports/1/hw_counters/*rnr*); verbs suites check it does not move.
lab_rnr_events() {
    local dir="/sys/class/infiniband/$WEFT_LAB_RDMA_DEV/ports/1/hw_counters" total=0 f v
    for f in "$dir"/*rnr*; do
        [ -r "$f" ] || continue
        v=$(cat "$f")
        total=$((total + v))
    done
    echo "$total"
}
