"""The runner end to end on fixture notebooks (papermill for real), against a stub service."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import CRASH_CELLS, GOOD_CELL, PASS_CELL, SECRET, make_project

from mojacheck.cli import main as cli_main
from mojacheck.evidence import specs
from mojacheck.runner import RunOptions, RunResult, run


def _run(root: Path, **kw: object) -> tuple[RunResult, str]:
    err = io.StringIO()
    kw.setdefault("prove_callbacks", False)  # the stub is no hub: it cannot deliver a callback
    result = run(RunOptions(env="test", root=root, output_root=root / "out", stderr=err, **kw))  # type: ignore[arg-type]
    return result, err.getvalue()


def fake_pinned_cache(cache: Path) -> None:
    """What `mojacheck specs` leaves in the cache (the files' content does not matter to the runner)."""
    docs = specs.pinned_spec_dir(cache)
    docs.mkdir(parents=True)
    for name in specs.SPEC_FILES.values():
        (docs / name).write_text("openapi: 3.0.1\npaths: {}\n")
    manifest = {"package": specs.PACKAGE, "version": specs.VERSION, "integrity": specs.INTEGRITY}
    (docs.parent / specs.MANIFEST).write_text(json.dumps(manifest))


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory, stub_url: str) -> tuple[RunResult, str, Path]:
    root = make_project(
        tmp_path_factory.mktemp("mixed"), stub_url, {"10_good.ipynb": [GOOD_CELL], "20_pass.ipynb": [PASS_CELL]}
    )
    fake_pinned_cache(root / "cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOJACHECK_BEARER_TOKEN", SECRET)
        mp.setenv(specs.CACHE_ENV, str(root / "cache"))
        result, err = _run(root)
    return result, err, root


def test_failing_check_exits_1_with_summary(mixed: tuple[RunResult, str, Path]) -> None:
    result, err, _ = mixed
    assert result.exit_code == 1, err
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert set(summary) == {"env", "run_id", "started", "finished", "duration_s", "hub", "api_spec", "totals",
                            "notebooks", "checks"}
    assert summary["env"] == "test" and summary["run_id"] == result.run_dir.name
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]+", summary["run_id"])
    assert summary["hub"] == {"release": "17", "versions": {"transfers": ["1.1"]}}
    assert summary["totals"] == {"notebooks": 2, "scenarios": 2, "checks": 3, "passed": 2, "failed": 1,
                                 "requests": 1}
    good, ok = summary["notebooks"]
    assert good["name"] == "10_good" and good["status"] == "failed" and good["failed"] == 1
    assert ok["name"] == "20_pass" and ok["status"] == "passed"
    assert set(good) == {"name", "status", "duration_s", "scenarios", "checks", "passed", "failed", "requests"}
    failing = [c for c in summary["checks"] if not c["passed"]]
    assert failing == [{"notebook": "10_good", "scenario": "demo", "name": "amount", "expected": "10",
                        "actual": "11", "passed": False, "error_code": "3106", "expectation": None}]
    assert "10_good" in err and "checks: 1 passed, 1 failed" in err


def test_the_summary_and_the_last_line_say_spec_validation_is_on_with_the_version(
        mixed: tuple[RunResult, str, Path]) -> None:
    result, err, root = mixed
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["api_spec"] == {"validation": True, "package": "@mojaloop/api-snippets", "version": specs.VERSION,
                                   "folder": str(specs.pinned_spec_dir(root / "cache")),
                                   "fspiop_versions": ["1.0", "1.1", "2.0"], "reason": None}
    last = err.strip().splitlines()[-1]
    assert last.startswith("mojacheck: FAILED: 2 notebooks") and "2/3 checks passed" in last
    assert f"; spec validation on (api-snippets {specs.VERSION}); outputs in" in last


def test_outputs_layout_and_latest(mixed: tuple[RunResult, str, Path]) -> None:
    result, _, root = mixed
    names = {p.name for p in result.run_dir.iterdir()}
    assert {"10_good.ipynb", "10_good.html", "20_pass.ipynb", "20_pass.html", "summary.json", "junit.xml"} <= names
    latest = root / "out" / "test" / "latest"
    assert latest.is_symlink() and os.readlink(latest) == result.run_dir.name  # relative
    assert latest.resolve() == result.run_dir.resolve()


def test_junit_has_one_testcase_per_check(mixed: tuple[RunResult, str, Path]) -> None:
    result, _, _ = mixed
    tree = ET.parse(result.run_dir / "junit.xml")
    suites = tree.getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == ["10_good", "20_pass"]
    cases = suites[0].findall("testcase")
    assert [c.get("name") for c in cases] == ["demo :: status is 200", "demo :: amount"]
    assert all(c.get("classname") == "10_good" for c in cases)
    failure = cases[1].find("failure")
    assert failure is not None and "expected 10, got 11" in failure.get("message", "")
    assert tree.getroot().get("failures") == "1" and tree.getroot().get("tests") == "3"


def test_html_is_self_contained(mixed: tuple[RunResult, str, Path]) -> None:
    result, _, _ = mixed
    html = (result.run_dir / "10_good.html").read_text()
    assert "some output" in html  # the executed output is there
    external = re.findall(r"<(?:script|link|img)[^>]+(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html, re.I)
    assert external == []
    for word in ("cdn", "unpkg", "cdnjs", "jsdelivr", "require.js", "mathjax/"):
        assert word not in html.lower(), word


def test_kernel_runs_this_interpreter_with_params(mixed: tuple[RunResult, str, Path]) -> None:
    import scrapbook

    result, _, root = mixed
    probe = scrapbook.read_notebook(str(result.run_dir / "10_good.ipynb")).scraps["probe"].data
    assert Path(probe["prefix"]).resolve() == Path(sys.prefix).resolve()
    assert Path(probe["cwd"]).resolve() == (root / "notebooks").resolve()
    assert probe["run_dir"] == str(result.run_dir) and probe["env_name"] == "test"


def test_secret_reaches_kernel_but_no_output(mixed: tuple[RunResult, str, Path]) -> None:
    import scrapbook

    result, err, _ = mixed
    assert scrapbook.read_notebook(str(result.run_dir / "10_good.ipynb")).scraps["probe"].data["has_token"]
    assert "redacted" not in err  # nothing had to be scrubbed: the token was never written
    for path in result.run_dir.iterdir():
        assert SECRET not in path.read_text(errors="replace"), path.name
    assert "MOJACHECK_BEARER_TOKEN" in (result.run_dir / "10_good.ipynb").read_text()  # only the NAME


def test_crashing_notebook_exits_2_with_partial_outputs(tmp_path: Path, stub_url: str,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(specs.CACHE_ENV, str(tmp_path / "empty-cache"))  # not fetched: validation off, and said
    root = make_project(tmp_path, stub_url, {"30_crash.ipynb": CRASH_CELLS})
    result, err = _run(root)
    assert result.exit_code == 2
    assert "error" in err and "boom" in err
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert summary["notebooks"][0]["status"] == "error"
    assert summary["totals"]["checks"] == 1  # the scrap glued before the crash is kept
    assert (result.run_dir / "30_crash.html").is_file()
    suite = ET.parse(result.run_dir / "junit.xml").getroot().find("testsuite")
    error = suite.find("testcase/error")
    assert error is not None and "RuntimeError" in error.get("message", "") and "boom" in error.text
    assert summary["api_spec"]["validation"] is False and summary["api_spec"]["version"] == specs.VERSION
    off = f"spec validation OFF: npm @mojaloop/api-snippets {specs.VERSION} is not in the cache"
    assert summary["api_spec"]["reason"].startswith(off.removeprefix("spec validation OFF: "))
    assert off in err.strip().splitlines()[0] and off in err.strip().splitlines()[-1]  # said first and last


def test_glob_selects_notebooks_and_all_passing_exits_0(tmp_path: Path, stub_url: str) -> None:
    root = make_project(tmp_path, stub_url, {"10_good.ipynb": [GOOD_CELL], "20_pass.ipynb": [PASS_CELL]})
    result, err = _run(root, notebooks="20_*", overrides=["api.spec_dir=null"])
    assert result.exit_code == 0, err
    assert result.summary["api_spec"]["validation"] is False
    assert "spec validation OFF: api.spec_dir is null (switched off in the params)" in err.strip().splitlines()[-1]
    assert [n["name"] for n in result.summary["notebooks"]] == ["20_pass"]
    assert result.summary["hub"] == {"release": "17", "versions": {}}  # no mc_hub: params' release


def test_bad_params_exit_2_before_anything(tmp_path: Path, stub_url: str) -> None:
    root = make_project(tmp_path, stub_url, {"20_pass.ipynb": [PASS_CELL]})
    result, err = _run(root, overrides=["hub.release=15"])
    assert result.exit_code == 2
    assert "hub.release: expected one of 13, 14, 17, got '15'" in err
    assert not (root / "out").exists()


def test_unreachable_service_exit_2_names_url(tmp_path: Path, stub_url: str) -> None:
    root = make_project(tmp_path, stub_url, {"20_pass.ipynb": [PASS_CELL]})
    result, err = _run(root, overrides=["services.quoting=http://127.0.0.1:9"])
    assert result.exit_code == 2
    assert "services.quoting is unreachable: http://127.0.0.1:9/health" in err
    assert not list(result.run_dir.glob("*.ipynb"))


def test_cli_run_reports_bad_params(tmp_path: Path, stub_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path, stub_url, {"20_pass.ipynb": [PASS_CELL]})
    code = cli_main(["run", "--env", "test", "--root", str(root), "--set", "fsps.payer=[1, 2]"])
    assert code == 2
    assert "fsps.payer: expected a string" in capsys.readouterr().err


def test_cli_usage() -> None:
    assert cli_main(["nope"]) == 2
    assert cli_main(["run"]) == 2  # --env is required


def test_a_crash_of_mojacheck_itself_exits_2_not_1(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # Python's own exit code for an uncaught exception is 1, which the table reserves for "a check failed".
    import mojacheck.runner as runner

    def broken(options: RunOptions) -> RunResult:
        raise AttributeError("a bug")

    monkeypatch.setattr(runner, "run", broken)
    assert cli_main(["run", "--env", "local"]) == 2
    err = capsys.readouterr().err
    assert "AttributeError: a bug" in err and "run stopped on an unexpected error" in err


REQUIRED_CELLS = [
    'import mojacheck as mc\nrun = mc.connect(params)\nwith run.scenario("the setup later cells use", required=True):\n'
    '    run.check("a check before it breaks", 1, 1)\n    raise ValueError("the hub refused the currency")',
    'with run.scenario("builds on the setup"):\n    run.check("never reached", 1, 1)',
]


def test_a_failed_required_scenario_stops_the_notebook_as_a_failure_not_a_crash(tmp_path: Path,
                                                                                stub_url: str) -> None:
    """A scenario later cells build on fails: the notebook stops there with one sentence and counts as failed
    (exit 1), instead of crashing later cells on names it never set (a NameError, exit 2)."""
    root = make_project(tmp_path, stub_url, {"40_required.ipynb": REQUIRED_CELLS})
    result, err = _run(root)
    assert result.exit_code == 1, err
    summary = result.summary
    assert summary["notebooks"][0]["status"] == "failed"
    assert [c["name"] for c in summary["checks"]] == ["a check before it breaks", "scenario ran to the end"]
    assert "ScenarioStopped" in err
