# shellcheck shell=bash disable=SC2034  # LAB_* are read by scripts/lab-stage
# Lab suite: two VMs, Weft's verbs transport between their Soft-RoCE devices. Node 1 runs
# `weft serve --transport verbs` at its lab address; node 2 runs `weft pingpong --connect`
# at 8 B, 4 KiB and 256 KiB (the last by RDMA rendezvous, proven by the transport's counters).
LAB_NODES=2
LAB_TIMEOUT=400

_weft() { "$(lab_binary weft)" "$@"; }

# Both nodes read the same secret: node 1 writes it before the first barrier.
_secret() { echo "$WEFT_LAB_SUITE_RESULTS/verbs-secret"; }

_pingpong_across() {
    local rc=0 port=7471
    local out="$WEFT_LAB_SUITE_RESULTS/pingpong-two-nodes.node$WEFT_LAB_NODE.txt"
    if [ "$WEFT_LAB_NODE" = 1 ]; then
        head -c 32 /dev/urandom >"$(_secret)" && chmod 600 "$(_secret)"
        _weft serve --transport verbs --secret-file "$(_secret)" --listen "$WEFT_LAB_ADDR:$port" >"$out" 2>&1 &
        local server=$!
        local deadline=$((SECONDS + 60))
        until grep -q "listening on" "$out"; do
            [ "$SECONDS" -lt "$deadline" ] && kill -0 "$server" 2>/dev/null || { rc=1; break; }
            sleep 0.2
        done
        lab_barrier verbs-serving 120 || rc=1
        lab_barrier verbs-done 300 || rc=1
        kill "$server" 2>/dev/null
        wait "$server"
    else
        lab_barrier verbs-serving 120 || rc=1
        _weft pingpong --transport verbs --secret-file "$(_secret)" --connect "$(lab_peer_addr 1):$port" \
            --size 8 --count 500 --warmup 50 --timeout 240 --json >"$out" 2>&1 || rc=1
        _weft pingpong --transport verbs --secret-file "$(_secret)" --connect "$(lab_peer_addr 1):$port" \
            --size 4096 --count 200 --warmup 20 --timeout 240 --json >>"$out" 2>&1 || rc=1
        # 256 KiB by RDMA rendezvous across the two VMs: 12 responses, 12 RDMA READs. (Not
        # 1 MiB: the emulated NICs drop packets of a 1 MiB READ burst, and rxe's retransmission
        # time-outs then make each round trip take seconds.)
        _weft pingpong --transport verbs --secret-file "$(_secret)" --connect "$(lab_peer_addr 1):$port" \
            --size 262144 --count 10 --warmup 2 --timeout 240 --json --transport-statistics >>"$out" 2>&1 || rc=1
        lab_barrier verbs-done 300 || rc=1
        grep -Eq '"rtt_p50_ns":[1-9]' "$out" || rc=1
        grep -q '"size":262144.*"rdma_reads":12,.*"received_in_registered_memory":true' "$out" || rc=1
    fi
    cat "$out"
    return "$rc"
}

lab_run() {
    lab_check "weft pingpong on node 2 answered by weft serve --transport verbs on node 1" _pingpong_across
    lab_checks_done
}
