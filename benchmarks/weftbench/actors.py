"""The actor rows: an empty distributed call's round trip, measured by weft-actor-bench
(benchmarks/ActorBench) in one process with two IO runtimes pinned to the two CPUs,
interleaved with the raw round trip over the same shared-memory transport."""

from .runs import RunFailed, parse_json_object, run
from .settings import ACTOR_BENCH_BINARY, ACTOR_BENCH_CALLS, WEFT_TIMEOUT


def actor_call(placement):
    """One-way figure (half the call's round trip), comparable with the ping-pong rows."""
    def measure():
        calls = ACTOR_BENCH_CALLS[placement]
        argv = [ACTOR_BENCH_BINARY, "--json", "--placements", placement, "--rounds", "3",
                "--calls", str(calls * (1 if placement == "io" else 4)), "--round-trips", "100000"]
        result = parse_json_object(run(argv, WEFT_TIMEOUT)[0], "weft-actor-bench")
        try:
            call = float(result["call_rtt_ns"][placement])
            raw = float(result["raw_rtt_ns"])
        except (KeyError, TypeError, ValueError) as error:
            raise RunFailed(f"weft-actor-bench: JSON lacks a figure: {error}") from error
        return {"value": call / 2.0, "call_rtt_ns": call, "raw_rtt_ns_same_run": raw,
                "call_to_raw_same_run": call / raw, "count": calls}
    return measure
