"""`mojacheck upgrade` (`nox -s upgrade`): rehearse an upgrade end to end on the embedded hub.

Mojaloop's own recipe, played offline: start the oldest release on a fresh database, provision and run the
suite, snapshot the hub's state; stop; start the SAME database at the next release, snapshot again (the two
snapshots bracket the upgrade: `snapshot-diff` must find nothing lost), run the suite again; repeat per release.
Then compare consecutive runs (`mojacheck compare`) and execute `notebooks/upgrade/80_upgrade_rehearsal.ipynb`,
which reads only those artefacts (run folders, snapshots) and writes the upgrade guide.

Everything lands in one folder (default `outputs/upgrade/<UTC>-<hex>/`): `hub.sqlite3`, `runs/<env>/<run-id>/`,
`snapshots/`, `compare/<A>-<B>/`, `logs/`, `upgrade.json` (artefacts, timings, verdict) and the executed guide
with its HTML. The hub and simulator listen on free loopback ports, so a rehearsal never meets a suite run on
the env's own ports or database.

Exit codes: 0 every run passed, no unexpected difference, nothing lost; 1 otherwise; 2 the rehearsal could not
be done (bad options, a service that would not start, a run without a summary, a guide that crashed).
"""

from __future__ import annotations

import json
import secrets
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from mojacheck.evidence.prose import counted
from mojacheck.expectations import RELEASES
from mojacheck.fspiop.errors import MojacheckError

DEFAULT_RELEASES = ("13", "14", "17")
# The suite's provisioning, operator API, golden path, error scenarios, protocol validation, account lookup,
# request to pay and bulk (in every release; bulk's helm 13/14 differences are what an upgrade guide should show),
# FX (absent before 17: the guide shows it arrive) and settlement, and each run's report. Not 30_thirdparty (3PPI
# changes from v0.1 to v1.0 at helm 14: a different API, not a regression) and not 91_trends (trends over nightly
# history; the comparison says more about two runs).
DEFAULT_NOTEBOOKS = ("00", "10", "15", "16", "20", "21", "22", "23", "24", "25", "40", "90")
GUIDE = Path("notebooks") / "upgrade" / "80_upgrade_rehearsal.ipynb"
EXIT_PASSED, EXIT_FAILED, EXIT_CANNOT = 0, 1, 2


class CannotRehearse(MojacheckError):
    """The rehearsal cannot go on (exit 2)."""


@dataclass
class UpgradeOptions:
    releases: Sequence[str] = DEFAULT_RELEASES
    env: str = "local"  # params/<env>.yaml: its hub and simulator must be embedded
    overrides: Sequence[str] = ()
    notebooks: Sequence[str] = DEFAULT_NOTEBOOKS  # name prefixes ("20") or globs ("2*")
    out: Path | None = None  # default: <root>/outputs/upgrade/<UTC>-<hex>/
    root: Path | None = None
    notebooks_dir: Path | None = None  # default: <root>/notebooks
    transfers: int | None = None  # transfers read back per snapshot (default: the snapshot's limit)
    compare_notebooks: bool = True  # also write `mojacheck compare`'s notebook and HTML per upgrade
    stderr: TextIO = field(default_factory=lambda: sys.stderr)


@dataclass
class UpgradeResult:
    exit_code: int
    out: Path | None = None
    verdict: dict[str, Any] | None = None
    duration_s: float = 0.0
    message: str = ""


@dataclass
class _Plan:
    options: UpgradeOptions
    root: Path
    out: Path
    releases: list[str]
    sources: list[Path]  # the suite's notebooks to run at every release
    overrides: list[str]  # the user's, then free ports and the rehearsal's database
    started: float = field(default_factory=time.monotonic)
    timings: dict[str, float] = field(default_factory=dict)

    def params_overrides(self, release: str) -> list[str]:
        return [*self.overrides, f"hub.release={release}"]

    def say(self, message: str) -> None:
        print(f"mojacheck: {message}", file=self.options.stderr, flush=True)


def rehearse(options: UpgradeOptions) -> UpgradeResult:
    """Do one rehearsal. Never raises for an expected failure: it comes back as exit code 2 with a message."""
    started = time.monotonic()
    try:
        plan = _plan(options)
    except MojacheckError as exc:
        print(f"mojacheck: cannot rehearse: {exc}", file=options.stderr)
        return UpgradeResult(EXIT_CANNOT, message=str(exc))
    try:
        result = _rehearse(plan)
    except MojacheckError as exc:
        plan.say(f"cannot rehearse: {exc}")
        result = UpgradeResult(EXIT_CANNOT, plan.out, message=str(exc))
    result.duration_s = time.monotonic() - started
    return result


# ---------------------------------------------------------------- the plan


def _plan(options: UpgradeOptions) -> _Plan:
    from mojacheck.params import find_root, load_params

    releases = [str(r).strip() for r in options.releases if str(r).strip()]
    unknown = [r for r in releases if r not in RELEASES]
    if unknown or len(releases) < 2 or len(set(releases)) != len(releases):
        raise CannotRehearse(f"--releases: expected two or more distinct releases of {', '.join(RELEASES)} in "
                             f"upgrade order, got {','.join(releases) or 'none'}")
    root = (options.root or find_root()).resolve()
    base = load_params(options.env, overrides=options.overrides, root=root)
    if not (base.hub.embedded and base.sim.embedded):
        raise CannotRehearse(f"params/{options.env}.yaml: the rehearsal plays releases on the embedded hub and "
                             "simulator (hub.embedded and sim.embedded true); for a real environment execute "
                             f"{GUIDE} on two runs and their snapshots")
    sources = _select_notebooks((options.notebooks_dir or root / "notebooks").resolve(), options.notebooks)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = (options.out or root / "outputs" / "upgrade" / f"{stamp}-{secrets.token_hex(3)}").resolve()
    if (out / "hub.sqlite3").exists():
        raise CannotRehearse(f"{out / 'hub.sqlite3'} exists: a rehearsal starts on a fresh database "
                             "(give another --out)")
    out.mkdir(parents=True, exist_ok=True)
    overrides = [*options.overrides, *_isolation(base, out / "hub.sqlite3")]
    return _Plan(options, root, out, releases, sources, overrides)


def _select_notebooks(folder: Path, wanted: Sequence[str]) -> list[Path]:
    from mojacheck.runner.execute import find_notebooks

    chosen: list[Path] = []
    for item in wanted:
        pattern = item if any(ch in item for ch in "*?[") else f"{item}*"
        found = find_notebooks(folder, pattern)
        if not found:
            raise CannotRehearse(f"--notebooks: nothing matches {item!r} in {folder}")
        chosen += [p for p in found if p not in chosen]
    return sorted(chosen, key=lambda p: p.name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _isolation(base: Any, db: Path) -> list[str]:
    """Free loopback ports for hub and simulator (every service URL on the hub's port follows it) and the
    rehearsal's own database. The ports stay fixed for the whole rehearsal: the database remembers the
    simulator's URL in the FSPs' endpoints."""
    hub, sim = _free_port(), _free_port()
    while sim == hub:
        sim = _free_port()

    def moved(url: str) -> str:
        parts = urlsplit(url)
        if parts.port != base.hub.port:
            return url
        return parts._replace(netloc=f"127.0.0.1:{hub}").geturl()

    sim_url = f"http://127.0.0.1:{sim}"
    items = [f"hub.port={hub}", f"hub.db={db}", f"sim.port={sim}", f"sim.url={sim_url}",
             f"sim.public_url={sim_url}", f"provisioning.oracle_endpoint={moved(base.provisioning.oracle_endpoint)}"]
    items += [f"services.{f.name}={moved(getattr(base.services, f.name))}" for f in fields(base.services)]
    return items


# ---------------------------------------------------------------- the rehearsal


def _rehearse(plan: _Plan) -> UpgradeResult:
    path = " → ".join(plan.releases)
    names = ", ".join(p.stem for p in plan.sources)
    plan.say(f"upgrade rehearsal {path} on a fresh database in {plan.out}")
    plan.say(f"suite at every release: {names}")
    runs: list[Path] = []
    pairs: list[list[str]] = []
    before: Path | None = None
    with tempfile.TemporaryDirectory(prefix="mojacheck-suite-") as tmp:
        suite_dir = Path(tmp)
        for source in plan.sources:  # the runner runs every NN_*.ipynb of a folder: give it exactly these
            (suite_dir / source.name).symlink_to(source)
        for i, release in enumerate(plan.releases):
            if i and before is not None:
                prev = plan.releases[i - 1]
                plan.say(f"upgrade {prev} → {release}: the same database, hub restarted at release {release}")
                after = _snapshot(plan, release, f"{release}-after-upgrade", runs)
                _report_diff(plan, before, after, prev, release)
                pairs.append([str(before), str(after)])
            runs.append(_run_suite(plan, release, suite_dir, fresh=not i))
            if i < len(plan.releases) - 1:
                before = _snapshot(plan, release, f"{release}-before-upgrade", runs)
    comparisons = [_compare(plan, a, b, ra, rb) for a, b, ra, rb in
                   zip(runs, runs[1:], plan.releases, plan.releases[1:], strict=False)]
    return _guide(plan, runs, pairs, comparisons)


def _timed(plan: _Plan, name: str, started: float) -> float:
    took = time.monotonic() - started
    plan.timings[name] = round(took, 1)
    return took


def _run_suite(plan: _Plan, release: str, suite_dir: Path, *, fresh: bool) -> Path:
    from mojacheck.runner import RunOptions, interrupt, run

    plan.say(f"suite at release {release}" + (" (fresh database)" if fresh else ""))
    started = time.monotonic()
    result = run(RunOptions(env=plan.options.env, overrides=plan.params_overrides(release), root=plan.root,
                            notebooks_dir=suite_dir, output_root=plan.out / "runs", stderr=plan.options.stderr))
    _timed(plan, f"suite at release {release}", started)
    if result.exit_code > interrupt.EXIT_INTERRUPTED_BASE:  # the run kept what it had; the rehearsal stops here
        raise interrupt.Interrupted(result.exit_code - interrupt.EXIT_INTERRUPTED_BASE)
    if result.run_dir is None or not (result.run_dir / "summary.json").is_file():
        raise CannotRehearse(f"the suite at release {release} left no summary.json: {result.message}")
    return result.run_dir


def _snapshot(plan: _Plan, release: str, name: str, runs: list[Path]) -> Path:
    """Start hub and simulator at `release` on the rehearsal's database, save its state, stop them."""
    from mojacheck.params import load_params
    from mojacheck.runner import snapshot

    started = time.monotonic()
    params = load_params(plan.options.env, overrides=plan.params_overrides(release), root=plan.root)
    runs_dir = plan.out / "runs" / plan.options.env
    snap = snapshot.capture(params, env=plan.options.env, runs_dir=runs_dir,
                            transfers=plan.options.transfers if runs else 0, log_dir=plan.out / "logs" / name,
                            root=plan.root, start=True)
    path = plan.out / "snapshots" / f"{name}.json"
    snapshot.write(snap, path)
    took = _timed(plan, f"snapshot {name}", started)
    plan.say(f"snapshot {name}: {snapshot.describe(snap)} ({took:.1f}s)")
    for note in snap["meta"]["notes"]:
        plan.say(f"note: {note}")
    return path


def _report_diff(plan: _Plan, before: Path, after: Path, prev: str, release: str) -> None:
    from mojacheck.reports import snapshot_diff

    result = snapshot_diff.diff(snapshot_diff.load(before), snapshot_diff.load(after))
    target = plan.out / "snapshots" / f"diff-{prev}-{release}"
    target.with_suffix(".json").write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
    text = snapshot_diff.render(result, before.name, after.name)
    target.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
    plan.say(text.splitlines()[0])
    for line in text.splitlines()[1:]:
        if line.startswith("LOST"):
            print(f"  {line}", file=plan.options.stderr)


def _compare(plan: _Plan, a: Path, b: Path, ra: str, rb: str) -> str | None:
    if not plan.options.compare_notebooks:
        return None
    from mojacheck.runner.compare import compare

    started = time.monotonic()
    out = plan.out / "compare" / f"{ra}-{rb}"
    code = compare(a, b, out=out, root=plan.root, stderr=plan.options.stderr)
    _timed(plan, f"compare {ra} → {rb}", started)
    if code not in (0, 1):
        raise CannotRehearse(f"the comparison {ra} → {rb} could not be done; see {out}")
    return str(out)


def _guide(plan: _Plan, runs: list[Path], pairs: list[list[str]], comparisons: list[str | None]) -> UpgradeResult:
    from mojacheck.reports import upgrade_guide as guide
    from mojacheck.runner.execute import execute_notebook
    from mojacheck.runner.html import export_html

    rehearsal = guide.load_rehearsal(runs, pairs, comparisons)
    verdict = guide.verdict(rehearsal)
    artefacts = {"runs": [str(r) for r in runs], "snapshots": pairs, "comparisons": comparisons,
                 "timings": dict(plan.timings), "report_dir": str(plan.out)}
    manifest = {"releases": plan.releases, "out": str(plan.out), "notebooks": [p.stem for p in plan.sources],
                "artefacts": artefacts, "verdict": verdict}
    _write_manifest(plan, manifest)

    source = plan.root / GUIDE
    if not source.is_file():
        raise CannotRehearse(f"the guide notebook {source} is missing")
    executed = plan.out / source.name
    started = time.monotonic()
    result = execute_notebook(source, executed, artefacts, cwd=plan.out, kernel_log=plan.out / "logs" / "kernel.log")
    page = plan.out / f"{source.stem}.html"
    if executed.is_file():
        export_html(executed, page)
    _timed(plan, "upgrade guide", started)
    manifest["guide"] = {"notebook": str(executed), "html": str(page)}
    _write_manifest(plan, manifest)
    if result.error is not None:
        raise CannotRehearse(f"the guide notebook failed ({result.error.ename}: {result.error.evalue}); "
                             f"see {executed}")
    code = EXIT_PASSED if verdict["passed"] else EXIT_FAILED
    _print_verdict(plan, verdict, page)
    return UpgradeResult(code, plan.out, verdict)


def _write_manifest(plan: _Plan, manifest: dict[str, Any]) -> None:
    manifest["timings"] = dict(plan.timings)
    (plan.out / "upgrade.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                          encoding="utf-8")


def _print_verdict(plan: _Plan, verdict: dict[str, Any], page: Path) -> None:
    runs_ok = sum(1 for r in verdict["runs"] if r["passed"])
    total = time.monotonic() - plan.started
    plan.say(f"upgrade {' → '.join(verdict['path'])} {'PASSED' if verdict['passed'] else 'FAILED'}: "
             f"{runs_ok}/{len(verdict['runs'])} runs passed, "
             f"{counted(verdict['unexpected'], 'unexpected difference')}, "
             f"{counted(verdict['lost'], 'entity', 'entities')} lost ({total:.0f}s); guide: {page}")
    if plan.options.compare_notebooks:
        return  # `mojacheck compare` listed every unexpected difference already
    for step in verdict["upgrades"]:
        for d in step["unexpected_differences"]:
            where = " :: ".join(x for x in (d["notebook"], d["scenario"], d["subject"]) if x)
            print(f"  UNEXPECTED {step['from']} → {step['to']} {d['kind']}: {where}: {d['a']} → {d['b']}",
                  file=plan.options.stderr)
