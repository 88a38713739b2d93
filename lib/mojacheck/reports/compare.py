"""Run comparison (`mojacheck compare`, notebooks/compare/compare_runs.ipynb): what differs between two runs and
whether the release expectations table explains it.

Kinds of difference: a check's outcome (passed/failed/absent), a check's error code, a callback body's field
set, a request type's p50 latency. A difference is **expected** when the check names an entry of
`mojacheck.expectations` (its `expectation` key) that differs between the two runs' `hub.release`; everything
else is **unexpected**. Two refinements, both so a regression cannot hide behind the table: a check that fails in
run B is never expected (it failed against B's own expectations), and an error-code change must be the one the
table names (4001→4200, not 4001→3100). The table has no entry for callback bodies or latency, so those are
always unexpected. One more: a callback body's spec-conformance check (`… body conforms to FSPIOP 1.1`) or header
check (`PUT /transfers/{ID} callback headers`) that passed in one run and is absent from the other is no difference
at all (a callback is checked only when its step received it: a party is registered on a fresh hub only); it is
counted in a note. One that fails always shows. Callback bodies are grouped by the request they answer.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mojacheck.evidence.callback_headers import is_header_check
from mojacheck.evidence.conformance import is_conformance_check
from mojacheck.evidence.prose import change, counted, prose
from mojacheck.expectations import release_differences
from mojacheck.fspiop.errors import MojacheckError
from mojacheck.reports.callbacks import FieldSets, run_field_sets
from mojacheck.reports.runs import check_identity, load_run, read_summary, request_type

LATENCY_FACTOR = 3.0  # p50 in B over p50 in A …
LATENCY_FLOOR_MS = 250.0  # … and slower by at least this much: below it, run-to-run noise on a loaded machine


class CompareError(MojacheckError):
    """The two runs cannot be compared (a folder or its summary.json is missing or unreadable)."""


@dataclass
class Side:
    folder: str
    run_id: str
    env: str
    release: str


@dataclass
class Difference:
    """One difference between runs A and B: its kind, where it is, its values in A and B, and whether the release
    expectations table explains it (`expected`, with `why`)."""

    kind: str  # outcome | error_code | callback_fields | latency
    notebook: str
    scenario: str
    subject: str  # the check name, or the request type
    a: str
    b: str
    expected: bool
    why: str


@dataclass
class Comparison:
    """Everything `compare_runs` found between run A and run B."""

    a: Side
    b: Side
    differences: list[Difference] = field(default_factory=list)
    versions: list[dict[str, Any]] = field(default_factory=list)  # version-related checks, A vs B
    hub_versions: list[dict[str, Any]] = field(default_factory=list)  # summary hub.versions entries that differ
    latency: list[dict[str, Any]] = field(default_factory=list)  # p50 per request type, A vs B
    release_differences: dict[str, list[Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def unexpected(self) -> list[Difference]:
        """The differences the release expectations table does not explain."""
        return [d for d in self.differences if not d.expected]

    @property
    def expected(self) -> list[Difference]:
        """The differences the release expectations table explains."""
        return [d for d in self.differences if d.expected]

    def to_dict(self) -> dict[str, Any]:
        """The comparison as plain JSON-able data, plus `counts` (expected, unexpected, and per kind)."""
        data = asdict(self)
        data["counts"] = {"expected": len(self.expected), "unexpected": len(self.unexpected),
                          **Counter(f"{d.kind}" for d in self.differences)}
        return data


# ---------------------------------------------------------------- inputs


def load_summary(folder: Path | str, label: str = "run") -> dict[str, Any]:
    folder = Path(folder)
    if not folder.is_dir():
        raise CompareError(f"{label}: no such run folder: {folder}")
    try:
        summary = read_summary(folder)
    except (OSError, ValueError) as exc:
        raise CompareError(f"{label}: {folder / 'summary.json'} is unreadable: {exc}") from exc
    if summary is None:
        raise CompareError(f"{label}: {folder} has no summary.json (an unfinished or crashed run?)")
    if not isinstance(summary.get("checks"), list):
        raise CompareError(f"{label}: {folder / 'summary.json'} has no checks list")
    return summary


def side_of(folder: Path | str, summary: dict[str, Any]) -> Side:
    resolved = Path(folder).resolve()
    return Side(str(resolved), str(summary.get("run_id") or resolved.name), str(summary.get("env", "")),
                str((summary.get("hub") or {}).get("release", "")))


# ---------------------------------------------------------------- checks


CheckKey = tuple[str, str, str, int]  # notebook, scenario, name, occurrence (a name repeated in a scenario)


def index_checks(summary: dict[str, Any]) -> dict[CheckKey, dict[str, Any]]:
    seen: Counter[tuple[str, str, str]] = Counter()
    out: dict[CheckKey, dict[str, Any]] = {}
    for c in summary.get("checks", []):
        base = (str(c.get("notebook", "")), check_identity(str(c.get("scenario", ""))),
                check_identity(str(c.get("name", ""))))
        seen[base] += 1
        out[(*base, seen[base])] = c
    return out


def _releases(a: str, b: str, notes: list[str]) -> dict[str, tuple[Any, Any]]:
    try:
        return release_differences(a, b)
    except ValueError as exc:  # a release the table does not know: nothing can be explained by it
        notes.append(f"the expectations table cannot explain differences: {exc}")
        return {}


def _outcome(check: dict[str, Any] | None) -> str:
    if check is None:
        return "absent"
    return "passed" if check.get("passed") is True else "failed"


def _expectation(ca: dict[str, Any] | None, cb: dict[str, Any] | None) -> str | None:
    for c in (cb, ca):
        if c and c.get("expectation"):
            return str(c["expectation"])
    return None


def _explained(key: str | None, diffs: dict[str, tuple[Any, Any]], ra: str, rb: str) -> tuple[bool, str]:
    if key is None:
        return False, "the check names no expectations-table entry"
    if key not in diffs:
        return False, f"'{key}' is the same for releases {ra} and {rb}"
    before, after = diffs[key]
    return True, f"{key} changes from {prose(before, key)} to {prose(after, key)} between releases {ra} and {rb}"


def _code(check: dict[str, Any]) -> str | None:
    code = check.get("error_code")
    return None if code is None else str(code)


def _table_codes(table: Any) -> tuple[str | None, ...] | None:
    """The error codes a table change implies when both its values are strings: a code is itself, a state
    (expired_transfer_get 3303 → ABORTED) is seen by a check with no error code."""
    if isinstance(table, (list, tuple)) and all(isinstance(v, str) for v in table):
        return tuple(v if v.isdigit() else None for v in table)
    return None


def pair_checks(ia: dict[CheckKey, dict[str, Any]], ib: dict[CheckKey, dict[str, Any]]
                ) -> list[tuple[dict[str, Any] | None, dict[str, Any] | None]]:
    """Checks of A and B that are the same check: the same identity, or — when a check's name carries its
    release-dependent value (`payer over its NDC is told: 4001 …` vs `… 4200 …`) — the same notebook,
    scenario and expectation key among those left unpaired, in order."""
    pairs: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = [(ia[k], ib[k]) for k in ia if k in ib]
    only_a: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for key, c in ia.items():
        if key not in ib and c.get("expectation"):
            only_a.setdefault((key[0], key[1], str(c["expectation"])), []).append(c)
    for key, c in ib.items():
        if key in ia:
            continue
        waiting = only_a.get((key[0], key[1], str(c.get("expectation")))) if c.get("expectation") else None
        pairs.append((waiting.pop(0), c) if waiting else (None, c))
    paired = {id(ca) for ca, _ in pairs if ca is not None}
    pairs += [(c, None) for key, c in ia.items() if key not in ib and id(c) not in paired]
    return pairs


def compare_checks(a: dict[str, Any], b: dict[str, Any], diffs: dict[str, tuple[Any, Any]],
                   one_sided: list[str] | None = None) -> list[Difference]:
    """Outcome and error-code changes between two summaries (pure: no files). Passing conformance and callback
    header checks that ran in one run only are not differences; their names go to `one_sided` when given."""
    ra, rb = (str((s.get("hub") or {}).get("release", "")) for s in (a, b))
    out: list[Difference] = []
    for ca, cb in pair_checks(index_checks(a), index_checks(b)):
        shown = cb or ca or {}
        notebook, scenario, name = (str(shown.get(k, "")) for k in ("notebook", "scenario", "name"))
        expectation = _expectation(ca, cb)
        oa, ob = _outcome(ca), _outcome(cb)
        if {oa, ob} == {"passed", "absent"} and (is_conformance_check(name) or is_header_check(name)):
            if one_sided is not None:
                one_sided.append(name)
            continue
        if oa != ob:
            expected, why = _explained(expectation, diffs, ra, rb)
            if ob == "failed":
                expected, why = False, f"fails in run B (release {rb}): {cb.get('actual') if cb else ''}"
            out.append(Difference("outcome", notebook, scenario, name, oa, ob, expected, why))
        if ca and cb and _code(ca) != _code(cb):
            expected, why = _explained(expectation, diffs, ra, rb)
            table = diffs.get(expectation or "")
            codes = _table_codes(table)
            if expected and codes is not None and (_code(ca), _code(cb)) != codes:
                expected, why = False, f"the table expects {change(expectation, *table)} for {expectation}"
            out.append(Difference("error_code", notebook, scenario, name, _code(ca) or "no error",
                                  _code(cb) or "no error", expected, why))
    return out


def _is_version_check(c: dict[str, Any]) -> bool:
    return (str(c.get("error_code")) == "3001" or "version" in str(c.get("name", "")).lower()
            or c.get("expectation") in ("supported_versions", "hub_content_version"))


def version_rows(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Checks about API versions (a 3001 answer, a name mentioning versions or a version expectation), A vs B."""
    ia, ib = index_checks(a), index_checks(b)
    rows = []
    for key in [*ia, *(k for k in ib if k not in ia)]:
        ca, cb = ia.get(key), ib.get(key)
        if not any(c and _is_version_check(c) for c in (ca, cb)):
            continue
        shown = cb or ca or {}
        rows.append({"notebook": key[0], "scenario": shown.get("scenario", key[1]), "check": shown.get("name", key[2]),
                     "a": f"{_outcome(ca)}: {ca.get('actual')}" if ca else "absent",
                     "b": f"{_outcome(cb)}: {cb.get('actual')}" if cb else "absent"})
    return rows


def hub_version_rows(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    va, vb = ((s.get("hub") or {}).get("versions") or {} for s in (a, b))
    return [{"key": k, "a": va.get(k) or "not reported", "b": vb.get(k) or "not reported"}
            for k in sorted({*va, *vb}) if va.get(k) != vb.get(k)]


# ---------------------------------------------------------------- callbacks and latency


def compare_field_sets(fa: FieldSets, fb: FieldSets, changing: dict[tuple[str, str], str] | None = None
                       ) -> list[Difference]:
    """Callbacks of one kind, in the same scenario of both runs, whose bodies carry different fields. Expected only
    in a scenario whose checks name a table entry that changes between the two releases (``changing``: scenario →
    entry): a scenario that behaves differently by the table answers with other bodies too (a transfer ABORTED
    with its cause extension where the older release committed it)."""
    out = []
    for key in sorted(set(fa) & set(fb)):
        added, removed = sorted(fb[key] - fa[key]), sorted(fa[key] - fb[key])
        if added or removed:
            notebook, scenario, kind = key
            entry = (changing or {}).get((notebook, scenario))
            why = (f"the scenario follows {entry}, which changes between the releases" if entry
                   else "the expectations table has no entry for callback bodies")
            out.append(Difference("callback_fields", notebook, scenario, kind,
                                  "−" + ", ".join(removed) if removed else "", "+" + ", ".join(added) if added else "",
                                  entry is not None, why))
    return out


def changing_scenarios(a: dict[str, Any], b: dict[str, Any], diffs: dict[str, tuple[Any, Any]]
                       ) -> dict[tuple[str, str], str]:
    """(notebook, scenario) → the first table entry one of its checks names that differs between the releases."""
    found: dict[tuple[str, str], str] = {}
    for summary in (a, b):
        for c in summary.get("checks", []):
            entry = c.get("expectation")
            if entry and entry in diffs:
                found.setdefault((str(c.get("notebook", "")), str(c.get("scenario", ""))), str(entry))
    return found


def p50_per_type(folder: Path) -> dict[str, tuple[int, float]]:
    samples: dict[str, list[float]] = {}
    for nb in load_run(folder).notebooks:
        for s in nb.scenarios:
            for r in s.get("requests", []):
                if r.get("kind", "request") == "request":
                    kind = request_type(r.get("method", ""), r.get("url", ""))
                    samples.setdefault(kind, []).append(float(r.get("elapsed_ms") or 0.0))
    return {k: (len(v), statistics.median(v)) for k, v in samples.items()}


def compare_latency(pa: dict[str, tuple[int, float]], pb: dict[str, tuple[int, float]], *,
                    factor: float = LATENCY_FACTOR, floor_ms: float = LATENCY_FLOOR_MS
                    ) -> tuple[list[dict[str, Any]], list[Difference]]:
    rows, out = [], []
    for kind in sorted(set(pa) & set(pb)):
        (na, a), (nb, b) = pa[kind], pb[kind]
        rows.append({"type": kind, "count_a": na, "count_b": nb, "p50_a_ms": round(a, 1), "p50_b_ms": round(b, 1),
                     "delta_ms": round(b - a, 1)})
        if b > a * factor and b - a > floor_ms:
            out.append(Difference("latency", "", "", kind, f"{a:.1f} ms", f"{b:.1f} ms", False,
                                  f"p50 more than {factor:g}× and {floor_ms:g} ms slower"))
    return rows, out


# ---------------------------------------------------------------- the whole comparison


def compare_runs(folder_a: Path | str, folder_b: Path | str) -> Comparison:
    """Compare two run folders (A before B): check outcomes, error codes, callback field sets, p50 latency.
    CompareError when a folder or its summary.json is missing or unreadable."""
    sa, sb = load_summary(folder_a, "run A"), load_summary(folder_b, "run B")
    result = Comparison(side_of(folder_a, sa), side_of(folder_b, sb))
    diffs = _releases(result.a.release, result.b.release, result.notes)
    result.release_differences = {k: list(v) for k, v in diffs.items()}
    one_sided: list[str] = []
    result.differences = compare_checks(sa, sb, diffs, one_sided)
    if one_sided:
        result.notes.append(f"{counted(len(one_sided), 'passing callback check')} (body conformance or headers) "
                            "ran in one run only (a callback is checked only when its step received it, e.g. a "
                            "party registered on a fresh hub): not compared")
    result.versions = version_rows(sa, sb)
    result.hub_versions = hub_version_rows(sa, sb)
    result.differences += compare_field_sets(run_field_sets(Path(folder_a)), run_field_sets(Path(folder_b)),
                                             changing_scenarios(sa, sb, diffs))
    result.latency, slower = compare_latency(p50_per_type(Path(folder_a)), p50_per_type(Path(folder_b)))
    result.differences += slower
    if {nb.get("name") for nb in sa.get("notebooks", [])} != {nb.get("name") for nb in sb.get("notebooks", [])}:
        result.notes.append("the two runs ran different notebooks: checks of the others show as absent")
    return result


# ---------------------------------------------------------------- presentation (the comparison notebook)


def differences_frame(comparison: Comparison, kind: str) -> Any:
    """The differences of one `kind` (outcome, error_code, callback_fields, latency) as a pandas table."""
    import pandas as pd

    rows = [{"verdict": "expected" if d.expected else "UNEXPECTED", "notebook": d.notebook, "scenario": d.scenario,
             "subject": d.subject, "A": d.a, "B": d.b, "why": d.why} for d in comparison.differences if d.kind == kind]
    return pd.DataFrame(rows, columns=["verdict", "notebook", "scenario", "subject", "A", "B", "why"])


def differences_view(comparison: Comparison, kind: str) -> Any:
    """The differences of one kind for display: a table, or a line saying there are none."""
    from IPython.display import Markdown

    frame = differences_frame(comparison, kind)
    return frame if len(frame) else Markdown(f"*No {kind.replace('_', ' ')} differences.*")


def headline(comparison: Comparison) -> str:
    """A few lines of text: both runs, the difference counts, the table's changes between the two releases, notes."""
    a, b = comparison.a, comparison.b
    lines = [f"A: {a.run_id} (env {a.env}, release {a.release})",
             f"B: {b.run_id} (env {b.env}, release {b.release})",
             f"{counted(len(comparison.differences), 'difference')}: {len(comparison.expected)} expected, "
             f"{len(comparison.unexpected)} unexpected"]
    if comparison.release_differences:
        table = "; ".join(f"{k}: {change(k, *v)}" for k, v in comparison.release_differences.items())
        lines.append(f"The expectations table between releases {a.release} and {b.release}: {table}")
    else:
        lines.append(f"The expectations table has no difference between releases {a.release} and {b.release}.")
    lines += [f"note: {n}" for n in comparison.notes]
    return "\n".join(lines)


def newest_pair(env: str, *, root: Path | None = None) -> tuple[Path, Path]:
    """The two newest finished runs of `outputs/<env>/` (for opening the comparison notebook by hand)."""
    from mojacheck.params import find_root

    env_dir = (root or find_root()) / "outputs" / env
    if not env_dir.is_dir():
        raise CompareError(f"no runs of env {env!r}: {env_dir} does not exist")
    finished = sorted(p for p in Path(env_dir).iterdir()
                      if p.is_dir() and not p.is_symlink() and (p / "summary.json").is_file())
    if len(finished) < 2:
        raise CompareError(f"{env_dir} has fewer than two finished runs to compare")
    return finished[-2], finished[-1]
