"""The run report (`90_run_report`): pass/fail per notebook and scenario, latency per request type, the slowest
requests, failures linked to their notebook's HTML, and the report's own checks on the run's scraps."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from mojacheck.evidence.render import scenario_anchor
from mojacheck.reports.frames import checks_frame, requests_frame
from mojacheck.reports.runs import Run

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from mojacheck.clients.session import Session


def notebook_status(nb: Any) -> str:
    """The notebook's status: unreadable, crashed, no scenarios, failed (a check did not pass) or passed."""
    if nb.unreadable:
        return "unreadable"
    if nb.crashed:
        return "crashed"
    if not nb.scenarios:
        return "no scenarios"
    return "failed" if any(c.get("passed") is not True for c in nb.checks) else "passed"


def notebook_table(run: Run) -> pd.DataFrame:
    """One row per notebook: status, scenario and check counts, crash message ("" if none), HTML report file."""
    import pandas as pd

    rows = []
    for nb in run.notebooks:
        checks = nb.checks
        failed = sum(1 for c in checks if c.get("passed") is not True)
        rows.append({"notebook": nb.name, "status": notebook_status(nb), "scenarios": len(nb.scenarios),
                     "checks": len(checks), "passed": len(checks) - failed, "failed": failed,
                     "crash": nb.crashed or nb.unreadable or "", "report": nb.html})
    return pd.DataFrame(rows, columns=["notebook", "status", "scenarios", "checks", "passed", "failed", "crash",
                                       "report"])


def latency_table(run: Run) -> pd.DataFrame:
    """p50/p95/max per request type, requests only: a callback's time is when it was read, not a latency."""
    import pandas as pd

    frame = requests_frame(run.notebooks)
    frame = frame[frame["kind"] == "request"]
    if frame.empty:
        return pd.DataFrame(columns=["type", "count", "p50_ms", "p95_ms", "max_ms"])
    grouped = frame.groupby("type")["elapsed_ms"]
    table = pd.DataFrame({"count": grouped.size(), "p50_ms": grouped.quantile(0.5),
                          "p95_ms": grouped.quantile(0.95), "max_ms": grouped.max()}).round(1)
    return table.sort_values("p95_ms", ascending=False).reset_index()


def latency_chart(table: pd.DataFrame, *, top: int = 20) -> Figure:
    """Horizontal p50/p95 bars for the `top` request types with the highest p95."""
    import matplotlib.pyplot as plt

    shown = table.head(top).iloc[::-1]  # slowest at the top of the chart
    fig, ax = plt.subplots(figsize=(10, 0.35 * max(len(shown), 3) + 1.2))
    y = range(len(shown))
    ax.barh([i + 0.2 for i in y], shown["p95_ms"], height=0.4, label="p95", color="#f4a261")
    ax.barh([i - 0.2 for i in y], shown["p50_ms"], height=0.4, label="p50", color="#2a9d8f")
    ax.set_yticks(list(y), list(shown["type"]), fontsize=8)
    ax.set_xlabel("ms")
    ax.set_title(f"Latency per request type (top {len(shown)} by p95)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    plt.close(fig)  # returned for display once, not shown again by the inline backend
    return fig


def slowest_requests(run: Run, n: int = 10) -> pd.DataFrame:
    """The `n` slowest requests of the run (callbacks left out), slowest first; elapsed_ms in milliseconds."""
    frame = requests_frame(run.notebooks)
    frame = frame[frame["kind"] == "request"]
    columns = ["elapsed_ms", "method", "url", "status", "notebook", "scenario"]
    return frame.sort_values("elapsed_ms", ascending=False).head(n)[columns].reset_index(drop=True)


def failures(run: Run) -> pd.DataFrame:
    """One row per failed check; `report` links the scenario in its notebook's HTML, relative to the run folder."""
    frame = checks_frame(run.notebooks)
    failed = frame[~frame["passed"]].copy()
    # The scenario's heading carries the anchor `mc-scenario-NNN` (evidence.scenario_html): link to the cell.
    failed["report"] = [f"{nb}.html#{scenario_anchor(i)}" for nb, i in zip(failed["notebook"],
                                                                          failed["scenario_index"], strict=True)]
    return failed[["notebook", "scenario", "check", "expected", "actual", "error_code", "report"]].reset_index(
        drop=True)


def html_table(head: list[str], rows: list[list[str]]) -> str:
    """An HTML table of already-escaped cells, every row shown (pandas would cut a long table to 10 rows)."""
    header = "".join(f"<th style='text-align:left'>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{header}</tr>{body}</table>"


def _link(target: str, text: str) -> str:
    return f"<a href='{html.escape(target)}'>{html.escape(text)}</a>"


def _text(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def notebooks_html(run: Run) -> str:
    """The notebook table with each notebook's name linking to its HTML report (relative: the folder moves)."""
    table = notebook_table(run)
    rows = [[_link(r.report, r.notebook), _text(r.status), _text(r.scenarios), _text(r.checks), _text(r.passed),
             _text(r.failed), _text(r.crash)] for r in table.itertuples(index=False)]
    return html_table(["notebook", "status", "scenarios", "checks", "passed", "failed", "crash"], rows)


def scenarios_html(run: Run) -> str:
    """Every scenario of the run with its full name linking to its cell in the notebook's HTML report."""
    rows = []
    for nb in run.notebooks:
        for i, s in enumerate(nb.scenarios):
            checks = s.get("checks", [])
            failed = sum(1 for c in checks if c.get("passed") is not True)
            verdict = "passed" if checks and not failed else "failed"
            duration = s.get("duration_s")
            rows.append([_text(nb.name), _link(f"{nb.html}#{scenario_anchor(i)}", str(s.get("name", ""))),
                         _text(verdict), _text(len(checks)), _text(failed), _text(len(s.get("requests", []))),
                         _text(f"{duration:.2f}" if isinstance(duration, int | float) else "")])
    if not rows:
        return "<p>No scenarios in the notebooks before this report.</p>"
    return html_table(["notebook", "scenario", "verdict", "checks", "failed", "requests", "seconds"], rows)


def failures_html(table: pd.DataFrame) -> str:
    """The failures as an HTML table whose notebook column links to the failed scenario in that notebook's
    report (relative link: the run folder can be moved or archived)."""
    if table.empty:
        return "<p>No failed checks in the notebooks before this report.</p>"
    rows = [[_link(r.report, r.notebook), *(_text(v) for v in (r.scenario, r.check, r.expected, r.actual,
                                                                 r.error_code))]
            for r in table.itertuples(index=False)]
    return html_table(["notebook", "scenario", "check", "expected", "actual", "error code"], rows)


# ---------------------------------------------------------------- the report's own checks
# They check the contract between the notebooks and the reports (scraps present, scenarios with checks, reports
# linkable), never the notebooks' own outcomes: those are already counted once, where they happened.


def check_glued(session: Session, run: Run) -> None:
    """Every notebook before the report that ran to the end glued at least one scenario. A crashed notebook
    is skipped: the runner already counts its crash, and the notebook table shows it."""
    session.check("run folder is readable", "a folder", "a folder" if run.folder.is_dir() else "missing")
    for nb in run.notebooks:
        if nb.crashed or nb.unreadable:
            continue
        count = len(nb.scenarios)
        session.check(f"{nb.name} glued its scenarios", "≥ 1 scenario", f"{count} scenarios",
                      compare=lambda _e, _a, n=count: n >= 1)


def check_every_scenario_checked(session: Session, run: Run) -> None:
    """Check that every glued scenario of the run made at least one check (naming those that made none)."""
    empty = [f"{nb.name} :: {s.get('name')}" for nb in run.notebooks for s in nb.scenarios if not s.get("checks")]
    session.check("scenarios without checks", "none", empty or "none")


def check_failure_links(session: Session, run: Run) -> None:
    """Every notebook with a failed check has the HTML report the failure table links to."""
    missing = [nb.html for nb in run.notebooks
               if any(c.get("passed") is not True for c in nb.checks) and not (run.folder / nb.html).is_file()]
    session.check("linked notebook reports that are missing", "none", missing or "none")
