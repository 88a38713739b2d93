"""`nox -s gitlab`: examples/gitlab-ci.yml run for real by gitlab-ci-local (npm), shell executor, on a copy of this
checkout: three environments on the embedded hub, one passing, one with a failing check, one whose hub is down,
then Pages; then a second night, to see the site keep the first night's runs (the pipeline's cache).

The pipeline file is the example itself, included unchanged; the wrapper only swaps its environments (dev and
staging need real hubs) for three test ones. Jobs use `image:`; with no container runtime here they run in this
venv's shell (`--force-shell-executor`), so `mojacheck` is this checkout's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
import yaml
from local_params import on_free_ports

pytestmark = pytest.mark.heavy
ROOT = Path(__file__).resolve().parents[2]
# 4.73.0: the newest that runs on Node 20 (4.74+ use Set.prototype.union, Node >= 22)
GITLAB_CI_LOCAL = os.environ.get("GITLAB_CI_LOCAL", "gitlab-ci-local@4.73.0")
WRAPPER = """\
include:
  - local: examples/gitlab-ci.yml
nightly:dev: {rules: [{when: never}]}
nightly:staging: {rules: [{when: never}]}
nightly:ci-pass:
  extends: .mojacheck
  variables: {MOJACHECK_ENV: ci-pass}
nightly:ci-fail:
  extends: .mojacheck
  variables: {MOJACHECK_ENV: ci-fail, MOJACHECK_RUN_ARGS: "--notebooks 2*"}
nightly:ci-down:
  extends: .mojacheck
  variables: {MOJACHECK_ENV: ci-down}
"""
# "JOB  finished in 6.02 s" (passed) or "... finished in 566 ms  WARN 2" (failed/allowed to fail, with the exit code)
OUTCOME = re.compile(r"^(\S+)\s+finished in [\d.]+ \w+(?:\s+((?:FAIL|WARN) \d+))?\s*$", re.M)


def _params(project: Path) -> None:
    """Three environments from params/local.yaml: own ports and database; one hub that cannot provision a second
    currency (a failing check, exit 1); one with no hub at all (exit 2)."""
    base = on_free_ports(yaml.safe_load((project / "params" / "local.yaml").read_text()))
    for env, change in (("ci-pass", {}), ("ci-fail", {"currencies": ["USD", "ZZZ"]}),
                        ("ci-down", {"hub": {**base["hub"], "embedded": False},
                                     "sim": {**base["sim"], "embedded": False}})):
        data = {**base, "hub": {**base["hub"], "db": f"outputs/{env}/hub.sqlite3"}, **change}
        (project / "params" / f"{env}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = [t for t in ("npx", "git", "rsync") if shutil.which(t) is None]
    assert not missing, f"nox -s gitlab needs {', '.join(missing)} (rsync: apt-get install -y rsync)"
    project = tmp_path_factory.mktemp("gitlab") / "mojacheck"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split("\n")
    for name in filter(None, files):
        if not name.startswith("outputs/") and (ROOT / name).is_file():
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, project / name)
    _params(project)
    (project / ".gitlab-ci.yml").write_text(WRAPPER)
    git = ["git", "-c", "user.name=mojacheck", "-c", "user.email=ci@example.org"]
    for argv in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "pipeline under test"],
                 ["remote", "add", "origin", "https://gitlab.example.org/mojaloop/mojacheck.git"]):
        subprocess.run([*git, *argv], cwd=project, check=True)
    return project


def _pipeline(project: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    argv = ["npx", "-y", GITLAB_CI_LOCAL, "--variable", "CI_PIPELINE_SOURCE=schedule",
            "--ignore-predefined-vars", "CI_PIPELINE_SOURCE", "--force-shell-executor", "--shell-isolation",
            "--concurrency", "1", "--no-color", *args]
    started = time.monotonic()
    done = subprocess.run(argv, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env={**os.environ, "JUPYTER_PREFER_ENV_PATH": "1",  # this venv's mojacheck and kernel
                               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"})
    outcomes = {job: outcome or "PASS" for job, outcome in OUTCOME.findall(done.stdout) if job != "pipeline"}
    print(f"\ngitlab-ci-local {' '.join(args)}: exit {done.returncode} in {time.monotonic() - started:.0f} s; "
          f"jobs: {outcomes}")
    return done, outcomes


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if href and not href.startswith("#"):
            self.hrefs.append(href)


def _site(project: Path) -> dict[str, list[dict]]:
    """The published site (Pages' artefact, copied back to the checkout): runs per env; every link resolves."""
    public = project / "public"
    parser = _Hrefs()
    parser.feed((public / "index.html").read_text())
    assert parser.hrefs and [h for h in parser.hrefs if not (public / unquote(h)).is_file()] == []
    data = json.loads((public / "index.json").read_text())
    return {e["env"]: e["runs"] for e in data["envs"]}


def test_a_night_each_exit_code_marks_its_job_and_pages_publishes_them_all(project: Path) -> None:
    done, outcomes = _pipeline(project)
    assert outcomes == {"nightly:ci-pass": "PASS", "nightly:ci-fail": "FAIL 1", "nightly:ci-down": "WARN 2",
                        "pages": "PASS"}, done.stdout[-3000:]
    # GitLab fails this pipeline (ci-fail is not allowed to fail with 1). gitlab-ci-local 4.73 exits 0 here: it
    # counts any job with `allow_failure: {exit_codes}` as allowed; hence the per-job outcomes above.
    artifacts = project / ".gitlab-ci-local" / "artifacts" / "nightlyOgci-pass" / "outputs" / "ci-pass"
    run, = [p for p in artifacts.iterdir() if p.is_dir() and not p.is_symlink()]
    assert {"summary.json", "junit.xml", "90_run_report.html", "hub.log"} <= {p.name for p in run.iterdir()}
    assert not list(artifacts.glob("*.sqlite3*"))  # the embedded hub's database is not an artefact
    site = _site(project)
    assert [r["verdict"] for r in site["ci-pass"]] == ["passed"]
    assert [r["verdict"] for r in site["ci-fail"]] == ["failed"]
    failed = site["ci-fail"][0]
    assert failed["failed"] > 0 and {"name": "20_p2p_golden_path", "status": "failed"}.items() <= failed[
        "notebooks"][0].items()
    assert [r["verdict"] for r in site["ci-down"]] == ["unfinished"]  # it could not start: no summary


def test_the_next_night_adds_to_the_site_from_the_cache(project: Path) -> None:
    done, outcomes = _pipeline(project, "--variable", "MOJACHECK_RUN_ARGS=--notebooks 0*", "nightly:ci-pass",
                               "pages")
    assert outcomes == {"nightly:ci-pass": "PASS", "pages": "PASS"}, done.stdout[-3000:]
    site = _site(project)
    assert [r["verdict"] for r in site["ci-pass"]] == ["passed", "passed"]  # tonight's first, last night's kept
    assert len(site["ci-fail"]) == 1 and len(site["ci-down"]) == 1
