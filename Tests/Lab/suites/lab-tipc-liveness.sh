# shellcheck shell=bash disable=SC2034  # LAB_* are read by scripts/lab-stage
# Lab suite: connection bounds and liveness over Weft's TIPC transport in one VM, with
# Weft's own binaries: a peer process that stops (SIGSTOP: alive, so TIPC itself reports
# nothing) is closed with peerLost within idle-timeout-ms, and a listener at
# max-connections refuses the next client in one sentence while it serves the first.
LAB_NODES=1
LAB_TIMEOUT=300

_secret() { echo "$WEFT_LAB_ROOT/.build/lab-tipc/secret"; }

lab_host_prepare() {
    mkdir -p .build/lab-tipc
    [ -s .build/lab-tipc/secret ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >.build/lab-tipc/secret
    chmod 600 .build/lab-tipc/secret
}


# A client that stops mid-run is dropped by the server with the idle time-out's sentence.
_stopped_peer_is_lost() {
    local out="$WEFT_LAB_SUITE_RESULTS/serve-idle.out" rc=0 server client started
    "$WEFT" serve --transport tipc --secret-file "$(_secret)" --listen 18888:41 \
        --idle-timeout-ms 2000 --heartbeat-interval-ms 400 >"$out" 2>&1 &
    server=$!
    lab_wait_for_line "$out" "listening on 18888:41" 120 || rc=1
    "$WEFT" pingpong --transport tipc --secret-file "$(_secret)" --connect 18888:41 --size 8 --count 100000000 \
        --warmup 10 >/dev/null 2>&1 &
    client=$!
    # A process takes seconds to start under emulation.
    lab_wait_for_line "$out" "connection from" 120 || rc=1
    sleep 1
    kill -STOP "$client"
    started=$SECONDS
    lab_wait_for_line "$out" "nothing heard from the peer" 15 || rc=1
    lab_log "dropped $((SECONDS - started)) s after the stop (idle-timeout-ms 2000)"
    kill -KILL "$client" 2>/dev/null
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    grep -E "lost|nothing heard" "$out"
    return "$rc"
}

# At max-connections 1 the second client is refused with the listener's sentence while
# the first is served on; once the first is gone its place serves a third.
_cap_refuses_the_next() {
    local out="$WEFT_LAB_SUITE_RESULTS/serve-cap.out" err="$WEFT_LAB_SUITE_RESULTS/second-client.err" rc=0 server first
    "$WEFT" serve --transport tipc --secret-file "$(_secret)" --listen 18888:42 --max-connections 1 >"$out" 2>&1 &
    server=$!
    lab_wait_for_line "$out" "listening on 18888:42" 120 || rc=1
    "$WEFT" pingpong --transport tipc --secret-file "$(_secret)" --connect 18888:42 --size 8 --count 100000000 \
        --warmup 10 >/dev/null 2>&1 &
    first=$!
    lab_wait_for_line "$out" "connection from" 120 || rc=1
    if "$WEFT" pingpong --transport tipc --secret-file "$(_secret)" --connect 18888:42 --size 8 --count 10 \
        --warmup 1 >/dev/null 2>"$err"; then
        lab_log "the second client was served past max-connections 1"
        rc=1
    fi
    grep -q "max-connections" "$err" || { lab_log "the second client's error does not name max-connections"; rc=1; }
    grep -q "refused a connection from" "$out" || rc=1
    if ! kill -0 "$first" 2>/dev/null || grep -q "closed after" "$out"; then
        lab_log "the first client was not served on"
        rc=1
    fi
    kill "$first" 2>/dev/null
    lab_wait_for_line "$out" "closed after\|failed:" 60 || rc=1
    "$WEFT" pingpong --transport tipc --secret-file "$(_secret)" --connect 18888:42 --size 8 --count 100 \
        --warmup 1 --json >"$WEFT_LAB_SUITE_RESULTS/third-client.json" 2>&1 || rc=1
    grep -q '"rtt_p50_ns":[0-9]' "$WEFT_LAB_SUITE_RESULTS/third-client.json" || { lab_log "the freed place served no one"; rc=1; }
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    cat "$err"
    return "$rc"
}

lab_run() {
    WEFT=$(lab_binary weft) || return 1
    lab_check "a stopped TIPC peer is closed with peerLost within idle-timeout-ms" _stopped_peer_is_lost
    lab_check "a TIPC listener at max-connections refuses the next client and serves the first" _cap_refuses_the_next
    lab_checks_done
}
