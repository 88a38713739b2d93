"""Snapshot diff (lost / changed / new), its CLI exit codes, and collecting transfer ids from runs."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from conftest import scenario, write_executed

from mojacheck.cli import main as cli_main
from mojacheck.clients.snapshot import money
from mojacheck.reports import snapshot_diff
from mojacheck.reports.runs import transfer_ids_of_runs

BEFORE = {
    "meta": {"env": "local", "taken": "2026-11-27T00:00:00Z"},
    "participants": {
        "payer": {"isActive": 1, "accounts": {"POSITION/USD": {"id": 1, "value": "10"}},
                  "positions": {"USD": "10"}, "endpoints": {"FSPIOP_CALLBACK_URL_TRANSFER_PUT": "http://sim/t"}},
        "gone": {"isActive": 1, "accounts": {}},
    },
    "oracles": {"MSISDN/*/1": {"endpoint": "http://oracle"}},
    "settlement_windows": {"unavailable": "404"},
    "settlements": {},
    "transfers": {"t1": {"transferState": "COMMITTED"}, "t2": {"transferState": "COMMITTED"},
                  "t3": {"transferState": "RESERVED"}},
}


def _after() -> dict:
    after = copy.deepcopy(BEFORE)
    after["meta"]["taken"] = "2026-11-28T00:00:00Z"
    del after["participants"]["gone"]
    after["participants"]["payer"]["accounts"]["POSITION/USD"]["value"] = "25.5"
    after["participants"]["payer"]["positions"]["USD"] = "25.5"
    after["participants"]["new"] = {"isActive": 1}
    after["settlement_windows"] = {"1": {"state": "OPEN"}}
    after["transfers"] = {"t1": {"error": "3208"}, "t3": {"transferState": "COMMITTED"}, "t4": {"transferState": "X"}}
    return after


def test_diff_sorts_lost_changed_new() -> None:
    result = snapshot_diff.diff(BEFORE, _after())
    assert [x["path"] for x in result.lost] == ["participants/gone", "transfers/t1"]
    changed = {x["path"]: (x["before"], x["after"]) for x in result.changed}
    assert changed["participants/payer/accounts/POSITION/USD/value"] == ("10", "25.5")  # a balance: changed
    assert changed["settlement_windows"] == ({"unavailable": "404"}, {"1": {"state": "OPEN"}})  # became visible
    assert changed["transfers/t3/transferState"] == ("RESERVED", "COMMITTED")
    assert [x["path"] for x in result.new] == ["participants/new", "transfers/t4"]
    assert result.unchecked == ["t2"]  # B did not look it up: not a loss
    assert "meta" not in json.dumps(result.to_dict()["changed"])


def test_same_snapshot_has_no_difference_and_api_going_away_loses_entities() -> None:
    assert snapshot_diff.diff(BEFORE, copy.deepcopy(BEFORE)).to_dict()["counts"] == {
        "lost": 0, "changed": 0, "new": 0, "unchecked": 0}
    after = copy.deepcopy(BEFORE)
    after["oracles"] = {"unavailable": "503"}
    assert [x["path"] for x in snapshot_diff.diff(BEFORE, after).lost] == ["oracles/MSISDN/*/1"]


def test_snapshot_diff_cli_exit_codes(tmp_path: Path, capsys) -> None:
    a, b, out = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "d.json"
    a.write_text(json.dumps(BEFORE))
    b.write_text(json.dumps(_after()))
    assert cli_main(["snapshot-diff", str(a), str(a)]) == 0
    assert cli_main(["snapshot-diff", str(a), str(b), "--json", str(out)]) == 1
    text = capsys.readouterr().out
    assert "2 lost" in text and "LOST     participants/gone" in text
    assert json.loads(out.read_text())["counts"]["lost"] == 2
    (tmp_path / "bad.json").write_text("[1]")
    assert cli_main(["snapshot-diff", str(a), str(tmp_path / "bad.json")]) == 2
    assert cli_main(["snapshot-diff", str(a), str(tmp_path / "missing.json")]) == 2
    assert "no such snapshot file" in capsys.readouterr().err


def test_money_is_one_spelling_per_amount() -> None:
    assert [money(v) for v in (100, "100.00", 100.5, "-0.0", "1E+2", None)] == ["100", "100", "100.5", "0", "100",
                                                                                  "None"]


def test_transfer_ids_newest_run_first_and_capped(tmp_path: Path) -> None:
    env = tmp_path / "local"
    for run in ("20261101T000000Z-old", "20261102T000000Z-new"):
        sc = scenario(run[-3:], 0, [("ok", True)], requests=[("POST", "http://h/transfers", 1.0)] * 2)
        for i, r in enumerate(sc.records):
            r.request_body = {"transferId": f"{run[-3:]}-{i}"}
        write_executed(env / run / "20_p2p.ipynb", [sc])
    (env / "latest").symlink_to("20261102T000000Z-new")
    assert transfer_ids_of_runs(env, 10) == ["new-0", "new-1", "old-0", "old-1"]
    assert transfer_ids_of_runs(env, 3) == ["new-0", "new-1", "old-0"]
    assert transfer_ids_of_runs(tmp_path / "none", 3) == []


def test_a_transfer_answered_in_another_shape_is_changed_not_lost() -> None:
    # An expired transfer: error 3303 before helm v15, state ABORTED after (expectations: expired_transfer_get).
    before = {"transfers": {"t9": {"error": "3303"}}}
    after = {"transfers": {"t9": {"transferState": "ABORTED"}}}
    result = snapshot_diff.diff(before, after)
    assert result.lost == []
    assert result.changed == [{"path": "transfers/t9", "before": {"error": "3303"},
                               "after": {"transferState": "ABORTED"}}]


def test_only_the_release_change_itself_explains_a_changed_transfer() -> None:
    from mojacheck.expectations import release_differences

    to_17 = release_differences("14", "17")
    expired = {"path": "transfers/t9", "before": {"error": "3303"},
               "after": {"transferState": "ABORTED", "completedTimestamp": "2026-11-28T08:32:04.778Z"}}
    assert snapshot_diff.explaining_entry(expired, to_17) == "expired_transfer_get"
    assert snapshot_diff.explaining_entry(expired, release_differences("13", "14")) is None  # 3303 at both
    back = {"path": "transfers/t9", "before": {"transferState": "ABORTED"}, "after": {"error": "3303"}}
    assert snapshot_diff.explaining_entry(back, to_17) is None  # the other way round is no release's doing
    aborted = {"path": "transfers/t8/transferState", "before": "COMMITTED", "after": "ABORTED"}
    assert snapshot_diff.explaining_entry(aborted, to_17) is None
    moved = {"path": "participants/fsp1/isActive", "before": 1, "after": 0}
    explained, unexplained = snapshot_diff.partition([moved, expired, aborted], to_17)
    assert explained == [(expired, "expired_transfer_get")] and unexplained == [moved, aborted]
