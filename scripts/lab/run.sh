# shellcheck shell=bash disable=SC2034  # variables shared with scripts/kernel-lab
# Kernel lab: boot the nodes, stream their consoles, watch them, judge the
# outcome (sourced by scripts/kernel-lab after lab_prepare).
#
# Outcome rules: a node's command status is what the guest wrote to
# nodeN/exit after the command; nodeN/error means the lab could not set the
# node up. QEMU's own exit status says nothing (0 after a guest panic too).

# Ports in use on the host (UDP, IPv4 and IPv6), one per line.
lab_used_udp_ports() {
    local _ local_addr _rest
    cat /proc/net/udp /proc/net/udp6 2>/dev/null | while read -r _ local_addr _rest; do
        case $local_addr in *:*) echo $((16#${local_addr##*:})) ;; esac
    done
}

# lab_pick_ports COUNT: COUNT distinct UDP ports that are free right now,
# in LAB_PORTS. A port taken between now and QEMU's bind makes QEMU fail
# at once; lab_run then retries with new ports.
lab_pick_ports() {
    local used p
    used=" $(lab_used_udp_ports | tr '\n' ' ') "
    LAB_PORTS=()
    while [ "${#LAB_PORTS[@]}" -lt "$1" ]; do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 30000))
        [[ $used == *" $p "* ]] && continue
        used="$used$p "
        LAB_PORTS+=("$p")
    done
}

# Write the run folder: lab.env (read by /init and guest.sh), the command,
# the user's environment and guest.sh itself.
lab_write_run_folder() {
    local run=$1
    shift
    mkdir -p "$run"
    local i
    for ((i = 1; i <= LAB_NODES; i++)); do mkdir -p "$run/node$i"; done
    cp "$LAB_DIR/guest.sh" "$run/guest.sh"
    printf '%s\0' "$@" >"$run/command"

    local keep="$REPO_ROOT:$PWD"
    {
        echo "WEFT_LAB_RUN=$(lab_quote "$run")"
        echo "WEFT_LAB_RESULTS=$(lab_quote "$LAB_RESULTS")"
        echo "WEFT_LAB_ROOT=$(lab_quote "$REPO_ROOT")"
        echo "WEFT_LAB_CWD=$(lab_quote "$PWD")"
        echo "WEFT_LAB_NODES=$LAB_NODES"
        echo "WEFT_LAB_NUMA=$LAB_NUMA"
        echo "WEFT_LAB_NET=192.168.100"
        echo "WEFT_LAB_PATH=$(lab_quote "$PATH")"
        echo "WEFT_LAB_WAIT_PEERS=$LAB_WAIT_PEERS"
        echo "WEFT_LAB_PEER_TIMEOUT=$LAB_PEER_TIMEOUT"
        echo "WEFT_LAB_KEEP=$(lab_quote "$keep")"
        echo "WEFT_LAB_SHARES=${#LAB_SHARES[@]}"
        for i in "${!LAB_SHARES[@]}"; do
            echo "WEFT_LAB_SHARE_$i=$(lab_quote "${LAB_SHARES[$i]}")"
        done
    } >"$run/lab.env"
    : >"$run/env"
    local kv
    for kv in "${LAB_ENV[@]}"; do
        echo "export ${kv%%=*}=$(lab_quote "${kv#*=}")" >>"$run/env"
    done
}

# QEMU arguments for node $1, in LAB_QEMU_ARGS.
lab_qemu_args() {
    local node=$1 cpu=max
    [ "$LAB_ACCEL" = kvm ] && cpu=host
    local smp=$LAB_CPUS
    [ "$LAB_NUMA" -gt 0 ] && smp=$LAB_NUMA
    LAB_QEMU_ARGS=(
        -nodefaults -no-user-config -display none -no-reboot
        -machine "pc,accel=$LAB_ACCEL" -cpu "$cpu" -m "$LAB_MEM" -smp "$smp"
        -serial stdio
        -kernel "$LAB_KDIR/vmlinuz" -initrd "$LAB_INITRD"
        -append "console=ttyS0 panic=-1 loglevel=3 mitigations=off weft.node=$node${WEFT_LAB_APPEND:+ $WEFT_LAB_APPEND}"
        -virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
        -virtfs "local,path=$LAB_RUN,mount_tag=weftrun,security_model=none,multidevs=remap"
    )
    local i
    for i in "${!LAB_SHARES[@]}"; do
        LAB_QEMU_ARGS+=(-virtfs "local,path=${LAB_SHARES[$i]},mount_tag=weftrw$i,security_model=none,multidevs=remap")
    done
    local nic_bus=""
    if [ "$LAB_NUMA" -gt 0 ]; then
        local per=$((LAB_MEM / LAB_NUMA)) n
        for ((n = 0; n < LAB_NUMA; n++)); do
            LAB_QEMU_ARGS+=(-object "memory-backend-ram,id=m$n,size=${per}M"
                -numa "node,nodeid=$n,cpus=$n,memdev=m$n")
        done
        # An expander bridge on NUMA node 1 carries the NIC.
        LAB_QEMU_ARGS+=(-device "pxb,id=bridge1,bus_nr=4,numa_node=1,bus=pci.0")
        nic_bus=",bus=bridge1"
    fi
    case $LAB_NODES in
        1) LAB_QEMU_ARGS+=(-netdev "hubport,id=n0,hubid=0") ;;
        2) LAB_QEMU_ARGS+=(-netdev "socket,id=n0,udp=127.0.0.1:${LAB_PORTS[$((2 - node))]},localaddr=127.0.0.1:${LAB_PORTS[$((node - 1))]}") ;;
        *) LAB_QEMU_ARGS+=(-netdev "socket,id=n0,udp=127.0.0.1:${LAB_PORTS[$LAB_NODES]},localaddr=127.0.0.1:${LAB_PORTS[$((node - 1))]}") ;;
    esac
    LAB_QEMU_ARGS+=(-device "virtio-net-pci,netdev=n0,mac=52:54:00:00:00:$(printf %02x "$node")$nic_bus")
}

# Process groups and helper processes to end on exit.
LAB_PGIDS=()
LAB_READERS=()
LAB_HUB_PID=""

lab_stop_all() {
    local p
    for p in "${LAB_PGIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
    [ -z "$LAB_HUB_PID" ] || kill -TERM "$LAB_HUB_PID" 2>/dev/null || true
}

lab_cleanup() {
    lab_stop_all
    local p
    for p in "${LAB_PGIDS[@]}"; do
        # Give QEMU a moment, then make sure.
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 -- "-$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$p" 2>/dev/null || true
    done
    for p in "${LAB_READERS[@]}"; do wait "$p" 2>/dev/null || true; done
    [ -z "${LAB_RUN:-}" ] || rm -f "$LAB_RUN"/node*/console.fifo
    LAB_PGIDS=() LAB_READERS=() LAB_HUB_PID=""
}

# Console clean-up: carriage returns, QEMU's note that the single node's
# NIC leads nowhere (on purpose), the kernel's power-off line.
LAB_CONSOLE_FILTER='s/\r//g; /hub 0 is not connected to host network/d; /^qemu-system-[a-z0-9_]*: terminating on signal/d; s/\[ *[0-9.]*\] reboot: Power down$//; /^$/d'

# Start node $1's QEMU with its console streamed to stdout (prefixed with
# the node's name when there are several) and kept in nodeN/console.log.
lab_start_node() {
    local node=$1 dir="$LAB_RUN/node$1"
    lab_qemu_args "$node"
    rm -f "$dir/console.fifo" "$dir/console.log"
    mkfifo "$dir/console.fifo"
    # Keep the original stdout open (not reopened by name: that would
    # truncate it when it is a file).
    local prefix=""
    [ "$LAB_NODES" -gt 1 ] && prefix="[node$node] "
    if [ -n "$LAB_QUIET" ]; then
        sed -u "$LAB_CONSOLE_FILTER" <"$dir/console.fifo" >>"$dir/console.log" &
    else
        sed -u "$LAB_CONSOLE_FILTER" <"$dir/console.fifo" | tee -a "$dir/console.log" |
            sed -u "s/^/$prefix/" &
    fi
    LAB_READERS+=($!)
    lab_verbose "node $node: $LAB_QEMU ${LAB_QEMU_ARGS[*]}"
    # setsid gives QEMU and its time-out wrapper their own process group.
    setsid timeout -k 5 "$LAB_HARD_LIMIT" "$LAB_QEMU" "${LAB_QEMU_ARGS[@]}" \
        </dev/null >"$dir/console.fifo" 2>&1 &
    LAB_QEMU_PID[$node]=$!
    LAB_PGIDS+=($!)
}

# Why node $1 ended without a status: panic, QEMU error or a silent stop.
lab_diagnose() {
    local node=$1 log="$LAB_RUN/node$1/console.log" qrc=${2:-}
    if grep -q 'Kernel panic' "$log" 2>/dev/null; then
        echo "guest kernel panic: $(grep -m1 'Kernel panic' "$log" | sed 's/^\[[^]]*\] *//')"
    elif [ -n "$qrc" ] && [ "$qrc" != 0 ]; then
        echo "QEMU failed (exit $qrc): $(grep -v '^\s*$' "$log" 2>/dev/null | tail -n 1)"
    else
        echo "the guest stopped without reporting the command's status"
    fi
}

# One attempt at the run. Returns 0 with LAB_RC set, or 3 when QEMU could
# not bind its UDP port (the caller retries with new ports).
lab_attempt() {
    local nodes=$LAB_NODES i
    LAB_PGIDS=() LAB_READERS=() LAB_HUB_PID="" LAB_QEMU_PID=()
    rm -f "$LAB_RUN"/node*/{booted,started,done,exit,error}
    if [ "$nodes" -gt 1 ]; then
        lab_pick_ports $((nodes + 1))
        if [ "$nodes" -gt 2 ]; then
            python3 "$LAB_DIR/hub.py" "${LAB_PORTS[$nodes]}" "$LAB_HARD_LIMIT" \
                "${LAB_PORTS[@]:0:$nodes}" &
            LAB_HUB_PID=$!
        fi
        lab_verbose "UDP ports on 127.0.0.1: ${LAB_PORTS[*]}"
    fi
    # Times in microseconds.
    local t0=${EPOCHREALTIME/./} sec=1000000
    for ((i = 1; i <= nodes; i++)); do lab_start_node "$i"; done

    local -a state started_at
    local now verdict="" timed_out="" failed_node="" grace_until=""
    for ((i = 1; i <= nodes; i++)); do state[i]=booting; done
    while :; do
        now=${EPOCHREALTIME/./}
        local running=0
        for ((i = 1; i <= nodes; i++)); do
            local dir="$LAB_RUN/node$i"
            case ${state[i]} in booting | running) ;; *) continue ;; esac
            if [ -f "$dir/error" ]; then
                state[i]=error
                verdict="node $i: $(cat "$dir/error")"
                continue
            fi
            if [ "${state[i]}" = booting ] && [ -f "$dir/started" ]; then
                state[i]=running
                started_at[i]=$now
                local ds=$(((now - t0) / 100000))
                lab_verbose "node $i: command started after $((ds / 10)).$((ds % 10))s"
            fi
            if [ -f "$dir/done" ] && [ "$(cat "$dir/done")" != 0 ] && [ -z "$failed_node" ]; then
                failed_node=$i
                grace_until=$((now + LAB_GRACE * sec))
            fi
            if ! kill -0 "${LAB_QEMU_PID[i]}" 2>/dev/null; then
                local qrc=0
                wait "${LAB_QEMU_PID[i]}" || qrc=$?
                if [ -f "$dir/exit" ]; then
                    state[i]=exited
                elif [ -f "$dir/error" ]; then
                    state[i]=error
                    verdict="node $i: $(cat "$dir/error")"
                elif [ ! -f "$dir/booted" ] && grep -q 'Address already in use' "$dir/console.log" 2>/dev/null; then
                    lab_stop_all
                    lab_cleanup
                    return 3
                else
                    state[i]=no-status
                    verdict="node $i: $(lab_diagnose "$i" "$qrc")"
                fi
                continue
            fi
            running=$((running + 1))
            if [ "${state[i]}" = booting ] && ((now - t0 > LAB_BOOT_TIMEOUT * sec)); then
                if [ -f "$dir/booted" ]; then
                    verdict="node $i: the command did not start within ${LAB_BOOT_TIMEOUT}s (--boot-timeout): the guest booted but its set-up did not finish"
                else
                    verdict="node $i: boot did not reach the command within ${LAB_BOOT_TIMEOUT}s (--boot-timeout)"
                fi
                state[i]=boot-timeout
            elif [ "${state[i]}" = running ] && [ ! -f "$dir/done" ] &&
                ((now - started_at[i] > LAB_TIMEOUT * sec)); then
                timed_out="node $i: the command ran past ${LAB_TIMEOUT}s (--timeout)"
                state[i]=timeout
            fi
        done
        if [ -n "$verdict" ] || [ -n "$timed_out" ]; then
            break
        fi
        [ "$running" = 0 ] && break
        if [ -n "$grace_until" ] && ((now > grace_until)); then
            lab_note "node $failed_node failed; stopping the other nodes after ${LAB_GRACE}s (--grace)"
            break
        fi
        sleep 0.2
    done
    lab_stop_all
    lab_cleanup

    # Verdict: lab failures first, then a time-out, then the first
    # non-zero command status, else 0.
    local summary="" rc_all=0 st
    for ((i = 1; i <= nodes; i++)); do
        local dir="$LAB_RUN/node$i"
        if [ -f "$dir/exit" ]; then
            st=$(cat "$dir/exit")
        elif [ -f "$dir/done" ]; then
            st=$(cat "$dir/done")
        else
            st=""
        fi
        if [ -n "$st" ]; then
            summary="$summary node$i=exit:$st"
            [ "$rc_all" = 0 ] && [ "$st" != 0 ] && rc_all=$st
        else
            summary="$summary node$i=${state[i]}"
        fi
    done
    local took=$(((${EPOCHREALTIME/./} - t0) / 100000))
    LAB_SUMMARY="${summary# } ($LAB_ACCEL, $((took / 10)).$((took % 10))s)"
    if [ -n "$verdict" ]; then
        echo "kernel-lab: error: $verdict" >&2
        for ((i = 1; i <= nodes; i++)); do
            if [ -n "$LAB_QUIET" ] && [ -s "$LAB_RUN/node$i/console.log" ]; then
                echo "kernel-lab: last console lines of node $i:" >&2
                tail -n 15 "$LAB_RUN/node$i/console.log" | sed 's/^/    /' >&2
            fi
        done
        LAB_RC=$LAB_EXIT_LAB
    elif [ -n "$timed_out" ]; then
        echo "kernel-lab: error: $timed_out" >&2
        LAB_RC=$LAB_EXIT_TIMEOUT
    else
        for ((i = 1; i <= nodes; i++)); do
            [ -n "$failed_node" ] && [ "${state[i]}" = running ] && [ ! -f "$LAB_RUN/node$i/done" ] &&
                lab_note "node $i was stopped after node $failed_node failed"
        done
        LAB_RC=$rc_all
    fi
    return 0
}

lab_run() {
    lab_write_run_folder "$LAB_RUN" "$@"
    # Past this limit QEMU is killed whatever the watcher does.
    LAB_HARD_LIMIT=$((LAB_BOOT_TIMEOUT + LAB_TIMEOUT + LAB_GRACE + 30))
    trap 'lab_cleanup' EXIT
    trap 'lab_cleanup; exit 130' INT
    trap 'lab_cleanup; exit 143' TERM HUP
    local tries=0 r
    while :; do
        r=0
        lab_attempt || r=$?
        [ "$r" = 3 ] || break
        tries=$((tries + 1))
        [ "$tries" -lt 3 ] || lab_die "QEMU could not bind a UDP port on 127.0.0.1 (3 tries)"
        lab_note "a UDP port was taken; retrying with other ports"
    done
    lab_note "$LAB_SUMMARY"
    [ -z "$(ls -A "$LAB_RESULTS" 2>/dev/null)" ] || lab_note "results: $LAB_RESULTS"
    return 0
}
