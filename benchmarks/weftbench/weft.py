"""Weft's rows, measured through the `weft` CLI, and which Weft is measured."""

import datetime
import os
import subprocess

from .runs import RunFailed, parse_json_object, run
from .settings import CLIENT_CPU, REPO, SERVER_CPU, WEFT_BATCH, WEFT_BINARY, WEFT_COUNTS, WEFT_TIMEOUT


def weft(command, transport, progress, size=8):
    count = WEFT_COUNTS.get((command, transport, progress), WEFT_COUNTS[(command, transport)])

    def measure():
        argv = [WEFT_BINARY, command, "--transport", transport, "--size", str(size),
                "--count", str(count), "--progress", progress,
                "--cpu", str(SERVER_CPU), "--peer-cpu", str(CLIENT_CPU), "--json"]
        if (command, transport) in WEFT_BATCH:
            argv[-1:-1] = ["--batch", str(WEFT_BATCH[(command, transport)])]
        result = parse_json_object(run(argv, WEFT_TIMEOUT)[0], "weft")
        if result.get("transport", transport) != transport:
            raise RunFailed(f"weft: ran over {result.get('transport')}, not {transport}")
        try:
            if command == "pingpong":
                return {"value": result["rtt_p50_ns"] / 2.0,
                        "one_way_p99_ns": result["rtt_p99_ns"] / 2.0,
                        "one_way_p999_ns": result["rtt_p999_ns"] / 2.0,
                        "count": result["count"], "placement": result.get("placement")}
            return {"value": float(result["msgs_per_sec"]),
                    "bytes_per_sec": result.get("bytes_per_sec"), "count": result["count"],
                    "placement": result.get("placement")}
        except KeyError as error:
            raise RunFailed(f"weft: JSON lacks {error}")
        except (TypeError, ValueError) as error:
            raise RunFailed(f"weft: JSON has a non-number: {error}")
    return measure


def weft_identity():
    """Which Weft this run measures: the binary, when it was built, and the tree."""
    try:
        built = datetime.datetime.fromtimestamp(os.path.getmtime(WEFT_BINARY)).astimezone()
    except OSError:
        return f"{WEFT_BINARY} (not built)"
    try:
        head = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                              capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        head = ""
    tree = f", tree {head}" if head else ""
    shown = os.path.relpath(WEFT_BINARY, REPO) if WEFT_BINARY.startswith(REPO + os.sep) \
        else WEFT_BINARY
    return f"{shown} (built {built:%Y-%m-%d %H:%M}{tree})"
