"""`mojacheck compare`: execute the comparison notebook over two run folders and report its verdict."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from mojacheck.evidence.prose import counted
from mojacheck.fspiop.errors import MojacheckError
from mojacheck.params import find_root

EXIT_SAME, EXIT_DIFFERENT, EXIT_CANNOT = 0, 1, 2
COMPARE_NOTEBOOK = Path("notebooks") / "compare" / "compare_runs.ipynb"


def compare(run_a: Path, run_b: Path, *, out: Path | None = None, root: Path | None = None,
            stderr: TextIO | None = None) -> int:
    """Compare two runs; writes the executed notebook, its HTML and comparison.json. Exit code 0/1/2."""
    err = stderr or sys.stderr
    from mojacheck.reports.compare import load_summary

    try:
        root = (root or find_root()).resolve()
        sides = [load_summary(run_a, "RUN_A"), load_summary(run_b, "RUN_B")]
    except MojacheckError as exc:
        return _fail(err, f"cannot compare: {exc}")
    source = root / COMPARE_NOTEBOOK
    if not source.is_file():
        return _fail(err, f"cannot compare: the comparison notebook {source} is missing")
    ids = [str(s.get("run_id") or Path(f).resolve().name) for s, f in zip(sides, (run_a, run_b), strict=True)]
    target = (out or root / "outputs" / "compare" / f"{ids[0]}__{ids[1]}").resolve()
    target.mkdir(parents=True, exist_ok=True)
    return _execute(source, target, run_a.resolve(), run_b.resolve(), err)


def _fail(err: TextIO, message: str) -> int:
    print(f"mojacheck: {message}", file=err)
    return EXIT_CANNOT


def _execute(source: Path, out: Path, run_a: Path, run_b: Path, err: TextIO) -> int:
    from mojacheck.runner.execute import execute_notebook
    from mojacheck.runner.html import export_html

    executed = out / source.name
    result = execute_notebook(source, executed, {"run_a": str(run_a), "run_b": str(run_b)}, cwd=source.parent,
                              kernel_log=out / "kernel.log")
    if executed.is_file():
        try:
            export_html(executed, out / f"{source.stem}.html")
        except Exception as exc:  # the verdict stands without its HTML; say so
            print(f"mojacheck: warning: no HTML for {executed.name}: {type(exc).__name__}: {exc}", file=err)
    if result.error is not None:
        return _fail(err, f"the comparison notebook failed ({result.error.ename}: {result.error.evalue}); "
                          f"see {executed}")
    data = _scraps(executed).get("mc_compare")
    if not isinstance(data, dict):
        return _fail(err, f"the comparison notebook glued no result; see {executed}")
    (out / "comparison.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    counts = data.get("counts", {})
    print(f"mojacheck: compare {data['a']['run_id']} (release {data['a']['release']}) → {data['b']['run_id']} "
          f"(release {data['b']['release']}): {counts.get('unexpected', 0)} unexpected, "
          f"{counted(counts.get('expected', 0), 'expected difference')}; {out / (source.stem + '.html')}", file=err)
    for d in data.get("differences", []):
        if not d["expected"]:
            where = " :: ".join(x for x in (d["notebook"], d["scenario"], d["subject"]) if x)
            print(f"  UNEXPECTED {d['kind']}: {where}: {d['a']} → {d['b']}", file=err)
    return EXIT_DIFFERENT if counts.get("unexpected") else EXIT_SAME


def _scraps(path: Path) -> dict[str, Any]:
    from mojacheck.reports.runs import notebook_outputs, scrap_of

    nb = json.loads(path.read_text(encoding="utf-8"))
    return dict(filter(None, (scrap_of(o) for o in notebook_outputs(nb))))
