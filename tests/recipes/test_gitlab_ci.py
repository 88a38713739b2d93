"""examples/gitlab-ci.yml: GitLab's own CI schema (check-jsonschema's vendored copy, offline), then what the schema
cannot say: one job per environment running the suite, exit 1 failing the pipeline and exit 2 allowed (marked as a
warning), the run folder kept as artefacts with junit.xml as the test report, and Pages publishing the index after
failed jobs too. `nox -s gitlab` runs the pipeline for real with gitlab-ci-local (test_gitlab_ci_local.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "examples" / "gitlab-ci.yml"


def _schema_check(path: Path) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or shutil.which("check-jsonschema")
    assert tool, "check-jsonschema is not installed: pip install -e '.[dev]' brings it"
    return subprocess.run([tool, "--builtin-schema", "vendor.gitlab-ci", str(path)], capture_output=True, text=True)


def _pipeline() -> dict[str, Any]:
    return yaml.safe_load(PIPELINE.read_text())


def _job(pipeline: dict[str, Any], name: str) -> dict[str, Any]:
    """A job with its `extends` template merged in (one level, as GitLab merges hashes)."""
    job = dict(pipeline[name])
    base = pipeline.get(job.pop("extends", ""), {})
    merged = {**base, **job}
    for key in ("variables",):
        merged[key] = {**base.get(key, {}), **job.get(key, {})}
    return merged


def test_the_pipeline_matches_gitlabs_schema() -> None:
    result = _schema_check(PIPELINE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_is_not_vacuous(tmp_path: Path) -> None:
    broken = PIPELINE.read_text().replace("exit_codes: [2]", "exit_codes: two").replace("when: always", "whenn: always")
    (tmp_path / "gitlab-ci.yml").write_text(broken)
    result = _schema_check(tmp_path / "gitlab-ci.yml")
    assert result.returncode == 1 and "gitlab-ci.yml" in result.stdout


def test_one_job_per_environment_runs_the_suite_and_keeps_its_run_folder() -> None:
    pipeline = _pipeline()
    jobs = {name: _job(pipeline, name) for name in pipeline if name.startswith("nightly:")}
    assert {j["variables"]["MOJACHECK_ENV"] for j in jobs.values()} == {"dev", "staging"}
    for name, job in jobs.items():
        env = job["variables"]["MOJACHECK_ENV"]
        assert name == f"nightly:{env}" and job["stage"] == "nightly" and job["image"] == "$MOJACHECK_IMAGE"
        assert job["script"] == ['mojacheck run --root . --env "$MOJACHECK_ENV" $MOJACHECK_RUN_ARGS']
        assert job["allow_failure"] == {"exit_codes": [2]}  # 2 = could not run: a warning; 1 fails the pipeline
        artifacts = job["artifacts"]
        assert artifacts["when"] == "always" and artifacts["paths"] == ["outputs/"] and artifacts["expose_as"]
        assert artifacts["reports"]["junit"] == "outputs/*/*/junit.xml"
        assert "$" not in "".join(artifacts["paths"])  # expose_as ignores paths with variables
        assert job["resource_group"] == "mojacheck-$MOJACHECK_ENV"
        assert job["environment"]["name"] == "mojacheck/$MOJACHECK_ENV"  # the token is scoped per environment
        assert [r["if"] for r in job["rules"]] == ['$CI_PIPELINE_SOURCE == "schedule"',
                                                   '$CI_PIPELINE_SOURCE == "web"']


def test_pages_publishes_every_environment_after_the_nightly_stage_even_when_it_failed() -> None:
    pipeline = _pipeline()
    pages = pipeline["pages"]
    assert pipeline["stages"].index(pages["stage"]) > pipeline["stages"].index("nightly")
    assert all(r["when"] == "always" for r in pages["rules"])
    assert pages["script"] == ["mojacheck publish --all --output-root outputs --out public"]
    assert pages["artifacts"]["paths"] == ["public"] and pages["cache"]["paths"] == ["public/"]
    assert "needs" not in pages and "dependencies" not in pages  # the artefacts of every earlier job
