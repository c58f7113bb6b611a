"""Paths, CPUs, timeouts and per-run counts shared by the modules."""

import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = os.path.join(REPO, ".build-bench")
FLOOR_SOURCE = os.path.join(REPO, "benchmarks", "floor.c")
FLOOR_BINARY = os.path.join(BUILD_DIR, "floor")
WEFT_BINARY = os.environ.get("WEFT_BIN") or os.path.join(REPO, ".build", "release", "weft")
ACTOR_BENCH_BINARY = os.path.join(os.path.dirname(WEFT_BINARY), "weft-actor-bench")
BARRELS_BINARY = os.path.join(os.path.dirname(WEFT_BINARY), "barrels")

# The two CPUs of the run: servers (and Weft's own IO thread) on the first,
# clients (and Weft's peer) on the second.
SERVER_CPU = 0
CLIENT_CPU = 1

# Timeouts, seconds.
LISTEN_TIMEOUT = 5.0
PEER_TIMEOUT = 30.0
SOCKPERF_TIMEOUT = 30.0
WEFT_TIMEOUT = 60.0
FLOOR_TIMEOUT = 20.0

# Flags from BASELINES.md.
UCX_SHM = ["-d", "memory", "-x", "posix"]
UCX_TCP = ["-d", "lo", "-x", "tcp"]
SOCKPERF_SECONDS = 5
SOCKPERF_SIZE = 64  # sockperf's messages carry a header; BASELINES.md uses 64 B.

# Weft round trips / messages per run.
WEFT_COUNTS = {
    ("pingpong", "shm"): 1_000_000,
    ("pingpong", "tcp"): 100_000,
    ("pingpong", "tcp", "sleep"): 20_000,
    ("rate", "shm"): 10_000_000,
    ("rate", "tcp"): 1_000_000,
}

# Round trips per clock reading in Weft's ping-pong. Shared memory is timed in batches of
# 1,000 round trips, like the floor probe (floor.c's default): a clock reading costs 20-70 ns
# here, a large part of a sub-microsecond round trip. TCP is timed per round trip, like
# UCX's am_lat, where the reading is lost in microseconds.
WEFT_BATCH = {("pingpong", "shm"): 1000}

# Empty distributed calls per round of an actor-row run on IO threads (a quarter of them on
# the global executor, where a call is ten times slower), and per calls/s figure.
ACTOR_BENCH_CALLS = {"io": 20_000}

ADAPTIVE_TOLERANCE = 1.10  # "equal to spin": within 10 % of the spin median.

# A run is disturbed when the floor around it exceeds this many times the quiet floor,
# or when other processes used more than this share of the CPUs during it.
DISTURBED_FLOOR = 1.5
DISTURBED_OTHERS = 0.10
