"""What a process costs, read from /proc (Linux only), and the open-files limit."""

from __future__ import annotations

import ctypes
import os
import resource
import signal
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of `pid` so far (resolution 1/CLK_TCK, 10 ms here)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces; everything after its closing parenthesis splits.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def rss_kb(pid: int) -> int:
    """Resident set size of `pid` (VmRSS) in KB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def raise_open_files_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit; returns the new soft limit.

    Used in the load generator and as the `preexec_fn` of every server it talks to."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


PR_SET_PDEATHSIG = 1


def child_setup() -> None:
    """`preexec_fn` of every process the bench starts: the open-files limit raised to the hard
    limit, and SIGTERM from the kernel should the bench itself die without cleaning up."""
    raise_open_files_limit()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def open_files_limit() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))


def machine() -> str:
    """A one-line description of this machine: CPU model, cores and memory."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    system = os.uname()
    memory = f"{mem_kb / 1024 / 1024:.0f} GB RAM"
    return f"{model}, {cpu_count()} cores, {memory}, {system.sysname} {system.release}"
