"""Evidence: how a scenario shows itself in a notebook and hands its results to the runner.

The display (a checks table and every request/response/callback in collapsible blocks) and the scrap are two
consumers of the same `Scenario` events. Scraps are written in scrapbook's own output format without importing
scrapbook in the kernel: `import scrapbook` pulls nbformat → jsonschema → rfc3987-syntax, about 1.7 s per
notebook, for nothing the kernel needs. `scrapbook.read_notebook` reads them back (tests prove it).
"""

from __future__ import annotations

import html
import json
from typing import Any

from mojacheck.evidence.checks import Record, Scenario

__all__ = ["SCRAP_MIME", "checks_html", "glue", "record_html", "scenario_anchor", "scenario_html", "scenario_text",
           "show_html"]

SCRAP_MIME = "application/scrapbook.scrap.json+json"
_LEFT = "<td style='text-align:left'>{}</td>"  # JupyterLab right-aligns table cells; checks read left to right
_BODY_LIMIT = 20_000  # characters of one body shown; a bigger one is cut with a note


def glue(name: str, data: Any) -> None:
    """Record `data` (JSON-able) in the executing notebook as a scrapbook scrap named `name`."""
    payload = {"name": name, "data": data, "encoder": "json", "version": 1}
    metadata = {"scrapbook": {"name": name, "data": True, "display": False}}
    _display({SCRAP_MIME: payload}, metadata=metadata)


def _display(bundle: dict[str, Any], metadata: dict[str, Any] | None = None) -> bool:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return False
    if get_ipython() is None:
        return False
    display(bundle, metadata=metadata or {}, raw=True)
    return True


def show_html(fragment: str, text: str) -> None:
    """Show HTML in a notebook, or plain text anywhere else."""
    if not _display({"text/html": fragment, "text/plain": text}):
        print(text)


def _pretty(body: Any) -> str:
    if body is None or body == "":
        return "(no body)"
    text = body if isinstance(body, str) else json.dumps(body, indent=2, ensure_ascii=False, default=str)
    if len(text) > _BODY_LIMIT:
        text = text[:_BODY_LIMIT] + f"\n… ({len(text) - _BODY_LIMIT} more characters not shown)"
    return text


def _headers(headers: dict[str, str]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in headers.items())


def record_html(record: Record) -> str:
    """One request or callback as a collapsible HTML block: headers, body, and the response of a request."""
    arrow = {"request": "→", "callback": "⇐", "sent-by-sim": "↪"}.get(record.kind, "·")
    status = "" if record.status is None else f" → {record.status}"
    summary = (f"{arrow} {html.escape(record.method)} {html.escape(record.url)}{status} "
               f"<small>({record.elapsed_ms:.0f} ms{', ' + html.escape(record.note) if record.note else ''})</small>")
    parts = []
    if record.request_headers:
        parts.append(f"<b>headers</b><pre>{html.escape(_headers(record.request_headers))}</pre>")
    parts.append(f"<b>body</b><pre>{html.escape(_pretty(record.request_body))}</pre>")
    if record.kind == "request":
        parts.append(f"<b>response</b><pre>{html.escape(_pretty(record.response_body))}</pre>")
    return f"<details><summary>{summary}</summary>{''.join(parts)}</details>"


def checks_html(scenario: Scenario) -> str:
    """A scenario's checks as an HTML table: mark, check, expected, actual, error code."""
    rows = []
    for c in scenario.checks:
        colour = "#e6f4ea" if c.passed else "#fce8e6"
        mark = "✔" if c.passed else "✘"
        code = html.escape(c.error_code or "")
        cells = (mark, html.escape(c.name), html.escape(c.expected), html.escape(c.actual), code)
        rows.append(f"<tr style='background:{colour}'>{''.join(_LEFT.format(x) for x in cells)}</tr>")
    head = "".join(f"<th style='text-align:left'>{h}</th>" for h in ("", "check", "expected", "actual", "error code"))
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def scenario_anchor(index: int) -> str:
    """The HTML id of a scenario's heading, so a report can link straight to the cell that ran it."""
    return f"mc-scenario-{index:03d}"


def scenario_html(scenario: Scenario) -> str:
    """A scenario as HTML: a heading (verdict, checks passed, seconds), its checks table, its records folded."""
    verdict = "passed" if scenario.passed else ("no checks" if not scenario.checks else "FAILED")
    title = (f"<h4 id='{scenario_anchor(scenario.index)}'>{html.escape(scenario.name)}: {verdict} "
             f"({len(scenario.checks) - scenario.failed}/{len(scenario.checks)} checks, "
             f"{scenario.duration_s:.2f} s)</h4>")
    records = "".join(record_html(r) for r in scenario.records)
    evidence = (f"<details><summary>{len(scenario.records)} requests and callbacks</summary>{records}</details>"
                if scenario.records else "")
    return title + checks_html(scenario) + evidence


def scenario_text(scenario: Scenario) -> str:
    """A scenario as plain text: checks passed out of all, then one line per check."""
    lines = [f"== {scenario.name}: {len(scenario.checks) - scenario.failed}/{len(scenario.checks)} checks passed"]
    for c in scenario.checks:
        lines.append(f"  [{'ok' if c.passed else 'FAIL'}] {c.name}: expected {c.expected}, actual {c.actual}")
    return "\n".join(lines)
