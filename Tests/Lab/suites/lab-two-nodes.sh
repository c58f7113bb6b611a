# shellcheck shell=bash disable=SC2034  # LAB_* are read by scripts/lab-stage
# Lab suite: two VMs on one virtual link. Proves they are TIPC nodes of one
# cluster, exchange TIPC datagrams, and run verbs traffic between their
# Soft-RoCE devices.
LAB_NODES=2
LAB_TIMEOUT=150

_peer() { echo $((3 - WEFT_LAB_NODE)); }

_tipc_peer_up() {
    tipc node list
    tipc node list | awk -v peer="node$(_peer)" '$1 == peer && $NF == "up" { found = 1 } END { exit !found }'
}

_tipc_link_up() {
    tipc link list
    tipc link list | grep -q "node$(_peer):.*: up"
}

# Node 1 serves the name {18889, 1}; node 2 sends to it and waits for the reply.
_tipc_roundtrip() {
    local rc=0
    if [ "$WEFT_LAB_NODE" = 1 ]; then
        /usr/bin/python3 - "$WEFT_LAB_SUITE_RESULTS/tipc-bound" <<'PY' &
import socket, sys
server = socket.socket(socket.AF_TIPC, socket.SOCK_RDM)
server.bind((socket.TIPC_ADDR_NAMESEQ, 18889, 1, 1))
open(sys.argv[1], "w").close()
server.settimeout(60)
data, sender = server.recvfrom(64)
server.sendto(b"pong:" + data, sender)
PY
        local server=$!
        lab_barrier tipc-bound 60 || rc=1
        wait "$server" || rc=1
    else
        lab_barrier tipc-bound 60 || rc=1
        /usr/bin/python3 - <<'PY' || rc=1
import socket, time
client = socket.socket(socket.AF_TIPC, socket.SOCK_RDM)
client.settimeout(1)
deadline = time.monotonic() + 30
while True:
    try:
        # The name reaches this node's table a moment after the bind.
        client.sendto(b"ping", (socket.TIPC_ADDR_NAME, 18889, 1, 0))
        reply = client.recv(64)
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.2)
assert reply == b"pong:ping", reply
PY
    fi
    return "$rc"
}

# ib_send_lat server on node 1, client on node 2, RoCE v2 (GID index 1).
_send_lat_pair() {
    local out="$WEFT_LAB_SUITE_RESULTS/ib_send_lat.node$WEFT_LAB_NODE.txt" rc=0
    if [ "$WEFT_LAB_NODE" = 1 ]; then
        ib_send_lat -d "$WEFT_LAB_RDMA_DEV" -x 1 -n 200 >"$out" 2>&1 &
        local server=$!
        lab_wait_tcp_listen 18515 30 || rc=1
        lab_barrier lat-server 60 || rc=1
        wait "$server" || rc=1
    else
        lab_barrier lat-server 60 || rc=1
        ib_send_lat -d "$WEFT_LAB_RDMA_DEV" -x 1 -n 200 "$(lab_peer_addr 1)" >"$out" 2>&1 || rc=1
    fi
    cat "$out"
    [ "$rc" = 0 ] && grep -Eq '^ *2 +200 ' "$out"
}

lab_run() {
    lab_check "tipc node list shows node$(_peer) up" _tipc_peer_up
    lab_check "a TIPC link to node$(_peer) is up" _tipc_link_up
    lab_check "a TIPC datagram crosses the link and back" _tipc_roundtrip
    lab_check "ib_send_lat runs between the two VMs" _send_lat_pair
    lab_checks_done
}
