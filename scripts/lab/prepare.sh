# shellcheck shell=bash
# Kernel lab: host-side preparation (sourced by scripts/kernel-lab).
#
# Installs the host packages the lab needs (only when missing), fetches the
# Debian kernel into the cache (downloaded and extracted, never installed),
# builds the initramfs and decides between KVM and TCG. Everything lands in
# $LAB_CACHE and is reused on the next run.

# Modules the guest loads, in this order. crc32_generic must come before
# rdma_rxe: without it the rxe driver cannot add a device.
LAB_MODULES="crc32_generic virtio_pci virtio_net 9p 9pnet_virtio tipc ib_core ib_uverbs rdma_ucm rdma_rxe veth"

# Host tools (command -> Debian package) the host side needs.
LAB_HOST_TOOLS="qemu-system-x86_64:qemu-system-x86 busybox:busybox-static cpio:cpio depmod:kmod modprobe:kmod"
# Programs the guest runs from the host's root (program -> Debian package).
LAB_GUEST_TOOLS="ip:iproute2 tipc:iproute2 rdma:iproute2 ibv_devices:ibverbs-utils ib_send_lat:perftest numactl:numactl /usr/bin/python3:python3 ss:iproute2"
# Libraries and providers the guest needs (package names, checked with dpkg).
LAB_GUEST_PACKAGES="rdma-core ibverbs-providers librdmacm1"

lab_apt_updated=0

# lab_apt_install PKG... : install Debian packages, running 'apt-get update'
# once if the first attempt fails.
lab_apt_install() {
    command -v apt-get >/dev/null 2>&1 ||
        lab_die "cannot install $* here: apt-get is missing; install them by hand"
    [ "$(id -u)" = 0 ] ||
        lab_die "missing packages: $*; run as root or install them: apt-get install $*"
    lab_note "installing $* (apt-get)"
    if DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends "$@" \
        >"$LAB_CACHE/apt.log" 2>&1; then
        return 0
    fi
    if [ "$lab_apt_updated" = 0 ]; then
        lab_apt_updated=1
        lab_note "apt-get install failed; running apt-get update once"
        timeout 600 apt-get update -q >>"$LAB_CACHE/apt.log" 2>&1 || true
        DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -q --no-install-recommends "$@" \
            >>"$LAB_CACHE/apt.log" 2>&1 && return 0
    fi
    tail -n 15 "$LAB_CACHE/apt.log" >&2
    lab_die "could not install $* (log: $LAB_CACHE/apt.log)"
}

# Make sure host and guest tools are present; install the missing ones.
lab_ensure_packages() {
    local missing="" pair tool pkg
    for pair in $LAB_HOST_TOOLS $LAB_GUEST_TOOLS; do
        tool=${pair%%:*} pkg=${pair#*:}
        if [ "$tool" = qemu-system-x86_64 ] && [ -n "${LAB_QEMU_EXPLICIT:-}" ]; then
            continue
        fi
        # depmod/modprobe live in /sbin, which a user's PATH may lack.
        command -v "$tool" >/dev/null 2>&1 || [ -x "/sbin/$tool" ] || [ -x "/usr/sbin/$tool" ] ||
            missing="$missing $pkg"
    done
    for pkg in $LAB_GUEST_PACKAGES; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' ||
            missing="$missing $pkg"
    done
    # busybox must be the static build: it runs inside the initramfs.
    if command -v busybox >/dev/null 2>&1 && ! lab_is_static "$(command -v busybox)"; then
        missing="$missing busybox-static"
    fi
    missing=$(printf '%s\n' $missing | sort -u | tr '\n' ' ')
    if [ -n "${missing// /}" ]; then
        lab_apt_install $missing
    fi
    LAB_QEMU=${LAB_QEMU:-$(command -v qemu-system-x86_64 || true)}
    [ -n "$LAB_QEMU" ] && [ -x "$LAB_QEMU" ] ||
        lab_die "QEMU (qemu-system-x86_64) is not available${LAB_QEMU:+ at $LAB_QEMU}"
}

lab_is_static() {
    # ldd refuses a static binary ("not a dynamic executable").
    ! ldd "$1" >/dev/null 2>&1
}

lab_sbin() { # lab_sbin TOOL: path of a tool that may live in /sbin
    command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } ||
        { [ -x "/sbin/$1" ] && echo "/sbin/$1"; } || lab_die "$1 is missing"
}

# Resolve the kernel package into LAB_KPKG: what linux-image-amd64 depends
# on, or $WEFT_LAB_KERNEL_PACKAGE.
lab_kernel_package() {
    local pkg=${WEFT_LAB_KERNEL_PACKAGE:-}
    if [ -z "$pkg" ]; then
        pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
            sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
    fi
    if [ -z "$pkg" ] && [ "$lab_apt_updated" = 0 ] && [ "$(id -u)" = 0 ]; then
        lab_apt_updated=1
        lab_note "no kernel package known to apt; running apt-get update once"
        timeout 600 apt-get update -q >"$LAB_CACHE/apt.log" 2>&1 || true
        pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
            sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n 1)
    fi
    [ -n "$pkg" ] || lab_die "cannot find Debian's kernel package (apt-cache depends linux-image-amd64)"
    LAB_KPKG=$pkg
}

# lab_download_deb PKG: the cached .deb of PKG, downloaded if missing.
lab_download_deb() {
    local pkg=$1 deb
    mkdir -p "$LAB_CACHE/debs"
    deb=$(ls "$LAB_CACHE/debs/${pkg}_"*.deb 2>/dev/null | head -n 1)
    if [ -z "$deb" ]; then
        lab_note "downloading $pkg (apt-get download)"
        (cd "$LAB_CACHE/debs" && timeout 900 apt-get download -q "$pkg") >>"$LAB_CACHE/apt.log" 2>&1 ||
            return 1
        deb=$(ls "$LAB_CACHE/debs/${pkg}_"*.deb 2>/dev/null | head -n 1)
    fi
    [ -n "$deb" ] && echo "$deb"
}

# Fetch and extract the kernel. Sets LAB_KVER and LAB_KDIR.
lab_ensure_kernel() {
    local current="$LAB_CACHE/kernel/current"
    if [ -z "${LAB_REFRESH:-}" ] && [ -z "${WEFT_LAB_KERNEL_PACKAGE:-}" ] &&
        [ -L "$current" ] && [ -f "$current/ready" ]; then
        LAB_KDIR=$(cd "$current" && pwd -P)
        LAB_KVER=$(cat "$LAB_KDIR/version")
        return 0
    fi
    local pkg kver deb=""
    lab_kernel_package
    pkg=$LAB_KPKG kver=${LAB_KPKG#linux-image-}
    if [ ! -f "$LAB_CACHE/kernel/$kver/ready" ]; then
        deb=$(lab_download_deb "$pkg") || deb=""
        if [ -z "$deb" ] && [ "$lab_apt_updated" = 0 ] && [ "$(id -u)" = 0 ]; then
            # The mirror may have moved on to a newer kernel: look again.
            lab_apt_updated=1
            lab_note "download failed; running apt-get update once"
            timeout 600 apt-get update -q >>"$LAB_CACHE/apt.log" 2>&1 || true
            lab_kernel_package
            pkg=$LAB_KPKG kver=${LAB_KPKG#linux-image-}
            deb=$(lab_download_deb "$pkg") || deb=""
        fi
        if [ -z "$deb" ] && [ ! -f "$LAB_CACHE/kernel/$kver/ready" ]; then
            tail -n 5 "$LAB_CACHE/apt.log" >&2
            lab_die "apt-get download $pkg failed (log: $LAB_CACHE/apt.log)"
        fi
    fi
    LAB_KDIR="$LAB_CACHE/kernel/$kver"
    LAB_KVER=$kver
    if [ ! -f "$LAB_KDIR/ready" ]; then
        lab_note "extracting $pkg into the cache"
        rm -rf "$LAB_KDIR.tmp"
        mkdir -p "$LAB_KDIR.tmp/root"
        dpkg -x "$deb" "$LAB_KDIR.tmp/root" || lab_die "dpkg -x $deb failed"
        [ -f "$LAB_KDIR.tmp/root/boot/vmlinuz-$kver" ] || lab_die "$deb has no boot/vmlinuz-$kver"
        "$(lab_sbin depmod)" -b "$LAB_KDIR.tmp/root" "$kver" || lab_die "depmod failed"
        cp "$LAB_KDIR.tmp/root/boot/vmlinuz-$kver" "$LAB_KDIR.tmp/vmlinuz"
        # Keep only the modules the lab loads (and what they depend on).
        local m line ko mods=""
        for m in $LAB_MODULES; do
            while read -r line; do
                case $line in
                    insmod\ *) ko=${line#insmod }; ko=${ko%% *}; mods="$mods ${ko#"$LAB_KDIR.tmp/root/"}" ;;
                esac
            done < <("$(lab_sbin modprobe)" -d "$LAB_KDIR.tmp/root" -S "$kver" --show-depends "$m" 2>&1 ||
                lab_die "module $m not found in $pkg")
        done
        mkdir -p "$LAB_KDIR.tmp/modroot/lib/modules/$kver"
        for ko in $(printf '%s\n' $mods | sort -u); do
            mkdir -p "$LAB_KDIR.tmp/modroot/$(dirname "$ko")"
            cp "$LAB_KDIR.tmp/root/$ko" "$LAB_KDIR.tmp/modroot/$ko"
        done
        cp "$LAB_KDIR.tmp/root/lib/modules/$kver/modules.builtin"* \
            "$LAB_KDIR.tmp/root/lib/modules/$kver/modules.order" \
            "$LAB_KDIR.tmp/modroot/lib/modules/$kver/" 2>/dev/null || true
        "$(lab_sbin depmod)" -b "$LAB_KDIR.tmp/modroot" "$kver" || lab_die "depmod failed"
        rm -rf "$LAB_KDIR.tmp/root"
        echo "$kver" >"$LAB_KDIR.tmp/version"
        echo "$LAB_MODULES" >"$LAB_KDIR.tmp/modules"
        touch "$LAB_KDIR.tmp/ready"
        rm -rf "$LAB_KDIR"
        mv "$LAB_KDIR.tmp" "$LAB_KDIR"
    fi
    ln -sfn "$kver" "$current"
}

# Build the initramfs: static busybox, the modules and the lab's /init.
# Its name carries a hash of its inputs so an edited init.sh rebuilds it.
lab_ensure_initrd() {
    local busybox
    busybox=$(command -v busybox) || lab_die "busybox is missing"
    local key
    key=$( { cat "$LAB_DIR/init.sh"; echo "$LAB_KVER $LAB_MODULES"; sha256sum "$busybox"; } |
        sha256sum | cut -c1-12)
    LAB_INITRD="$LAB_CACHE/initrd/initrd-$LAB_KVER-$key.gz"
    [ -f "$LAB_INITRD" ] && return 0
    lab_note "building the initramfs"
    local tree="$LAB_CACHE/initrd/tree.$$"
    rm -rf "$tree"
    mkdir -p "$tree"/{bin,dev,proc,sys,ctl,host,hosttmp,hostrun,results} "$tree/lib/modules"
    cp "$busybox" "$tree/bin/busybox"
    local applet
    for applet in $("$busybox" --list); do
        [ "$applet" = busybox ] || ln -s busybox "$tree/bin/$applet"
    done
    cp -a "$LAB_KDIR/modroot/lib/modules/$LAB_KVER" "$tree/lib/modules/"
    install -m 0755 "$LAB_DIR/init.sh" "$tree/init"
    mkdir -p "$tree/etc"
    echo "$LAB_MODULES" >"$tree/etc/lab-modules"
    (cd "$tree" && find . -print0 | LC_ALL=C sort -z |
        cpio --null -o -H newc --quiet | gzip -1) >"$LAB_INITRD.tmp" || lab_die "cpio failed"
    mv "$LAB_INITRD.tmp" "$LAB_INITRD"
    rm -rf "$tree"
    # Old initramfs builds of this kernel are of no further use.
    find "$LAB_CACHE/initrd" -name 'initrd-*.gz' ! -path "$LAB_INITRD" -delete 2>/dev/null || true
}

# Decide the accelerator. KVM only if /dev/kvm is usable and a probe boot
# answers within a short time; the verdict is cached per host kernel and QEMU.
lab_choose_accel() {
    case ${LAB_ACCEL:-auto} in
        tcg) LAB_ACCEL=tcg; return 0 ;;
        kvm) LAB_ACCEL=kvm; return 0 ;;
        auto) ;;
        *) lab_die "--accel must be auto, kvm or tcg (got '$LAB_ACCEL')" ;;
    esac
    if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
        LAB_ACCEL=tcg
        return 0
    fi
    local key verdict_file
    key="$(uname -r) $("$LAB_QEMU" --version | head -n 1) $LAB_KVER"
    verdict_file="$LAB_CACHE/accel-probe"
    if [ -f "$verdict_file" ] && [ "$(sed -n 1p "$verdict_file")" = "$key" ]; then
        LAB_ACCEL=$(sed -n 2p "$verdict_file")
        return 0
    fi
    lab_note "probing KVM (at most ${LAB_KVM_PROBE_TIMEOUT}s)"
    local log="$LAB_CACHE/accel-probe.log"
    rm -f "$log"
    # The subshell keeps bash's own "Aborted" report of a crashed probe quiet.
    (timeout -k 2 "$LAB_KVM_PROBE_TIMEOUT" "$LAB_QEMU" -nodefaults -no-user-config \
        -machine pc,accel=kvm -cpu host -m 256 -smp 1 -display none -no-reboot \
        -serial "file:$log" -kernel "$LAB_KDIR/vmlinuz" -initrd "$LAB_INITRD" \
        -append "console=ttyS0 panic=-1 loglevel=1 weft.probe=1" </dev/null >/dev/null 2>&1
        exit 0) 2>/dev/null
    if grep -q 'WEFT-LAB-PROBE-OK' "$log" 2>/dev/null; then
        LAB_ACCEL=kvm
    else
        LAB_ACCEL=tcg
        lab_note "KVM does not work here; using TCG (software emulation)"
    fi
    printf '%s\n%s\n' "$key" "$LAB_ACCEL" >"$verdict_file"
}

# Everything a run needs, under a lock so parallel runs share one cache.
lab_prepare() {
    mkdir -p "$LAB_CACHE"
    exec {lab_lock_fd}>"$LAB_CACHE/.lock"
    flock "$lab_lock_fd"
    lab_ensure_packages
    lab_ensure_kernel
    lab_ensure_initrd
    lab_choose_accel
    flock -u "$lab_lock_fd"
    exec {lab_lock_fd}>&-
}
