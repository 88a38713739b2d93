"""The verdict cell the runner puts first in every executed notebook (issue 9 item 6)."""

from __future__ import annotations

import json
from pathlib import Path

from mojacheck.evidence.checks import Totals
from mojacheck.runner.execute import NotebookError, NotebookResult
from mojacheck.runner.verdict import TAG, RunContext, banner_html, stamp

RUN = RunContext(env="staging", run_id="20261128T000000Z-abc123", release="17")


def _result(*checks: bool, error: NotebookError | None = None, name: str = "20_p2p_golden_path") -> NotebookResult:
    scenarios = [{"name": f"s{i}", "checks": [{"name": "c", "passed": p}]} for i, p in enumerate(checks)]
    return NotebookResult(name, Path("x.ipynb"), 1.25, scenarios=scenarios, error=error)


def test_banner_says_passed_with_counts_release_run_and_report_link() -> None:
    text = banner_html(_result(True, True), RUN)
    assert "PASSED" in text and "2 scenarios: 2 passed, 0 failed" in text and "2 checks: 2 passed, 0 failed" in text
    assert "hub release <b>17</b>" in text and RUN.run_id in text and "env <b>staging</b>" in text
    assert "href='90_run_report.html'" in text


def test_banner_says_failed_and_counts_failed_scenarios() -> None:
    text = banner_html(_result(True, False), RUN)
    assert "FAILED" in text and "1 passed, 1 failed" in text


def test_banner_names_a_crash_in_one_line() -> None:
    text = banner_html(_result(error=NotebookError("NotReady", "run 10_provisioning first\nmore", "tb")), RUN)
    assert "DID NOT FINISH" in text and "NotReady" in text and "run 10_provisioning first" in text
    assert "more" not in text


def test_the_report_does_not_link_to_itself() -> None:
    assert "href='90_run_report.html'" not in banner_html(_result(True, name="90_run_report"), RUN)


def test_stamp_puts_the_verdict_first_once(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# Title"}],
                                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    stamp(path, _result(True), RUN)
    stamp(path, _result(False), RUN)  # a second stamp replaces the first
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert [TAG in c["metadata"].get("tags", []) for c in cells] == [True, False]
    assert "FAILED" in cells[0]["source"]


def test_totals_read_as_a_line() -> None:
    line = "PASSED: 7 scenarios (0 failed), 95 checks: 95 passed, 0 failed"
    assert str(Totals(scenarios=7, checks=95, failed=0)) == line
    assert str(Totals(scenarios=1, checks=1, failed=1, failed_scenarios=1)).startswith("FAILED: 1 scenario (1 failed)")
