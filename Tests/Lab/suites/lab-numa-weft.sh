# shellcheck shell=bash disable=SC2034  # LAB_* are read by scripts/lab-stage
# Lab suite: Weft's own NUMA placement in the two-node guest (node0 = CPU 0,
# node1 = CPU 1, the NIC eth0 and its Soft-RoCE device rxe0 on node 1).
# Proves with the weft binary: `weft info --json` sees the topology and plans
# tcp, tipc and verbs on node 1; `weft pingpong --json` records its plan; a tipc
# ping-pong's IO thread and buffers follow its eth0 bearer to node 1, a verbs
# ping-pong's IO thread and registered slab follow rxe0; a running tcp node's IO threads are pinned to CPU 1 and its
# buffers sit on node 1 (read back from the kernel's /proc/PID/numa_maps at the
# addresses Weft logs); `numa-node 1` does the same for shm rings; a CPU the
# cpuset forbids stops `weft serve` with one sentence.
LAB_NODES=1
LAB_NUMA=2
LAB_TIMEOUT=300

_info_json_shows_the_topology() {
    "$WEFT" info --json >"$R/info.json" || return 1
    /usr/bin/python3 - "$R/info.json" <<'PY'
import json, sys
info = json.load(open(sys.argv[1]))
numa = info["numa"]
nodes = [(n["id"], n["cpus"]) for n in numa["nodes"]]
assert nodes == [(0, [0]), (1, [1])], nodes
assert all(n["memory_bytes"] > 0 for n in numa["nodes"]), numa["nodes"]
devices = {(d["name"], d["kind"]): d["node"] for d in numa["devices"]}
assert devices.get(("eth0", "net")) == 1, devices
assert devices.get(("rxe0", "rdma")) == 1, devices
plans = {t["name"]: t["placement"] for t in info["transports"]}
# tcp follows the default route's NIC, tipc its eth0 bearer, verbs the rxe0 device.
for name, device in (("tcp", "eth0"), ("tipc", "eth0"), ("verbs", "rxe0")):
    plan = plans[name]
    assert plan["node"] == 1 and plan["io_cpus"] == [1] and plan["device"] == device, (name, plan)
    print(name, "placement:", plan)
assert plans["shm"]["device"] is None, plans["shm"]
PY
}

# A CPU outside the cpuset: non-zero exit and one sentence naming the cpuset.
_forbidden_cpu_is_one_sentence() {
    local rc=0
    taskset -c 0 "$WEFT" serve --transport tcp --io-cpus 1 >"$R/forbidden.out" 2>"$R/forbidden.err" || rc=$?
    cat "$R/forbidden.err"
    [ "$rc" -ne 0 ] && [ "$(wc -l <"$R/forbidden.err")" = 1 ] &&
        grep -q "CPU 1 is not in this process's cpuset, which allows CPUs 0" "$R/forbidden.err"
}

# _thread_cpus PID NAME: Cpus_allowed_list of PID's thread called NAME.
_thread_cpus() {
    local task
    for task in /proc/"$1"/task/*; do
        if [ "$(cat "$task/comm" 2>/dev/null)" = "$2" ]; then
            awk '/^Cpus_allowed_list:/ { print $2 }' "$task/status"
            return 0
        fi
    done
    echo "no thread $2 in process $1" >&2
    return 1
}

_thread_on_cpu1() {
    local cpus
    cpus=$(_thread_cpus "$1" "$2") || return 1
    echo "$2 of process $1: Cpus_allowed_list $cpus"
    [ "$cpus" = 1 ]
}

# _buffers_on_node1 PID LOG LABEL: every buffer LABEL logged in LOG that process PID maps (at its
# address, `numa: LABEL: BYTES bytes at 0x…, asked node 1, node 1: N pages`) is on node 1
# by Weft's move_pages count and by the kernel's /proc/PID/numa_maps for that mapping.
_buffers_on_node1() {
    /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import re, sys
pid, log, label = sys.argv[1], sys.argv[2], sys.argv[3]
lines = [l for l in open(log, errors="replace") if f"numa: {label}:" in l]
assert lines, f"no '{label}' line in {log}"
# Adjacent mappings with the same policy merge into one VMA: find the one holding the
# buffer (/proc/PID/maps), then its numa_maps line (keyed by the VMA's start).
ranges = []
for entry in open(f"/proc/{pid}/maps"):
    low, high = entry.split()[0].split("-")
    ranges.append((int(low, 16), int(high, 16)))
maps = {}
for entry in open(f"/proc/{pid}/numa_maps"):
    fields = entry.split()
    maps[int(fields[0], 16)] = fields
# The log may hold other buffers too: a peer process that `pingpong` started writes to the
# same stderr, and a connect attempt that failed before the peer published its name has
# unmapped its own. Check every logged buffer this process still maps.
mine = []
for line in lines:
    m = re.search(r": (\d+) bytes at 0x([0-9a-f]+), asked node (\d+), (.*)$", line.strip())
    assert m, line
    size, address = int(m.group(1)), int(m.group(2), 16)
    vma = [r for r in ranges if r[0] <= address and address + size <= r[1]]
    if vma:
        mine.append((m, vma[0]))
print(f"{label}: {len(lines)} logged, {len(mine)} mapped by process {pid}")
assert mine, f"none of the logged '{label}' buffers is mapped by process {pid}"
for m, vma in mine:
    size, address, asked, pages = int(m.group(1)), int(m.group(2), 16), m.group(3), m.group(4)
    assert asked == "1", m.group(0)
    assert re.fullmatch(r"node 1: \d+ pages", pages), f"Weft's move_pages count: {pages}"
    fields = maps.get(vma[0])
    assert fields, f"no numa_maps line for the mapping at {vma[0]:#x}"
    print(label, hex(address), " ".join(fields[1:]))
    assert "prefer:1" in fields[1], fields
    counts = [f for f in fields if re.fullmatch(r"N\d+=\d+", f)]
    assert counts and all(c.startswith("N1=") for c in counts), fields
PY
}

# _wait_for FILE TEXT: until FILE contains TEXT (60 s).
_wait_for() {
    local deadline=$((SECONDS + 60))
    until grep -q "$2" "$1" 2>/dev/null; do
        [ "$SECONDS" -lt "$deadline" ] || { lab_log "no '$2' in $1"; return 1; }
        sleep 0.2
    done
}

# _stop PID...: SIGINT (weft stops cleanly), then wait for them.
_stop() { kill -INT "$@" 2>/dev/null; wait "$@" 2>/dev/null; true; }

# _pingpong_records_its_plan PORT: a short ping-pong to the running server prints its
# placement in its JSON.
_pingpong_records_its_plan() {
    "$WEFT" pingpong --transport tcp --connect "$WEFT_LAB_ADDR:$1" --secret-file "$SECRET" --count 100 --json \
        >"$R/pp-plan.json" 2>"$R/pp-plan.err" || { cat "$R/pp-plan.err"; return 1; }
    /usr/bin/python3 - "$R/pp-plan.json" <<'PY'
import json, sys
plan = json.load(open(sys.argv[1]))["placement"]
print("pingpong placement:", plan)
assert plan["node"] == 1 and plan["io_cpus"] == [1] and plan["device"] == "eth0", plan
PY
}

_tcp_node_is_on_node1() {
    local port=7411 serve client ok=0
    "$WEFT" serve --transport tcp --listen "$WEFT_LAB_ADDR:$port" --secret-file "$SECRET" --log-level debug \
        >"$R/tcp-serve.out" 2>"$R/tcp-serve.log" &
    serve=$!
    _wait_for "$R/tcp-serve.out" "listening on" || { _stop $serve; return 1; }
    # A long ping-pong keeps one connection (and its buffers) alive while the checks run.
    "$WEFT" pingpong --transport tcp --connect "$WEFT_LAB_ADDR:$port" --secret-file "$SECRET" \
        --count 2000000 --warmup 0 --timeout 200 --log-level debug >"$R/tcp-client.out" 2>"$R/tcp-client.log" &
    client=$!
    if _wait_for "$R/tcp-serve.log" "numa: tcp receive buffer:" && _wait_for "$R/tcp-client.log" "numa: tcp receive buffer:"; then
        lab_check "weft serve's IO thread weft-serve-0 is pinned to node 1's CPU" _thread_on_cpu1 $serve weft-serve-0
        lab_check "the ping-pong client's IO thread weft-pp-0 is pinned to node 1's CPU" _thread_on_cpu1 $client weft-pp-0
        lab_check "weft serve's TCP send buffer is on node 1" _buffers_on_node1 $serve "$R/tcp-serve.log" "tcp send buffer"
        lab_check "weft serve's TCP receive buffer is on node 1" _buffers_on_node1 $serve "$R/tcp-serve.log" "tcp receive buffer"
        lab_check "the client's TCP buffers are on node 1" _buffers_on_node1 $client "$R/tcp-client.log" "tcp send buffer"
        lab_check "weft pingpong --json records its plan: node 1, CPU 1, eth0" _pingpong_records_its_plan $port
    else
        ok=1
    fi
    _stop $client $serve
    grep -h "placement of" "$R/tcp-serve.log" "$R/tcp-client.log"
    return $ok
}

# TIPC follows its eth0 bearer: a ping-pong (with the peer it starts) keeps a connection
# open while its IO thread and its ring and receive slots are checked.
_tipc_node_is_on_node1() {
    local client ok=0
    "$WEFT" pingpong --transport tipc --secret-file "$SECRET" --count 2000000 --warmup 0 --timeout 200 \
        --log-level debug >"$R/tipc-client.out" 2>"$R/tipc-client.log" &
    client=$!
    if _wait_for "$R/tipc-client.log" "numa: tipc receive slots:"; then
        lab_check "tipc: the ping-pong client's IO thread weft-pp-0 is pinned to node 1's CPU" _thread_on_cpu1 $client weft-pp-0
        lab_check "tipc: the client's send ring is on node 1" _buffers_on_node1 $client "$R/tipc-client.log" "tipc send ring"
        lab_check "tipc: the client's receive slots are on node 1" _buffers_on_node1 $client "$R/tipc-client.log" "tipc receive slots"
    else
        ok=1
    fi
    _stop $client
    return $ok
}

# verbs follows rxe0: a ping-pong (with the peer it starts at the VM's RDMA address)
# keeps its queue pair open while its IO thread and its registered slab are checked.
_verbs_node_is_on_node1() {
    local client ok=0
    "$WEFT" pingpong --transport verbs --secret-file "$SECRET" --count 2000000 --warmup 0 --timeout 200 \
        --log-level debug >"$R/verbs-client.out" 2>"$R/verbs-client.log" &
    client=$!
    if _wait_for "$R/verbs-client.log" "placement of verbs" && _wait_for "$R/verbs-client.log" "numa: verbs slab:"; then
        lab_check "verbs: the ping-pong client's IO thread weft-pp-0 is pinned to node 1's CPU" _thread_on_cpu1 $client weft-pp-0
        lab_check "verbs: the client's registered slab is on node 1" _buffers_on_node1 $client "$R/verbs-client.log" "verbs slab"
    else
        ok=1
    fi
    _stop $client
    return $ok
}

_shm_with_numa_node_1() {
    local name="weft-lab-numa-$$" serve client ok=0
    "$WEFT" serve --transport shm --listen "$name" --numa-node 1 --log-level debug \
        >"$R/shm-serve.out" 2>"$R/shm-serve.log" &
    serve=$!
    _wait_for "$R/shm-serve.out" "listening on" || { _stop $serve; return 1; }
    "$WEFT" pingpong --transport shm --connect "$name" --numa-node 1 --count 2000000 --warmup 0 --timeout 200 \
        --log-level debug >"$R/shm-client.out" 2>"$R/shm-client.log" &
    client=$!
    if _wait_for "$R/shm-client.log" "numa: shm rings:"; then
        lab_check "numa-node 1: weft serve's shm IO thread is on node 1's CPU" _thread_on_cpu1 $serve weft-serve-0
        lab_check "numa-node 1: the shm rings the connector made are on node 1" _buffers_on_node1 $client "$R/shm-client.log" "shm rings"
    else
        ok=1
    fi
    _stop $client $serve
    return $ok
}

lab_run() {
    R=$WEFT_LAB_SUITE_RESULTS
    WEFT=$(lab_binary weft) || return 1
    SECRET=$R/secret
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SECRET" && chmod 600 "$SECRET"
    "$WEFT" info
    # For the record (compared with Tests/NUMASnapshots/lab-numa2): what the reader walks.
    readlink -f "/sys/class/net/$WEFT_LAB_IFACE/device" "/sys/class/infiniband/$WEFT_LAB_RDMA_DEV" 2>&1
    cat "/sys/class/infiniband/$WEFT_LAB_RDMA_DEV/parent" 2>&1
    lab_check "weft info --json: two nodes, eth0 and rxe0 on node 1, tcp, tipc and verbs planned on CPU 1" _info_json_shows_the_topology
    lab_check "taskset -c 0 weft serve --io-cpus 1 fails with one sentence naming the cpuset" _forbidden_cpu_is_one_sentence
    lab_check "a tcp serve/pingpong pair started and logged its buffers" _tcp_node_is_on_node1
    lab_check "an shm serve/pingpong pair with numa-node 1 started and logged its rings" _shm_with_numa_node_1
    lab_check "a tipc pingpong started and logged its buffers" _tipc_node_is_on_node1
    lab_check "a verbs pingpong started and logged its slab" _verbs_node_is_on_node1
    lab_checks_done
}
