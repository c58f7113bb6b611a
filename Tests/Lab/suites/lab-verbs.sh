# shellcheck shell=bash disable=SC2034  # LAB_* are read by scripts/lab-stage
# Lab suite: one VM, Weft's verbs transport on Soft-RoCE (rxe0). Weft's own binaries:
# `weft info` reports the device, `weft pingpong --transport verbs` (which starts its own
# `weft serve` at the VM's RDMA address, never loopback) completes with credits and no RNR,
# large messages move by RDMA rendezvous (the transport's own counters, printed by
# `weft pingpong --transport-statistics`: one RDMA READ per message, no fragment sends, the
# received view inside registered memory), a listener refuses to start beyond loopback
# without a secret, and a locked-memory limit that is too low fails with the sentence that
# names it.
LAB_NODES=1
LAB_TIMEOUT=600

_weft() { "$(lab_binary weft)" "$@"; }

_secret() {
    local file="$WEFT_LAB_SUITE_RESULTS/verbs-secret"
    [ -f "$file" ] || { head -c 32 /dev/urandom >"$file" && chmod 600 "$file"; }
    echo "$file"
}

_info_lists_device() {
    local out="$WEFT_LAB_SUITE_RESULTS/info.json"
    _weft info --json >"$out" || return 1
    cat "$out"
    grep -q "\"verbs\":{\"devices\":\[{\"name\":\"$WEFT_LAB_RDMA_DEV\"" "$out" &&
        grep -q '"state":"ACTIVE"' "$out" &&
        grep -q '"link_layer":"Ethernet"' "$out" &&
        grep -q '{"name":"verbs","available":true' "$out"
}

# _pingpong SIZE COUNT: the JSON result has rtt_p50_ns.
_pingpong() {
    local out="$WEFT_LAB_SUITE_RESULTS/pingpong-$1.json"
    _weft pingpong --transport verbs --size "$1" --count "$2" --warmup 100 --timeout 240 \
        --secret-file "$(_secret)" --json >"$out" || { cat "$out"; return 1; }
    cat "$out"
    grep -q '"transport":"verbs"' "$out" && grep -Eq '"rtt_p50_ns":[1-9]' "$out"
}

# The integer value of "KEY": in a one-line JSON file.
_json_int() { grep -Eo "\"$1\":[0-9]+" "$2" | head -n 1 | cut -d: -f2; }

# _rendezvous SIZE COUNT WARMUP READS_PER_MESSAGE IN_PLACE: a ping-pong whose counters prove
# that each response (SIZE bytes) came by READS_PER_MESSAGE RDMA READs, that each request left
# as that many sends (rendezvousReady frames, no fragment stream), and whether the last
# response was handed up inside registered memory (IN_PLACE true) or, fragmented, from the
# reassembly buffer (false).
_rendezvous() {
    local size=$1 count=$2 warmup=$3 per=$4 in_place=$5 out="$WEFT_LAB_SUITE_RESULTS/rendezvous-$1.json"
    local messages=$((count + warmup)) reads sends rendezvous bytes
    _weft pingpong --transport verbs --size "$size" --count "$count" --warmup "$warmup" --timeout 240 \
        --secret-file "$(_secret)" --json --transport-statistics >"$out" || { cat "$out"; return 1; }
    cat "$out"
    grep -Eq '"rtt_p50_ns":[1-9]' "$out" || return 1
    grep -q "\"received_in_registered_memory\":$in_place" "$out" ||
        { echo "received_in_registered_memory is not $in_place"; return 1; }
    reads=$(_json_int rdma_reads "$out")
    sends=$(_json_int sends "$out")
    rendezvous=$(_json_int rendezvous_sends "$out")
    bytes=$(_json_int rdma_read_bytes "$out")
    echo "messages $messages: rdma_reads $reads, sends $sends, rendezvous_sends $rendezvous, rdma_read_bytes $bytes"
    [ "$reads" = $((messages * per)) ] && [ "$sends" = $((messages * per)) ] && [ "$rendezvous" = "$sends" ] &&
        [ "$bytes" -ge $((messages * size)) ]
}

# Small messages are sent, never read: no RDMA READ, and the view still lies in registered memory.
_eager() {
    local out="$WEFT_LAB_SUITE_RESULTS/eager-8.json"
    _weft pingpong --transport verbs --size 8 --count 200 --warmup 10 --timeout 240 \
        --secret-file "$(_secret)" --json --transport-statistics >"$out" || { cat "$out"; return 1; }
    cat "$out"
    grep -q '"received_in_registered_memory":true' "$out" && [ "$(_json_int rdma_reads "$out")" = 0 ] &&
        [ "$(_json_int rendezvous_sends "$out")" = 0 ] && [ "$(_json_int sends "$out")" = 210 ]
}

# Many small messages one way (credits are what keeps the receiver's queue from running dry).
_rate() {
    local out="$WEFT_LAB_SUITE_RESULTS/rate.json"
    _weft rate --transport verbs --size 64 --count 20000 --timeout 240 --secret-file "$(_secret)" --json >"$out" ||
        { cat "$out"; return 1; }
    cat "$out"
    grep -q '"transport":"verbs"' "$out"
}

# Streaming large messages overlaps their rendezvous: every message read by RDMA, and the
# sender had several offered and not yet read at once (the ring of rendezvous regions).
_rate_rendezvous() {
    local out="$WEFT_LAB_SUITE_RESULTS/rate-rendezvous.json" rendezvous peak
    _weft rate --transport verbs --size 1048576 --count 64 --timeout 240 --secret-file "$(_secret)" --json \
        --transport-statistics >"$out" || { cat "$out"; return 1; }
    cat "$out"
    rendezvous=$(_json_int rendezvous_sends "$out")
    peak=$(_json_int rendezvous_peak_in_flight "$out")
    echo "rendezvous_sends $rendezvous, rendezvous_peak_in_flight $peak"
    [ "$rendezvous" = 64 ] && [ "$peak" -ge 2 ] && [ "$peak" -le 8 ]
}

_no_rnr() {
    local before=$1 after
    after=$(lab_rnr_events)
    echo "RNR events before $before, after $after"
    [ "$after" = "$before" ]
}

_refuses_without_secret() {
    local out="$WEFT_LAB_SUITE_RESULTS/no-secret.txt"
    if timeout 60 "$(lab_binary weft)" serve --transport verbs --listen "$WEFT_LAB_ADDR:7479" >"$out" 2>&1; then
        cat "$out"
        return 1
    fi
    cat "$out"
    grep -q "without a cluster secret" "$out"
}

_memlock_sentence() {
    local out="$WEFT_LAB_SUITE_RESULTS/memlock.txt" weft
    weft=$(lab_binary weft) || return 1
    if setpriv --bounding-set=-ipc_lock -- sh -c "ulimit -l 64; exec '$weft' pingpong --transport verbs --size 8 --count 10 --timeout 60 --secret-file '$(_secret)'" >"$out" 2>&1; then
        cat "$out"
        return 1
    fi
    cat "$out"
    grep -q "locked-memory limit (RLIMIT_MEMLOCK" "$out" && grep -q "LimitMEMLOCK=infinity" "$out"
}


# At max-connections 1 the second client is refused, before anything is set up for it, with
# the listener's sentence carried in the reject; the first is served on.
_cap_refuses_the_next() {
    local out="$WEFT_LAB_SUITE_RESULTS/serve-cap.out" err="$WEFT_LAB_SUITE_RESULTS/second-client.err" rc=0
    local server first addr="$WEFT_LAB_ADDR:7491"
    _weft serve --transport verbs --secret-file "$(_secret)" --listen "$addr" --max-connections 1 >"$out" 2>&1 &
    server=$!
    lab_wait_for_line "$out" "listening on" 120 || rc=1
    _weft pingpong --transport verbs --secret-file "$(_secret)" --connect "$addr" --size 8 --count 100000000 \
        --warmup 10 --timeout 300 >/dev/null 2>&1 &
    first=$!
    lab_wait_for_line "$out" "connection from" 120 || rc=1
    if _weft pingpong --transport verbs --secret-file "$(_secret)" --connect "$addr" --size 8 --count 10 \
        --warmup 1 >/dev/null 2>"$err"; then
        echo "the second client was served past max-connections 1"
        rc=1
    fi
    cat "$err"
    grep -q "refused the connection: .*max-connections" "$err" || { echo "the refusal does not name max-connections"; rc=1; }
    grep -q "refused a connection from" "$out" || rc=1
    kill -0 "$first" 2>/dev/null || { echo "the first client was not served on"; rc=1; }
    kill "$first" 2>/dev/null
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
    return "$rc"
}

lab_run() {
    local rnr_before
    rnr_before=$(lab_rnr_events)
    lab_check "weft info --json reports $WEFT_LAB_RDMA_DEV with an active Ethernet port and verbs available" _info_lists_device
    lab_check "weft pingpong over verbs, 8 B x 2000, at $WEFT_LAB_ADDR with a secret" _pingpong 8 2000
    lab_check "weft pingpong over verbs, 4 KiB x 500" _pingpong 4096 500
    lab_check "weft pingpong over verbs, 64 KiB x 50 (RDMA rendezvous)" _pingpong 65536 50
    lab_check "weft pingpong over verbs, 1 MiB x 30: one RDMA READ per message, no fragments, view in registered memory" \
        _rendezvous 1048576 30 3 1 true
    lab_check "weft pingpong over verbs, 6 MiB x 4: fragments of one rendezvous region, each read by RDMA" \
        _rendezvous 6291456 4 1 2 false
    lab_check "weft pingpong over verbs, 8 B: sent, not read, view in registered memory" _eager
    lab_check "weft rate over verbs, 20000 x 64 B" _rate
    lab_check "weft rate over verbs, 1 MiB x 64: every message by rendezvous, several in flight at once" _rate_rendezvous
    lab_check "no receiver-not-ready events on $WEFT_LAB_RDMA_DEV during the runs" _no_rnr "$rnr_before"
    lab_check "weft serve --transport verbs refuses $WEFT_LAB_ADDR without a secret" _refuses_without_secret
    lab_check "a 64 KiB memlock limit fails with the sentence that names it" _memlock_sentence
    lab_check "a verbs listener at max-connections refuses the next client with its sentence and serves the first" \
        _cap_refuses_the_next
    lab_checks_done
}
