"""The load engine's parts without Locust: the null hub answers with callbacks, the plan and mix, callback keys,
the figures of a load, the reconciliation's verdicts, and the rule that Locust and gevent never enter a kernel."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mojacheck.evidence import loadstats
from mojacheck.fspiop import request_headers
from mojacheck.fspiop.endpoints import endpoint_values
from mojacheck.load.nullhub import NullHub
from mojacheck.load.plan import LoadPlan, PayeeParty, parse_mix
from mojacheck.load.wire import PAYER_ENDPOINTS, callback_key
from mojacheck.runner.execute import find_notebooks
from mojacheck.runner.load_check import _compare
from mojacheck.server import ServerThread

ROOT = Path(__file__).resolve().parents[2]


class Inbox:
    def __init__(self) -> None:
        self.items: list[tuple[str, str, dict]] = []
        self.cond = threading.Condition()

    async def handle(self, request: Request) -> Response:
        body = json.loads(await request.body() or b"null")
        with self.cond:
            self.items.append((request.method, request.url.path, body))
            self.cond.notify_all()
        return Response(status_code=200)

    def wait(self, path: str, timeout: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for method, got, body in self.items:
                    if method == "PUT" and got == path:
                        return body
                left = deadline - time.monotonic()
                assert left > 0, f"no PUT {path}; got {[i[1] for i in self.items]}"
                self.cond.wait(left)


@pytest.fixture
def null_hub() -> Iterator[tuple[str, Inbox, str]]:
    inbox = Inbox()
    receiver = ServerThread(Starlette(routes=[Route("/{p:path}", inbox.handle, methods=["PUT"])])).start()
    hub = ServerThread(NullHub()).start()
    try:
        with httpx.Client(base_url=hub.url) as http:
            for kind in PAYER_ENDPOINTS:
                value = endpoint_values(f"{receiver.url}/payer")[kind]
                assert http.post("/admin/participants/payer/endpoints", json={"type": kind, "value": value}
                                 ).status_code == 201
        yield hub.url, inbox, receiver.url
    finally:
        hub.stop()
        receiver.stop()


def test_the_null_hub_answers_every_request_with_its_callback(null_hub: tuple[str, Inbox, str]) -> None:
    url, inbox, _ = null_hub
    with httpx.Client(base_url=url) as http:
        assert http.get("/parties/MSISDN/123", headers=request_headers("parties", "payer")).status_code == 202
        quote = {"quoteId": "q-1", "amount": {"amount": "5", "currency": "USD"}}
        assert http.post("/quotes", json=quote, headers=request_headers("quotes", "payer", "x")).status_code == 202
        transfer = {"transferId": "t-1"}
        assert http.post("/transfers", json=transfer, headers=request_headers("transfers", "payer", "x")
                         ).status_code == 202
        assert http.get("/nothing/here").status_code == 404
    assert inbox.wait("/payer/parties/MSISDN/123")["party"]["partyIdInfo"]["partyIdentifier"] == "123"
    answer = inbox.wait("/payer/quotes/q-1")
    assert answer["transferAmount"] == {"amount": "5", "currency": "USD"} and len(answer["condition"]) == 43
    assert inbox.wait("/payer/transfers/t-1")["transferState"] == "COMMITTED"


def test_mix_and_plan() -> None:
    assert parse_mix("p2p") == {"p2p": 1.0}
    assert parse_mix("p2p=90, expired=10") == {"p2p": 90.0, "expired": 10.0}
    for bad, words in (("fx=1", "unknown kind 'fx'"), ("p2p=x", "must be a number"), ("p2p=0", "no kind"),
                       ("p2p=-1", "≥ 0")):
        with pytest.raises(ValueError, match=words):
            parse_mix(bad)
    plan = LoadPlan(services={"als": "http://h"}, payers=["a", "b"], payees=[PayeeParty("p", "MSISDN", "1")],
                    currency="USD", amount="1", mix={"p2p": 1.0}, users=4, rate=20.0, ramp_s=1, duration_s=3)
    assert LoadPlan.from_json(json.loads(json.dumps(plan.to_json()))) == plan
    assert plan.per_user_rate == 5.0 and plan.payer_for(1) == "b"
    with pytest.raises(ValueError, match="worker 2 has no payer FSP"):
        plan.payer_for(2)


def test_callback_keys() -> None:
    assert callback_key("/transfers/abc") == ("transfers/abc", False)
    assert callback_key("/transfers/abc/error") == ("transfers/abc", True)
    assert callback_key("/parties/MSISDN/123/SAVINGS") == ("parties/MSISDN/123/SAVINGS", False)
    assert callback_key("/health") is None and callback_key("/bulkTransfers/x") is None


def test_figures_of_a_load() -> None:
    assert loadstats.percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    payments = [{"kind": "p2p", "start": 100.0 + i * 0.1, "outcome": "COMMITTED", "expected": True,
                 "lookupMs": 10.0, "quoteMs": 20.0, "transferMs": float(30 + i), "e2eMs": float(60 + i)}
                for i in range(20)]
    payments.append({"kind": "p2p", "start": 101.0, "outcome": "timeout", "phase": "quote", "errorCode": None,
                     "expected": False, "lookupMs": 12.0, "e2eMs": None})
    figures = loadstats.summarize(payments, ramp_s=0.5, duration_s=3)
    assert figures["payments"] == 21 and figures["unexpected"] == 1
    assert figures["latency"]["lookup"]["count"] == 16  # finished after the ramp
    assert figures["latency_all"]["transfer"]["max"] == 49.0
    assert figures["errors"] == [{"kind": "p2p", "phase": "quote", "outcome": "timeout", "errorCode": None,
                                  "expected": False, "count": 1}]
    series = loadstats.series(payments)
    assert sum(row["committed"] for row in series) == 20


def test_reconciliation_verdicts() -> None:
    sent = {t: {"outcome": o, "amount": "2"} for t, o in (("a", "COMMITTED"), ("b", "COMMITTED"), ("c", "error"),
                                                          ("d", "timeout"))}
    fine = _compare(sent, {"a": "COMMITTED", "b": "COMMITTED", "c": "ABORTED", "d": "ABORTED"},
                    {"p": Decimal(10)}, {"p": Decimal(14)}, {"USD": Decimal(0)})
    assert fine["ok"] and fine["committed_amount"] == fine["position_change"] == "4"
    bad = _compare(sent, {"a": "COMMITTED", "b": "error 3208", "c": "ABORTED", "d": "COMMITTED"},
                   {"p": Decimal(10)}, {"p": Decimal(14)}, {"USD": Decimal(0)})
    assert not bad["ok"]
    assert bad["lost"] == [{"transferId": "b", "hub": "error 3208"}]
    assert bad["not_committed"] == [{"transferId": "b", "hub": "error 3208"}]
    assert bad["committed_unseen"] == [{"transferId": "d", "generator": "timeout"}]
    unbalanced = _compare({}, {}, {}, {}, {"USD": Decimal("0.01")})
    assert not unbalanced["ok"]


def test_a_kernel_never_imports_locust_or_gevent() -> None:
    code = ("import sys, mojacheck as mc; mc.load; import mojacheck.runner.load, mojacheck.load.reconcile; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('gevent', 'locust')); "
            "assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_load_notebook_runs_only_when_named() -> None:
    notebooks = ROOT / "notebooks"
    assert "50_load" not in [p.stem for p in find_notebooks(notebooks)]
    assert [p.stem for p in find_notebooks(notebooks, "50*")] == ["50_load"]
    assert "50_load" in [p.stem for p in find_notebooks(notebooks, "*load*")]
    assert "50_load" not in [p.stem for p in find_notebooks(notebooks, "[0-9]*")]  # a suite run, however spelt
    assert "50_load" not in [p.stem for p in find_notebooks(notebooks, "[2-5]*")]
