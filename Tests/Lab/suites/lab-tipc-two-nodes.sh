# shellcheck shell=bash disable=SC2034  # LAB_* are read by scripts/lab-stage
# Lab suite: Weft's TIPC transport between two VMs. Node 2 reaches node 1's
# `weft serve` by service name alone, finds it through the topology server
# with `weft discover` (no address given), and sees it go down when it is
# killed and when its node's bearer is disabled (link supervision).
LAB_NODES=2
LAB_TIMEOUT=300

_secret() { echo "$WEFT_LAB_ROOT/.build/lab-tipc/secret"; }

lab_host_prepare() {
    mkdir -p .build/lab-tipc
    [ -s .build/lab-tipc/secret ] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >.build/lab-tipc/secret
    chmod 600 .build/lab-tipc/secret
}


# Node 1 serves 18888:1 (and TCP at its lab address, for the ratio); node 2
# ping-pongs both, tipc by name alone.
_pingpong_across() {
    local rc=0 tcp_address
    tcp_address="$(lab_peer_addr 1):7470"
    if [ "$WEFT_LAB_NODE" = 1 ]; then
        "$WEFT" serve --transport tipc --secret-file "$(_secret)" --listen 18888:1 >"$WEFT_LAB_SUITE_RESULTS/serve1.out" 2>&1 &
        echo $! >/tmp/weft-serve.pid
        "$WEFT" serve --transport tcp --secret-file "$(_secret)" --listen "$tcp_address" >"$WEFT_LAB_SUITE_RESULTS/serve1-tcp.out" 2>&1 &
        local tcp_server=$!
        lab_wait_for_line "$WEFT_LAB_SUITE_RESULTS/serve1.out" "listening on 18888:1" 30 || rc=1
        lab_wait_for_line "$WEFT_LAB_SUITE_RESULTS/serve1-tcp.out" "listening on" 30 || rc=1
        lab_barrier served 60 || rc=1
        lab_barrier pinged 180 || rc=1
        kill "$tcp_server"
    else
        lab_barrier served 60 || rc=1
        local transport
        for transport in tipc tcp; do
            local address=18888:1
            [ "$transport" = tcp ] && address=$tcp_address
            "$WEFT" pingpong --transport "$transport" --secret-file "$(_secret)" --connect "$address" --size 8 --count 300 \
                --warmup 20 --json | tee "$WEFT_LAB_SUITE_RESULTS/pingpong-across-$transport.json" | grep -q rtt_p50_ns || rc=1
        done
        local p_tipc p_tcp
        p_tipc=$(sed -n 's/.*"rtt_p50_ns":\([0-9]*\).*/\1/p' "$WEFT_LAB_SUITE_RESULTS/pingpong-across-tipc.json")
        p_tcp=$(sed -n 's/.*"rtt_p50_ns":\([0-9]*\).*/\1/p' "$WEFT_LAB_SUITE_RESULTS/pingpong-across-tcp.json")
        [ -n "$p_tipc" ] && [ -n "$p_tcp" ] &&
            echo "across two VMs, 8 B: tipc p50 $p_tipc ns, tcp p50 $p_tcp ns, tipc/tcp $(awk -v a="$p_tipc" -v b="$p_tcp" 'BEGIN { printf "%.2f", a / b }')" \
            | tee "$WEFT_LAB_SUITE_RESULTS/ratio-across.txt"
        lab_barrier pinged 180 || rc=1
    fi
    return "$rc"
}

# Node 2 discovers node 1's listener with no address given, then node 1 kills it
# with SIGKILL: node 2 must report it down within 2 s.
_discovery_and_kill() {
    local rc=0 out="$WEFT_LAB_SUITE_RESULTS/discover-kill.out"
    if [ "$WEFT_LAB_NODE" = 2 ]; then
        "$WEFT" discover --transport tipc --until-down 18888:1 --timeout 90 >"$out" 2>&1 &
        local watcher=$!
        lab_wait_for_line "$out" "^up 18888:1$" 30 || rc=1
        lab_barrier discovered 60 || rc=1
        local t0=$SECONDS
        lab_barrier killed 60 || rc=1
        local start_ns end_ns
        start_ns=$(date +%s%N)
        wait "$watcher" || rc=1
        end_ns=$(date +%s%N)
        cat "$out"
        local ms=$(((end_ns - start_ns) / 1000000))
        echo "down reported ${ms} ms after node 1's kill was seen (barrier poll included)" | tee "$WEFT_LAB_SUITE_RESULTS/kill-detection.txt"
        [ "$ms" -le 2000 ] || rc=1
        : "$t0"
    else
        lab_barrier discovered 60 || rc=1
        kill -KILL "$(cat /tmp/weft-serve.pid)" || rc=1
        lab_barrier killed 60 || rc=1
    fi
    return "$rc"
}

# Node 2 serves 18888:2; node 1 watches; node 2's bearer is disabled: link
# supervision must report it down. The time is measured, not asserted.
_link_loss() {
    local rc=0 out="$WEFT_LAB_SUITE_RESULTS/discover-link.out"
    if [ "$WEFT_LAB_NODE" = 2 ]; then
        "$WEFT" serve --transport tipc --secret-file "$(_secret)" --listen 18888:2 >"$WEFT_LAB_SUITE_RESULTS/serve2.out" 2>&1 &
        local server=$!
        lab_wait_for_line "$WEFT_LAB_SUITE_RESULTS/serve2.out" "listening on 18888:2" 30 || rc=1
        lab_barrier serving2 60 || rc=1
        lab_barrier watching 60 || rc=1
        tipc bearer disable media eth dev "$WEFT_LAB_IFACE" || rc=1
        lab_barrier cut 60 || rc=1
        lab_barrier reported 60 || rc=1
        kill "$server" 2>/dev/null
        tipc bearer enable media eth dev "$WEFT_LAB_IFACE" || rc=1
    else
        lab_barrier serving2 60 || rc=1
        "$WEFT" discover --transport tipc --until-down 18888:2 --timeout 60 --timestamps >"$out" 2>&1 &
        local watcher=$!
        lab_wait_for_line "$out" " up 18888:2$" 30 || rc=1
        lab_barrier watching 60 || rc=1
        lab_barrier cut 60 || rc=1
        local start_ns end_ns
        start_ns=$(date +%s%N)
        wait "$watcher" || rc=1
        end_ns=$(date +%s%N)
        cat "$out"
        echo "link loss reported $(((end_ns - start_ns) / 1000000)) ms after node 2's bearer was disabled (barrier poll included)" \
            | tee "$WEFT_LAB_SUITE_RESULTS/link-loss-detection.txt"
        lab_barrier reported 60 || rc=1
    fi
    # Leave the link as the next suite expects it.
    local deadline=$((SECONDS + 60))
    until tipc link list 2>/dev/null | grep -q ": up"; do
        [ "$SECONDS" -lt "$deadline" ] || { lab_log "the TIPC link did not come back"; return 1; }
        sleep 0.5
    done
    return "$rc"
}

# Actor nodes that find each other by discovery alone: node 1 (18888:11) and node 2
# (18888:12) greet each other through virtual actors placed on the other node; then node 1
# keeps a call to node 2 in flight, node 2 is killed with SIGKILL, and node 1 must see the
# call fail and the member dropped within 2 s of each other (and of the kill).
_actors_across() {
    local rc=0 out="$WEFT_LAB_SUITE_RESULTS/cluster-hello.node$WEFT_LAB_NODE.out"
    if [ "$WEFT_LAB_NODE" = 1 ]; then
        "$HELLO" --transport tipc --secret-file "$(_secret)" --listen 18888:11 --members 2 --watch 18888:12 --timeout 120 \
            >"$out" 2>&1 &
        local node=$!
        lab_wait_for_line "$out" "call in flight" 90 || rc=1
        lab_barrier inflight 120 || rc=1
        lab_barrier killed-actor 60 || rc=1
        local start_ns end_ns
        start_ns=$(date +%s%N)
        wait "$node" || rc=1
        end_ns=$(date +%s%N)
        cat "$out"
        echo "node 1 done $(((end_ns - start_ns) / 1000000)) ms after node 2's kill was seen (barrier poll included)" \
            | tee "$WEFT_LAB_SUITE_RESULTS/actor-kill-detection.txt"
        grep -q "called 18888:12: hello 18888:11, from 18888:12" "$out" || rc=1
        [ $(((end_ns - start_ns) / 1000000)) -le 2000 ] || rc=1
    else
        "$HELLO" --transport tipc --secret-file "$(_secret)" --listen 18888:12 --members 2 --timeout 120 >"$out" 2>&1 &
        local node=$!
        lab_barrier inflight 120 || rc=1
        cat "$out"
        grep -q "called 18888:11: hello 18888:12, from 18888:11" "$out" || rc=1
        kill -KILL "$node" || rc=1
        lab_barrier killed-actor 60 || rc=1
        wait "$node" 2>/dev/null
    fi
    return "$rc"
}

lab_run() {
    WEFT=$(lab_binary weft) && HELLO=$(lab_binary cluster-hello) || return 1
    lab_check "node 2 ping-pongs node 1's weft serve by TIPC service name 18888:1 (and over tcp, for the ratio)" _pingpong_across
    lab_check "weft discover finds node 1's listener without an address, and reports its SIGKILL within 2 s" _discovery_and_kill
    lab_check "actors on two nodes find each other by discovery, call each other, and see a killed node go" _actors_across
    lab_check "weft discover reports a node lost by link supervision (bearer disabled)" _link_loss
    lab_checks_done
}
