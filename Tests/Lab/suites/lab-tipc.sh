# shellcheck shell=bash disable=SC2034  # LAB_* are read by scripts/lab-stage
# Lab suite: Weft's own TIPC transport in one VM. Weft's binaries (weft,
# weft-conformance) run the ping-pong, the conformance suite and the security
# rule over real AF_TIPC sockets; tcp runs beside it in the same boot so the
# ratio tipc/tcp means something under emulation.
LAB_NODES=1
LAB_TIMEOUT=600

_secret() { echo "$WEFT_LAB_ROOT/.build/lab-tipc/secret"; }

# On the host, before the boot: a cluster secret, mode 600, in an ignored folder.
lab_host_prepare() {
    mkdir -p .build/lab-tipc
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >.build/lab-tipc/secret
    chmod 600 .build/lab-tipc/secret
}

# _pingpong NAME TRANSPORT SIZE COUNT [ARGS...]: runs weft pingpong --json, keeps its output.
_pingpong() {
    local name=$1 transport=$2 size=$3 count=$4
    shift 4
    local out="$WEFT_LAB_SUITE_RESULTS/pingpong-$name.json"
    "$WEFT" pingpong --transport "$transport" --size "$size" --count "$count" --warmup 100 --json "$@" >"$out" || return 1
    cat "$out"
    grep -q '"rtt_p50_ns":[0-9]' "$out"
}

_p50() { sed -n 's/.*"rtt_p50_ns":\([0-9]*\).*/\1/p' "$WEFT_LAB_SUITE_RESULTS/pingpong-$1.json"; }

_refuses_without_secret() {
    local err="$WEFT_LAB_SUITE_RESULTS/serve-no-secret.err" rc=0
    timeout 30 "$WEFT" serve --transport tipc --listen 18888:99 2>"$err" >/dev/null || rc=$?
    cat "$err"
    [ "$rc" = 2 ] && [ "$(wc -l <"$err")" = 1 ] && grep -q "without a cluster secret" "$err"
}

_conformance_fails_when_frames_drop() {
    local rc=0
    timeout 120 "$CONFORMANCE" --transport tipc --check orderingAndNoLoss --fault drop-frames || rc=$?
    [ "$rc" = 1 ]
}

# Ratios only (TCG): printed and kept in the results folder, never asserted.
_ratios() {
    local size p_tipc p_tcp
    for size in 8 4096 65536; do
        p_tipc=$(_p50 "tipc-$size") p_tcp=$(_p50 "tcp-$size")
        [ -n "$p_tipc" ] && [ -n "$p_tcp" ] || return 1
        echo "size $size: tipc p50 $p_tipc ns, tcp p50 $p_tcp ns, tipc/tcp $(awk -v a="$p_tipc" -v b="$p_tcp" 'BEGIN { printf "%.2f", a / b }')"
    done | tee "$WEFT_LAB_SUITE_RESULTS/ratios.txt"
}

lab_run() {
    WEFT=$(lab_binary weft) && CONFORMANCE=$(lab_binary weft-conformance) || return 1
    local secret
    secret=$(_secret)
    lab_check "weft info --json reports tipc available" sh -c "'$WEFT' info --json | grep -q '\"name\":\"tipc\",\"available\":true'"
    lab_check "a TIPC listener without a cluster secret refuses to start, in one sentence" _refuses_without_secret
    lab_check "weft pingpong over tipc, 8 B, with a secret" _pingpong tipc-8 tipc 8 2000 --secret-file "$secret"
    lab_check "weft pingpong over tipc, 200000 B (fragmented)" _pingpong tipc-200000 tipc 200000 20 --secret-file "$secret"
    for size in 4096 65536; do
        lab_check "weft pingpong over tipc, $size B" _pingpong "tipc-$size" tipc "$size" 500 --secret-file "$secret"
    done
    for size in 8 4096 65536; do
        lab_check "weft pingpong over tcp, $size B (same boot, for the ratio)" _pingpong "tcp-$size" tcp "$size" 500
    done
    lab_check "tipc/tcp round-trip ratios recorded" _ratios
    lab_check "the barrels example plays over tipc (2 processes in this VM)" \
        timeout 120 "$(lab_binary barrels)" --transport tipc --processes 2 --secret-file "$secret"
    lab_check "the conformance suite passes over tipc (weft-conformance)" timeout 300 "$CONFORMANCE" --transport tipc
    lab_check "the conformance suite fails against tipc that drops frames" _conformance_fails_when_frames_drop
    lab_checks_done
}
