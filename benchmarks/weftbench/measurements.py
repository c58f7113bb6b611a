"""The measurements: each row's cells and their runs, the repetitions interleaved
with the floor, which runs were disturbed, and the medians and ratios."""

import shutil
import statistics
import sys

from .machine import CPUAccount
from .rows import KINDS, LABELS, PACKAGE, TOOL, UNITS, number
from .runs import RunFailed
from .settings import DISTURBED_FLOOR, DISTURBED_OTHERS


def median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def ratio(numerator, denominator):
    if numerator is None or not denominator:
        return None
    return numerator / denominator


class Cell:
    """One peer's figure in one row: its runs, their failures, their medians.

    A run is `disturbed` when the floor around it was raised (the host moving the
    vCPUs): the medians use the undisturbed runs when the cell has any, else all."""

    def __init__(self, row, column, how):
        self.row, self.column, self.how = row, column, how
        self.runs = []       # {"value", "floor_ns", "disturbed", "raw"} for runs that worked
        self.failures = []   # one-line reasons
        self.skipped = None  # why it was not run at all

    def used(self):
        quiet = [run for run in self.runs if not run["disturbed"]]
        return quiet or self.runs

    def only_disturbed(self):
        return bool(self.runs) and all(run["disturbed"] for run in self.runs)

    def value(self):
        return median(run["value"] for run in self.used())

    def floor(self):
        return median(run["floor_ns"] for run in self.used())

    def to_floor(self):
        # Each run against the floor measured just before and after it, then the median.
        return median(ratio(run["value"], run["floor_ns"]) for run in self.used())

    def text(self):
        if self.skipped:
            return self.skipped
        value = self.value()
        if value is None:
            return "failed" if self.failures else "—"
        marks = ("*" if self.failures else "") + ("!" if self.only_disturbed() else "")
        return number(value, KINDS[self.row]) + marks

    def to_json(self):
        return {"how": self.how, "median": self.value(), "runs": self.runs,
                "failures": self.failures, "skipped": self.skipped,
                "median_ratio_to_floor": self.to_floor()}


# ---------------------------------------------------------------------------
# The run: every measurement in turn, each between two floor runs.

def progress(text):
    print(text, file=sys.stderr, flush=True)


def plan_cells(weft_missing, rows):
    cells, plan = {}, []
    missing_tools = {column: tool for column, tool in TOOL.items() if not shutil.which(tool)}
    for key, _label, _kind, how, _target in rows:
        for column, (description, measure) in how.items():
            cell = Cell(key, column, description)
            if column == "Weft" and weft_missing:
                cell.skipped = weft_missing
            elif column in missing_tools:
                cell.skipped = "missing"
                cell.failures.append(f"{missing_tools[column]} not installed "
                                     f"(Debian package {PACKAGE[column]})")
            else:
                plan.append((cell, measure))
            cells[(key, column)] = cell
    return cells, plan


def run_plan(plan, repetitions, floor):
    floor.measure()  # warm-up: wakes both vCPUs; not counted
    floor.samples.clear()
    floor_before = floor.measure()
    for repetition in range(1, repetitions + 1):
        for cell, measure in plan:
            label = f"[{repetition}/{repetitions}] {LABELS[cell.row]} · {cell.column} ({cell.how})"
            account = CPUAccount()
            try:
                raw, failure = measure(), None
            except RunFailed as error:
                raw, failure = None, str(error)
            others, _wall = account.others()
            floor_after = floor.measure()
            if failure:
                cell.failures.append(failure)
                progress(f"{label}: failed: {failure}")
            else:
                nearby = [value for value in (floor_before, floor_after) if value is not None]
                floor_ns = sum(nearby) / len(nearby) if nearby else None
                cell.runs.append({"rep": repetition, "value": raw["value"],
                                  "floor_ns": floor_ns, "floor_before_ns": floor_before,
                                  "floor_after_ns": floor_after, "others_cpu": others,
                                  "disturbed": False, "raw": raw})
                kind = KINDS[cell.row]
                shown = f" (floor {floor_ns:.1f} ns)" if floor_ns else ""
                if others > DISTURBED_OTHERS:
                    shown += f" (other processes used {others * 100:.0f}% of the CPUs)"
                progress(f"{label}: {number(raw['value'], kind)} {UNITS[kind]}{shown}")
            floor_before = floor_after


def floor_moved(run):
    """True if the floors before and after the run differ by more than DISTURBED_FLOOR
    times: an episode began or ended during it, so its state is unknown."""
    before, after = run["floor_before_ns"], run["floor_after_ns"]
    if not before or not after:
        return False
    return max(before, after) > DISTURBED_FLOOR * min(before, after)


def mark_disturbed(cells, samples):
    """Flags the runs during which other processes used more than DISTURBED_OTHERS of
    the CPUs, those around which the floor stood above DISTURBED_FLOOR times its
    quiet value (the lower quartile of all floor runs, so that a run-long episode
    flags nothing and a stray low sample moves nothing), and those during which
    the floor moved that much.
    Returns (quiet floor, runs with a raised or moving floor, runs with busy neighbours)."""
    quiet = statistics.quantiles(samples, n=4)[0] if len(samples) >= 4 else None
    raised = busy = 0
    for cell in cells.values():
        for run in cell.runs:
            floor_raised = floor_moved(run) or quiet is not None and \
                run["floor_ns"] is not None and run["floor_ns"] > DISTURBED_FLOOR * quiet
            neighbours = run["others_cpu"] > DISTURBED_OTHERS
            run["disturbed"] = floor_raised or neighbours
            raised += floor_raised
            busy += neighbours
    return quiet, raised, busy


# ---------------------------------------------------------------------------
# Ratios between two cells, repetition by repetition.

def paired_ratio(cell, reference):
    """cell over reference from runs of the same repetition, taken moments apart (so
    in the same state of the host): the median of the per-repetition ratios, over the
    repetitions where neither run was disturbed if there are any.
    Returns (ratio, whether it rests on disturbed runs only)."""
    if cell is None or reference is None or not cell.runs or not reference.runs:
        return None, False
    theirs = {run["rep"]: run for run in reference.runs}
    pairs = [(run, theirs[run["rep"]]) for run in cell.runs if run["rep"] in theirs]
    if not pairs:
        return ratio(cell.value(), reference.value()), \
            cell.only_disturbed() or reference.only_disturbed()
    quiet = [(mine, other) for mine, other in pairs
             if not mine["disturbed"] and not other["disturbed"]]
    return median(ratio(mine["value"], other["value"]) for mine, other in quiet or pairs), \
        not quiet

