"""mojacheck on Apache Airflow (2.x and 3.x): two DAGs.

* `mojacheck_nightly`: every night one task per environment (`mojacheck run --env ENV`, in parallel: each has its
  own hub), then `publish`, which writes the evidence index of every environment's runs even when some failed.
* `mojacheck_upgrade` (triggered by hand around an operator's upgrade of one environment): run the suite at the
  release before → snapshot the hub → the upgrade command → snapshot again → run at the release after → what was
  lost between the snapshots (`snapshot-diff`) and what changed between the runs (`compare`, which tells expected
  release differences from unexpected ones). Its files go to outputs/upgrade/<env>-<dag run>/.

Copy this file into the DAGs folder. The workers need mojacheck installed (the image, or `pip install mojacheck`)
and, in their environment:
  MOJACHECK_ROOT       the project folder: params/<env>.yaml, notebooks/, and outputs/ written there
  MOJACHECK_ENVS       the environments of the nightly DAG, comma-separated (read when the DAG file is parsed)
  MOJACHECK_BEARER_TOKEN (or the variable your params name)   the token; never in the DAG, params or Airflow's DB
  MOJACHECK_RUN_ARGS   optional, more `mojacheck run` arguments, e.g. "--set timeouts.callback_s=20"
  MOJACHECK_SITE       optional, where `publish` writes the site (default $MOJACHECK_ROOT/outputs/site)

A task fails when mojacheck exits non-zero: 1 a check failed, 2 the run could not be done; the task's log ends with
mojacheck's verdict line and Airflow's "exit code N". Each DAG ends with a `verdict` task that runs only when the
tasks before it passed, so the DAG run's own state says whether the night (or the upgrade) passed.
"""

from __future__ import annotations

import os
import re
import shlex
from datetime import UTC, datetime, timedelta

try:  # Airflow 3
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import DAG, Param
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.models.param import Param
    from airflow.operators.bash import BashOperator

MOJACHECK = os.environ.get("MOJACHECK_BIN", "mojacheck")
ENVS = [e.strip() for e in os.environ.get("MOJACHECK_ENVS", "dev,staging").split(",") if e.strip()]
DEFAULTS = {"owner": "mojacheck", "retries": 0, "execution_timeout": timedelta(hours=1)}


def _task_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


def _run(env: str, *extra: str) -> str:
    """`mojacheck run` for one environment; MOJACHECK_RUN_ARGS is split by the shell at run time."""
    return " ".join([shlex.quote(MOJACHECK), "run", "--env", shlex.quote(env), *extra, "$MOJACHECK_RUN_ARGS"])


with DAG(
    dag_id="mojacheck_nightly",
    description="The mojacheck suite against every environment, then the evidence index",
    schedule="30 1 * * *",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,  # never two nights at once against one hub
    default_args=DEFAULTS,
    tags=["mojacheck"],
):
    runs = [BashOperator(task_id=f"run_{_task_id(env)}", bash_command=_run(env)) for env in ENVS]
    site = '"${MOJACHECK_SITE:-$MOJACHECK_ROOT/outputs/site}"'
    publish = BashOperator(
        task_id="publish", bash_command=f"{shlex.quote(MOJACHECK)} publish --all --out {site}",
        trigger_rule="all_done",  # after failed runs too: that is when the index matters most
    )
    # Airflow judges a DAG run by its last tasks; `publish` succeeds even after a failed env, so this one carries
    # the night's verdict: it runs only if every env passed, else the DAG run fails ("upstream_failed").
    verdict = BashOperator(task_id="verdict", bash_command="echo every environment passed")
    runs >> publish
    runs >> verdict


# ---------------------------------------------------------------- around an upgrade

_DIR = '"$MOJACHECK_ROOT/outputs/upgrade/{{ params.env }}-{{ run_id | replace(":", "") | replace("+", "") }}"'
_M = shlex.quote(MOJACHECK)
_ENV = '"{{ params.env }}"'
_NOTEBOOKS = '--notebooks "{{ params.notebooks }}"'


def _release(which: str) -> str:
    return f'--set "hub.release={{{{ params.release_{which} }}}}"'


with DAG(
    dag_id="mojacheck_upgrade",
    description="Before and after an operator's upgrade of one environment: runs, snapshots, what changed",
    schedule=None,  # triggered by hand, with the parameters below
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULTS,
    tags=["mojacheck"],
    params={
        "env": Param(ENVS[0] if ENVS else "staging", type="string", description="params/<env>.yaml"),
        "release_before": Param("13", type="string", description="the hub's release before the upgrade"),
        "release_after": Param("17", type="string", description="the hub's release after it"),
        "upgrade_command": Param("true", type="string",
                                 description="the operator's upgrade, e.g. helm upgrade ...; `true` for the embedded "
                                             "hub, which the runs and snapshots start at each release"),
        "notebooks": Param("*", type="string", description="which notebooks to run, a glob"),
    },
):
    # Each run writes to its own output root, so the folder of the run this DAG made is always <root>/<env>/latest.
    run_before = BashOperator(task_id="run_before", bash_command=f"mkdir -p {_DIR} && " + _run(
        "{{ params.env }}", _release("before"), _NOTEBOOKS, "--output-root", _DIR + "/before"))
    snapshot_before = BashOperator(
        task_id="snapshot_before", trigger_rule="all_done",  # a failed check before the upgrade is news, not a stop
        bash_command=f"{_M} snapshot --env {_ENV} {_release('before')} --output-root {_DIR}/before "
                     f"--out {_DIR}/before.json")
    upgrade = BashOperator(task_id="upgrade", bash_command="{{ params.upgrade_command }}")
    snapshot_after = BashOperator(
        task_id="snapshot_after",
        bash_command=f"{_M} snapshot --env {_ENV} {_release('after')} --output-root {_DIR}/before "
                     f"--out {_DIR}/after.json")
    snapshot_diff = BashOperator(  # exit 1: something the hub had before the upgrade is gone
        task_id="snapshot_diff",
        bash_command=f"{_M} snapshot-diff {_DIR}/before.json {_DIR}/after.json --json {_DIR}/snapshot-diff.json")
    run_after = BashOperator(task_id="run_after", bash_command=_run(
        "{{ params.env }}", _release("after"), _NOTEBOOKS, "--output-root", _DIR + "/after"))
    compare = BashOperator(  # exit 1: a difference the release table does not explain
        task_id="compare", trigger_rule="all_done",
        bash_command=f"{_M} compare {_DIR}/before/{_ENV}/latest {_DIR}/after/{_ENV}/latest --out {_DIR}/compare")
    verdict = BashOperator(task_id="verdict", bash_command="echo the upgrade kept every entity and every check")
    run_before >> snapshot_before >> upgrade >> snapshot_after >> [snapshot_diff, run_after]
    run_after >> compare
    [snapshot_diff, run_after, compare] >> verdict  # the DAG run fails unless all three passed
