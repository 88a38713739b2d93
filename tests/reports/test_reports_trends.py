"""Trends across runs: reading many summaries (skipping bad ones), flaky checks, one run, no run."""

from __future__ import annotations

from pathlib import Path

from conftest import check, summary, write_summary

from mojacheck.evidence.checks import Scenario
from mojacheck.reports import trends


def _history(tmp_path: Path, outcomes: list[bool]) -> Path:
    env = tmp_path / "local"
    for i, ok in enumerate(outcomes):
        checks = [check("stable"), check("wobbly", ok), check(f"remark ({'created' if i == 0 else 'existed'})")]
        write_summary(env / f"{10 + i:02d}T000000Z-r{i}", summary(f"{10 + i:02d}x", "17", checks))
    return env


def test_flaky_checks_flip_and_stable_ones_do_not(tmp_path: Path) -> None:
    history = trends.load_history(_history(tmp_path, [True, False, True, True]))
    flaky = trends.flaky_checks(history)
    assert list(flaky["check"]) == ["wobbly"]  # "remark (created)"/"(existed)" is one stable check
    row = flaky.iloc[0]
    assert (row["runs"], row["passed"], row["failed"], row["flips"], row["last"]) == (4, 3, 1, 2, "passed")
    runs = trends.runs_frame(history)
    assert list(runs["pass_rate"]) == [100.0, 66.67, 100.0, 100.0]
    assert trends.trend_chart(runs).axes
    assert list(trends.notebook_durations(history).columns) == ["30_errors"]


def test_unreadable_and_unfinished_runs_are_noted_not_fatal(tmp_path: Path) -> None:
    env = _history(tmp_path, [True])
    (env / "12T000000Z-bad").mkdir()
    (env / "12T000000Z-bad" / "summary.json").write_text("{not json")
    write_summary(env / "13T000000Z-shape", {"run_id": "x"})
    (env / "14T000000Z-now").mkdir()  # the run executing the report
    (env / "15T000000Z-crashed").mkdir()
    (env / "snapshots").mkdir()
    history = trends.load_history(env, exclude="14T000000Z-now")
    assert len(history.summaries) == 1
    assert [s[0] for s in history.skipped] == ["12T000000Z-bad", "13T000000Z-shape"]
    assert history.unfinished == ["15T000000Z-crashed"]
    text = trends.describe(history, current="14T000000Z-now")
    assert "One finished run" in text and "SKIPPED 12T000000Z-bad/summary.json" in text
    assert trends.flaky_checks(history).empty
    sc = Scenario("s", 0)
    trends.check_history(sc, history)
    assert sc.passed


def test_no_run_yet_passes_and_only_broken_summaries_fail(tmp_path: Path) -> None:
    sc = Scenario("s", 0)
    trends.check_history(sc, trends.load_history(tmp_path / "nothing"))
    assert sc.passed and trends.runs_frame(trends.load_history(tmp_path / "nothing")).empty
    env = tmp_path / "local"
    (env / "01T-bad").mkdir(parents=True)
    (env / "01T-bad" / "summary.json").write_text("[]")
    sc = Scenario("s", 0)
    trends.check_history(sc, trends.load_history(env))
    assert not sc.passed


def test_hundreds_of_runs_stay_quick(tmp_path: Path) -> None:
    import time

    env = tmp_path / "local"
    checks = [check(f"c{i}", i != 3) for i in range(200)]
    for i in range(300):
        write_summary(env / f"{i:04d}", summary(f"{i:04d}", "17", checks, started=f"2026-01-01T00:00:{i % 60:02d}Z"))
    started = time.monotonic()
    history = trends.load_history(env)
    trends.flaky_checks(history)
    trends.notebook_duration_stats(history)
    assert len(history.summaries) == 300 and time.monotonic() - started < 15
