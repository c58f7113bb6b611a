"""The actor rows. weft-actor-bench (benchmarks/ActorBench) runs two IO runtimes pinned to
the two CPUs, joined by one transport, in one process or two, and measures, interleaved,
the raw round trip and the empty distributed call's round trip over that transport, then
calls per second with 1, 8 and 64 callers. One invocation per configuration and
repetition serves every row that reads it. The barrels rows time the README's game."""

import re

from .runs import RunFailed, parse_json_object, run
from .settings import ACTOR_BENCH_BINARY, ACTOR_BENCH_CALLS, BARRELS_BINARY, WEFT_TIMEOUT

# (transport, processes) -> the JSON of each invocation so far; (row, configuration) -> how
# many of them that row has used.
_invocations = {}
_used = {}


def _invocation(row, transport, processes):
    """The configuration's invocation for `row`'s next repetition: a new one when this
    row has used them all, else the one another row of this repetition started."""
    key = (transport, processes)
    done = _invocations.setdefault(key, [])
    index = _used.get((row, key), 0)
    _used[(row, key)] = index + 1
    if index < len(done):
        return done[index]
    argv = [ACTOR_BENCH_BINARY, "--json", "--transport", transport, "--processes", str(processes),
            "--rounds", "3", "--calls", str(ACTOR_BENCH_CALLS["io"]), "--round-trips", "100000"]
    result = parse_json_object(run(argv, WEFT_TIMEOUT)[0], "weft-actor-bench")
    done.append(result)
    return result


def actor_call(row, placement, transport="shm", processes=1):
    """One-way figure (half the call's round trip), comparable with the ping-pong rows."""
    def measure():
        result = _invocation(row, transport, processes)
        try:
            call = float(result["call_rtt_ns"][placement])
            raw = float(result["raw_rtt_ns"])
            rates = {callers: float(value) for callers, value in result["calls_per_s"][placement].items()}
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise RunFailed(f"weft-actor-bench: JSON lacks a figure: {error}") from error
        return {"value": call / 2.0, "call_rtt_ns": call, "raw_rtt_ns_same_run": raw,
                "call_to_raw_same_run": call / raw, "calls_per_s": rates,
                "transport": transport, "processes": processes, "placement": placement}
    return measure


TIME = re.compile(r"shots \(distributed calls\) in ([0-9.]+) ms")


def barrels(transport, processes=2):
    """The README's game: the time of its shots, as `barrels` prints it, in nanoseconds."""
    def measure():
        out, _err = run([BARRELS_BINARY, "--transport", transport, "--processes", str(processes)], WEFT_TIMEOUT)
        found = TIME.search(out)
        if not found:
            raise RunFailed("barrels: its output has no time of the shots")
        return {"value": float(found.group(1)) * 1e6, "transport": transport, "processes": processes}
    return measure
