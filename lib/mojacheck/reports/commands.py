"""`mojacheck compare | snapshot | snapshot-diff`: argument parsing and exit codes over the reports package."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mojacheck.errors import MojacheckError

EXIT_SAME, EXIT_DIFFERENT, EXIT_CANNOT = 0, 1, 2
COMPARE_NOTEBOOK = Path("notebooks") / "compare" / "compare_runs.ipynb"


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace | int:
    try:
        return parser.parse_args(list(argv))
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
        return int(exc.code or 0)


def _fail(message: str) -> int:
    print(f"mojacheck: {message}", file=sys.stderr)
    return EXIT_CANNOT


def _root(given: Path | None) -> Path:
    from mojacheck.params import find_root

    return (given or find_root()).resolve()


# ---------------------------------------------------------------- compare


def _compare_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mojacheck compare", description="Compare two run folders; writes the executed comparison notebook, "
        "its HTML and comparison.json.",
        epilog="exit codes: 0 no unexpected difference, 1 unexpected differences, 2 could not compare")
    p.add_argument("run_a", type=Path, help="run folder, e.g. outputs/local/20261127T221500Z-3fa2c1")
    p.add_argument("run_b", type=Path)
    p.add_argument("--out", type=Path, default=None, help="default: outputs/compare/<A-id>__<B-id>/")
    p.add_argument("--root", type=Path, default=None, help="project root (default: found from cwd)")
    return p


def compare_main(argv: Sequence[str]) -> int:
    ns = _parse(_compare_parser(), argv)
    if isinstance(ns, int):
        return ns
    from mojacheck.reports.compare import load_summary

    try:
        root = _root(ns.root)
        sides = [load_summary(ns.run_a, "RUN_A"), load_summary(ns.run_b, "RUN_B")]
    except MojacheckError as exc:
        return _fail(f"cannot compare: {exc}")
    source = root / COMPARE_NOTEBOOK
    if not source.is_file():
        return _fail(f"cannot compare: the comparison notebook {source} is missing")
    ids = [str(s.get("run_id") or Path(f).resolve().name) for s, f in zip(sides, (ns.run_a, ns.run_b), strict=True)]
    out = (ns.out or root / "outputs" / "compare" / f"{ids[0]}__{ids[1]}").resolve()
    out.mkdir(parents=True, exist_ok=True)
    return _execute_comparison(source, out, ns.run_a.resolve(), ns.run_b.resolve())


def _execute_comparison(source: Path, out: Path, run_a: Path, run_b: Path) -> int:
    from mojacheck.runner.execute import execute_notebook
    from mojacheck.runner.html import export_html

    executed = out / source.name
    result = execute_notebook(source, executed, {"run_a": str(run_a), "run_b": str(run_b)}, cwd=source.parent,
                              kernel_log=out / "kernel.log")
    if executed.is_file():
        try:
            export_html(executed, out / f"{source.stem}.html")
        except Exception as exc:  # the verdict stands without its HTML; say so
            print(f"mojacheck: warning: no HTML for {executed.name}: {type(exc).__name__}: {exc}", file=sys.stderr)
    if result.error is not None:
        return _fail(f"the comparison notebook failed ({result.error.ename}: {result.error.evalue}); see {executed}")
    scraps = _scraps(executed)
    data = scraps.get("mc_compare")
    if not isinstance(data, dict):
        return _fail(f"the comparison notebook glued no result; see {executed}")
    (out / "comparison.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = data.get("counts", {})
    print(f"mojacheck: compare {data['a']['run_id']} (release {data['a']['release']}) → {data['b']['run_id']} "
          f"(release {data['b']['release']}): {counts.get('unexpected', 0)} unexpected, "
          f"{counts.get('expected', 0)} expected differences; {out / (source.stem + '.html')}", file=sys.stderr)
    for d in data.get("differences", []):
        if not d["expected"]:
            where = " :: ".join(x for x in (d["notebook"], d["scenario"], d["subject"]) if x)
            print(f"  UNEXPECTED {d['kind']}: {where}: {d['a']} → {d['b']}", file=sys.stderr)
    return EXIT_DIFFERENT if counts.get("unexpected") else EXIT_SAME


def _scraps(path: Path) -> dict[str, Any]:
    from mojacheck.reports.runs import notebook_outputs, scrap_of

    nb = json.loads(path.read_text(encoding="utf-8"))
    return dict(filter(None, (scrap_of(o) for o in notebook_outputs(nb))))


# ---------------------------------------------------------------- snapshot


def _snapshot_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mojacheck snapshot",
        description="Save the hub's state as its public APIs show it (participants, accounts, positions, limits, "
        "endpoints, oracles, settlement windows and settlements, and the transfers the env's runs created).",
        epilog="For an embedded hub that is not running, the hub and simulator are started for the snapshot. "
        "exit codes: 0 saved, 2 could not be taken")
    p.add_argument("--env", required=True, help="params/<ENV>.yaml")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY.PATH=VALUE")
    p.add_argument("--out", type=Path, default=None, help="default: outputs/<env>/snapshots/<timestamp>.json")
    p.add_argument("--transfers", type=int, default=None, metavar="N",
                   help="read back at most the newest N transfer ids of the env's runs (default 200; 0: none)")
    p.add_argument("--output-root", type=Path, default=None, help="where the env's runs are (default: <root>/outputs)")
    p.add_argument("--root", type=Path, default=None)
    return p


def snapshot_main(argv: Sequence[str]) -> int:
    ns = _parse(_snapshot_parser(), argv)
    if isinstance(ns, int):
        return ns
    from mojacheck.params import load_params
    from mojacheck.reports import snapshot

    try:
        root = _root(ns.root)
        params = load_params(ns.env, overrides=ns.overrides, root=root)
    except MojacheckError as exc:
        return _fail(str(exc))
    env_dir = (ns.output_root or root / "outputs").resolve() / ns.env
    limit = snapshot.TRANSFER_LIMIT if ns.transfers is None else max(ns.transfers, 0)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = (ns.out or env_dir / "snapshots" / f"{stamp}.json").resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    ids = snapshot.transfer_ids_of_runs(env_dir, limit) if limit else []
    try:
        with ExitStack() as stack:
            _start_embedded_if_down(stack, params, out.parent, root)
            from mojacheck.session import connect

            session = stack.enter_context(_closing(connect(params.public_dict())))
            snap = snapshot.take(session, env=ns.env, transfer_ids=ids, limit=limit)
    except MojacheckError as exc:
        return _fail(f"snapshot of {ns.env} failed: {exc}")
    out.write_text(json.dumps(snap, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    t = snap["transfers"]
    print(f"mojacheck: snapshot of {ns.env} (release {snap['meta']['hub']['release']}): "
          f"{len(snap['participants'])} participants, {len(t) if 'unavailable' not in t else 0} transfers; {out}",
          file=sys.stderr)
    for note in snap["meta"]["notes"]:
        print(f"mojacheck: note: {note}", file=sys.stderr)
    return 0


def _start_embedded_if_down(stack: ExitStack, params: Any, log_dir: Path, root: Path) -> None:
    """An embedded hub only runs during a run; start it (on the same database) when nothing answers."""
    from mojacheck.runner import services

    if params.hub.embedded and not _answers(f"http://127.0.0.1:{params.hub.port}/health"):
        stack.enter_context(services.embedded_services(params, log_dir, cwd=root))


def _answers(url: str) -> bool:
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never through a proxy
    try:
        with opener.open(url, timeout=1.0):
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


class _closing:
    def __init__(self, session: Any) -> None:
        self.session = session

    def __enter__(self) -> Any:
        return self.session

    def __exit__(self, *exc: object) -> None:
        self.session.close()


# ---------------------------------------------------------------- snapshot-diff


def _diff_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mojacheck snapshot-diff", description="What was lost, changed and new "
                                "between two snapshots (e.g. before and after an upgrade).",
                                epilog="exit codes: 0 nothing lost, 1 something lost, 2 bad input")
    p.add_argument("a", type=Path, help="the earlier snapshot")
    p.add_argument("b", type=Path, help="the later snapshot")
    p.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write the diff as JSON")
    return p


def snapshot_diff_main(argv: Sequence[str]) -> int:
    ns = _parse(_diff_parser(), argv)
    if isinstance(ns, int):
        return ns
    from mojacheck.reports import snapshot_diff

    try:
        a, b = snapshot_diff.load(ns.a), snapshot_diff.load(ns.b)
    except MojacheckError as exc:
        return _fail(str(exc))
    result = snapshot_diff.diff(a, b)
    print(snapshot_diff.render(result, ns.a.name, ns.b.name))
    if ns.json:
        ns.json.write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 1 if result.lost else 0
