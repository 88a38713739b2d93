"""`mojacheck load` end to end, briefly, against the embedded hub: Locust's workers are payer FSPs with their own
callback receivers, every payment is recorded with its phases, Locust's stats carry the callback and payment events,
and the reconciliation reads every transfer back (nothing lost, positions and ledger agree)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from mojacheck.cli import main
from mojacheck.params import Params

MIX = "p2p=6,transfer=2,unknown_party=1,expired=1"


@pytest.fixture(scope="module")
def load_run(hub_params: tuple[Params, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    _params, params_file = hub_params
    out = tmp_path_factory.mktemp("load-run")
    code = main(["load", "--params-file", str(params_file), "--out", str(out), "--rate", "20", "--users", "4",
                 "--duration", "4", "--ramp", "1", "--mix", MIX, "--processes", "2", "--root",
                 str(Path(__file__).resolve().parents[2])])
    return code, out


def _payments(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "payments.jsonl").read_text(encoding="utf-8").splitlines()]


def test_the_load_passes_and_reconciles(load_run: tuple[int, Path]) -> None:
    code, out = load_run
    summary = json.loads((out / "load.json").read_text(encoding="utf-8"))
    assert code == 0, summary.get("headline")
    rec = summary["reconciliation"]
    assert rec["ok"] is True and rec["lost"] == [] and rec["not_committed"] == [] and rec["committed_unseen"] == []
    sent = [p for p in _payments(out) if p["sent"]]
    assert rec["transfers"] == len(sent) > 0
    committed = [p for p in sent if p["outcome"] == "COMMITTED"]
    assert rec["hub_states"].get("COMMITTED") == len(committed)
    assert rec["position_change"] == rec["committed_amount"] == str(len(committed))  # amount 1 each
    assert set(rec["ledger"].values()) == {"0"}


def test_each_worker_is_its_own_payer_fsp_with_its_own_receiver(load_run: tuple[int, Path]) -> None:
    _code, out = load_run
    workers = json.loads((out / "workers.json").read_text(encoding="utf-8"))
    assert workers["missing"] == []
    assert sorted(w["payer"] for w in workers["workers"]) == ["mcload1", "mcload2"]
    assert len({w["callback"] for w in workers["workers"]}) == 2
    assert all(w["unexpected"] == 0 and w["received"] > 0 for w in workers["workers"])
    assert {p["payer"] for p in _payments(out)} == {"mcload1", "mcload2"}


def test_every_payment_is_recorded_with_its_phases(load_run: tuple[int, Path]) -> None:
    _code, out = load_run
    payments = _payments(out)
    assert all(p["expected"] for p in payments), [p for p in payments if not p["expected"]][:3]
    p2p = [p for p in payments if p["kind"] == "p2p"]
    assert p2p and all(p["lookupMs"] and p["quoteMs"] and p["transferMs"] and p["e2eMs"] for p in p2p)
    assert all(p["e2eMs"] >= p["lookupMs"] + p["quoteMs"] + p["transferMs"] - 1 for p in p2p)
    unknown = [p for p in payments if p["kind"] == "unknown_party"]
    assert unknown and {(p["outcome"], p["phase"]) for p in unknown} == {("error", "lookup")}
    expired = [p for p in payments if p["kind"] == "expired"]
    assert expired and {(p["outcome"], p["phase"], p["errorCode"]) for p in expired} == {("error", "transfer", "3100")}


def test_locust_stats_carry_the_callback_and_payment_events(load_run: tuple[int, Path]) -> None:
    _code, out = load_run
    with (out / "locust_stats.csv").open(encoding="utf-8") as fh:
        rows = {(r["Type"], r["Name"]): r for r in csv.DictReader(fh)}
    for name in ("lookup", "quote", "transfer"):
        assert int(rows[("CALLBACK", name)]["Request Count"]) > 0
        assert int(rows[("CALLBACK", name)]["Failure Count"]) == 0
    assert int(rows[("PAYMENT", "p2p")]["Request Count"]) > 0
    assert int(rows[("POST", "POST /transfers")]["Request Count"]) > 0
    assert (out / "locust.html").stat().st_size > 10_000
    assert (out / "locust_stats_history.csv").is_file()
