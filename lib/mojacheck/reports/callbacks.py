"""Callback bodies as the executed notebooks show them, for comparing their field sets between runs.

Scraps carry no bodies (they stay small); the bodies are in each scenario's evidence HTML, written by
`mojacheck.evidence.render.record_html` as `<details><summary>⇐ METHOD PATH …</summary>… <b>body</b><pre>JSON</pre>…`.
Reading that display back is tied to our own evidence format, which we control, and needs nothing new in the
scraps. A scenario's evidence is displayed just before its scrap is glued, so the scrap that follows a display
names the scenario it belongs to. A body cut for length (or not JSON) is skipped, never guessed.

A callback is grouped by its type and the method of the request shown before it in the scenario (the one it
answers): account-lookup-service answers a POST and a GET on the same path with different bodies (``partyList``
and ``fspId``), and a fresh hub registers parties that a provisioned one only looks up.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mojacheck.reports.runs import notebook_outputs, request_type, scrap_of

_RECORD = re.compile(r"<details><summary>(→|⇐) (\S+) (\S+).*?</summary>(.*?)</details>", re.S)
_BODY = re.compile(r"<b>body</b><pre>(.*?)</pre>", re.S)

# (notebook, scenario, request type) → the union of the field paths of those callbacks' bodies
FieldSets = dict[tuple[str, str, str], frozenset[str]]


def field_paths(value: Any, prefix: str = "") -> Iterator[str]:
    """`{"a": {"b": 1}, "l": [{"c": 2}]}` → a, a.b, l, l[].c: the shape of a body, not its values."""
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path
            yield from field_paths(item, path)
    elif isinstance(value, list):
        for item in value:
            yield from field_paths(item, f"{prefix}[]")


def _bodies(fragment: str, answering: list[str]) -> Iterator[tuple[str, str, str, Any]]:
    """(method, url, method of the request before it, body) of each callback in ``fragment``; ``answering``
    carries the last request's method from one fragment to the next."""
    for match in _RECORD.finditer(fragment):
        arrow, method, url, inner = match.groups()
        if arrow == "→":
            answering[:] = [html.unescape(method)]
            continue
        body = _BODY.search(inner)
        if body is None:
            continue
        try:
            parsed = json.loads(html.unescape(body.group(1)))
        except ValueError:
            continue
        yield html.unescape(method), html.unescape(url), answering[0] if answering else "", parsed


def callback_field_sets(path: Path) -> FieldSets:
    nb = json.loads(path.read_text(encoding="utf-8"))
    found: dict[tuple[str, str, str], set[str]] = {}
    pending: list[tuple[str, str, str, Any]] = []
    answering: list[str] = []
    for output in notebook_outputs(nb):
        if (scrap := scrap_of(output)) is not None:
            name, data = scrap
            if name.startswith("mc_scenario_") and isinstance(data, dict):
                for method, url, request, body in pending:
                    kind = request_type(method, url, "callback") + (f" (answer to {request})" if request else "")
                    found.setdefault((path.stem, str(data.get("name", "")), kind), set()).update(field_paths(body))
            pending, answering = [], []
            continue
        fragment = (output.get("data") or {}).get("text/html")
        if isinstance(fragment, list):
            fragment = "".join(fragment)
        if isinstance(fragment, str) and "<details><summary>" in fragment:
            pending.extend(_bodies(fragment, answering))
    return {k: frozenset(v) for k, v in found.items()}


def run_field_sets(folder: Path) -> FieldSets:
    from mojacheck.reports.runs import executed_notebooks

    result: FieldSets = {}
    for path in executed_notebooks(folder):
        try:
            result.update(callback_field_sets(path))
        except (OSError, ValueError):
            continue  # an unreadable notebook has no callbacks to compare; its checks say the rest
    return result
