"""`mojacheck bench` reports figures, it never judges them: the table puts each median beside the issue's baseline,
and a figure it does not know is refused before anything runs. (The figures themselves are measured by
`nox -s bench`, never asserted in a test: this machine is shared.)"""

from __future__ import annotations

import io
from pathlib import Path

from mojacheck.runner.bench import BenchOptions, bench, render, table


def test_the_table_sets_each_median_beside_its_baseline() -> None:
    rows = table({"suite.issue15": [30.0, 20.0, 25.0], "hub.32": [480.0, 500.0, 520.0], "null.p2p": [400.0]})
    by = {r["figure"]: r for r in rows}
    assert by["suite.issue15"]["median"] == 25.0 and by["suite.issue15"]["today"] == 33.6
    assert by["suite.issue15"]["ratio"] == round(25.0 / 33.6, 3)
    assert (by["suite.issue15"]["min"], by["suite.issue15"]["max"]) == (20.0, 30.0)
    assert by["hub.32"]["ratio"] == round(500 / 241, 3)
    assert by["null.p2p"]["ratio"] is None and by["null.p2p"]["n"] == 1
    lines = render(rows, 3, {"cpus": 2, "load_avg_before": [1.0], "load_avg_after": [1.5]})
    label = "the 9 notebooks issue 15 timed, wall"
    assert any(label in line and "33.6 s" in line and "25.0 s" in line for line in lines)
    assert any("load average 1.00 before" in line for line in lines)


def test_an_unknown_figure_is_refused_before_anything_runs(tmp_path: Path) -> None:
    err = io.StringIO()
    assert bench(BenchOptions(only=["suite", "warp"], root=tmp_path, stderr=err)) == 2
    assert "unknown figure(s) warp" in err.getvalue()
    assert not (tmp_path / "outputs").exists()
