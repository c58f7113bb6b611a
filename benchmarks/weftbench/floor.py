"""The floor: one cache line bounced between two pinned threads (floor.c), built
on demand and run between the other measurements."""

import os
import shutil
import subprocess

from .runs import RunFailed, one_line, parse_json_object, run
from .settings import (BUILD_DIR, CLIENT_CPU, FLOOR_BINARY, FLOOR_SOURCE, FLOOR_TIMEOUT,
                       SERVER_CPU)


def floor_run():
    stdout, _stderr = run([FLOOR_BINARY, "--cpu", str(SERVER_CPU),
                           "--peer-cpu", str(CLIENT_CPU)], FLOOR_TIMEOUT)
    try:
        return float(parse_json_object(stdout, "floor")["one_way_p50_ns"])
    except (KeyError, TypeError, ValueError):
        raise RunFailed("floor: no one_way_p50_ns in its output")


def build_floor():
    """Compiles floor.c into .build-bench/ unless the binary is newer; returns a reason or None."""
    if not shutil.which("cc"):
        return "no C compiler (cc)"
    try:
        if os.path.getmtime(FLOOR_BINARY) >= os.path.getmtime(FLOOR_SOURCE):
            return None
    except OSError:
        pass
    os.makedirs(BUILD_DIR, exist_ok=True)
    done = subprocess.run(["cc", "-O2", "-std=c11", "-pthread", "-o", FLOOR_BINARY, FLOOR_SOURCE],
                          capture_output=True, text=True)
    if done.returncode != 0:
        return "floor.c: " + one_line(done.stderr or "cc failed")
    return None


class Floor:
    """The floor binary, run between measurements; remembers every sample."""

    def __init__(self):
        self.problem = build_floor()
        self.samples = []
        self.failures = []

    def measure(self):
        if self.problem:
            return None
        try:
            value = floor_run()
        except RunFailed as error:
            self.failures.append(str(error))
            return None
        self.samples.append(value)
        return value
