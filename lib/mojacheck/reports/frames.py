"""One run's scraps as pandas tables: checks, scenarios, requests (one row each)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mojacheck.reports.runs import NotebookRun, request_type

if TYPE_CHECKING:
    import pandas as pd

CHECK_COLUMNS = ["notebook", "scenario", "check", "expected", "actual", "passed", "error_code", "expectation",
                 "scenario_index"]
REQUEST_COLUMNS = ["notebook", "scenario", "kind", "method", "url", "type", "status", "elapsed_ms"]
SCENARIO_COLUMNS = ["notebook", "scenario", "checks", "failed", "passed", "requests", "duration_s"]


def checks_frame(notebooks: list[NotebookRun]) -> pd.DataFrame:
    """One row per check (CHECK_COLUMNS); `scenario_index` is the scenario's position in its notebook."""
    import pandas as pd

    rows = [
        {"notebook": nb.name, "scenario": str(s.get("name", "")), "check": str(c.get("name", "")),
         "expected": c.get("expected"), "actual": c.get("actual"), "passed": c.get("passed") is True,
         "error_code": c.get("error_code"), "expectation": c.get("expectation"), "scenario_index": i}
        for nb in notebooks for i, s in enumerate(nb.scenarios) for c in s.get("checks", [])
    ]
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def scenarios_frame(notebooks: list[NotebookRun]) -> pd.DataFrame:
    """One row per scenario (SCENARIO_COLUMNS); `passed` means at least one check and none failed."""
    import pandas as pd

    rows = []
    for nb in notebooks:
        for s in nb.scenarios:
            checks = s.get("checks", [])
            failed = sum(1 for c in checks if c.get("passed") is not True)
            rows.append({"notebook": nb.name, "scenario": str(s.get("name", "")), "checks": len(checks),
                         "failed": failed, "passed": bool(checks) and failed == 0,
                         "requests": len(s.get("requests", [])), "duration_s": s.get("duration_s")})
    return pd.DataFrame(rows, columns=SCENARIO_COLUMNS)


def requests_frame(notebooks: list[NotebookRun]) -> pd.DataFrame:
    """One row per recorded request or callback (REQUEST_COLUMNS), with its request type; elapsed_ms in ms."""
    import pandas as pd

    rows = [
        {"notebook": nb.name, "scenario": str(s.get("name", "")), "kind": r.get("kind", "request"),
         "method": r.get("method", ""), "url": r.get("url", ""),
         "type": request_type(r.get("method", ""), r.get("url", ""), r.get("kind", "request")),
         "status": r.get("status"), "elapsed_ms": float(r.get("elapsed_ms") or 0.0)}
        for nb in notebooks for s in nb.scenarios for r in s.get("requests", [])
    ]
    return pd.DataFrame(rows, columns=REQUEST_COLUMNS)
