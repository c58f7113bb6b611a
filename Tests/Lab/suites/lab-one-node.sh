# shellcheck shell=bash disable=SC2034  # LAB_* are read by scripts/lab-stage
# Lab suite: one VM. Proves the kernel paths Weft's TIPC and verbs
# transports need are real in the lab: AF_TIPC sockets, a Soft-RoCE verbs
# device, unlimited locked memory, a writable results folder.
LAB_NODES=1
LAB_TIMEOUT=120

_tipc_local_roundtrip() {
    /usr/bin/python3 - <<'PY'
import socket
server = socket.socket(socket.AF_TIPC, socket.SOCK_RDM)
server.bind((socket.TIPC_ADDR_NAMESEQ, 18888, 1, 1))
client = socket.socket(socket.AF_TIPC, socket.SOCK_RDM)
client.settimeout(10)
server.settimeout(10)
client.sendto(b"ping", (socket.TIPC_ADDR_NAME, 18888, 1, 0))
data, sender = server.recvfrom(64)
server.sendto(b"pong:" + data, sender)
reply = client.recv(64)
assert reply == b"pong:ping", reply
PY
}

_send_lat_loopback() {
    local out="$WEFT_LAB_SUITE_RESULTS/ib_send_lat-loopback.txt"
    ib_send_lat -d "$WEFT_LAB_RDMA_DEV" -x 1 -n 200 >"$out.server" 2>&1 &
    local server=$!
    lab_wait_tcp_listen 18515 30 &&
        ib_send_lat -d "$WEFT_LAB_RDMA_DEV" -x 1 -n 200 "$WEFT_LAB_ADDR" >"$out" 2>&1
    local rc=$?
    wait "$server" || rc=1
    cat "$out"
    # A result row: message size 2, 200 iterations.
    [ "$rc" = 0 ] && grep -Eq '^ *2 +200 ' "$out"
}

lab_run() {
    lab_check "socket(AF_TIPC, SOCK_RDM) succeeds" \
        /usr/bin/python3 -c 'import socket; socket.socket(socket.AF_TIPC, socket.SOCK_RDM).close()'
    lab_check "a TIPC datagram reaches a bound service name and back" _tipc_local_roundtrip
    lab_check "ibv_devices lists $WEFT_LAB_RDMA_DEV" sh -c "ibv_devices | grep -qw $WEFT_LAB_RDMA_DEV"
    lab_check "$WEFT_LAB_RDMA_DEV has an active port" sh -c "ibv_devinfo -d $WEFT_LAB_RDMA_DEV | grep -q PORT_ACTIVE"
    lab_check "locked memory is unlimited" test "$(ulimit -l)" = unlimited
    lab_check "the results folder is writable" touch "$WEFT_LAB_SUITE_RESULTS/written"
    lab_check "the project folder is reachable at its host path" test -f "$WEFT_LAB_ROOT/scripts/kernel-lab"
    lab_check "ib_send_lat runs over $WEFT_LAB_RDMA_DEV (server and client on this node)" _send_lat_loopback
    lab_checks_done
}
