"""The table's rows: what each column runs, each row's target, and how figures
are written."""

from .actors import actor_call, barrels
from .peers import fi_pingpong, sockperf, ucx
from .settings import ADAPTIVE_TOLERANCE, SOCKPERF_SIZE, UCX_SHM, UCX_TCP
from .weft import weft

LAT, RATE, GAME = "lat", "rate", "game"
COLUMNS = ["Weft", "UCX", "libfabric", "sockperf"]
TOOL = {"UCX": "ucx_perftest", "libfabric": "fi_pingpong", "sockperf": "sockperf"}
PACKAGE = {"UCX": "ucx-utils", "libfabric": "libfabric-bin", "sockperf": "sockperf"}


ABSOLUTE = "ms"


class Target:
    """What a row's Weft figure is checked against. `against` names the reference:
    "floor", "UCX", "sockperf", another row's key (Weft's spin row), or ABSOLUTE (the
    figure itself, in milliseconds); `bound` is None for a row that only reports the ratio."""

    def __init__(self, against, relation=None, bound=None):
        self.against, self.relation, self.bound = against, relation, bound

    def text(self):
        if self.against == ABSOLUTE:
            return f"{self.relation}{self.bound:g} ms"
        name = "spin" if self.against in LABELS else self.against
        if self.bound is None:
            return f"vs {name}"
        return f"{self.relation}{self.bound:g}× {name}"

    def verdict(self, value):
        if self.bound is None:
            return "info"
        if value is None:
            return "—"  # the reference did not run
        return "PASS" if (value <= self.bound if self.relation == "≤" else value >= self.bound) \
            else "MISS"


# key, label, kind, {column: (how it is run, measure)}, target
ROWS = [
    ("shm_lat_spin", "shm lat 8B spin", LAT, {
        "Weft": ("weft pingpong shm spin", weft("pingpong", "shm", "spin")),
        "UCX": ("am_lat posix", ucx("am_lat", UCX_SHM, 100_000)),
        "libfabric": ("shm rdm", fi_pingpong("shm", "rdm", 100_000)),
    }, Target("floor", "≤", 1.2)),
    ("shm_lat_adaptive", "shm lat 8B adaptive", LAT, {
        "Weft": ("weft pingpong shm adaptive", weft("pingpong", "shm", "adaptive")),
    }, Target("shm_lat_spin")),
    ("shm_rate", "shm rate 8B", RATE, {
        "Weft": ("weft rate shm", weft("rate", "shm", "spin")),
        "UCX": ("am_bw posix", ucx("am_bw", UCX_SHM, 1_000_000)),
    }, Target("UCX", "≥", 4)),
    ("tcp_lat_spin", "tcp lat 8B spin", LAT, {
        "Weft": ("weft pingpong tcp spin", weft("pingpong", "tcp", "spin")),
        "UCX": ("am_lat tcp", ucx("am_lat", UCX_TCP, 100_000)),
        "libfabric": ("tcp msg", fi_pingpong("tcp", "msg", 20_000)),
    }, Target("UCX", "≤", 1.0)),
    ("tcp_lat_adaptive", "tcp lat 8B adaptive", LAT, {
        "Weft": ("weft pingpong tcp adaptive", weft("pingpong", "tcp", "adaptive")),
    }, Target("tcp_lat_spin", "≤", ADAPTIVE_TOLERANCE)),
    ("tcp_lat_sleep", "tcp lat 8B sleep", LAT, {
        "Weft": ("weft pingpong tcp sleep", weft("pingpong", "tcp", "sleep")),
        "sockperf": (f"pp {SOCKPERF_SIZE}B", sockperf("pp")),
    }, Target("sockperf")),
    ("tcp_rate", "tcp rate 8B", RATE, {
        "Weft": ("weft rate tcp", weft("rate", "tcp", "spin")),
        "UCX": ("am_bw tcp", ucx("am_bw", UCX_TCP, 200_000)),
    }, Target("UCX", "≥", 1)),
    ("tcp_rate_64", f"tcp rate {SOCKPERF_SIZE}B", RATE, {
        "Weft": ("weft rate tcp", weft("rate", "tcp", "spin", size=SOCKPERF_SIZE)),
        "sockperf": (f"tp {SOCKPERF_SIZE}B", sockperf("tp")),
    }, Target("sockperf", "≥", 1)),
    # An empty distributed call, one-way (half its round trip), against the raw row of its
    # transport; caller and callee in one process (two IO runtimes) or two.
    ("actor_call_io", "actor call shm IO threads", LAT, {
        "Weft": ("weft-actor-bench io", actor_call("actor_call_io", "io")),
    }, Target("shm_lat_spin", "≤", 3)),
    ("actor_call_global", "actor call shm global", LAT, {
        "Weft": ("weft-actor-bench global", actor_call("actor_call_global", "global")),
    }, Target("shm_lat_spin", "≤", 20)),
    ("actor_call_2p", "actor call shm 2 processes", LAT, {
        "Weft": ("weft-actor-bench io 2p", actor_call("actor_call_2p", "io", processes=2)),
    }, Target("shm_lat_spin", "≤", 3)),
    ("actor_call_tcp", "actor call tcp IO threads", LAT, {
        "Weft": ("weft-actor-bench io tcp", actor_call("actor_call_tcp", "io", "tcp")),
    }, Target("tcp_lat_spin", "≤", 3)),
    ("actor_call_tcp_2p", "actor call tcp 2 processes", LAT, {
        "Weft": ("weft-actor-bench io tcp 2p", actor_call("actor_call_tcp_2p", "io", "tcp", 2)),
    }, Target("tcp_lat_spin", "≤", 3)),
    # The README's game across two processes: the time of its 60 shots.
    ("barrels_shm", "barrels game shm 2 processes", GAME, {
        "Weft": ("barrels shm", barrels("shm")),
    }, Target(ABSOLUTE, "≤", 1.5)),
    ("barrels_tcp", "barrels game tcp 2 processes", GAME, {
        "Weft": ("barrels tcp", barrels("tcp")),
    }, Target(ABSOLUTE, "≤", 1.5)),
]

LABELS = {key: label for key, label, *_rest in ROWS}


def selected(names):
    """The rows whose key starts with one of `names` (every row without names), and the
    rows their targets are measured against."""
    if not names:
        return ROWS
    wanted = {key for key, *_rest in ROWS if any(key.startswith(name) for name in names)}
    wanted |= {target.against for key, *_rest, target in ROWS
               if key in wanted and target.against in LABELS}
    return [row for row in ROWS if row[0] in wanted]
KINDS = {key: kind for key, _label, kind, *_rest in ROWS}
UNITS = {LAT: "ns", RATE: "M msg/s", GAME: "ms"}


def number(value, kind):
    if value is None:
        return "—"
    if kind == GAME:
        return f"{value / 1e6:.2f}"
    if kind == RATE:
        millions = value / 1e6
        return f"{millions:.3f}" if millions < 1 else \
            f"{millions:.2f}" if millions < 10 else f"{millions:.1f}"
    return f"{value:.1f}" if value < 1000 else f"{value:,.0f}"


def times(value, disturbed_only=False):
    # Three decimals below 10×, so that a ratio just past its bound (1.0015 against ≤ 1)
    # does not print as the bound itself next to MISS.
    if value is None:
        return "—"
    return (f"{value:.3f}×" if value < 10 else f"{value:.2f}×") + ("!" if disturbed_only else "")
