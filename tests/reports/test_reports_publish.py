"""The evidence index: which runs it lists and in what order, each run's verdict, and a page that needs nothing but
the site folder (relative links that resolve, images embedded, no script, nothing fetched)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from conftest import check, summary, write_summary

from mojacheck.reports import publish

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if values.get("href"):
            self.hrefs.append(values["href"] or "")
        if values.get("src"):
            self.srcs.append(values["src"] or "")


def links_of(page: str) -> _Links:
    parser = _Links()
    parser.feed(page)
    return parser


def _run(site: Path, env: str, run_id: str, *, failed: int = 0, error: bool = False, release: str = "17",
         notebooks: tuple[str, ...] = ("00_environment", "90_run_report"), started: str | None = None) -> Path:
    checks = [check("ok", notebook=notebooks[0])] + [check(f"bad {i}", False, "3100", notebook=notebooks[0])
                                                     for i in range(failed)]
    data = summary(run_id, release, checks, started=started or f"2026-11-{run_id[6:8]}T{run_id[9:11]}:00:00.000Z")
    data["env"] = env
    data["notebooks"] = [{"name": n, "status": ("error" if error and i == 0 else "failed" if failed and i == 0
                                                else "passed"), "duration_s": 1.0} for i, n in enumerate(notebooks)]
    folder = write_summary(site / env / run_id, data)
    for name in notebooks:
        (folder / f"{name}.html").write_text(f"<html>{name}</html>")
        (folder / f"{name}.ipynb").write_text("{}")
    (folder / "junit.xml").write_text("<testsuites/>")
    return folder


def test_verdict_follows_the_runs_exit_code() -> None:
    base = summary("x", "17", [check("a")])
    assert publish.verdict_of(base) == "passed"
    assert publish.verdict_of(summary("x", "17", [check("a"), check("b", False)])) == "failed"
    crashed = summary("x", "17", [check("a")])
    crashed["notebooks"][0]["status"] = "error"  # exit 2 wins over a failed check, as in the runner
    crashed["totals"]["failed"] = 3
    assert publish.verdict_of(crashed) == "error"
    interrupted = summary("x", "17", [check("a")])  # the runner's record of a run a signal stopped (130, 143)
    interrupted["stopped"] = {"reason": "interrupted by SIGTERM", "signal": "SIGTERM", "not_run": ["40_settlement"]}
    assert publish.verdict_of(interrupted) == "interrupted"
    interrupted["stopped"]["signal"] = None  # an embedded service died mid-run: exit 2
    assert publish.verdict_of(interrupted) == "error"


def test_runs_newest_first_with_unfinished_and_unreadable_ones_listed(tmp_path: Path) -> None:
    _run(tmp_path, "dev", "20261126T010000Z-aaaaaa")
    _run(tmp_path, "dev", "20261127T010000Z-bbbbbb", failed=2)
    unfinished = tmp_path / "dev" / "20261128T010000Z-cccccc"
    unfinished.mkdir()
    (unfinished / "00_environment.html").write_text("partial")
    broken = tmp_path / "dev" / "20261125T010000Z-dddddd"
    broken.mkdir()
    (broken / "summary.json").write_text("{oops")
    (tmp_path / "dev" / "latest").symlink_to("20261127T010000Z-bbbbbb")
    (tmp_path / "dev" / "snapshots").mkdir()
    (tmp_path / "dev" / "20261127T010000Z-bbbbbb" / "hub.log").write_text("log")
    (tmp_path / "dev" / "20261127T010000Z-bbbbbb" / "91_trends.ipynb").write_text("{}")  # its HTML failed

    env = publish.read_env(tmp_path, "dev")
    assert [r.run_id[:8] for r in env.runs] == ["20261128", "20261127", "20261126", "20261125"]
    assert [r.verdict for r in env.runs] == ["unfinished", "failed", "passed", "unreadable"]
    assert "hub.log" not in env.runs[1].files and "summary.json" in env.runs[1].files
    assert env.runs[1].notebooks()[0] == {"name": "00_environment", "status": "failed",
                                          "html": "00_environment.html", "ipynb": "00_environment.ipynb"}
    assert env.runs[1].notebooks()[-1] == {"name": "91_trends", "status": None, "html": None,
                                           "ipynb": "91_trends.ipynb"}
    assert env.trend is not None and env.trend.startswith("data:image/png;base64,")
    assert "SKIPPED 20261125T010000Z-dddddd" in env.trend_note and "1 run folder(s) without summary" in env.trend_note
    _run(tmp_path, "solo", "20261127T010000Z-eeeeee")
    lone = publish.read_env(tmp_path, "solo")
    assert lone.trend is None and lone.trend_note == "No trend yet: it starts with the second finished run."


def test_index_lists_every_env_and_run_with_relative_links_that_resolve(tmp_path: Path) -> None:
    _run(tmp_path, "dev", "20261126T010000Z-aaaaaa")
    _run(tmp_path, "dev", "20261127T010000Z-bbbbbb", failed=1)
    _run(tmp_path, "staging & qa", "20261127T020000Z-cccccc", error=True, release="13",
         notebooks=("20_p2p_golden_path",))
    envs = [publish.read_env(tmp_path, e) for e in ("dev", "staging & qa")]
    page = publish.render_index(envs, generated=NOW)

    found = links_of(page)
    assert found.scripts == 0
    assert all(src.startswith("data:image/png;base64,") for src in found.srcs) and len(found.srcs) == 1  # dev's
    files = [h for h in found.hrefs if not h.startswith("#")]
    assert files and not [h for h in files if re.match(r"^[a-z]+:|^/", h)]  # relative only
    missing = [h for h in files if not (tmp_path / unquote(h)).is_file() and h != "index.json"]
    assert missing == []
    anchors = {h[1:] for h in found.hrefs if h.startswith("#")}
    assert anchors == {"env-dev", "env-staging & qa"} and all(f"id='{a}'" in page.replace("&amp;", "&")
                                                             for a in anchors)
    assert "staging%20%26%20qa/20261127T020000Z-cccccc/20_p2p_golden_path.html" in files
    assert page.index("id='dev--20261127T010000Z-bbbbbb'") < page.index("id='dev--20261126T010000Z-aaaaaa'")
    assert "COULD NOT RUN" in page and "FAILED" in page and "PASSED" in page
    assert "staging &amp; qa <small>1 run</small>" in page and "dev <small>2 runs</small>" in page
    assert "dev/20261126T010000Z-aaaaaa/90_run_report.html" in files
    assert "http://" not in page and "https://" not in page


def test_index_json_says_the_same(tmp_path: Path) -> None:
    _run(tmp_path, "dev", "20261127T010000Z-bbbbbb", failed=1)
    data = publish.index_data([publish.read_env(tmp_path, "dev", with_trend=False)], generated=NOW)
    run = data["envs"][0]["runs"][0]
    assert data["generated"] == "2026-11-28T09:00:00Z"
    assert (run["verdict"], run["checks"], run["passed"], run["failed"], run["release"]) == ("failed", 2, 1, 1, "17")
    assert run["report"] == "dev/20261127T010000Z-bbbbbb/90_run_report.html"
    assert run["notebooks"][0]["ipynb"] == "dev/20261127T010000Z-bbbbbb/00_environment.ipynb"
    json.dumps(data)  # serialisable as it stands


def test_env_folders_are_told_from_other_commands_folders(tmp_path: Path) -> None:
    _run(tmp_path, "dev", "20261127T010000Z-bbbbbb")
    rehearsal = tmp_path / "upgrade" / "20261127T010000Z-eeeeee"
    rehearsal.mkdir(parents=True)
    (rehearsal / "80_upgrade_rehearsal.ipynb").write_text("{}")
    (tmp_path / "compare" / "20261127T010000Z-a__20261127T020000Z-b").mkdir(parents=True)
    (tmp_path / "down" / "20261127T010000Z-ffffff").mkdir(parents=True)  # exit 2 before any notebook ran
    (tmp_path / "notes").mkdir()
    assert [p.name for p in sorted(tmp_path.iterdir()) if publish.is_env_dir(p)] == ["dev", "down"]


def test_a_stopped_run_says_why_and_what_did_not_run(tmp_path: Path) -> None:
    folder = _run(tmp_path, "dev", "20261127T010000Z-bbbbbb")
    data = json.loads((folder / "summary.json").read_text())
    data["stopped"] = {"reason": "interrupted by SIGTERM", "signal": "SIGTERM", "not_run": ["40_settlement"]}
    (folder / "summary.json").write_text(json.dumps(data))
    env = publish.read_env(tmp_path, "dev", with_trend=False)
    page = publish.render_index([env], generated=NOW)
    assert "INTERRUPTED" in page and "stopped early: interrupted by SIGTERM; not run: 40_settlement" in page
    assert publish.index_data([env], generated=NOW)["envs"][0]["runs"][0]["stopped"]["signal"] == "SIGTERM"
