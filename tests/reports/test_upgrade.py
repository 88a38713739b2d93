"""The upgrade rehearsal: the orchestration end to end on the embedded hub (13 → 14 with a short suite, on free
ports and a database in the rehearsal's folder), its options, and the guide's reading of artefacts."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import pytest
from conftest import check, summary, write_summary

from mojacheck.cli import main as cli_main
from mojacheck.evidence.checks import Scenario
from mojacheck.reports import comparison_headline, differences_frame
from mojacheck.reports import upgrade_guide as guide
from mojacheck.runner.rehearsal import EXIT_CANNOT, EXIT_PASSED, UpgradeOptions, UpgradeResult, rehearse

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory: pytest.TempPathFactory) -> tuple[UpgradeResult, str]:
    err = io.StringIO()
    out = tmp_path_factory.mktemp("upgrade") / "rehearsal"
    result = rehearse(UpgradeOptions(releases=("13", "14"), notebooks=("00", "10", "21"), out=out, root=ROOT,
                                     stderr=err))
    return result, err.getvalue()


def test_rehearsal_passes_and_writes_the_guide(rehearsal: tuple[UpgradeResult, str]) -> None:
    result, err = rehearsal
    assert result.exit_code == EXIT_PASSED, err
    out = result.out
    assert out is not None
    html = (out / "80_upgrade_rehearsal.html").read_text(encoding="utf-8")
    assert "PASSED: upgrade 13 → 14" in html
    for cdn in ("cdnjs", "unpkg", "jsdelivr", "require.min.js"):
        assert cdn not in html
    assert (out / "compare" / "13-14" / "compare_runs.html").is_file()
    assert (out / "hub.sqlite3").is_file()  # the rehearsal's own database, not the env's
    assert "upgrade 13 → 14 PASSED" in err
    assert "snapshot-diff 13-before-upgrade.json → 14-after-upgrade.json: 0 lost" in err


def test_runs_share_one_database_across_releases(rehearsal: tuple[UpgradeResult, str]) -> None:
    result, _ = rehearsal
    assert result.out is not None
    manifest = json.loads((result.out / "upgrade.json").read_text(encoding="utf-8"))
    runs = [json.loads((Path(r) / "summary.json").read_text(encoding="utf-8")) for r in manifest["artefacts"]["runs"]]
    assert [r["hub"]["release"] for r in runs] == ["13", "14"]
    assert [n["name"] for n in runs[0]["notebooks"]] == ["00_environment", "10_provisioning", "21_error_scenarios"]
    [[before, after]] = manifest["artefacts"]["snapshots"]
    snaps = [json.loads(Path(p).read_text(encoding="utf-8")) for p in (before, after)]
    assert [s["meta"]["hub"]["release"] for s in snaps] == ["13", "14"]
    assert snaps[0]["participants"].keys() == snaps[1]["participants"].keys() and snaps[0]["participants"]
    # the hub at release 14 still knows, on the same database, the transfers the run at release 13 made
    transfers = snaps[1]["transfers"]
    assert transfers.keys() == snaps[0]["transfers"].keys() and len(transfers) >= 5
    assert not [t for t in transfers.values() if t.get("error") == "3208"]
    assert any(t.get("transferState") == "COMMITTED" for t in transfers.values())
    assert set(manifest["timings"]) >= {"suite at release 13", "snapshot 14-after-upgrade", "upgrade guide"}


def test_verdict_lists_the_ndc_code_change_as_expected(rehearsal: tuple[UpgradeResult, str]) -> None:
    result, _ = rehearsal
    verdict = result.verdict
    assert verdict is not None
    assert verdict["passed"] and verdict["unexpected"] == 0 and verdict["lost"] == 0
    [step] = verdict["upgrades"]
    assert step["lost"] == 0 and step["expected"] >= 1
    changes = {c["entry"]: c for c in step["release_changes"]}
    assert changes["ndc_exceeded_code"] == {"entry": "ndc_exceeded_code", "before": "4001", "after": "4200",
                                            "seen": True}
    comparison = json.loads((result.out / "compare" / "13-14" / "comparison.json").read_text(encoding="utf-8"))
    codes = [(d["a"], d["b"], d["expected"]) for d in comparison["differences"] if d["kind"] == "error_code"]
    assert ("4001", "4200", True) in codes
    glued = _scraps(result.out / "80_upgrade_rehearsal.ipynb")
    assert glued["mc_upgrade"]["passed"] is True and glued["mc_upgrade"]["path"] == ["13", "14"]


def _scraps(path: Path) -> dict:
    from mojacheck.reports.runs import notebook_outputs, scrap_of

    nb = json.loads(path.read_text(encoding="utf-8"))
    return dict(filter(None, (scrap_of(o) for o in notebook_outputs(nb))))


# ---------------------------------------------------------------- options that cannot be rehearsed (exit 2)


@pytest.mark.parametrize("argv", [
    ["--releases", "13"],
    ["--releases", "13,15"],
    ["--releases", "14,14"],
    ["--notebooks", "00,77"],
    ["--env", "example-deployment"],  # not embedded: the rehearsal cannot play releases on it
])
def test_bad_options_exit_2_before_anything_runs(argv: list[str], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main(["upgrade", "--root", str(ROOT), "--out", str(tmp_path / "out"), *argv])
    assert code == EXIT_CANNOT
    assert "cannot rehearse" in capsys.readouterr().err
    assert not (tmp_path / "out" / "runs").exists()


def test_an_existing_database_is_not_a_fresh_start(tmp_path: Path) -> None:
    (tmp_path / "hub.sqlite3").write_text("", encoding="utf-8")
    err = io.StringIO()
    result = rehearse(UpgradeOptions(out=tmp_path, root=ROOT, stderr=err))
    assert result.exit_code == EXIT_CANNOT and "fresh database" in err.getvalue()


# ---------------------------------------------------------------- the guide, on fabricated artefacts


def _run(folder: Path, release: str, *checks: dict) -> Path:
    return write_summary(folder, summary(folder.name, release, list(checks)))


def _snapshot(path: Path, release: str, participants: dict) -> Path:
    path.write_text(json.dumps({"meta": {"hub": {"release": release}}, "participants": participants}),
                    encoding="utf-8")
    return path


def test_a_check_passing_in_both_runs_still_shows_the_version_change(tmp_path: Path) -> None:
    accepted = check("version 2.0 accepted (202)", notebook="22_protocol_validation", scenario_name="versions",
                     expectation="supported_versions")
    a = _run(tmp_path / "01-a", "14", {**accepted, "actual": "no"})
    b = _run(tmp_path / "02-b", "17", {**accepted, "actual": "yes"})
    r = guide.load_rehearsal([a, b])
    [step] = r.upgrades
    changes = {c.entry: c for c in step.changes}
    assert changes["supported_versions"].observed == [{"notebook": "22_protocol_validation", "scenario": "versions",
                                                       "check": "version 2.0 accepted (202)", "a": "no", "b": "yes"}]
    assert (changes["supported_versions"].before, changes["supported_versions"].after) == ("1.0 and 1.1",
                                                                                           "1.0, 1.1 and 2.0")
    assert not changes["hub_name"].seen  # no check names it
    assert "hub_content_version" not in changes  # the deployment sets it (hub.content_version), not the release
    assert r.passed and r.lost == 0  # no snapshots: nothing measured, nothing lost
    assert "not measured" in guide.verdict_html(r)


def test_a_lost_participant_fails_the_upgrade(tmp_path: Path) -> None:
    a, b = _run(tmp_path / "01-a", "13", check("ok")), _run(tmp_path / "02-b", "14", check("ok"))
    before = _snapshot(tmp_path / "before.json", "13", {"fsp1": {"isActive": 1}, "fsp2": {"isActive": 1}})
    after = _snapshot(tmp_path / "after.json", "14", {"fsp1": {"isActive": 1}})
    r = guide.load_rehearsal([a, b], [[before, after]])
    assert r.lost == 1 and not r.passed
    assert [s["result"] for s in guide.steps(r)] == ["passed", "FAILED", "passed", "passed"]
    assert guide.verdict(r)["upgrades"][0]["lost"] == 1
    assert "FAILED: upgrade 13 → 14" in guide.verdict_html(r)


def test_a_failed_run_fails_the_upgrade_and_bad_artefacts_are_refused(tmp_path: Path) -> None:
    a, b = _run(tmp_path / "01-a", "13", check("ok")), _run(tmp_path / "02-b", "14", check("ok", passed=False))
    r = guide.load_rehearsal([a, b])
    assert not r.runs[1].passed and not r.passed
    with pytest.raises(guide.UpgradeError, match="at least two runs"):
        guide.load_rehearsal([a])
    with pytest.raises(guide.UpgradeError, match="one entry per upgrade"):
        guide.load_rehearsal([a, b], [None, None])


# ---------------------------------------------------------------- the guide reads as prose

REPR = re.compile(r"None|True|False|\(['\"]|\[['\"]")


def _text(fragment: str) -> str:
    text = html.unescape(re.sub(r"<style>.*?</style>|<[^>]+>", " ", fragment, flags=re.S))
    return re.sub(r"\s+", " ", text)


def _checks_of(notebook: str, scenario: Scenario) -> list[dict]:
    return [{"notebook": notebook, "scenario": scenario.name, **c.to_dict()} for c in scenario.checks]


def _versions_run(folder: Path, release: str, versions: tuple[str, ...], code: str) -> Path:
    """A run whose one scenario repeats its check names, as notebook 22 does (two 3001 answers, three GETs)."""
    sc = Scenario("Unsupported versions: 406 / 3001 listing the supported ones", 0)
    for _ in range(2):
        sc.check("extension list names the supported versions", versions, versions, expectation="supported_versions")
    for _ in range(3):
        sc.check("GET /transfers as mcpayerfsp afterwards", code, code, error_code=code)
    return _run(folder, release, *_checks_of("22_protocol_validation", sc))


def test_repeated_check_names_make_no_duplicate_rows(tmp_path: Path) -> None:
    a = _versions_run(tmp_path / "01-a", "14", ("1.0", "1.1"), "3208")
    b = _versions_run(tmp_path / "02-b", "17", ("1.0", "1.1", "2.0"), "3100")
    r = guide.load_rehearsal([a, b])
    [step] = r.upgrades
    frame = guide.changes_frame(step)
    seen = frame[frame["entry"] == "supported_versions"]
    assert list(seen["check"]) == ["extension list names the supported versions",
                                   "extension list names the supported versions #2"]
    assert list(seen["seen at 14"]) == ["1.0 and 1.1"] * 2 and list(seen["seen at 17"]) == ["1.0, 1.1 and 2.0"] * 2
    assert not frame.duplicated().any()
    codes = differences_frame(step.comparison, "error_code")
    assert len(codes) == 3 and not codes.duplicated().any()  # three checks, three rows, each named apart
    assert list(codes["subject"]) == ["GET /transfers as mcpayerfsp afterwards",
                                      "GET /transfers as mcpayerfsp afterwards #2",
                                      "GET /transfers as mcpayerfsp afterwards #3"]
    assert r.unexpected == 3
    for fragment in (guide.verdict_html(r), frame.to_html(), codes.to_html(),
                     comparison_headline(step.comparison)):
        assert not REPR.search(_text(fragment)), _text(fragment)
    assert "3 unexpected differences" in _text(guide.verdict_html(r))


def test_counts_in_the_verdict_take_the_right_noun(tmp_path: Path) -> None:
    a = _run(tmp_path / "01-a", "13", check("refused", code="4001", expectation="ndc_exceeded_code"))
    b = _run(tmp_path / "02-b", "14", check("refused", code="3100", expectation="ndc_exceeded_code"))
    before = _snapshot(tmp_path / "before.json", "13", {"fsp1": {"isActive": 1}, "fsp2": {"isActive": 1}})
    after = _snapshot(tmp_path / "after.json", "14", {})
    r = guide.load_rehearsal([a, b], [[before, after]])
    text = _text(guide.verdict_html(r))
    assert "1 unexpected difference between consecutive runs" in text
    assert "2 entities lost across the upgrades" in text
    assert "1 of 1 check passed in 1 notebook" in text and "1 of 2 suite runs passed" not in text
    assert "2 of 2 suite runs passed" in text
    assert "1 unexpected difference, 0 expected differences" in text
    assert "payer over its net debit cap is told: 4001 → 4200" in text
    assert "payer without settlement funds (under its NDC) is told: no liquidity check → 4001" in text
    assert not REPR.search(text)
    assert "1 difference: 0 expected, 1 unexpected" in comparison_headline(r.upgrades[0].comparison)


# ---------------------------------------------------------------- hub-state changes tied to the release


def _state(path: Path, release: str, transfers: dict, participants: dict) -> Path:
    path.write_text(json.dumps({"meta": {"hub": {"release": release}}, "participants": participants,
                                "transfers": transfers}), encoding="utf-8")
    return path


def _state_pair(tmp_path: Path) -> tuple[Path, Path]:
    before = _state(tmp_path / "before.json", "14",
                    {"t-expired": {"error": "3303"}, "t-done": {"transferState": "COMMITTED"}},
                    {"fsp1": {"isActive": 1}})
    after = _state(tmp_path / "after.json", "17",
                   {"t-expired": {"transferState": "ABORTED", "completedTimestamp": "2026-11-28T08:32:04.778Z"},
                    "t-done": {"transferState": "ABORTED"}},
                   {"fsp1": {"isActive": 0}})
    return before, after


def test_a_changed_entity_is_tied_to_the_release_change_that_explains_it(tmp_path: Path) -> None:
    a, b = _run(tmp_path / "01-a", "14", check("ok")), _run(tmp_path / "02-b", "17", check("ok"))
    r = guide.load_rehearsal([a, b], [list(_state_pair(tmp_path))])
    s = r.upgrades[0].snapshots
    assert s is not None
    assert [(x["path"], entry) for x, entry in s.explained] == [("transfers/t-expired", "expired_transfer_get")]
    assert [x["path"] for x in s.unexplained] == ["participants/fsp1/isActive", "transfers/t-done/transferState"]
    page = _text(guide.snapshot_html(r.upgrades[0]))
    assert "14 → 17: 0 entities lost, 3 changed (1 explained by the release table), 0 new" in page
    assert "GET of a transfer that expired while RESERVED answers: 3303 error → ABORTED" in page
    assert "error: 3303" in page and "transferState: ABORTED; completedTimestamp: 2026-11-28T08:32:04.778Z" in page
    explained = guide.snapshot_frame(r.upgrades[0], "explained")
    assert list(explained["entity"]) == ["transfers/t-expired"]
    assert list(explained["explained by"]) == ["expired_transfer_get"]
    assert list(guide.snapshot_frame(r.upgrades[0], "unexplained")["entity"]) == [
        "participants/fsp1/isActive", "transfers/t-done/transferState"]
    assert not REPR.search(page)
    text = _text(guide.verdict_html(r))
    assert "3 entities changed, 1 of them explained by the release table" in text
    assert {"changed": 3, "explained": 1}.items() <= guide.verdict(r)["upgrades"][0].items()


def test_without_a_release_change_nothing_is_explained(tmp_path: Path) -> None:
    # the same state change between two runs of release 17: the table changes nothing, so nothing explains it
    a, b = _run(tmp_path / "01-a", "17", check("ok")), _run(tmp_path / "02-b", "17", check("ok"))
    r = guide.load_rehearsal([a, b], [list(_state_pair(tmp_path))])
    s = r.upgrades[0].snapshots
    assert s is not None and not s.explained and len(s.unexplained) == 3
    assert "explained by the release table</b></p><p><i>No change.</i>" in guide.snapshot_html(r.upgrades[0])
