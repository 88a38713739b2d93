"""Trends across the runs of one environment (`91_trends`): pass rate and duration over time, checks that flip
between runs, per-notebook durations.

Only summary.json files are read, so hundreds of runs cost one small JSON parse each. A run folder without one
is unfinished (the run that is executing now) or crashed before its end; a summary that does not parse or lacks
the contract's keys is skipped with a note rather than failing the report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mojacheck.reports.runs import check_identity

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

_REQUIRED = {"run_id": str, "started": str, "duration_s": (int, float), "totals": dict, "notebooks": list,
             "checks": list}


@dataclass
class History:
    """The runs of one environment: readable summaries (oldest first), skipped ones with why, unfinished folders."""

    summaries: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (run folder, why)
    unfinished: list[str] = field(default_factory=list)  # run folders without summary.json


def _problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "not a JSON object"
    for key, kind in _REQUIRED.items():
        if not isinstance(data.get(key), kind):
            return f"no valid {key!r}"
    return None


def load_history(env_dir: Path | str, *, exclude: str | None = None) -> History:
    """Every run folder under `outputs/<env>/` (not `latest`, not `snapshots`); `exclude` names a run to leave
    out (the one executing this report)."""
    env_dir = Path(env_dir)
    history = History()
    if not env_dir.is_dir():
        return history
    folders = sorted(p for p in env_dir.iterdir() if p.is_dir() and not p.is_symlink() and p.name[:1].isdigit())
    for folder in folders:
        if folder.name == exclude:
            continue
        path = folder / "summary.json"
        if not path.is_file():
            history.unfinished.append(folder.name)
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            history.skipped.append((folder.name, f"{type(exc).__name__}: {exc}"))
            continue
        if (why := _problem(data)) is not None:
            history.skipped.append((folder.name, why))
            continue
        history.summaries.append(data)
    history.summaries.sort(key=lambda s: s["started"])
    return history


def runs_frame(history: History) -> pd.DataFrame:
    """One row per finished run: start, release, duration_s, counts, pass_rate (% of checks; None without any)."""
    import pandas as pd

    rows = []
    for s in history.summaries:
        totals = s["totals"]
        checks = int(totals.get("checks") or 0)
        passed = int(totals.get("passed") or 0)
        rows.append({"run_id": s["run_id"], "started": pd.Timestamp(s["started"]),
                     "release": str((s.get("hub") or {}).get("release", "")), "duration_s": s["duration_s"],
                     "notebooks": totals.get("notebooks"), "checks": checks, "passed": passed,
                     "failed": int(totals.get("failed") or 0),
                     "pass_rate": round(100.0 * passed / checks, 2) if checks else None})
    return pd.DataFrame(rows, columns=["run_id", "started", "release", "duration_s", "notebooks", "checks",
                                       "passed", "failed", "pass_rate"])


def check_outcomes(history: History) -> pd.DataFrame:
    """One row per check per run (long form)."""
    import pandas as pd

    rows = [(s["run_id"], s["started"], c.get("notebook"), check_identity(str(c.get("scenario"))),
             check_identity(str(c.get("name"))),
             c.get("passed") is True)
            for s in history.summaries for c in s["checks"] if isinstance(c, dict)]
    return pd.DataFrame(rows, columns=["run_id", "started", "notebook", "scenario", "check", "passed"])


def flaky_checks(history: History) -> pd.DataFrame:
    """Checks (same notebook, scenario and name) that passed in some runs and failed in others; `flips` counts
    outcome changes between consecutive runs that had the check, `last` is its newest outcome."""
    import pandas as pd

    columns = ["notebook", "scenario", "check", "runs", "passed", "failed", "flips", "last"]
    outcomes = check_outcomes(history)
    if outcomes.empty:
        return pd.DataFrame(columns=columns)
    # A check repeated inside one run counts once per run: failed if any repetition failed.
    per_run = outcomes.groupby(["notebook", "scenario", "check", "started"], sort=True)["passed"].all()
    rows = []
    for (notebook, scenario, check), series in per_run.groupby(level=[0, 1, 2]):
        values = list(series)
        if all(values) or not any(values):
            continue
        flips = sum(1 for a, b in pairwise(values) if a != b)
        rows.append({"notebook": notebook, "scenario": scenario, "check": check, "runs": len(values),
                     "passed": sum(values), "failed": len(values) - sum(values), "flips": flips,
                     "last": "passed" if values[-1] else "failed"})
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["flips", "failed"], ascending=False).reset_index(drop=True)


def notebook_durations(history: History) -> pd.DataFrame:
    """Runs × notebooks, seconds (a notebook missing from a run is empty)."""
    import pandas as pd

    rows = [{"started": pd.Timestamp(s["started"]), "notebook": nb.get("name"), "duration_s": nb.get("duration_s")}
            for s in history.summaries for nb in s["notebooks"] if isinstance(nb, dict)]
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows).pivot_table(index="started", columns="notebook", values="duration_s", aggfunc="sum")


def notebook_duration_stats(history: History) -> pd.DataFrame:
    """Per notebook over the runs: count, mean, p50, p95 and max duration in seconds (empty without runs)."""
    table = notebook_durations(history)
    if table.empty:
        return table
    stats = table.describe(percentiles=[0.5, 0.95]).T[["count", "mean", "50%", "95%", "max"]]
    return stats.rename(columns={"50%": "p50", "95%": "p95"}).round(2)


def trend_chart(runs: pd.DataFrame) -> Figure:
    """Pass rate (top) and run duration (bottom) over time; one marker per run."""
    import matplotlib.pyplot as plt

    fig, (rate, duration) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True)
    marker = "o" if len(runs) <= 60 else None  # hundreds of markers only blur the line
    rate.plot(runs["started"], runs["pass_rate"], marker=marker, color="#2a9d8f")
    rate.set_ylabel("checks passed (%)")
    rate.set_ylim(min(90.0, float(runs["pass_rate"].min() or 0)) - 1, 100.5)
    duration.plot(runs["started"], runs["duration_s"], marker=marker, color="#e76f51")
    duration.set_ylabel("run duration (s)")
    duration.set_ylim(bottom=0)
    fig.autofmt_xdate()
    fig.suptitle(f"{len(runs)} finished runs")
    fig.tight_layout()
    plt.close(fig)
    return fig


def notebook_duration_chart(durations: pd.DataFrame) -> Figure:
    """One line per notebook: its duration in seconds per run (`durations` from `notebook_durations`)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4))
    marker = "." if len(durations) <= 60 else None
    for name in durations.columns:
        ax.plot(durations.index, durations[name], marker=marker, label=name)
    ax.set_ylabel("seconds")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, ncol=2, loc="upper left")
    ax.set_title("Duration per notebook")
    fig.autofmt_xdate()
    fig.tight_layout()
    plt.close(fig)
    return fig


def env_dir_of(run_folder: Path) -> Path:
    """`outputs/<env>/<run-id>` → `outputs/<env>`."""
    return Path(run_folder).resolve().parent


def describe(history: History, current: str | None = None) -> str:
    """What the trend covers, in a few lines (shown above the charts)."""
    n = len(history.summaries)
    lines = []
    if n == 0:
        lines.append("No finished run of this environment yet: trends start with the next run.")
    elif n == 1:
        lines.append(f"One finished run ({history.summaries[0]['run_id']}): trends need two or more, "
                     "so the tables below have a single row.")
    else:
        lines.append(f"{n} finished runs, from {history.summaries[0]['run_id']} to {history.summaries[-1]['run_id']}.")
    if current:
        lines.append(f"This run ({current}) is not included: its summary.json is written after its last notebook "
                     "(90_run_report shows it).")
    unfinished = [u for u in history.unfinished if u != current]
    if unfinished:
        lines.append(f"{len(unfinished)} run folder(s) without summary.json (crashed or interrupted): "
                     f"{', '.join(unfinished[:5])}{' …' if len(unfinished) > 5 else ''}")
    for folder, why in history.skipped:
        lines.append(f"SKIPPED {folder}/summary.json: {why}")
    return "\n".join(lines)


def check_history(session: Any, history: History) -> None:
    """The report's own check: an environment that has finished runs has at least one readable summary."""
    found = len(history.summaries) + len(history.skipped)
    session.check("at least one earlier run summary is readable (when any exists)",
                  "≥ 1 readable, or no finished run yet", f"{len(history.summaries)} readable of {found}",
                  compare=lambda _e, _a: bool(history.summaries) or found == 0)
