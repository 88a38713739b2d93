"""Reports over runs: one run's report, trends across runs, run-to-run comparison, hub state snapshots.

Notebooks reach this as `mc.reports` (loaded on first use: it brings pandas and matplotlib, which the other
notebooks and the CLI's quick commands should not pay for).
"""

from __future__ import annotations

from mojacheck.reports.compare import (
    CompareError,
    Comparison,
    Difference,
    compare_runs,
    differences_frame,
    differences_view,
    newest_pair,
)
from mojacheck.reports.compare import headline as comparison_headline
from mojacheck.reports.frames import checks_frame, requests_frame, scenarios_frame
from mojacheck.reports.report import (
    check_every_scenario_checked,
    check_failure_links,
    check_glued,
    failures,
    failures_html,
    latency_chart,
    latency_table,
    notebook_status,
    notebook_table,
    notebooks_html,
    scenarios_html,
    slowest_requests,
)
from mojacheck.reports.runs import NotebookRun, Run, load_run, read_notebook, request_type, resolve_run_dir
from mojacheck.reports.trends import (
    History,
    check_history,
    check_outcomes,
    flaky_checks,
    load_history,
    notebook_duration_chart,
    notebook_duration_stats,
    notebook_durations,
    runs_frame,
    trend_chart,
)
from mojacheck.reports.trends import describe as describe_history

__all__ = [
    "CompareError",
    "Comparison",
    "Difference",
    "History",
    "NotebookRun",
    "Run",
    "check_every_scenario_checked",
    "check_failure_links",
    "check_glued",
    "check_history",
    "check_outcomes",
    "checks_frame",
    "compare_runs",
    "comparison_headline",
    "describe_history",
    "differences_frame",
    "differences_view",
    "failures",
    "failures_html",
    "flaky_checks",
    "latency_chart",
    "latency_table",
    "load_history",
    "load_run",
    "newest_pair",
    "notebook_duration_chart",
    "notebook_duration_stats",
    "notebook_durations",
    "notebook_status",
    "notebook_table",
    "notebooks_html",
    "read_notebook",
    "request_type",
    "requests_frame",
    "resolve_run_dir",
    "runs_frame",
    "scenarios_frame",
    "scenarios_html",
    "slowest_requests",
    "trend_chart",
]
