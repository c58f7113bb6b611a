"""Running the tools: one-line failure reasons, processes in their own groups
with timeouts, free ports, and a server's lifecycle beside its client."""

import atexit
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

from .machine import pinned
from .settings import CLIENT_CPU, LISTEN_TIMEOUT, PEER_TIMEOUT, REPO, SERVER_CPU

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class RunFailed(Exception):
    """A single run failed; the message is the one-line reason."""


PROBLEM = re.compile(r"error|fail|refused|invalid|cannot|can't|denied|not found|no such",
                     re.IGNORECASE)


def reason_from(text, fallback):
    """The line of a tool's output that says what went wrong, on one line."""
    lines = [ANSI.sub("", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line]
    chosen = next((line for line in lines if PROBLEM.search(line)), lines[-1] if lines else None)
    if chosen is None:
        return fallback
    # UCX prefixes its log lines with "[time] [host:pid] file:line  UCX  ERROR".
    chosen = re.sub(r"^\[[^]]*\]\s*\[[^]]*\]\s*\S+\s+UCX\s+", "", chosen)
    return one_line(chosen)


def one_line(text, limit=160):
    text = " ".join(ANSI.sub("", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------
# Processes: every child gets its own process group so that a timeout or an
# exit kills it and whatever it started, by process-group id.

_live = set()


def _sweep(proc):
    """Kills whatever is left in the group of a process that has ended (a peer
    that Weft's CLI started and did not reap, say), so it cannot spin on a CPU
    through the next measurement. The group id stays reserved while it has members."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill(proc):
    if proc.poll() is None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=2.0)
                break
            except subprocess.TimeoutExpired:
                continue
    _sweep(proc)
    _live.discard(proc)


def _kill_all():
    for proc in list(_live):
        _kill(proc)


def _on_signal(signum, _frame):
    _kill_all()
    sys.exit(128 + signum)


atexit.register(_kill_all)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGHUP, _on_signal)


def spawn(argv):
    out = tempfile.TemporaryFile(mode="w+")
    err = tempfile.TemporaryFile(mode="w+")
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True, cwd=REPO)
    except OSError as error:
        raise RunFailed(f"cannot start {argv[0]}: {error.strerror}")
    _live.add(proc)
    proc.out, proc.err = out, err
    return proc


def output_of(proc):
    """Reads what proc wrote so far and closes the files behind it."""
    if proc.out.closed:
        return "", ""
    proc.out.seek(0)
    proc.err.seek(0)
    found = proc.out.read(), proc.err.read()
    proc.out.close()
    proc.err.close()
    return found


def run(argv, timeout):
    """Runs argv to completion; returns (stdout, stderr); raises RunFailed with a reason."""
    proc = spawn(argv)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        output_of(proc)
        raise RunFailed(f"timeout after {timeout:.0f} s")
    _sweep(proc)
    _live.discard(proc)
    stdout, stderr = output_of(proc)
    if proc.returncode != 0:
        reason = reason_from(stderr + "\n" + stdout, "no output")
        raise RunFailed(f"exit {proc.returncode}: {reason}")
    return stdout, stderr


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port):
    """True if a TCP socket is in LISTEN on port (read from /proc, no connection made:
    a probe connection would count as a client for ucx_perftest)."""
    want = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as handle:
                next(handle)
                for line in handle:
                    fields = line.split()
                    if fields[1].endswith(want) and fields[3] == "0A":
                        return True
        except OSError:
            continue
    return False


class Server:
    """A peer's server on a free port, pinned to SERVER_CPU, killed on exit.
    ends_itself: the server exits after one client (ucx_perftest, fi_pingpong)."""

    def __init__(self, make_argv, ends_itself):
        self.make_argv, self.ends_itself = make_argv, ends_itself
        self.proc = None

    def __enter__(self):
        for _attempt in range(3):
            self.port = free_port()
            self.proc = spawn(pinned(SERVER_CPU, self.make_argv(self.port)))
            deadline = time.monotonic() + LISTEN_TIMEOUT
            while time.monotonic() < deadline:
                if listening(self.port):
                    return self
                if self.proc.poll() is not None:
                    break
                time.sleep(0.02)
            stdout, stderr = output_of(self.proc)
            _kill(self.proc)
            text = (stderr + "\n" + stdout).lower()
            if "in use" not in text:  # a lost race for the port is retried
                why = reason_from(stderr + "\n" + stdout,
                                  f"not listening after {LISTEN_TIMEOUT:.0f} s")
                raise RunFailed(f"server: {why}")
        raise RunFailed("server: no free port after 3 tries")

    def __exit__(self, *_exc):
        if self.proc is not None:
            if self.ends_itself:
                try:
                    self.proc.wait(timeout=1.0)
                except subprocess.TimeoutExpired:
                    pass
            _kill(self.proc)
            output_of(self.proc)
        return False


def client_server(server_argv, client_argv, timeout=PEER_TIMEOUT, ends_itself=True):
    """Runs a server and its client; returns the client's stdout and stderr, joined."""
    with Server(server_argv, ends_itself) as server:
        return "\n".join(run(pinned(CLIENT_CPU, client_argv(server.port)), timeout))



def parse_json_object(text, program):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError as error:
                raise RunFailed(f"{program}: bad JSON: {error}")
    raise RunFailed(f"{program}: no JSON object on stdout")
