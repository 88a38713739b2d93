"""Measure what one command and every process it starts need: peak memory (sum of RSS over the process tree,
sampled), CPU seconds, peak cores (CPU seconds per sampling window) and wall time. Used to size the Kubernetes
resource requests in examples/k8s/ (a pod's request covers every process in it: the runner, one Jupyter kernel
at a time, and — for the embedded hub — the hub and the simulator).

    python bench/footprint.py [--interval 0.25] -- mojacheck run --env local
    python bench/footprint.py --pid 1234 --pid 1235 --until-exit-of 999   # processes started elsewhere

The sampled RSS sum counts shared pages once per process, so it errs high (what a request should do). CPU seconds
come from the processes' own counters, read at every sample and kept for those that exited since; a process that
starts and exits between two samples is missed, which at 0.25 s is only short-lived helpers.

Measured here (2 vCPU shared, Python 3.11, every notebook of the suite; see examples/k8s/README.md for the table).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable

import psutil


def _tree(roots: list[psutil.Process]) -> list[psutil.Process]:
    found: dict[int, psutil.Process] = {}
    for root in roots:
        try:
            for proc in [root, *root.children(recursive=True)]:
                found[proc.pid] = proc
        except psutil.NoSuchProcess:
            continue
    return list(found.values())


def _sample(procs: list[psutil.Process], cpu: dict[int, float]) -> int:
    """Sum of RSS now; updates each process's last seen CPU seconds (user + system)."""
    rss = 0
    for proc in procs:
        try:
            with proc.oneshot():
                rss += proc.memory_info().rss
                times = proc.cpu_times()
                cpu[proc.pid] = times.user + times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return rss


def measure(roots: list[psutil.Process], done: Callable[[], bool], interval: float) -> dict[str, float]:
    cpu: dict[int, float] = {}
    peak_rss = 0
    peak_cores = 0.0
    started = time.monotonic()
    last_total, last_at = 0.0, started
    while not done():
        peak_rss = max(peak_rss, _sample(_tree(roots), cpu))
        now = time.monotonic()
        total = sum(cpu.values())
        if now - last_at >= 1.0:  # cores over ~1 s windows: shorter ones are mostly sampling noise
            peak_cores = max(peak_cores, (total - last_total) / (now - last_at))
            last_total, last_at = total, now
        time.sleep(interval)
    wall = time.monotonic() - started
    return {"wall_s": round(wall, 1), "cpu_s": round(sum(cpu.values()), 1),
            "mean_cores": round(sum(cpu.values()) / wall, 2) if wall else 0.0,
            "peak_cores_1s": round(peak_cores, 2), "peak_rss_mib": round(peak_rss / 2**20)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interval", type=float, default=0.25)
    parser.add_argument("--pid", type=int, action="append", default=[], help="measure this running process tree")
    parser.add_argument("--until-exit-of", type=int, default=None, metavar="PID",
                        help="with --pid: stop when this process exits")
    parser.add_argument("command", nargs="*")
    ns = parser.parse_args()
    if ns.command:
        child = subprocess.Popen(ns.command)
        result = measure([psutil.Process(child.pid)], lambda: child.poll() is not None, ns.interval)
    elif ns.pid and ns.until_exit_of:
        waited = psutil.Process(ns.until_exit_of)

        def done() -> bool:
            return not waited.is_running() or waited.status() == psutil.STATUS_ZOMBIE

        result = measure([psutil.Process(p) for p in ns.pid], done, ns.interval)
    else:
        parser.error("give a command after --, or --pid ... --until-exit-of PID")
    print(" ".join(f"{k}={v}" for k, v in result.items()), file=sys.stderr)
    return child.returncode if ns.command else 0


if __name__ == "__main__":
    sys.exit(main())
