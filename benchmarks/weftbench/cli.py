"""The command line: the arguments, the lines about the machine, the run, and
the report."""

import argparse
import datetime
import os
import platform
import shutil
import sys

from .actor_report import print_actor_lines
from .floor import Floor
from .machine import CPUAccount, cpu_model, machine_state
from .measurements import mark_disturbed, plan_cells, run_plan
from .peers import versions
from .report import print_footer, print_table, summarize, write_json
from .rows import LABELS, selected
from .settings import CLIENT_CPU, SERVER_CPU, WEFT_BINARY
from .weft import weft_identity


def main():
    parser = argparse.ArgumentParser(
        prog="benchmarks/compare",
        description="Weft against UCX, libfabric, sockperf and the cache-line floor, "
                    "pinned to CPU 0 and 1, medians of several runs.")
    parser.add_argument("--quick", action="store_true", help="one repetition instead of three")
    parser.add_argument("--repetitions", type=int, metavar="N",
                        help="N repetitions (default 3; the issues' targets use 5)")
    parser.add_argument("--rows", metavar="KEYS",
                        help="only the rows whose key starts with one of these, comma-separated "
                             "(for example tcp, or shm_rate,tcp_rate); rows a target compares "
                             "against come along")
    parser.add_argument("--json", metavar="FILE", help="also write every run and figure to FILE")
    args = parser.parse_args()
    repetitions = args.repetitions if args.repetitions is not None else (1 if args.quick else 3)
    if repetitions < 1:
        print("compare: --repetitions must be at least 1", file=sys.stderr)
        return 2
    rows = selected([name for name in (args.rows or "").split(",") if name])
    if not rows:
        print(f"compare: no row's key starts with {args.rows!r} (keys: "
              f"{', '.join(LABELS)})", file=sys.stderr)
        return 2

    allowed = sorted(os.sched_getaffinity(0))
    online = os.cpu_count() or len(allowed)
    if SERVER_CPU not in allowed or CLIENT_CPU not in allowed:
        print(f"compare: needs CPU {SERVER_CPU} and CPU {CLIENT_CPU}; this process may use "
              f"{allowed}. A pinned ping-pong on one CPU measures the scheduler, not the "
              "transport.", file=sys.stderr)
        return 2
    if not shutil.which("taskset"):
        print("compare: taskset (util-linux) is needed to pin the peers", file=sys.stderr)
        return 2

    state = machine_state()
    started = datetime.datetime.now().astimezone()
    found = versions()
    load = state["load_average"]
    print(f"Weft speed comparison, {started:%Y-%m-%d %H:%M %Z}, {cpu_model()}, "
          f"Linux {platform.release()}; UCX {found['ucx']}, libfabric {found['libfabric']}, "
          f"sockperf {found['sockperf']}")
    identity = weft_identity()
    print(f"Weft: {identity}")
    print(f"cores: {online} online, this run uses 2: CPU {SERVER_CPU} (servers, Weft's "
          f"process) and CPU {CLIENT_CPU} (clients, Weft's peer); {repetitions} "
          f"repetition{'s' if repetitions > 1 else ''}, medians reported")
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"CPUs busy in the second before the run: {state['busy_fraction'] * 100:.0f}%")
    if state["busy_fraction"] > 0.10:
        who = ", ".join(state["busy_processes"]) or "unknown"
        print(f"WARNING: something else is running (busiest: {who}). Busy-polling figures "
              "collapse when the two cores are shared: run alone.")
    elif load[0] > 0.5:
        print(f"WARNING: load average {load[0]:.2f}: something ran in the last minute (an "
              "earlier benchmark?); the CPUs are idle now, but check the line on other "
              "processes below the table.")
    sys.stdout.flush()

    weft_missing = None if os.access(WEFT_BINARY, os.X_OK) else "not built"
    cells, plan = plan_cells(weft_missing, rows)
    floor = Floor()
    account = CPUAccount()
    run_plan(plan, repetitions, floor)
    others, wall = account.others()
    quiet_floor, raised, busy = mark_disturbed(cells, floor.samples)

    table, notes = summarize(cells, repetitions, rows)
    if floor.problem:
        notes.append(f"floor: not measured: {floor.problem}")
    elif floor.failures:
        notes.append(f"floor: {len(floor.failures)} runs failed: {floor.failures[-1]}")
    if weft_missing:
        notes.append(f"Weft: {WEFT_BINARY} not found (swift build -c release, or set WEFT_BIN)")

    print_table(table)
    print_actor_lines(cells)
    print_footer(cells, floor, notes, quiet_floor, raised, busy, others, wall, online)

    if args.json:
        write_json(args.json, started, found, online, repetitions, state, identity, wall,
                   others, floor, quiet_floor, raised, busy, table, cells, notes)
    return 0
