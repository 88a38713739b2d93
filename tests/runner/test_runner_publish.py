"""`mojacheck publish`: which files of a run reach the site, history kept across publishes, publishing in place,
choosing environments, and the exit codes a scheduler reads."""

from __future__ import annotations

import io
import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest

from mojacheck.cli import main as cli_main
from mojacheck.runner.publish import PublishOptions, publish


def _summary(env: str, run_id: str, failed: int = 0) -> dict:
    started = f"{run_id[:4]}-{run_id[4:6]}-{run_id[6:8]}T{run_id[9:11]}:{run_id[11:13]}:00.000Z"
    return {"env": env, "run_id": run_id, "started": started, "finished": started, "duration_s": 12.5,
            "hub": {"release": "17", "versions": {}},
            "totals": {"notebooks": 1, "scenarios": 1, "checks": 3, "passed": 3 - failed, "failed": failed,
                       "requests": 4},
            "notebooks": [{"name": "00_environment", "status": "failed" if failed else "passed", "duration_s": 1.0}],
            "checks": [{"notebook": "00_environment", "scenario": "s", "name": f"c{i}", "expected": "x",
                        "actual": "x", "passed": i >= failed, "error_code": None} for i in range(3)]}


def _run(outputs: Path, env: str, run_id: str, failed: int = 0) -> Path:
    """A run folder as the runner leaves it, logs and the env's database and `latest` link included."""
    folder = outputs / env / run_id
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps(_summary(env, run_id, failed)))
    for name in ("00_environment", "90_run_report"):
        (folder / f"{name}.html").write_text(f"<html><a href='00_environment.html'>{name}</a></html>")
        (folder / f"{name}.ipynb").write_text("{}")
    for name in ("junit.xml", "hub.log", "sim.log", "kernel.log"):
        (folder / name).write_text("x")
    (outputs / env / "hub.sqlite3").write_text("db")
    latest = outputs / env / "latest"
    latest.unlink(missing_ok=True)
    latest.symlink_to(run_id)
    return folder


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if href and not href.startswith("#"):
            self.hrefs.append(href)


def _broken_links(site: Path) -> list[str]:
    parser = _Hrefs()
    parser.feed((site / "index.html").read_text())
    assert parser.hrefs
    return [h for h in parser.hrefs if not (site / unquote(h)).is_file()]


@pytest.fixture
def outputs(tmp_path: Path) -> Path:
    out = tmp_path / "outputs"
    _run(out, "dev", "20261126T010000Z-aaaaaa")
    _run(out, "dev", "20261127T010000Z-bbbbbb", failed=1)
    _run(out, "staging", "20261127T020000Z-cccccc")
    (out / "prod" / "20261127T030000Z-eeeeee").mkdir(parents=True)  # exit 2 before the first notebook
    (out / "compare" / "x__y").mkdir(parents=True)
    return out


def _publish(out: Path, outputs: Path, *envs: str) -> tuple[int, str]:
    err = io.StringIO()
    result = publish(PublishOptions(out=out, envs=envs, output_root=outputs, stderr=err))
    return result.exit_code, err.getvalue()


def test_copies_reports_notebooks_summary_and_junit_only(outputs: Path, tmp_path: Path) -> None:
    site = tmp_path / "public"
    code, message = _publish(site, outputs)
    assert code == 0, message
    assert "published 4 runs of 3 environments (dev, prod, staging), 18 files copied" in message
    run = site / "dev" / "20261127T010000Z-bbbbbb"
    assert sorted(p.name for p in run.iterdir()) == ["00_environment.html", "00_environment.ipynb",
                                                     "90_run_report.html", "90_run_report.ipynb", "junit.xml",
                                                     "summary.json"]
    assert not (site / "dev" / "latest").exists() and not (site / "dev" / "hub.sqlite3").exists()
    assert not (site / "compare").exists()
    assert _broken_links(site) == []
    data = json.loads((site / "index.json").read_text())
    assert [e["env"] for e in data["envs"]] == ["dev", "prod", "staging"]
    assert [r["verdict"] for r in data["envs"][0]["runs"]] == ["failed", "passed"]
    assert [r["verdict"] for r in data["envs"][1]["runs"]] == ["unfinished"]


def test_a_site_keeps_its_history_and_a_second_publish_copies_nothing_new(outputs: Path, tmp_path: Path) -> None:
    site = tmp_path / "public"
    assert _publish(site, outputs)[0] == 0
    code, message = _publish(site, outputs)
    assert code == 0 and "0 files copied" in message
    fresh = tmp_path / "next-night"  # the next CI job sees only tonight's run; the site (restored) has the rest
    _run(fresh, "dev", "20261128T010000Z-dddddd")
    code, message = _publish(site, fresh)
    assert code == 0 and "published 5 runs of 3 environments" in message
    runs = [r["run_id"] for r in json.loads((site / "index.json").read_text())["envs"][0]["runs"]]
    assert runs == ["20261128T010000Z-dddddd", "20261127T010000Z-bbbbbb", "20261126T010000Z-aaaaaa"]
    assert _broken_links(site) == []


def test_in_place_writes_the_index_beside_the_env_folders(outputs: Path) -> None:
    code, message = _publish(outputs, outputs)
    assert code == 0 and "in place" in message
    assert (outputs / "index.html").is_file() and _broken_links(outputs) == []
    assert (outputs / "dev" / "20261127T010000Z-bbbbbb" / "hub.log").is_file()  # nothing moved or removed


def test_one_env_and_a_site_inside_the_outputs(outputs: Path) -> None:
    site = outputs / "site"
    code, _ = _publish(site, outputs, "staging")
    assert code == 0
    assert [e["env"] for e in json.loads((site / "index.json").read_text())["envs"]] == ["staging"]
    code, message = _publish(site, outputs)  # --all: the site folder itself is not taken for an environment
    assert code == 0 and "(dev, prod, staging)" in message


def test_nothing_to_publish_is_exit_2_with_the_reason(outputs: Path, tmp_path: Path) -> None:
    code, message = _publish(tmp_path / "site", outputs, "qa")
    assert code == 2
    assert "no runs of environment 'qa'" in message and "environments with runs: dev, prod, staging" in message
    assert _publish(tmp_path / "site", outputs, "../dev")[0] == 2
    code, message = _publish(tmp_path / "site", tmp_path / "nothing-here")
    assert code == 2 and "no environment with runs" in message
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, message = _publish(blocker, outputs)
    assert code == 2 and "cannot publish" in message


def test_cli(outputs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "public"
    assert cli_main(["publish", "--all", "--out", str(site), "--output-root", str(outputs)]) == 0
    assert (site / "index.html").is_file()
    assert cli_main(["publish", "--env", "dev", "--env", "staging", "--out", str(site),
                     "--output-root", str(outputs)]) == 0
    assert cli_main(["publish", "--out", str(site)]) == 2  # --env or --all is required
    assert cli_main(["publish", "--all", "--env", "dev", "--out", str(site)]) == 2
    assert "one of the arguments --env --all is required" in capsys.readouterr().err
