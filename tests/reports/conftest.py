"""Fabricated run folders: executed notebooks carrying scraps (and evidence HTML) and summary.json files, the
way the runner and the notebook library write them, so report logic is tested without a kernel."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mojacheck.evidence.checks import Record, Scenario
from mojacheck.evidence.render import SCRAP_MIME, scenario_html


def scrap_output(name: str, data: Any) -> dict[str, Any]:
    return {"output_type": "display_data", "metadata": {"scrapbook": {"name": name, "data": True}},
            "data": {SCRAP_MIME: {"name": name, "data": data, "encoder": "json", "version": 1}}}


def html_output(fragment: str) -> dict[str, Any]:
    return {"output_type": "display_data", "metadata": {}, "data": {"text/html": fragment, "text/plain": "x"}}


def write_executed(path: Path, scenarios: list[Scenario], *, crash: str | None = None) -> Path:
    """An executed notebook as the library leaves it: per scenario, its evidence display then its scrap."""
    outputs: list[dict[str, Any]] = []
    for sc in scenarios:
        sc.finished = sc.started + 0.5
        outputs += [html_output(scenario_html(sc)), scrap_output(f"mc_scenario_{sc.index:03d}", sc.to_scrap())]
    if crash:
        outputs.append({"output_type": "error", "ename": "RuntimeError", "evalue": crash, "traceback": []})
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": "", "outputs": outputs, "execution_count": 1}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb), encoding="utf-8")
    return path


def scenario(name: str, index: int, checks: list[tuple[str, bool]], *, error_code: str | None = None,
             callback: dict[str, Any] | None = None, requests: list[tuple[str, str, float]] = ()) -> Scenario:
    sc = Scenario(name, index)
    for check_name, ok in checks:
        sc.check(check_name, "x", "x" if ok else "y", error_code=error_code)
    for method, url, ms in requests:
        body = {"transferId": f"t-{index}-{len(sc.records)}", "payerFsp": "payer"} if url.endswith("/transfers") \
            else None
        sc.records.append(Record("request", method, url, 202, ms, request_body=body))
    if callback is not None:
        sc.records.append(Record("callback", "PUT", "/transfers/0191e3a2-1111-7222-8333-444455556666", None, 0.0,
                                 request_body=callback))
    return sc


def summary(run_id: str, release: str, checks: list[dict[str, Any]], *, started: str | None = None,
            duration: float = 10.0) -> dict[str, Any]:
    passed = sum(1 for c in checks if c["passed"])
    notebooks = sorted({c["notebook"] for c in checks})
    return {"env": "local", "run_id": run_id, "started": started or f"2026-11-{run_id[:2]}T00:00:00.000Z",
            "finished": "", "duration_s": duration, "hub": {"release": release, "versions": {}},
            "totals": {"notebooks": len(notebooks), "scenarios": 1, "checks": len(checks), "passed": passed,
                       "failed": len(checks) - passed, "requests": 0},
            "notebooks": [{"name": n, "status": "passed", "duration_s": duration / 2} for n in notebooks],
            "checks": checks}


def check(name: str, passed: bool = True, code: str | None = None, expectation: str | None = None,
          notebook: str = "30_errors", scenario_name: str = "payer over its NDC") -> dict[str, Any]:
    return {"notebook": notebook, "scenario": scenario_name, "name": name, "expected": "x", "actual": "x",
            "passed": passed, "error_code": code, "expectation": expectation}


def write_summary(folder: Path, data: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(data), encoding="utf-8")
    return folder
