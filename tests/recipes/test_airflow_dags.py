"""`nox -s airflow`: examples/airflow/mojacheck_dag.py run for real by `airflow dags test` (Airflow installed in the
session's venv, SQLite, no scheduler or API server) against the embedded hub on free ports.

The DAG file is loaded from examples/airflow as it stands; only its environment differs: MOJACHECK_ROOT is a
throwaway project (params for the test envs, the repository's notebooks), MOJACHECK_ENVS names the test envs.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from local_params import write_params

pytestmark = pytest.mark.heavy
ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "examples" / "airflow"
DAY = "2026-11-28"


@pytest.fixture(scope="module")
def airflow(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    """An Airflow home with a migrated SQLite database and the example DAG folder; a mojacheck project with three
    envs: af-pass, af-fail (a second currency the hub cannot quote: a failing check) and af-upgrade."""
    tool = Path(sys.executable).parent / "airflow"
    assert tool.is_file(), "Airflow is not installed in this venv: run `nox -s airflow`"
    tmp = tmp_path_factory.mktemp("airflow")
    project = tmp / "project"
    (project / "params").mkdir(parents=True)
    (project / "notebooks").symlink_to(ROOT / "notebooks")
    write_params(project, "af-pass")
    write_params(project, "af-fail", currencies=["USD", "ZZZ"])
    write_params(project, "af-upgrade")
    env = {**os.environ, "AIRFLOW_HOME": str(tmp / "home"), "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "MOJACHECK_ROOT": str(project),
           "MOJACHECK_ENVS": "af-pass,af-fail", "MOJACHECK_RUN_ARGS": "--notebooks 20_p2p_golden_path",
           "PATH": f"{tool.parent}{os.pathsep}{os.environ['PATH']}", "JUPYTER_PREFER_ENV_PATH": "1"}
    migrated = subprocess.run([str(tool), "db", "migrate"], env=env, capture_output=True, text=True)
    assert migrated.returncode == 0, migrated.stdout[-2000:] + migrated.stderr[-2000:]
    return env, project


def _dags_test(env: dict[str, str], dag: str, *args: str) -> tuple[int, str]:
    started = time.monotonic()
    done = subprocess.run(["airflow", "dags", "test", dag, DAY, *args], env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    kept = Path(env["AIRFLOW_HOME"]) / f"dags-test-{dag}.log"
    kept.write_text(done.stdout)
    print(f"\nairflow dags test {dag}: exit {done.returncode} in {time.monotonic() - started:.0f} s (log: {kept})")
    return done.returncode, done.stdout


# `dags test` runs one task at a time and says which: "[DAG TEST] starting task_id=X" (Airflow 3)
TASK_START = re.compile(r"\[DAG TEST\] starting task_id=([\w.-]+)")
EXITED = re.compile(r"Command exited with return code (\d+)")


def _exit_codes(log: str) -> dict[str, int]:
    """Each task's command exit code, from the log of `dags test`."""
    codes: dict[str, int] = {}
    current = None
    for line in log.splitlines():
        if started := TASK_START.search(line):
            current = started.group(1)
        elif (exited := EXITED.search(line)) and current:
            codes[current] = int(exited.group(1))
    return codes


def test_the_nightly_dag_runs_each_env_and_publishes_after_a_failed_one(airflow: tuple[dict[str, str], Path]) -> None:
    env, project = airflow
    code, log = _dags_test(env, "mojacheck_nightly")
    codes = _exit_codes(log)
    print(f"exit codes: {codes}")
    assert code == 1, log[-3000:]  # one environment had a failing check: the verdict task did not run
    # mojacheck's own exit codes: 1 for the env with a failing check, 0 for the other and for publish
    assert codes == {"run_af-pass": 0, "run_af-fail": 1, "publish": 0}, log[-3000:]
    assert "mojacheck: FAILED: 1 notebooks" in log and "mojacheck: PASSED: 1 notebooks" in log
    summaries = {e: json.loads(next((project / "outputs" / e).glob("2*/summary.json")).read_text())
                 for e in ("af-pass", "af-fail")}
    assert summaries["af-pass"]["totals"]["failed"] == 0 and summaries["af-pass"]["totals"]["checks"] > 0
    assert summaries["af-fail"]["totals"]["failed"] > 0
    index = json.loads((project / "outputs" / "site" / "index.json").read_text())  # `publish` ran (all_done)
    assert {e["env"]: [r["verdict"] for r in e["runs"]] for e in index["envs"]} == {
        "af-fail": ["failed"], "af-pass": ["passed"]}


def test_the_upgrade_dag_runs_snapshots_and_compares_around_an_upgrade(
        airflow: tuple[dict[str, str], Path]) -> None:
    env, project = airflow
    conf = {"env": "af-upgrade", "release_before": "13", "release_after": "17", "upgrade_command": "true",
            "notebooks": "20_p2p_golden_path"}
    code, log = _dags_test({**env, "MOJACHECK_RUN_ARGS": ""}, "mojacheck_upgrade", "--conf", json.dumps(conf))
    assert code == 0, log[-4000:]
    assert _exit_codes(log) == dict.fromkeys(("run_before", "snapshot_before", "upgrade", "snapshot_after",
                                              "snapshot_diff", "run_after", "compare", "verdict"), 0)
    folder, = (project / "outputs" / "upgrade").glob("af-upgrade-*")
    before = json.loads(next((folder / "before" / "af-upgrade").glob("2*/summary.json")).read_text())
    after = json.loads(next((folder / "after" / "af-upgrade").glob("2*/summary.json")).read_text())
    assert (before["hub"]["release"], after["hub"]["release"]) == ("13", "17")
    diff = json.loads((folder / "snapshot-diff.json").read_text())
    assert not diff.get("lost"), diff.get("lost")
    comparison = json.loads((folder / "compare" / "comparison.json").read_text())
    assert comparison["counts"]["unexpected"] == 0
    assert (comparison["a"]["release"], comparison["b"]["release"]) == ("13", "17")
    assert (folder / "compare" / "compare_runs.html").is_file()
    shutil.rmtree(folder)  # a second session run starts clean
