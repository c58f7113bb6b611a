# shellcheck shell=bash disable=SC2034  # LAB_* are read by scripts/lab-stage
# Lab suite: a VM with two NUMA nodes, one CPU and its own memory each, and
# the NIC on node 1. The guest's sysfs shows a virtio NIC's node on its PCI
# function, one level above the virtio device.
LAB_NODES=1
LAB_NUMA=2
LAB_TIMEOUT=60

_node_cpus() { test "$(cat /sys/devices/system/node/node$1/cpulist)" = "$2"; }
_node_has_memory() {
    awk '/MemTotal/ { exit !($4 > 0) }' "/sys/devices/system/node/node$1/meminfo"
}
_nic_node() {
    local f="/sys/class/net/$WEFT_LAB_IFACE/device/../numa_node"
    echo "NIC $WEFT_LAB_IFACE: numa_node $(cat "$f")"
    test "$(cat "$f")" = 1
}

lab_run() {
    numactl --hardware
    lab_check "numactl --hardware shows two nodes" sh -c 'numactl --hardware | grep -q "^available: 2 nodes"'
    lab_check "node 0 has CPU 0 only" _node_cpus 0 0
    lab_check "node 1 has CPU 1 only" _node_cpus 1 1
    lab_check "node 0 has memory" _node_has_memory 0
    lab_check "node 1 has memory" _node_has_memory 1
    lab_check "the NIC sits on node 1" _nic_node
    lab_check "a process can bind to node 1's CPU and memory" numactl --cpunodebind=1 --membind=1 true
    lab_checks_done
}
