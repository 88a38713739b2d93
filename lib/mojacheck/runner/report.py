"""Consumers of the scraps: summary.json (DESIGN.md, exact shape) and junit.xml.

Both are built from `NotebookResult`s alone, i.e. from what the notebooks glued, never from their outputs.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from mojacheck.runner.execute import NotebookResult


@dataclass(frozen=True)
class RunInfo:
    env: str
    run_id: str
    started: datetime
    finished: datetime
    hub_release: str  # params' release: used when no notebook glued `mc_hub`
    api_spec: dict[str, Any] | None = None  # evidence.specs.SpecStatus.to_json(): callback-body validation on/off


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def build_summary(info: RunInfo, results: list[NotebookResult], *,
                  stopped: dict[str, Any] | None = None) -> dict[str, Any]:
    """summary.json: DESIGN.md's shape, plus `stopped` when the run ended early ({reason, signal, not_run})."""
    notebooks = [_notebook_entry(r) for r in results]
    checks = [_check_entry(r.name, s, c) for r in results for s in r.scenarios for c in s.get("checks", [])]
    totals = {
        "notebooks": len(results),
        "scenarios": sum(n["scenarios"] for n in notebooks),
        "checks": len(checks),
        "passed": sum(1 for c in checks if c["passed"]),
        "failed": sum(1 for c in checks if not c["passed"]),
        "requests": sum(n["requests"] for n in notebooks),
    }
    summary = {
        "env": info.env,
        "run_id": info.run_id,
        "started": iso(info.started),
        "finished": iso(info.finished),
        "duration_s": round((info.finished - info.started).total_seconds(), 3),
        "hub": _hub(info, results),
        "api_spec": info.api_spec,
        "totals": totals,
        "notebooks": notebooks,
        "checks": checks,
    }
    if stopped is not None:  # only a run that ended early says so
        summary["stopped"] = stopped
    return summary


def _hub(info: RunInfo, results: list[NotebookResult]) -> dict[str, Any]:
    for r in results:
        if r.hub:
            release = str(r.hub.get("release", info.hub_release))
            return {"release": release, "versions": r.hub.get("versions", {})}
    return {"release": info.hub_release, "versions": {}}


def _notebook_entry(r: NotebookResult) -> dict[str, Any]:
    return {
        "name": r.name, "status": r.status, "duration_s": round(r.duration_s, 3),
        "scenarios": len(r.scenarios), "checks": len(r.checks), "passed": r.passed,
        "failed": r.failed, "requests": r.requests,
    }


def _check_entry(notebook: str, scenario: dict[str, Any], check: dict[str, Any]) -> dict[str, Any]:
    code = check.get("error_code")
    return {
        "notebook": notebook,
        "scenario": str(scenario.get("name", "")),
        "name": str(check.get("name", "")),
        "expected": _text(check.get("expected")),
        "actual": _text(check.get("actual")),
        "passed": check.get("passed") is True,
        "error_code": None if code is None else str(code),
        # Optional: the release-expectations entry the check asserts (lib/mojacheck/expectations.py).
        "expectation": check.get("expectation"),
    }


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- junit.xml


def build_junit(info: RunInfo, results: list[NotebookResult]) -> ET.ElementTree:
    root = ET.Element("testsuites", name=f"mojacheck {info.env}")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for r in results:
        suite = _suite(r, info)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", f"{(info.finished - info.started).total_seconds():.3f}")
    ET.indent(root)
    return ET.ElementTree(root)


def _suite(r: NotebookResult, info: RunInfo) -> ET.Element:
    suite = ET.Element("testsuite", name=r.name, timestamp=iso(info.started), time=f"{r.duration_s:.3f}")
    tests = failures = 0
    for scenario in r.scenarios:
        checks = scenario.get("checks", [])
        per_check = float(scenario.get("duration_s") or 0) / max(len(checks), 1)
        for check in checks:
            entry = _check_entry(r.name, scenario, check)
            case = ET.SubElement(
                suite, "testcase", classname=r.name, name=f"{entry['scenario']} :: {entry['name']}",
                time=f"{per_check:.3f}",
            )
            tests += 1
            if not entry["passed"]:
                failures += 1
                _failure(case, entry)
    errors = 0
    if r.error is not None:
        errors = 1
        tests += 1
        case = ET.SubElement(suite, "testcase", classname=r.name, name=f"{r.name} :: execution", time="0")
        err = ET.SubElement(case, "error", message=f"{r.error.ename}: {r.error.evalue}", type=r.error.ename)
        err.text = r.error.traceback or f"{r.error.ename}: {r.error.evalue}"
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    return suite


def _failure(case: ET.Element, entry: dict[str, Any]) -> None:
    message = f"expected {entry['expected']}, got {entry['actual']}"
    if entry["error_code"]:
        message += f" (error code {entry['error_code']})"
    failure = ET.SubElement(case, "failure", message=message, type="CheckFailed")
    failure.text = (
        f"expected: {entry['expected']}\nactual:   {entry['actual']}\nerror_code: {entry['error_code']}"
    )


def write_junit(path: Path, tree: ET.ElementTree) -> None:
    tree.write(path, encoding="utf-8", xml_declaration=True)
