"""The peers: UCX (ucx_perftest), libfabric (fi_pingpong) and sockperf, their
runs, the parsing of their output, and their versions."""

import re
import subprocess

from .runs import ANSI, RunFailed, client_server
from .settings import SOCKPERF_SECONDS, SOCKPERF_SIZE, SOCKPERF_TIMEOUT


# ---------------------------------------------------------------------------
# Parsers. Each returns {"value": primary figure, ...extras}; latencies are
# one way in nanoseconds, rates in messages per second.

def parse_ucx(text, kind):
    # Final:  iterations  lat 50.0%ile  lat average  lat overall  bw average  bw overall
    #         rate average  rate overall      (latency in usec; one way for *_lat tests)
    for line in text.splitlines():
        if line.startswith("Final:"):
            fields = line.split()
            if len(fields) != 9:
                break
            try:
                numbers = [float(field) for field in fields[1:]]
            except ValueError:
                break
            _iters, p50, avg, overall, _bw_avg, _bw_all, _rate_avg, rate_all = numbers
            if kind == "lat":
                return {"value": p50 * 1000.0, "avg_ns": avg * 1000.0,
                        "overall_ns": overall * 1000.0}
            return {"value": rate_all}
    raise RunFailed("no parsable 'Final:' line in ucx_perftest output")


def parse_fi_pingpong(text):
    # bytes  #sent  #ack  total  time  MB/sec  usec/xfer  Mxfers/sec   (usec/xfer is one way)
    lines = [line.split() for line in text.splitlines()]
    for index, header in enumerate(lines):
        if "usec/xfer" in header and index + 1 < len(lines):
            row = lines[index + 1]
            if len(row) == len(header):
                try:
                    usec = float(row[header.index("usec/xfer")])
                    rate = float(row[header.index("Mxfers/sec")]) * 1e6
                except ValueError:
                    break
                return {"value": usec * 1000.0, "xfers_per_sec": rate, "statistic": "mean"}
    raise RunFailed("no parsable result line in fi_pingpong output")


def parse_sockperf_pp(text):
    text = ANSI.sub("", text)
    p50 = re.search(r"percentile 50\.000 =\s*([0-9.]+)", text)
    avg = re.search(r"avg-latency=([0-9.]+)", text)
    if not p50:
        raise RunFailed("no 'percentile 50.000' line in sockperf output")
    result = {"value": float(p50.group(1)) * 1000.0}
    if avg:
        result["avg_ns"] = float(avg.group(1)) * 1000.0
    return result


def parse_sockperf_tp(text):
    rate = re.search(r"Message Rate is ([0-9.]+)", ANSI.sub("", text))
    if not rate:
        raise RunFailed("no 'Message Rate' line in sockperf output")
    return {"value": float(rate.group(1))}


# ---------------------------------------------------------------------------
# Measurements.

def ucx(test, transport_flags, iterations):
    kind = "lat" if test.endswith("_lat") else "bw"

    def measure():
        text = client_server(
            lambda port: ["ucx_perftest", "-p", str(port)],
            lambda port: ["ucx_perftest", "localhost", "-p", str(port), "-t", test,
                          *transport_flags, "-n", str(iterations), "-s", "8"])
        return parse_ucx(text, kind)
    return measure


def fi_pingpong(provider, endpoint, iterations):
    flags = ["-p", provider, "-e", endpoint, "-S", "8", "-I", str(iterations)]

    def measure():
        # Same host: the client takes an automatic source port (-B is the server's).
        text = client_server(
            lambda port: ["fi_pingpong", *flags, "-B", str(port)],
            lambda port: ["fi_pingpong", *flags, "-P", str(port), "127.0.0.1"])
        return parse_fi_pingpong(text)
    return measure


def sockperf(mode):
    def measure():
        text = client_server(
            lambda port: ["sockperf", "sr", "--tcp", "-i", "127.0.0.1", "-p", str(port)],
            lambda port: ["sockperf", mode, "--tcp", "-i", "127.0.0.1", "-p", str(port),
                          "-m", str(SOCKPERF_SIZE), "-t", str(SOCKPERF_SECONDS)],
            timeout=SOCKPERF_TIMEOUT, ends_itself=False)
        return parse_sockperf_pp(text) if mode == "pp" else parse_sockperf_tp(text)
    return measure


def versions():
    found = {}
    probes = {
        "ucx": (["ucx_info", "-v"], r"Version ([0-9.]+)"),
        "libfabric": (["fi_info", "--version"], r"libfabric: ([0-9.a-z]+)"),
        "sockperf": (["sockperf", "--version"], r"sockperf.*?([0-9]+\.[0-9.]+)"),
    }
    for name, (argv, pattern) in probes.items():
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=5)
            match = re.search(pattern, ANSI.sub("", done.stdout + done.stderr))
            found[name] = match.group(1) if match else "?"
        except (OSError, subprocess.TimeoutExpired):
            found[name] = "missing"
    return found
