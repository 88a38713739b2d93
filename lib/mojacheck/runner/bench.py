"""`mojacheck bench` (`nox -s bench`): the speed figures of issue 15, measured on this machine, each beside the number
the issue measured before the work ("today") and its target; medians of ``--runs`` runs.

Figures: the wall time of the notebooks issue 15 timed and of the whole default suite; a minimal notebook's cost
through the runner against a bare nbclient kernel (paired, same run); P2P latency through the notebook library; e2e
transfers per second at 1/8/32/64 in flight and the e2e p95 at 100/s (hub, simulator and Locust all on this machine;
hub and simulator log at warning for these, so the figure is the hub's and not its request log's); the load
generator's ceiling against the null hub. Results go to ``outputs/bench/<UTC>.json`` with the machine's load
average, so trends show. A benchmark, never a test: nothing here passes or fails, it prints.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from mojacheck.params import find_root
from mojacheck.runner import bench_figures as fig

__all__ = ["FIGURES", "BenchOptions", "bench"]

FIGURES = ("suite", "overhead", "p2p", "hub", "paced", "null")


@dataclass(frozen=True)
class Baseline:
    """A figure as issue 15 measured it before the work, and the target it set (None: it gave none)."""

    label: str
    unit: str
    today: float | None
    target: str
    better: str  # "lower" or "higher"


BASELINES = {
    "suite.issue15": Baseline("the 9 notebooks issue 15 timed, wall", "s", 33.6, "≤ 20 s", "lower"),
    "suite": Baseline("whole default suite as it is now, wall", "s", None, "", "lower"),
    "overhead.import": Baseline("notebook vs bare kernel (import mojacheck)", "×", 1.38, "≤ 1.15×", "lower"),
    "overhead.connect": Baseline("notebook vs bare kernel (+ mc.connect)", "×", 1.64, "≤ 1.15×", "lower"),
    "p2p.p50": Baseline("P2P via the library, p50", "ms", 27.7, "≤ 15 ms", "lower"),
    "p2p.p99": Baseline("P2P via the library, p99", "ms", 42.0, "≤ 30 ms", "lower"),
    "hub.1": Baseline("hub e2e transfers/s, 1 in flight", "/s", None, "", "higher"),
    "hub.8": Baseline("hub e2e transfers/s, 8 in flight", "/s", None, "", "higher"),
    "hub.32": Baseline("hub e2e transfers/s, 32 in flight", "/s", 241.0, "≥ 400/s", "higher"),
    "hub.64": Baseline("hub e2e transfers/s, 64 in flight", "/s", None, "≥ 400/s", "higher"),
    "hub.p95.32": Baseline("hub e2e p95, 32 in flight", "ms", 201.0, "", "lower"),
    "paced.p95": Baseline("hub e2e p95 at 100 transfers/s", "ms", None, "≤ 50 ms", "lower"),
    "null.transfer": Baseline("generator ceiling, null hub (e2e transfers/s)", "/s", None, "≥ 1000/s", "higher"),
    "null.p2p": Baseline("generator ceiling, null hub (P2P payments/s)", "/s", None, "", "higher"),
}


@dataclass
class BenchOptions:
    runs: int = 3
    only: Sequence[str] = FIGURES
    levels: Sequence[int] = (1, 8, 32, 64)
    duration_s: float = 15.0
    p2p_payments: int = 100
    notebooks: int = 4  # minimal notebooks per overhead sample
    out: Path | None = None
    root: Path | None = None
    stderr: TextIO = field(default_factory=lambda: sys.stderr)


def bench(options: BenchOptions) -> int:
    """Measure, print the table, write the JSON; 0 when every chosen figure was measured, 2 otherwise."""
    out = options.stderr
    root = (options.root or find_root()).resolve()
    unknown = sorted(set(options.only) - set(FIGURES))
    if unknown or options.runs < 1:
        print(f"mojacheck: bench: unknown figure(s) {', '.join(unknown)} (known: {', '.join(FIGURES)})"
              if unknown else "mojacheck: bench: --runs must be at least 1", file=out)
        return 2
    started = datetime.now(UTC)
    machine = {"cpus": os.cpu_count(), "load_avg_before": [round(x, 2) for x in os.getloadavg()]}
    print(f"mojacheck: bench: {', '.join(options.only)}; {options.runs} runs each; load average "
          f"{machine['load_avg_before'][0]:.2f} on {machine['cpus']} cores", file=out, flush=True)
    samples: dict[str, list[float]] = {}
    details: dict[str, list[dict[str, Any]]] = {}
    errors: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="mojacheck-bench-") as tmp:
        b = fig.bed(root, Path(tmp))
        for figure in FIGURES:
            if figure in options.only:
                try:
                    _MEASURE[figure](b, options, samples, details, out)
                except Exception as exc:  # one figure that cannot be measured must not cost the others
                    last = (str(exc).strip().splitlines() or [""])[-1][:300]
                    errors[figure] = f"{type(exc).__name__}: {last}"
                    print(f"mojacheck: bench: {figure} could not be measured: {errors[figure]}", file=out, flush=True)
    machine["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
    rows = table(samples)
    for line in render(rows, options.runs, machine):
        print(line, file=out)
    target = options.out or root / "outputs" / "bench" / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    report = {"started": started.isoformat(), "finished": datetime.now(UTC).isoformat(), "commit": _commit(root),
              "runs": options.runs, "machine": machine, "figures": rows, "samples": samples, "details": details,
              "errors": errors, "options": {"only": list(options.only), "levels": list(options.levels),
                                            "duration_s": options.duration_s, "p2p_payments": options.p2p_payments}}
    target.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"mojacheck: bench: results in {target}", file=out)
    return 2 if errors else 0


def _commit(root: Path) -> str | None:
    try:
        return subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _note(out: TextIO, text: str) -> None:
    print(f"mojacheck: bench: {text}", file=out, flush=True)


# ------------------------------------------------------------------------------------------- the figures


Samples = dict[str, list[float]]
Details = dict[str, list[dict[str, Any]]]


def _suite(b: fig.Bed, o: BenchOptions, samples: Samples, details: Details, out: TextIO) -> None:
    from mojacheck.runner.core import RunOptions, run

    # Warm-up: 10_provisioning on the fresh database, so every timed run meets a provisioned hub (as a nightly does).
    run(RunOptions(env=b.env, root=b.root, notebooks_dir=b.project / "notebooks", notebooks="10*",
                   output_root=b.root / "outputs", stderr=_Quiet()))
    issue15 = fig.notebook_subset(b, b.root / "suite-issue15", fig.ISSUE15_NOTEBOOKS)
    for i in range(o.runs):  # paired: the notebooks issue 15 timed, then the whole suite as it has grown since
        for figure, folder in (("suite.issue15", issue15), ("suite", None)):
            result = fig.suite_wall(b, folder)
            samples.setdefault(figure, []).append(result["wall_s"])
            details.setdefault(figure, []).append(result)
            _note(out, f"{figure} run {i + 1}: {result['wall_s']:.1f} s, {result['notebooks']} notebooks, "
                       f"{result['checks']} checks, exit {result['exit_code']}")


def _overhead(b: fig.Bed, o: BenchOptions, samples: Samples, details: Details, out: TextIO) -> None:
    minimal = fig.minimal_bed(b)
    for variant in fig.MINIMAL:
        folder = fig.minimal_notebooks(b.root / f"minimal-{variant}", variant, o.notebooks,
                                       minimal.params().public_dict())
        for i in range(o.runs):  # paired: the runner's way, then the bare kernel, in turn
            runner_s = fig.runner_notebooks(minimal, folder)
            bare_s = fig.bare_notebooks(folder)
            samples.setdefault(f"overhead.{variant}", []).append(round(runner_s / bare_s, 3))
            details.setdefault(f"overhead.{variant}", []).append({"runner_s": round(runner_s, 3),
                                                                  "bare_s": round(bare_s, 3)})
            _note(out, f"notebook overhead ({variant}) pair {i + 1}: runner {runner_s:.2f} s, bare {bare_s:.2f} s "
                       f"per notebook, {runner_s / bare_s:.2f}×")


def _p2p(b: fig.Bed, o: BenchOptions, samples: Samples, details: Details, out: TextIO) -> None:
    with fig.services_of(b) as params:
        for i in range(o.runs):
            result = fig.p2p_latency(params, o.p2p_payments)
            samples.setdefault("p2p.p50", []).append(result["p50_ms"])
            samples.setdefault("p2p.p99", []).append(result["p99_ms"])
            details.setdefault("p2p", []).append(result)
            _note(out, f"P2P run {i + 1}: p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms "
                       f"over {result['payments']} payments")


def _hub(b: fig.Bed, o: BenchOptions, samples: Samples, details: Details, out: TextIO) -> None:
    b = fig.quiet_bed(b)
    with fig.services_of(b):
        for level in o.levels:
            for i in range(o.runs):
                result = fig.hub_throughput(b, level, o.duration_s)
                samples.setdefault(f"hub.{level}", []).append(result["per_s"])
                samples.setdefault(f"hub.p95.{level}", []).append(result["p95_ms"])
                details.setdefault(f"hub.{level}", []).append(result)
                _note(out, f"hub {level} in flight, run {i + 1}: {result['per_s']:.0f}/s, p95 {result['p95_ms']} ms, "
                           f"{result['lost']} lost, load average {result['load_avg']:.1f}")


def _paced(b: fig.Bed, o: BenchOptions, samples: Samples, details: Details, out: TextIO) -> None:
    b = fig.quiet_bed(b)
    with fig.services_of(b):
        for i in range(o.runs):
            result = fig.paced_latency(b, 100.0, o.duration_s)
            samples.setdefault("paced.p95", []).append(result["p95_ms"])
            details.setdefault("paced", []).append(result)
            _note(out, f"100/s run {i + 1}: {result['per_s']:.0f}/s, p95 {result['p95_ms']} ms, {result['lost']} lost")


def _null(b: fig.Bed, o: BenchOptions, samples: Samples, details: Details, out: TextIO) -> None:
    for mix in ("transfer", "p2p"):
        for i in range(o.runs):
            result = fig.null_hub_ceiling(b, mix, o.duration_s)
            samples.setdefault(f"null.{mix}", []).append(result["per_s"])
            details.setdefault(f"null.{mix}", []).append(result)
            _note(out, f"null hub, {mix}, run {i + 1}: {result['per_s']:.0f}/s")


_MEASURE: dict[str, Callable[[fig.Bed, BenchOptions, Samples, Details, TextIO], None]] = {
    "suite": _suite, "overhead": _overhead, "p2p": _p2p, "hub": _hub, "paced": _paced, "null": _null,
}


class _Quiet:
    def write(self, _text: str) -> int:
        return 0

    def flush(self) -> None:
        pass


# ------------------------------------------------------------------------------------------- the table


def table(samples: Samples) -> list[dict[str, Any]]:
    """One row per figure measured: label, today, target, median, min, max, ratio median/today."""
    rows = []
    for key, base in BASELINES.items():
        values = [v for v in samples.get(key, []) if v is not None]
        if not values:
            continue
        median = statistics.median(values)
        rows.append({"figure": key, "label": base.label, "unit": base.unit, "today": base.today,
                     "target": base.target, "median": round(median, 3), "min": min(values), "max": max(values),
                     "ratio": round(median / base.today, 3) if base.today else None, "n": len(values)})
    return rows


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "×":
        return f"{value:.2f}×"
    if unit == "/s":
        return f"{value:.0f}/s"
    return f"{value:.1f} {unit}"


def render(rows: list[dict[str, Any]], runs: int, machine: dict[str, Any]) -> list[str]:
    lines = [f"\n{'figure':<48} {'today':>9} {'target':>9} {f'median of {runs}':>13} {'min–max':>19} {'vs today':>9}"]
    for r in rows:
        span = f"{_fmt(r['min'], r['unit'])}–{_fmt(r['max'], r['unit'])}"
        ratio = f"{r['ratio']:.2f}×" if r["ratio"] is not None else "—"
        lines.append(f"{r['label']:<48} {_fmt(r['today'], r['unit']):>9} {r['target'] or '—':>9} "
                     f"{_fmt(r['median'], r['unit']):>13} {span:>19} {ratio:>9}")
    lines.append(f"machine: {machine['cpus']} cores, load average {machine['load_avg_before'][0]:.2f} before, "
                 f"{machine['load_avg_after'][0]:.2f} after (shared: other work on it changes every figure)")
    lines.append(f"measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    return lines
