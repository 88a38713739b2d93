"""`nox -s site`: `mojacheck publish --all` over three real runs of two environments (the runner, the embedded hub and
simulator on free ports, real notebooks), then the index opened from disk in a real headless browser (Debian's
Chromium driven by Playwright; no browser is downloaded): nothing but file: and data: URLs is requested, every link
of the index opens, every link of each run report opens, and a screenshot is kept (outputs/publish-index.png).
"""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pytest
from local_params import write_params

from mojacheck.cli import main as cli_main
from mojacheck.runner import RunOptions, run

pytestmark = pytest.mark.heavy
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("MOJACHECK_CHROMIUM", "/usr/bin/chromium")
# As root in a container-less sandbox: no sandbox, and none of Chromium's background calls to Google's hosts.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SHOT = ROOT / "outputs" / "publish-index.png"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two runs of `dev` and one of `staging` (whose hub cannot quote its second currency: a failed verdict)."""
    project = tmp_path_factory.mktemp("site") / "project"
    (project / "params").mkdir(parents=True)
    write_params(project, "dev")
    write_params(project, "staging", currencies=["USD", "ZZZ"])
    for env, notebooks in (("dev", "[09]*"), ("dev", "[09]*"), ("staging", "[29]*")):
        result = run(RunOptions(env=env, notebooks=notebooks, root=project, notebooks_dir=ROOT / "notebooks",
                                output_root=project / "outputs", stderr=io.StringIO()))
        assert result.run_dir is not None and (result.run_dir / "summary.json").is_file(), result.message
        assert result.exit_code == (1 if env == "staging" else 0), result.message
    out = project / "public"
    assert cli_main(["publish", "--all", "--out", str(out), "--output-root", str(project / "outputs")]) == 0
    return out


def test_the_index_opens_offline_and_every_link_opens(site: Path) -> None:
    playwright = pytest.importorskip("playwright.sync_api", reason="nox -s site installs playwright")
    assert Path(CHROMIUM).is_file(), f"no Chromium at {CHROMIUM}: apt-get install -y chromium"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, chromium_sandbox=False, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        requested: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        index = (site / "index.html").as_uri()
        page.goto(index)
        assert page.title() == "mojacheck evidence"
        rows = page.locator("tr.run")
        assert rows.count() == 3
        assert page.locator("section#env-dev tr.run").count() == 2
        assert page.locator("section#env-staging tr.run.failed").count() == 1
        assert page.locator("section#env-dev img.trend").count() == 1  # staging has one run: no trend yet
        assert page.locator("img").count() == 1
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        files = sorted({h for h in hrefs if "#" not in h})
        assert files and all(h.startswith(site.as_uri()) for h in files)  # relative links, inside the site
        reports = [h for h in files if h.endswith("/90_run_report.html")]
        assert len(reports) == 3
        for href in files:
            page.goto(href)  # a missing file raises net::ERR_FILE_NOT_FOUND
            assert page.url == href
        for report in reports:  # a run report's own links (its notebooks) work in the copied run folder
            page.goto(report)
            inner = {h.split("#")[0] for h in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
                     if h.startswith("file:")}
            for href in sorted(inner):
                page.goto(href)
        page.goto(index)
        page.locator("section#env-staging a", has_text="run report").first.click()  # a reader's click
        page.wait_for_load_state()
        assert page.url.endswith("/90_run_report.html") and "staging" in page.url
        page.go_back()
        SHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOT), full_page=True)
        browser.close()
    outside = [u for u in requested if not u.startswith(("file:", "data:"))]
    assert outside == [] and errors == []
    print(f"\n{len(files)} links of the index and those of {len(reports)} run reports opened; "
          f"{len(requested)} requests, all file: or data:; screenshot {SHOT}")
    index_data = json.loads((site / "index.json").read_text())
    assert [e["env"] for e in index_data["envs"]] == ["dev", "staging"]
    shutil.copy2(SHOT, site / "screenshot.png")
