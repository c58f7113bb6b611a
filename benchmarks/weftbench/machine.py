"""The machine: its CPU, how busy it is before and during the run, and pinning
a command to one CPU."""

import os
import platform
import time


def pinned(cpu, argv):
    return ["taskset", "-c", str(cpu)] + argv


def cpu_times():
    with open("/proc/stat") as handle:
        fields = [int(field) for field in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields), idle


def process_times():
    found = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        name = stat[stat.find("(") + 1: stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2:].split()
        found[pid] = (name, int(fields[11]) + int(fields[12]))
    return found


def machine_state():
    """CPU use by everything else over one second before the run, and who uses it."""
    total0, idle0 = cpu_times()
    procs0 = process_times()
    time.sleep(1.0)
    total1, idle1 = cpu_times()
    procs1 = process_times()
    busy = 1.0 - (idle1 - idle0) / max(1, total1 - total0)
    ticks = os.sysconf("SC_CLK_TCK")
    me = str(os.getpid())
    users = []
    for pid, (name, spent) in procs1.items():
        if pid in procs0 and pid != me and procs0[pid][0] == name:
            share = (spent - procs0[pid][1]) / ticks
            if share >= 0.05:
                users.append((share, f"{name}[{pid}] {share * 100:.0f}%"))
    users.sort(reverse=True)
    return {"busy_fraction": busy, "load_average": os.getloadavg(),
            "busy_processes": [text for _share, text in users[:3]]}


class CPUAccount:
    """CPU time used by other processes while the run goes on: all busy time that
    /proc/stat counts, less what this script and the children it waited for used."""

    def __init__(self):
        self.wall0 = time.monotonic()
        self.total0, self.idle0 = cpu_times()
        self.ours0 = self._ours()

    @staticmethod
    def _ours():
        spent = os.times()
        return spent.user + spent.system + spent.children_user + spent.children_system

    def others(self):
        """Returns (fraction of all CPUs used by others, wall seconds). Counted in
        clock ticks (10 ms), so below a few ticks the figure is noise."""
        total1, idle1 = cpu_times()
        ticks = os.sysconf("SC_CLK_TCK")
        busy = ((total1 - self.total0) - (idle1 - self.idle0)) / ticks
        wall = time.monotonic() - self.wall0
        capacity = wall * (os.cpu_count() or 1)
        others = busy - (self._ours() - self.ours0) - 3.0 / ticks  # less 3 ticks of noise
        return max(0.0, others) / max(capacity, 1e-9), wall


def cpu_model():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"

