#!/bin/sh
# /init of the kernel lab's initramfs. Runs as PID 1 under busybox sh.
#
# It loads the lab's modules, mounts the host's root (read-only) and the
# run folder (writable) over 9p, puts the usual pseudo file systems and a
# private /tmp and /run in place, then chroots into the host's root and runs
# the run folder's guest.sh. The outcome is reported through files in the
# run folder (booted, error, exit): the host never trusts QEMU's exit status,
# which is 0 after a clean power-off and after a kernel panic alike.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/null >/dev/console 2>&1

node=1 probe=0 msize=262144 rootcache=loose
for arg in $(cat /proc/cmdline); do
    case $arg in
        weft.node=*) node=${arg#*=} ;;
        weft.probe=1) probe=1 ;;
        weft.msize=*) msize=${arg#*=} ;;
        weft.rootcache=*) rootcache=${arg#*=} ;;
    esac
done

stop() {
    sync
    poweroff -f
    sleep 30
}
status=""
fail() {
    echo "kernel-lab guest node $node: error: $*"
    [ -n "$status" ] && echo "$*" >"$status/error"
    stop
}

if [ "$probe" = 1 ]; then
    echo "WEFT-LAB-PROBE-OK"
    stop
fi

# shellcheck disable=SC2046
modprobe -a $(cat /etc/lab-modules) || fail "cannot load the kernel modules"

opts="trans=virtio,version=9p2000.L,msize=$msize"
mount -t 9p -o "$opts,cache=mmap" weftrun /ctl || fail "cannot mount the run folder (9p)"
[ -f /ctl/lab.env ] || fail "the run folder has no lab.env"
. /ctl/lab.env
status=/ctl/node$node
mkdir -p "$status"
echo "$(cut -d' ' -f1 /proc/uptime)" >"$status/booted"

mount -t 9p -o "$opts,ro,cache=$rootcache" hostroot /host || fail "cannot mount the host's root (9p)"
# Keep a view of the host's /tmp and /run before private ones cover them.
mount --bind /host/tmp /hosttmp 2>/dev/null
mount --bind /host/run /hostrun 2>/dev/null
mount -t proc proc /host/proc || fail "cannot mount /proc"
mount -t sysfs sysfs /host/sys || fail "cannot mount /sys"
mount -t devtmpfs devtmpfs /host/dev || fail "cannot mount /dev"
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts devpts /host/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /host/dev/shm
mount -t tmpfs -o mode=1777 tmpfs /host/tmp || fail "cannot mount /tmp"
mount -t tmpfs -o mode=0755 tmpfs /host/run || fail "cannot mount /run"

# Host folders under /tmp or /run that the command needs (the project,
# the current folder) come back at their own paths.
IFS=:
for p in $WEFT_LAB_KEEP; do
    case $p in
        /tmp/*) src=/hosttmp/${p#/tmp/} ;;
        /run/*) src=/hostrun/${p#/run/} ;;
        *) continue ;;
    esac
    mkdir -p "/host$p" && mount --bind "$src" "/host$p" || fail "cannot bring back $p"
done
unset IFS

# The run folder, the results folder and extra writable folders, each at
# the path it has on the host.
mkdir -p "/host$WEFT_LAB_RUN" && mount --bind /ctl "/host$WEFT_LAB_RUN" ||
    fail "cannot mount the run folder at $WEFT_LAB_RUN"
i=0
while [ "$i" -lt "${WEFT_LAB_SHARES:-0}" ]; do
    eval "p=\$WEFT_LAB_SHARE_$i"
    mkdir -p "/host$p" && mount -t 9p -o "$opts,cache=mmap" "weftrw$i" "/host$p" ||
        fail "cannot mount writable folder $p"
    i=$((i + 1))
done

hostname "weft-lab-$node"
WEFT_LAB_NODE=$node chroot /host /bin/bash "$WEFT_LAB_RUN/guest.sh"
rc=$?
echo "$rc" >"$status/exit"
stop
