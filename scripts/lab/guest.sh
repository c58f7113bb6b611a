#!/bin/bash
# Runs inside a lab guest, chrooted into the host's root (read-only), as
# root. Brings up the node's network, TIPC and Soft-RoCE device, then runs
# the command with the lab's environment and reports through the run folder.
#
# Files in the run folder ($WEFT_LAB_RUN/nodeN/): error (the lab could not
# set the node up), started (the command started), and, written by /init,
# exit (the command's status).
set -u
run_dir=$(dirname "$(readlink -f "$0")")
# shellcheck source=/dev/null
. "$run_dir/lab.env"
node=${WEFT_LAB_NODE:?}
status="$run_dir/node$node"

setup_failed() {
    echo "kernel-lab guest node $node: error: $*" >&2
    echo "$*" >"$status/error"
    exit 125
}

export PATH="$WEFT_LAB_PATH" HOME=/root TERM=dumb LANG=C.UTF-8 TMPDIR=/tmp
export WEFT_LAB=1 WEFT_LAB_NODE="$node" WEFT_LAB_NODES WEFT_LAB_NUMA WEFT_LAB_RUN WEFT_LAB_RESULTS WEFT_LAB_ROOT
export WEFT_LAB_IFACE="" WEFT_LAB_ADDR="$WEFT_LAB_NET.$node" WEFT_LAB_PREFIX=24
export WEFT_LAB_RDMA_DEV=rxe0 WEFT_LAB_TIPC_ID="node$node"

ip link set lo up || setup_failed "cannot bring up lo"
for dev in /sys/class/net/*; do
    dev=${dev##*/}
    [ "$dev" = lo ] && continue
    [ -e "/sys/class/net/$dev/device" ] || continue
    WEFT_LAB_IFACE=$dev
    break
done
[ -n "$WEFT_LAB_IFACE" ] || setup_failed "no network interface"
ip link set "$WEFT_LAB_IFACE" up &&
    ip addr add "$WEFT_LAB_ADDR/$WEFT_LAB_PREFIX" dev "$WEFT_LAB_IFACE" ||
    setup_failed "cannot configure $WEFT_LAB_IFACE"
tipc node set identity "$WEFT_LAB_TIPC_ID" &&
    tipc bearer enable media eth dev "$WEFT_LAB_IFACE" ||
    setup_failed "cannot set up TIPC on $WEFT_LAB_IFACE"
rdma link add "$WEFT_LAB_RDMA_DEV" type rxe netdev "$WEFT_LAB_IFACE" ||
    setup_failed "cannot add the Soft-RoCE device $WEFT_LAB_RDMA_DEV"
ulimit -l unlimited || setup_failed "cannot lift the locked-memory limit"

# With several nodes, start the command only once every peer is a TIPC node
# that is up: then the link works for TIPC and for RoCE alike.
if [ "$WEFT_LAB_NODES" -gt 1 ] && [ "$WEFT_LAB_WAIT_PEERS" = 1 ]; then
    deadline=$((SECONDS + WEFT_LAB_PEER_TIMEOUT))
    while :; do
        # The list shows the peers, not this node.
        up=$(tipc node list 2>/dev/null | awk '$NF == "up" { n++ } END { print n + 0 }')
        [ "$up" -ge $((WEFT_LAB_NODES - 1)) ] && break
        [ "$SECONDS" -ge "$deadline" ] &&
            setup_failed "only $up of $((WEFT_LAB_NODES - 1)) TIPC peers up after ${WEFT_LAB_PEER_TIMEOUT}s"
        sleep 0.25
    done
fi

# The user's environment (--env) comes last.
# shellcheck source=/dev/null
[ -f "$run_dir/env" ] && . "$run_dir/env"

cd "$WEFT_LAB_CWD" 2>/dev/null || cd "$WEFT_LAB_ROOT" || cd /
mapfile -d '' cmd <"$run_dir/command"
cut -d' ' -f1 /proc/uptime >"$status/started"
"${cmd[@]}"
rc=$?

# Stay up until every node's command has ended: a server must not vanish
# under a client that is still talking to it. The host ends the wait if a
# peer never finishes.
echo "$rc" >"$status/done"
if [ "$WEFT_LAB_NODES" -gt 1 ]; then
    while :; do
        all=1
        for ((i = 1; i <= WEFT_LAB_NODES; i++)); do
            [ -f "$run_dir/node$i/done" ] || [ -f "$run_dir/node$i/error" ] || { all=0; break; }
        done
        [ "$all" = 1 ] && break
        sleep 0.25
    done
fi
exit "$rc"
