# shellcheck shell=bash disable=SC2034  # LAB_* are read by scripts/lab-stage
# Lab suite: the link under Weft's verbs transport goes down mid-run (`ip link set IFACE
# down`, which takes rxe0's port DOWN). Weft's own binaries: the ping-pong client, which
# only waits for replies, ends within its idle time-out with a non-zero exit and one
# sentence instead of waiting for ever; the server reports the lost connection and serves
# on; at least one side names the port. Boots alone (LAB_ISOLATE): it cuts the VM's link.
LAB_NODES=1
LAB_TIMEOUT=400
LAB_ISOLATE=1

_secret() {
    local file="$WEFT_LAB_SUITE_RESULTS/verbs-secret"
    [ -f "$file" ] || { head -c 32 /dev/urandom >"$file" && chmod 600 "$file"; }
    echo "$file"
}


_link_down_ends_the_run() {
    local out="$WEFT_LAB_SUITE_RESULTS/serve.out" err="$WEFT_LAB_SUITE_RESULTS/client.err" rc=0 server client
    local started status=0 timing="--idle-timeout-ms 3000 --heartbeat-interval-ms 500"
    # shellcheck disable=SC2086  # $timing is two options
    "$WEFT" serve --transport verbs --secret-file "$(_secret)" --listen "$WEFT_LAB_ADDR:7490" $timing >"$out" 2>&1 &
    server=$!
    lab_wait_for_line "$out" "listening on" 120 || rc=1
    # shellcheck disable=SC2086
    "$WEFT" pingpong --transport verbs --secret-file "$(_secret)" --connect "$WEFT_LAB_ADDR:7490" --size 8 \
        --count 100000000 --warmup 10 --timeout 300 $timing >/dev/null 2>"$err" &
    client=$!
    lab_wait_for_line "$out" "connection from" 120 || rc=1
    sleep 2
    kill -0 "$client" 2>/dev/null || { lab_log "the client ended before the link went down"; rc=1; }
    ip link set "$WEFT_LAB_IFACE" down
    started=$SECONDS
    while kill -0 "$client" 2>/dev/null && [ $((SECONDS - started)) -lt 60 ]; do sleep 0.5; done
    if kill -0 "$client" 2>/dev/null; then
        lab_log "the client still waits 60 s after the link went down"
        kill -KILL "$client"
        rc=1
    fi
    wait "$client" || status=$?
    lab_log "the client ended $((SECONDS - started)) s after the link went down, exit $status"
    [ "$status" -ne 0 ] || { lab_log "the client exited 0"; rc=1; }
    cat "$err"
    grep -q "weft: the connection failed: peer lost: " "$err" || { lab_log "the client's error is not the lost connection's sentence"; rc=1; }
    # The server hears nothing once the link is down: it reports the loss at its own idle
    # time-out (3 s, or the queue pair's retransmission window when that is longer), which
    # can come after a client whose work request failed at once has ended. The link stays
    # down until then, so the port is still DOWN when the server looks at it.
    lab_wait_for_line "$out" "lost\|failed" 60 || { lab_log "the server did not report the lost connection"; rc=1; }
    ip link set "$WEFT_LAB_IFACE" up
    cat "$out"
    # The side whose work request fails before rxe marks the port DOWN reports the queue
    # pair's local error; the other, or both, name the port.
    cat "$err" "$out" | grep -q "port of $WEFT_LAB_RDMA_DEV is DOWN: its link went down" ||
        { lab_log "neither side's sentence names the port that went down"; rc=1; }
    kill -0 "$server" 2>/dev/null || { lab_log "the server exited"; rc=1; }
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    return "$rc"
}

lab_run() {
    WEFT=$(lab_binary weft) || return 1
    lab_check "a verbs run whose link goes down ends in one sentence, not a hang, and a side names the port" _link_down_ends_the_run
    lab_checks_done
}
