"""The upgrade guide (`notebooks/upgrade/80_upgrade_rehearsal.ipynb`): what an upgrade changes and whether it lost
anything, read from raw artefacts only — run folders in upgrade order and, per upgrade, the hub-state snapshots
taken just before and just after it. `mojacheck upgrade` makes those artefacts on the embedded hub; against a
real environment they are two ordinary runs (one env before and after an operator's upgrade, or two envs) and,
optionally, two `mojacheck snapshot` files.

Nothing here compares or diffs on its own: each upgrade step is `compare_runs` (expected/unexpected differences)
and `snapshot_diff.diff` (lost/changed/new). What this module adds is the adopter's view: per release-table entry
that changes across the step, the checks of the two runs that observed the change (a check can pass in both runs
and still see the value move, e.g. "version 2.0 accepted" no → yes), the release change behind each hub-state
change the snapshots show (an expired transfer read back as error 3303 before and ABORTED after the upgrade to
17 is expired_transfer_get's doing), and one verdict over all steps. Every value reads as words
(evidence/prose.py): no Python repr reaches the page.
"""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mojacheck.evidence.prose import counted, prose
from mojacheck.expectations import DESCRIPTIONS
from mojacheck.fspiop.errors import MojacheckError
from mojacheck.reports import snapshot_diff
from mojacheck.reports.compare import Comparison, compare_runs, index_checks, load_summary, pair_checks

__all__ = [
    "Rehearsal", "ReleaseChange", "RunStep", "SnapshotStep", "UpgradeError", "UpgradeStep", "changes_frame",
    "comparison_link", "from_manifest", "load_rehearsal", "newest_manifest", "release_changes", "run_step",
    "runs_html", "snapshot_frame", "snapshot_html", "snapshot_step", "state_counts", "steps", "table", "verdict",
    "verdict_html",
]


class UpgradeError(MojacheckError):
    """The artefacts do not describe an upgrade (fewer than two runs, snapshot pairs that do not line up)."""


@dataclass
class RunStep:
    """One suite run of the rehearsal, read from its summary.json (`duration_s` in seconds)."""

    folder: Path
    run_id: str
    env: str
    release: str
    totals: dict[str, Any]
    failing: list[str]  # notebooks whose status is not "passed"
    duration_s: float

    @property
    def passed(self) -> bool:
        """True when every notebook passed, no check failed and the run made at least one check."""
        return not self.failing and not self.totals.get("failed") and bool(self.totals.get("checks"))


@dataclass
class SnapshotStep:
    """The hub-state snapshots taken just before and just after one upgrade, and their diff."""

    before: Path
    after: Path
    release_before: str | None  # what the hub reported in each snapshot (the embedded hub says its release)
    release_after: str | None
    diff: snapshot_diff.SnapshotDiff
    # the release-table entries that change across this upgrade: entry → [before, after]
    release_differences: dict[str, Any] = field(default_factory=dict)

    @property
    def lost(self) -> int:
        """How many entries the diff lists as lost (in the snapshot before, gone after)."""
        return len(self.diff.lost)

    @property
    def explained(self) -> list[tuple[dict[str, Any], str]]:
        """Changed entries a release change accounts for, each with the release-table entry that does."""
        return snapshot_diff.partition(self.diff.changed, self.release_differences)[0]

    @property
    def unexplained(self) -> list[dict[str, Any]]:
        """Changed entries no release change accounts for (nothing ran between the snapshots: read each one)."""
        return snapshot_diff.partition(self.diff.changed, self.release_differences)[1]


@dataclass
class ReleaseChange:
    """One entry of the release expectations table that differs across an upgrade, and who saw it move."""

    entry: str
    before: str  # the table's values in words ("no liquidity check", "1.0 and 1.1")
    after: str
    meaning: str
    # checks whose value moved: notebook, scenario, check, a, b (values in words)
    observed: list[dict[str, str]] = field(default_factory=list)

    @property
    def seen(self) -> bool:
        """True when at least one check of the two runs saw this entry's value move."""
        return bool(self.observed)


@dataclass
class UpgradeStep:
    """One upgrade: the runs before (`a`) and after (`b`), their comparison, snapshots (None if not given) and
    the release changes."""

    a: RunStep
    b: RunStep
    comparison: Comparison
    snapshots: SnapshotStep | None
    changes: list[ReleaseChange]
    compare_dir: Path | None = None  # a `mojacheck compare` output folder for this step, when one was written

    @property
    def label(self) -> str:
        """The step as "<release before> → <release after>"."""
        return f"{self.a.release} → {self.b.release}"


@dataclass
class Rehearsal:
    """A whole rehearsal: the suite runs in upgrade order, one UpgradeStep between each two, and notes."""

    runs: list[RunStep]
    upgrades: list[UpgradeStep]
    notes: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        """The releases in upgrade order, joined by " → "."""
        return " → ".join(r.release for r in self.runs)

    @property
    def unexpected(self) -> int:
        """Unexpected differences over all upgrade steps."""
        return sum(len(u.comparison.unexpected) for u in self.upgrades)

    @property
    def lost(self) -> int:
        """Entries lost, summed over the upgrades that have snapshots (0 when none has)."""
        return sum(u.snapshots.lost for u in self.upgrades if u.snapshots)

    @property
    def passed(self) -> bool:
        """True when every run passed, no difference was unexpected and nothing was lost."""
        return all(r.passed for r in self.runs) and not self.unexpected and not self.lost


# ---------------------------------------------------------------- reading the artefacts


def run_step(folder: Path | str) -> RunStep:
    """Read one run folder's summary.json as a RunStep (CompareError if it is missing or unreadable)."""
    summary = load_summary(folder, str(folder))
    folder = Path(folder).resolve()
    failing = [str(n.get("name")) for n in summary.get("notebooks", []) if n.get("status") != "passed"]
    return RunStep(folder, str(summary.get("run_id") or folder.name), str(summary.get("env", "")),
                   str((summary.get("hub") or {}).get("release", "")), dict(summary.get("totals") or {}),
                   failing, float(summary.get("duration_s") or 0.0))


def snapshot_step(before: Path | str, after: Path | str, release_differences: dict[str, Any] | None = None
                  ) -> SnapshotStep:
    """Load two hub-state snapshot files and diff them (SnapshotError if one is missing or unreadable);
    `release_differences` (entry → [before, after]) explain the changes they can."""
    a, b = snapshot_diff.load(before), snapshot_diff.load(after)
    return SnapshotStep(Path(before).resolve(), Path(after).resolve(), _release(a), _release(b),
                        snapshot_diff.diff(a, b), dict(release_differences or {}))


def _release(snap: dict[str, Any]) -> str | None:
    return (snap["meta"].get("hub") or {}).get("release")


def release_changes(comparison: Comparison, summary_a: dict[str, Any], summary_b: dict[str, Any]
                    ) -> list[ReleaseChange]:
    """Per table entry that differs between the two releases: the checks naming it whose value (error code or
    actual) differs between the runs, paired the way the comparison pairs them."""
    pairs = pair_checks(index_checks(summary_a), index_checks(summary_b))
    out = []
    for entry, (before, after) in comparison.release_differences.items():
        found = ReleaseChange(entry, prose(before, entry), prose(after, entry), DESCRIPTIONS.get(entry, ""))
        for ca, cb in pairs:
            named = (cb or {}).get("expectation") or (ca or {}).get("expectation")
            if named != entry or ca is None or cb is None:
                continue
            va, vb = _values(ca, cb, entry)
            if va != vb:
                # named as run B names them: unique within the notebook, so one row per check
                found.observed.append({"notebook": str(cb.get("notebook", "")),
                                       "scenario": str(cb.get("scenario", "")), "check": str(cb.get("name", "")),
                                       "a": va, "b": vb})
        out.append(found)
    return out


def _values(ca: dict[str, Any], cb: dict[str, Any], entry: str) -> tuple[str, str]:
    """What moved, in words: the checks' actual values, or their error codes when the actuals are the same."""
    va, vb = ca.get("actual"), cb.get("actual")
    if va == vb:
        va, vb = (str(c["error_code"]) if c.get("error_code") is not None else "no error" for c in (ca, cb))
    else:
        va, vb = prose(va, entry), prose(vb, entry)
    return _flag(va, ca), _flag(vb, cb)


def _flag(value: str, check: dict[str, Any]) -> str:
    return value if check.get("passed") is True else f"{value} (check failed)"


def load_rehearsal(runs: list[str | Path], snapshots: list[Any] | None = None,
                   comparisons: list[str | Path | None] | None = None) -> Rehearsal:
    """`runs` in upgrade order; `snapshots` one `[before, after]` pair (or None) per upgrade; `comparisons` one
    `mojacheck compare` output folder (or None) per upgrade, only linked."""
    runs = [Path(r) for r in runs or []]
    if len(runs) < 2:
        raise UpgradeError(f"an upgrade needs at least two runs in upgrade order, got {len(runs)}")
    count = len(runs) - 1
    snapshots = list(snapshots or [None] * count)
    comparisons = list(comparisons or [None] * count)
    for name, given in (("snapshots", snapshots), ("comparisons", comparisons)):
        if len(given) != count:
            raise UpgradeError(f"{name}: expected one entry per upgrade ({count}), got {len(given)}")
    result = Rehearsal([run_step(r) for r in runs], [])
    for i in range(count):
        a, b = result.runs[i], result.runs[i + 1]
        comparison = compare_runs(a.folder, b.folder)
        pair = snapshots[i]
        snaps = None
        if pair:
            if len(pair) != 2:
                raise UpgradeError(f"snapshots[{i}]: expected [before, after], got {pair!r}")
            snaps = snapshot_step(*pair, comparison.release_differences)
            _note_releases(result.notes, a, b, snaps)
        changes = release_changes(comparison, load_summary(a.folder), load_summary(b.folder))
        folder = Path(comparisons[i]).resolve() if comparisons[i] else None
        result.upgrades.append(UpgradeStep(a, b, comparison, snaps, changes, folder))
    return result


def _note_releases(notes: list[str], a: RunStep, b: RunStep, s: SnapshotStep) -> None:
    if s.release_before and s.release_after and (s.release_before, s.release_after) != (a.release, b.release):
        notes.append(f"the snapshots of upgrade {a.release} → {b.release} report releases {s.release_before} → "
                     f"{s.release_after}: they may not bracket this upgrade")


def from_manifest(path: Path | str) -> dict[str, Any]:
    """The artefacts a `mojacheck upgrade` run recorded (its `upgrade.json`, or the folder holding it)."""
    path = Path(path)
    path = path / "upgrade.json" if path.is_dir() else path
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UpgradeError(f"{path}: not a readable upgrade manifest: {exc}") from exc
    return data["artefacts"]


def newest_manifest(root: Path | None = None) -> Path:
    """The newest `outputs/upgrade/*/upgrade.json` (for opening the guide in JupyterLab without parameters)."""
    from mojacheck.params import find_root

    found = sorted((root or find_root()).glob("outputs/upgrade/*/upgrade.json"))
    if not found:
        raise UpgradeError("no rehearsal under outputs/upgrade/: run `mojacheck upgrade` or pass the parameters")
    return found[-1]


# ---------------------------------------------------------------- the verdict


def steps(r: Rehearsal) -> list[dict[str, Any]]:
    """Every step in the order it was taken: suite runs, upgrades (state before/after) and comparisons."""
    rows = [_run_row(r.runs[0])]
    for u in r.upgrades:
        if u.snapshots:
            s = u.snapshots
            hub = f"; hub reported release {s.release_before} before, {s.release_after} after" \
                if s.release_before or s.release_after else ""
            rows.append({"step": f"Upgrade {u.label}: hub state before and after", "result":
                         "passed" if not s.lost else "FAILED", "detail": state_counts(s) + hub})
        rows.append(_run_row(u.b))
        cmp = u.comparison
        rows.append({"step": f"Compare the runs {u.label}", "result": "passed" if not cmp.unexpected else "FAILED",
                     "detail": f"{counted(len(cmp.unexpected), 'unexpected difference')}, "
                               f"{counted(len(cmp.expected), 'expected difference')}; "
                               f"release changes seen: {sum(c.seen for c in u.changes)} of {len(u.changes)}"})
    return rows


def state_counts(s: SnapshotStep) -> str:
    """"0 entities lost, 2 changed (2 explained by the release table), 0 new" for one snapshot diff."""
    changed = len(s.diff.changed)
    text = f"{counted(s.lost, 'entity', 'entities')} lost, {changed} changed"
    text += f" ({len(s.explained)} explained by the release table)" if changed else ""
    text += f", {len(s.diff.new)} new"
    if s.diff.unchecked:
        text += f" ({counted(len(s.diff.unchecked), 'transfer')} of the first snapshot not read back in the second)"
    return text


def _run_row(run: RunStep) -> dict[str, Any]:
    t = run.totals
    detail = (f"{t.get('passed', 0)} of {counted(t.get('checks', 0), 'check')} passed in "
              f"{counted(t.get('notebooks', 0), 'notebook')}")
    if run.failing:
        detail += f"; not passed: {', '.join(run.failing)}"
    return {"step": f"Suite at release {run.release} (run {run.run_id})",
            "result": "passed" if run.passed else "FAILED", "detail": detail}


def verdict(r: Rehearsal) -> dict[str, Any]:
    """Machine-readable: what `mojacheck upgrade` writes to upgrade.json and the notebook glues."""
    return {
        "passed": r.passed, "path": [x.release for x in r.runs], "unexpected": r.unexpected, "lost": r.lost,
        "runs": [{"release": x.release, "run_id": x.run_id, "folder": str(x.folder), "passed": x.passed,
                  "failing": x.failing, "totals": x.totals} for x in r.runs],
        "upgrades": [{
            "from": u.a.release, "to": u.b.release, "unexpected": len(u.comparison.unexpected),
            "expected": len(u.comparison.expected), "lost": u.snapshots.lost if u.snapshots else None,
            "changed": len(u.snapshots.diff.changed) if u.snapshots else None,
            "explained": len(u.snapshots.explained) if u.snapshots else None,
            "unexpected_differences": [_diff_dict(d) for d in u.comparison.unexpected],
            "release_changes": [{"entry": c.entry, "before": c.before, "after": c.after, "seen": c.seen}
                                for c in u.changes],
        } for u in r.upgrades],
        "steps": steps(r), "notes": r.notes,
    }


def _diff_dict(d: Any) -> dict[str, Any]:
    return {"kind": d.kind, "notebook": d.notebook, "scenario": d.scenario, "subject": d.subject, "a": d.a,
            "b": d.b, "why": d.why}


# ---------------------------------------------------------------- presentation


_STYLE = """<style>
.jp-RenderedHTMLCommon td, .jp-RenderedHTMLCommon th { text-align: left !important; }
.celltag_parameters, .celltag_injected-parameters { display: none; }
.celltag_hide-input .jp-Cell-inputWrapper { display: none; }
.mc-verdict { border-left: 8px solid var(--mc-c); background: var(--mc-bg); padding: 10px 18px; margin: 4px 0 8px;
  font-size: 14px; line-height: 1.45; }
.mc-verdict h2 { margin: 2px 0 8px; color: var(--mc-c); font-size: 22px; }
.mc-verdict table { border-collapse: collapse; margin-top: 8px; }
.mc-verdict td, .mc-verdict th { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: left;
  vertical-align: top; }
.mc-ok { color: #1b7a3a; font-weight: bold; } .mc-bad { color: #b3261e; font-weight: bold; }
</style>"""


def _result(text: str) -> str:
    return _mark(text, text == "passed")


def _mark(text: str, good: bool) -> str:
    return f"<span class='{'mc-ok' if good else 'mc-bad'}'>{html.escape(text)}</span>"


def verdict_html(r: Rehearsal) -> str:
    """The box an adopter reads first: the upgrade path, pass/fail, unexpected differences, entities lost, the
    release changes the FSPs will notice, and every step with its result. (It also carries the page's CSS:
    the parameter cells and the inputs of cells tagged `hide-input` are hidden in the HTML report.)"""
    ok = r.passed
    colour, bg = ("#1b7a3a", "#eef8f0") if ok else ("#b3261e", "#fdeeed")
    runs_ok = sum(x.passed for x in r.runs)
    head = f"{'PASSED' if ok else 'FAILED'}: upgrade {html.escape(r.path)}"
    facts = [
        _mark(f"{runs_ok} of {counted(len(r.runs), 'suite run')} passed", runs_ok == len(r.runs))
        + f" ({', '.join(f'{x.release}: ' + _result('passed' if x.passed else 'FAILED') for x in r.runs)})",
        _mark(counted(r.unexpected, "unexpected difference"), not r.unexpected) + " between consecutive runs "
        f"({', '.join(f'{u.label}: {len(u.comparison.unexpected)}' for u in r.upgrades)})",
        _lost_text(r),
        "<b>What your FSPs will notice</b> (expected changes, from the release table):" + _changes_html(r),
    ]
    rows = "".join(f"<tr><td>{i}</td><td>{html.escape(s['step'])}</td><td>{_result(s['result'])}</td>"
                   f"<td>{html.escape(s['detail'])}</td></tr>" for i, s in enumerate(steps(r), 1))
    notes = "".join(f"<p><i>note: {html.escape(n)}</i></p>" for n in r.notes)
    return (f"{_STYLE}<div class='mc-verdict' style='--mc-c:{colour};--mc-bg:{bg}'><h2>{head}</h2>"
            + "<br>".join(facts)
            + f"<table><tr><th>#</th><th>step</th><th>result</th><th>detail</th></tr>{rows}</table>{notes}</div>")


def _lost_text(r: Rehearsal) -> str:
    diffed = [u.snapshots for u in r.upgrades if u.snapshots]
    if not diffed:
        return "<b>Entities lost:</b> <i>not measured (no snapshots were given)</i>"
    per = ", ".join(f"{u.label}: {u.snapshots.lost}" for u in r.upgrades if u.snapshots)
    changed = sum(len(s.diff.changed) for s in diffed)
    explained = sum(len(s.explained) for s in diffed)
    text = f"{_mark(counted(r.lost, 'entity', 'entities') + ' lost', not r.lost)} across the upgrades ({per})"
    if changed:
        text += (f"; {counted(changed, 'entity', 'entities')} changed, {explained} of them explained by the "
                 "release table" + ("" if explained == changed else " (read the others under <i>Hub state</i>)"))
    return text


def _changes_html(r: Rehearsal) -> str:
    items = []
    for u in r.upgrades:
        changes = [f"<li>{html.escape(_sentence(c))} (<code>{html.escape(c.entry)}</code>)"
                   + ("" if c.seen else " <i>not exercised by the suite</i>") + "</li>" for c in u.changes]
        listed = f"<ul>{''.join(changes)}</ul>" if changes else " no change in the release table"
        items.append(f"<li><b>{html.escape(u.label)}:</b>{listed}</li>")
    return f"<ul style='margin:2px 0'>{''.join(items)}</ul>"


def _sentence(c: ReleaseChange) -> str:
    """"payer over its net debit cap is told: 4001 → 4200"."""
    return f"{c.meaning or c.entry}: {c.before} → {c.after}"


def changes_frame(step: UpgradeStep) -> Any:
    """The release-table entries that change across this upgrade and the checks that saw each change."""
    import pandas as pd

    a, b = f"seen at {step.a.release}", f"seen at {step.b.release}"
    rows = []
    for c in step.changes:
        seen = c.observed or [{"notebook": "", "scenario": "", "check": "no check of these notebooks saw it change",
                               "a": "", "b": ""}]
        rows += [{"release change": _sentence(c), "entry": c.entry, "notebook": o["notebook"],
                  "scenario": o["scenario"], "check": o["check"], a: o["a"], b: o["b"]} for o in seen]
    return pd.DataFrame(rows, columns=["release change", "entry", "notebook", "scenario", "check", a, b])


def runs_html(r: Rehearsal, *, report_dir: Path | str | None = None) -> str:
    """One row per suite run, linking its run report (90_run_report.html) or its folder."""
    head = "".join(f"<th>{h}</th>" for h in ("release", "run", "result", "checks passed", "notebooks", "duration"))
    rows = []
    for x in r.runs:
        target = x.folder / "90_run_report.html"
        link = _link(target if target.is_file() else x.folder, x.run_id, report_dir)
        t = x.totals
        result = _result("passed" if x.passed else "FAILED")
        rows.append(f"<tr><td>{html.escape(x.release)}</td><td>{link}</td><td>{result}</td>"
                    f"<td>{t.get('passed', 0)} of {t.get('checks', 0)}</td><td>{t.get('notebooks', 0)}</td>"
                    f"<td>{x.duration_s:.0f} s</td></tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def comparison_link(step: UpgradeStep, *, report_dir: Path | str | None = None) -> str:
    """HTML paragraph linking this step's compare_runs.html (relative to `report_dir`, default the working
    folder), or naming the two compared runs when no comparison folder was written."""
    if step.compare_dir is None:
        return f"<p>Runs compared: {html.escape(step.a.run_id)} → {html.escape(step.b.run_id)}.</p>"
    page = step.compare_dir / "compare_runs.html"
    return f"<p>The full comparison notebook of this step: {_link(page, str(page.name), report_dir)}.</p>"


def _link(target: Path, text: str, report_dir: Path | str | None) -> str:
    base = Path(report_dir or Path.cwd()).resolve()
    try:
        href = os.path.relpath(target.resolve(), base)
    except ValueError:  # another drive (Windows)
        href = target.resolve().as_uri()
    return f"<a href='{html.escape(href)}'>{html.escape(text)}</a>"


def snapshot_frame(step: UpgradeStep, kind: str) -> Any:
    """The `lost`, `new`, release-`explained` or `unexplained` changed entries of this upgrade's snapshot diff
    (snapshot_diff.FRAME_KINDS), values in words."""
    import pandas as pd

    if step.snapshots is None:
        return pd.DataFrame(columns=["entity"])
    return snapshot_diff.frame(step.snapshots.diff, kind, step.snapshots.release_differences)


_SNAPSHOT_PARTS = (("lost", "Lost", "Nothing lost."),
                   ("explained", "Changed, explained by the release table", "No change."),
                   ("unexplained", "Changed, not explained by the release table", "No change."),
                   ("new", "New", "Nothing new."))


def snapshot_html(step: UpgradeStep) -> str:
    """This upgrade's hub-state section: the counts, then lost entities, changes the release table explains
    (each with the entry and its change), changes it does not explain, and new entities."""
    if step.snapshots is None:
        return f"<h3>{html.escape(step.label)}</h3><p><i>No snapshots were given for this upgrade.</i></p>"
    parts = [f"<h3>{html.escape(step.label)}: {html.escape(state_counts(step.snapshots))}</h3>"]
    for kind, title, empty in _SNAPSHOT_PARTS:
        frame = snapshot_frame(step, kind)
        body = frame.to_html(index=False, na_rep="") if len(frame) else f"<p><i>{empty}</i></p>"
        parts.append(f"<p><b>{html.escape(title)}</b></p>{body}")
    return "".join(parts)


def table(frame: Any) -> Any:
    """A frame as an HTML table without the row index (cells are escaped, never truncated)."""
    from IPython.display import HTML

    return HTML(frame.to_html(index=False, na_rep=""))
