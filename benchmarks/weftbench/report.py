"""The report: one entry per row, the printed table and the lines under it, the
notes, and the JSON file."""

import json
import platform
import statistics

from .machine import cpu_model
from .measurements import median, paired_ratio
from .rows import ABSOLUTE, COLUMNS, GAME, LAT, UNITS, number, times
from .settings import CLIENT_CPU, DISTURBED_FLOOR, DISTURBED_OTHERS, SERVER_CPU


def summarize(cells, repetitions, rows):
    table, notes = [], []
    for key, label, kind, _how, target in rows:
        row = {column: cells.get((key, column)) for column in COLUMNS}
        weft_cell = row["Weft"]
        weft_value = weft_cell.value()
        against_floor = kind == LAT and key.startswith("shm")
        measured = [cell for cell in row.values() if cell and cell.runs]
        floor_value = median(cell.floor() for cell in measured) if against_floor else None
        w_floor = (weft_cell.to_floor(), weft_cell.only_disturbed()) if against_floor \
            else (None, False)
        w_ucx = paired_ratio(weft_cell, row["UCX"])
        if target.against == ABSOLUTE:
            checked = (weft_value / 1e6 if weft_value is not None else None,
                       weft_cell.only_disturbed())
        elif target.against == "floor":
            checked = w_floor
        elif target.against in COLUMNS:
            checked = paired_ratio(weft_cell, row[target.against])
        else:
            checked = paired_ratio(weft_cell, cells[(target.against, "Weft")])
        table.append({
            "key": key, "row": label, "unit": UNITS[kind],
            "cells": {column: (row[column].text() if row[column] else "") for column in COLUMNS},
            "values": {column: (row[column].value() if row[column] else None)
                       for column in COLUMNS},
            "floor_ns": floor_value,
            "weft_to_floor": w_floor[0], "weft_to_floor_disturbed_only": w_floor[1],
            "weft_to_ucx": w_ucx[0], "weft_to_ucx_disturbed_only": w_ucx[1],
            "target": target.text(), "target_ratio": checked[0],
            "target_in_ms": target.against == ABSOLUTE,
            "target_ratio_disturbed_only": checked[1],
            "result": (target.verdict(checked[0]) + ("!" if checked[1] else ""))
                      if weft_value is not None else "—",
        })
        for column in COLUMNS:
            cell = row[column]
            if cell and cell.failures:
                counted = "not run" if cell.skipped else \
                    f"failed {len(cell.failures)} of {repetitions} runs"
                notes.append(f"{label} · {column} ({cell.how}): {counted}: "
                             f"{cell.failures[-1]}")
    return table, notes


def print_table(table):
    header = ["measurement", "unit", *COLUMNS, "floor", "W/floor", "W/UCX",
              "target", "ratio", "result"]
    lines = [[entry["row"], entry["unit"], *[entry["cells"][column] for column in COLUMNS],
              number(entry["floor_ns"], LAT) if entry["floor_ns"] else "—",
              times(entry["weft_to_floor"], entry["weft_to_floor_disturbed_only"]),
              times(entry["weft_to_ucx"], entry["weft_to_ucx_disturbed_only"]),
              entry["target"],
              (number(entry["target_ratio"] * 1e6, GAME) + " ms"
               if entry["target_in_ms"] and entry["target_ratio"] is not None
               else times(entry["target_ratio"], entry["target_ratio_disturbed_only"])),
              entry["result"]]
             for entry in table]
    widths = [max(len(line[i]) for line in [header] + lines) for i in range(len(header))]
    left = {0, 1, header.index("target"), header.index("result")}

    def render(line):
        return "  ".join(text.ljust(width) if i in left else text.rjust(width)
                         for i, (text, width) in enumerate(zip(line, widths))).rstrip()

    print()
    print(render(header))
    print(render(["-" * width for width in widths]))
    for line in lines:
        print(render(line))
    print()
    print("Latency: one way, the median of each run, then the median of the runs (libfabric "
          "reports a mean only; sockperf sends 64 B). Rate: messages per second, one way.\n"
          "Ratios: W/floor per run against the floor around it, the others per repetition "
          "against the reference run moments before or after; then the median.\n"
          "* = some runs failed, see the notes; ! = rests on disturbed runs only.")



def print_footer(cells, floor, notes, quiet_floor, raised, busy, others, wall, online):
    """The lines under the table: the floor's spread, the disturbed runs, the peers'
    shm latency against the floor, the run's length and other processes' share of
    it, and the notes."""
    if floor.samples:
        print(f"floor: {len(floor.samples)} runs interleaved with the others, "
              f"{min(floor.samples):.1f}–{max(floor.samples):.1f} ns one way, "
              f"median {statistics.median(floor.samples):.1f}")
    measured = sum(len(cell.runs) for cell in cells.values())
    if raised:
        quiet_text = f" {quiet_floor:.1f} ns" if quiet_floor else ""
        print(f"disturbed: the floor stood above {DISTURBED_FLOOR:g}× its quiet value"
              f"{quiet_text}, or moved that much, around {raised} of {measured} runs (the "
              "host moving the vCPUs)")
    if busy:
        print(f"disturbed: other processes used over {DISTURBED_OTHERS * 100:.0f}% of the "
              f"CPUs during {busy} of {measured} runs")
    if raised or busy:
        print("disturbed runs are left out of the medians wherever a cell has others")
    peers = [f"{column} {cells[('shm_lat_spin', column)].to_floor():.2f}×"
             for column in ("UCX", "libfabric")
             if cells[("shm_lat_spin", column)].to_floor() is not None]
    if peers:
        print("peers' shm latency against the floor: " + ", ".join(peers))
    print(f"run took {wall:.0f} s; other processes used {others * 100:.0f}% of the "
          f"{online} cores meanwhile")
    if others > 0.05:
        print("WARNING: something else ran during the measurements; run again alone.")
    for note in notes:
        print("note: " + note)


def write_json(path, started, found, online, repetitions, state, identity, wall, others,
               floor, quiet_floor, raised, busy, table, cells, notes):
    """Every run and figure, raw, into path."""
    report = {
        "started": started.isoformat(), "cpu": cpu_model(), "kernel": platform.release(),
        "versions": found, "cores_online": online, "cpus_used": [SERVER_CPU, CLIENT_CPU],
        "repetitions": repetitions, "machine_before_run": state, "weft": identity,
        "run_seconds": wall, "other_processes_cpu_fraction": others,
        "floor_samples_ns": floor.samples, "quiet_floor_ns": quiet_floor,
        "runs_with_raised_floor": raised, "runs_with_busy_neighbours": busy,
        "rows": table,
        "cells": {f"{key}/{column}": cell.to_json() for (key, column), cell in cells.items()},
        "notes": notes,
    }
    with open(path, "w") as handle:
        json.dump(report, handle, indent=2)
        handle.write("\n")
    print(f"wrote {path}")
