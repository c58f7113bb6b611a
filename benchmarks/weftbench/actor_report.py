"""The lines under the table on actor workloads: for each actor row, the same run's raw
round trip and the call against it, and calls per second by concurrent callers."""

from .measurements import median
from .rows import LABELS


def print_actor_lines(cells):
    lines = []
    for (key, column), cell in cells.items():
        if column != "Weft" or not key.startswith("actor_call") or not cell.used():
            continue
        runs = [run["raw"] for run in cell.used()]
        raw = median(run["raw_rtt_ns_same_run"] for run in runs)
        call = median(run["call_rtt_ns"] for run in runs)
        rates = {callers: median(run["calls_per_s"].get(callers) for run in runs)
                 for callers in ("1", "8", "64")}
        rate_text = " / ".join(f"{value / 1e3:,.0f}k" if value else "—" for value in rates.values())
        lines.append(f"  {LABELS[key]}: round trip {call / 1e3:.2f} µs = {call / raw:.1f}× the raw "
                     f"round trip of the same run ({raw / 1e3:.3f} µs); calls/s with 1 / 8 / 64 "
                     f"callers: {rate_text}")
    if lines:
        print("actor calls (medians of the runs):")
        for line in lines:
            print(line)
