"""The verdict an adopter sees first: a cell put at the top of each executed notebook, before its HTML is made.

What it shows: the notebook's verdict, its scenarios and checks passed/failed, why it crashed (if it did), the
env, hub release and run id, and a link to the run's report. The parameters papermill injected stay in the
executed notebook (evidence) but are left out of the HTML, where they were a screenful of paths.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from mojacheck.evidence.prose import counted
from mojacheck.runner.execute import NotebookResult

TAG = "mc-verdict"
REPORT = "90_run_report"
_COLOURS = {"passed": ("#e6f4ea", "#1e7e34"), "failed": ("#fdecea", "#b00020"), "error": ("#fff4e5", "#8a4b00")}


@dataclass(frozen=True)
class RunContext:
    """What every banner of one run repeats: where it ran and how to find the whole run's report."""

    env: str
    run_id: str
    release: str


def banner_html(result: NotebookResult, run: RunContext) -> str:
    """The verdict box for one notebook (HTML inside a markdown cell: renders in JupyterLab and in the HTML)."""
    status = result.status
    background, colour = _COLOURS[status]
    word = {"passed": "PASSED", "failed": "FAILED", "error": "DID NOT FINISH"}[status]
    scenarios = result.scenarios
    failed_scenarios = sum(1 for s in scenarios if any(c.get("passed") is not True for c in s.get("checks", [])))
    lines = [
        f"<b style='font-size:1.3em;color:{colour}'>{word}</b> &nbsp; {html.escape(result.name)}",
        f"{counted(len(scenarios), 'scenario')}: {len(scenarios) - failed_scenarios} passed, "
        f"{failed_scenarios} failed &nbsp;·&nbsp; {counted(len(result.checks), 'check')}: {result.passed} passed, "
        f"{result.failed} failed",
    ]
    if result.error is not None:
        first = (result.error.evalue.strip().splitlines() or [""])[0][:300]
        lines.append(f"stopped outside a check: <code>{html.escape(result.error.ename)}</code>: {html.escape(first)}")
    context = (f"env <b>{html.escape(run.env)}</b> · hub release <b>{html.escape(run.release)}</b> · "
               f"run <code>{html.escape(run.run_id)}</code> · {result.duration_s:.1f} s")
    if result.name != REPORT:
        context += f" · <a href='{REPORT}.html'>the run's report</a>"
    lines.append(context)
    body = "<br>".join(lines)
    return (f"<div style='background:{background};border-left:6px solid {colour};padding:10px 14px;"
            f"margin-bottom:8px'>{body}</div>")


def stamp(notebook: Path, result: NotebookResult, run: RunContext) -> None:
    """Put the verdict cell first in the executed notebook (replacing one from an earlier stamp)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cell = {"cell_type": "markdown", "id": "mc-verdict", "metadata": {"tags": [TAG]},
            "source": banner_html(result, run)}
    nb["cells"] = [cell, *(c for c in nb["cells"] if TAG not in c.get("metadata", {}).get("tags", []))]
    notebook.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
