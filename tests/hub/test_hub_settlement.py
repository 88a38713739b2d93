"""Settlement windows and settlements (central-settlement v2) on the embedded hub, with their ledger effects."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hub_support import (
    FULFILMENT,
    HubClient,
    Receiver,
    fund,
    iso,
    provision_fsp,
    provision_hub,
    running_hub,
    transfer_body,
    unique,
)

from mojacheck.hub.settlement import windows as settlement_windows

SETTLE = "/settlement/v2"
STEPS = ["PS_TRANSFERS_RECORDED", "PS_TRANSFERS_RESERVED", "PS_TRANSFERS_COMMITTED", "SETTLED"]


def sapi(hub: HubClient, method: str, path: str, body: Any = None) -> httpx.Response:
    return hub.http.request(method, SETTLE + path, json=body)


def pay(hub: HubClient, receiver: Receiver, payer: str, payee: str, amount: str, currency: str = "USD") -> None:
    body = transfer_body(payer, payee, amount)
    body["amount"]["currency"] = currency
    tid = body["transferId"]
    assert hub.fspiop("POST", "/transfers", payer, payee, body=body).status_code == 202
    receiver.get(payee, "POST", "/transfers")
    fulfil = {"transferState": "COMMITTED", "fulfilment": FULFILMENT, "completedTimestamp": iso()}
    assert hub.fspiop("PUT", f"/transfers/{tid}", payee, payer, body=fulfil).status_code == 200
    receiver.get(payer, "PUT", f"/transfers/{tid}")


def open_window(hub: HubClient) -> dict[str, Any]:
    r = sapi(hub, "GET", "/settlementWindows?state=OPEN")
    assert r.status_code == 200, r.text
    (window,) = r.json()
    return window


def close(hub: HubClient, window_id: int) -> dict[str, Any]:
    r = sapi(hub, "POST", f"/settlementWindows/{window_id}", {"state": "CLOSED", "reason": "test close"})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 5
    while sapi(hub, "GET", f"/settlementWindows/{window_id}").json()["state"] != "CLOSED":
        assert time.monotonic() < deadline, "window did not close"
        time.sleep(0.05)
    return r.json()


def accounts(hub: HubClient) -> dict[str, Decimal]:
    """Every account value by 'participant ledgerType currency', hub accounts included."""
    out = {}
    for p in hub.admin("GET", "/participants").json():
        for a in hub.admin("GET", f"/participants/{p['name']}/accounts").json():
            out[f"{p['name']} {a['ledgerAccountType']} {a['currency']}"] = Decimal(str(a["value"]))
    return out


def total(values: dict[str, Decimal], currency: str) -> Decimal:
    return sum((v for k, v in values.items() if k.endswith(currency)), Decimal(0))


def step_all(hub: HubClient, settlement: dict[str, Any], state: str) -> dict[str, Any]:
    body = {"participants": [{"id": p["id"], "accounts": [{"id": a["id"], "state": state, "reason": state}
                                                          for a in p["accounts"]]}
                             for p in settlement["participants"]]}
    r = sapi(hub, "PUT", f"/settlements/{settlement['id']}", body)
    assert r.status_code == 200, r.text
    errors = [a for p in r.json()["participants"] for a in p["accounts"] if "errorInformation" in a]
    assert not errors, errors
    return r.json()


@pytest.fixture
def three(hub: HubClient, receiver: Receiver) -> tuple[HubClient, Receiver, list[str]]:
    provision_hub(hub, "USD")
    provision_hub(hub, "XOF")
    fsps = [unique("sa"), unique("sb"), unique("sc")]
    for fsp in fsps:
        provision_fsp(hub, receiver.url, fsp, ndc="100000", funds="100000", currency="USD")
        r = hub.admin("POST", "/participants", {"name": fsp, "currency": "XOF"})
        assert r.status_code == 201, r.text
        r = hub.admin("POST", f"/participants/{fsp}/initialPositionAndLimits",
                      {"currency": "XOF", "limit": {"type": "NET_DEBIT_CAP", "value": "100000"}, "initialPosition": 0})
        assert r.status_code == 201, r.text
        fund(hub, fsp, "100000", "XOF")
    return hub, receiver, fsps


def test_health_and_list_needs_a_filter(hub: HubClient) -> None:
    assert sapi(hub, "GET", "/health").json()["status"] == "OK"
    r = sapi(hub, "GET", "/settlementWindows")
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3100"
    r = sapi(hub, "GET", "/settlements")
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3100"
    assert sapi(hub, "GET", "/settlementWindows?state=SETTLED").json()["errorInformation"]["errorCode"] == "3100"


def test_empty_window_and_unknown_window_are_refused(hub: HubClient) -> None:
    window = open_window(hub)
    r = sapi(hub, "POST", f"/settlementWindows/{window['settlementWindowId']}", {"state": "CLOSED", "reason": "x"})
    assert r.status_code == 400 and "is empty" in r.json()["errorInformation"]["errorDescription"]
    r = sapi(hub, "POST", "/settlementWindows/9999", {"state": "CLOSED", "reason": "x"})
    assert r.json()["errorInformation"]["errorCode"] == "3100"
    assert sapi(hub, "GET", "/settlementWindows/9999").status_code == 500  # central-settlement: 2001
    r = sapi(hub, "POST", f"/settlementWindows/{window['settlementWindowId']}", {"state": "OPEN", "reason": "x"})
    assert r.json()["errorInformation"]["errorCode"] == "3100"
    r = sapi(hub, "POST", f"/settlementWindows/{window['settlementWindowId']}", {"state": "CLOSED"})
    assert r.json()["errorInformation"]["errorCode"] == "3102"


def test_full_settlement_returns_positions_and_keeps_the_ledger_balanced(three: Any) -> None:
    hub, receiver, (a, b, c) = three
    before = accounts(hub)
    pay(hub, receiver, a, b, "100")
    pay(hub, receiver, b, c, "30")
    pay(hub, receiver, c, a, "45.5")
    pay(hub, receiver, a, b, "1000", "XOF")
    pay(hub, receiver, c, b, "400", "XOF")
    window = open_window(hub)
    assert window["content"] == []  # central-ledger makes a window's content when it closes
    new = close(hub, window["settlementWindowId"])
    assert new["state"] == "OPEN" and new["settlementWindowId"] != window["settlementWindowId"]
    closed = sapi(hub, "GET", f"/settlementWindows/{window['settlementWindowId']}").json()
    assert {(x["currencyId"], x["state"]) for x in closed["content"]} == {("USD", "CLOSED"), ("XOF", "CLOSED")}
    assert all(x["settlementId"] is None for x in closed["content"])
    wid = window["settlementWindowId"]
    again = sapi(hub, "POST", f"/settlementWindows/{wid}", {"state": "CLOSED", "reason": "again"})
    assert "is not open" in again.json()["errorInformation"]["errorDescription"]
    r = sapi(hub, "POST", "/settlements", {"settlementModel": "DEFERRED_NET", "reason": "test",
                                           "settlementWindows": [{"id": window["settlementWindowId"]}]})
    assert r.status_code == 200, r.text
    settlement = r.json()
    assert settlement["state"] == "PENDING_SETTLEMENT"
    assert settlement["settlementWindows"][0]["state"] == "PENDING_SETTLEMENT"
    nets = {(acc["netSettlementAmount"]["currency"], Decimal(str(acc["netSettlementAmount"]["amount"])))
            for p in settlement["participants"] for acc in p["accounts"]}
    assert '"amount":54.5' in r.text  # central-settlement writes net amounts as JSON numbers
    assert nets == {("USD", Decimal("54.5")), ("USD", Decimal("-70")), ("USD", Decimal("15.5")),
                    ("XOF", Decimal("1000")), ("XOF", Decimal("-1400")), ("XOF", Decimal("400"))}
    after_transfers = accounts(hub)
    for state in STEPS:
        settlement = step_all(hub, settlement, state)
        assert settlement["state"] == state
        values = accounts(hub)
        assert total(values, "USD") == total(before, "USD") and total(values, "XOF") == total(before, "XOF")
        if state == "PS_TRANSFERS_RECORDED":
            assert values == after_transfers
    final = accounts(hub)
    for fsp in (a, b, c):
        for cur in ("USD", "XOF"):
            assert final[f"{fsp} POSITION {cur}"] == before[f"{fsp} POSITION {cur}"]
    assert final["Hub HUB_MULTILATERAL_SETTLEMENT USD"] == before["Hub HUB_MULTILATERAL_SETTLEMENT USD"]
    w = sapi(hub, "GET", f"/settlementWindows/{window['settlementWindowId']}").json()
    assert w["state"] == "SETTLED" and {x["state"] for x in w["content"]} == {"SETTLED"}
    listed = sapi(hub, "GET", f"/settlements?settlementWindowId={window['settlementWindowId']}").json()
    assert [s["id"] for s in listed] == [settlement["id"]] and listed[0]["state"] == "SETTLED"
    r = sapi(hub, "PUT", f"/settlements/{settlement['id']}", {"state": "ABORTED", "reason": "too late"})
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3100"


def test_abort_from_reserved_restores_positions(three: Any) -> None:
    hub, receiver, (a, b, c) = three
    pay(hub, receiver, a, b, "10")
    pay(hub, receiver, c, b, "5")
    after_transfers = accounts(hub)
    window = open_window(hub)
    close(hub, window["settlementWindowId"])
    settlement = sapi(hub, "POST", "/settlements", {"settlementModel": "DEFERRED_NET", "reason": "t",
                                                    "settlementWindows": [{"id": window["settlementWindowId"]}]}).json()
    step_all(hub, settlement, "PS_TRANSFERS_RECORDED")
    reserved = step_all(hub, settlement, "PS_TRANSFERS_RESERVED")
    assert reserved["state"] == "PS_TRANSFERS_RESERVED"
    assert accounts(hub)[f"{b} POSITION USD"] == after_transfers[f"{b} POSITION USD"] + 15
    r = sapi(hub, "PUT", f"/settlements/{settlement['id']}", {"state": "ABORTED", "reason": "bank said no"})
    assert r.status_code == 200 and r.json()["state"] == "ABORTED"
    assert accounts(hub) == after_transfers
    got = sapi(hub, "GET", f"/settlements/{settlement['id']}").json()
    assert {x["state"] for p in got["participants"] for x in p["accounts"]} == {"ABORTED"}
    assert sapi(hub, "GET", f"/settlementWindows/{window['settlementWindowId']}").json()["state"] == "ABORTED"
    # An aborted window can be settled again.
    second = sapi(hub, "POST", "/settlements", {"settlementModel": "DEFERRED_NET", "reason": "again",
                                                "settlementWindows": [{"id": window["settlementWindowId"]}]})
    assert second.status_code == 200 and second.json()["state"] == "PENDING_SETTLEMENT"


def test_one_step_at_a_time_and_per_account_errors(three: Any) -> None:
    hub, receiver, (a, b, _c) = three
    pay(hub, receiver, a, b, "7")
    window = open_window(hub)
    close(hub, window["settlementWindowId"])
    s = sapi(hub, "POST", "/settlements", {"settlementModel": "DEFERRED_NET", "reason": "t",
                                           "settlementWindows": [{"id": window["settlementWindowId"]}]}).json()
    p0 = s["participants"][0]
    acc = p0["accounts"][0]["id"]
    other = s["participants"][1]["id"]
    body = {"participants": [
        {"id": p0["id"], "accounts": [{"id": acc, "state": "PS_TRANSFERS_RESERVED", "reason": "skip"}]},
        {"id": other, "accounts": [{"id": acc, "state": "PS_TRANSFERS_RECORDED", "reason": "mismatch"}]},
        {"id": p0["id"], "accounts": [{"id": acc, "state": "PS_TRANSFERS_RECORDED", "reason": "twice"},
                                      {"id": 99999, "state": "PS_TRANSFERS_RECORDED", "reason": "unknown"}]}]}
    r = sapi(hub, "PUT", f"/settlements/{s['id']}", body)
    assert r.status_code == 200
    errors = [x["errorInformation"]["errorDescription"] for p in r.json()["participants"] for x in p["accounts"]]
    assert [e.split(" - ")[-1] for e in errors] == ["State change not allowed", "Participant and account mismatch",
                                                    "Account already processed once", "Account not found"]
    # per-account route: one account moves, the settlement waits for the other.
    r = sapi(hub, "PUT", f"/settlements/{s['id']}/participants/{p0['id']}/accounts/{acc}",
             {"state": "PS_TRANSFERS_RECORDED", "reason": "one"})
    assert r.status_code == 200 and r.json()["state"] == "PENDING_SETTLEMENT"
    r = sapi(hub, "GET", f"/settlements/{s['id']}/participants/{p0['id']}/accounts/{acc}")
    assert r.json()["participants"][0]["accounts"][0]["state"] == "PS_TRANSFERS_RECORDED"
    r = sapi(hub, "PUT", f"/settlements/{s['id']}/participants/{other}",
             {"accounts": [{"id": s["participants"][1]["accounts"][0]["id"], "state": "PS_TRANSFERS_RECORDED",
                            "reason": "two"}]})
    assert r.json()["state"] == "PS_TRANSFERS_RECORDED"
    assert sapi(hub, "GET", f"/settlements/{s['id']}/participants/424242").json()["errorInformation"][
        "errorDescription"].endswith("Participant not in settlement")
    assert sapi(hub, "GET", "/settlements/424242").status_code == 400


def test_settlement_refusals(three: Any) -> None:
    hub, receiver, (a, b, _c) = three
    window = open_window(hub)
    r = sapi(hub, "POST", "/settlements", {"settlementModel": "DEFERRED_NET", "reason": "t",
                                           "settlementWindows": [{"id": window["settlementWindowId"]}]})
    assert "Inapplicable windows" in r.json()["errorInformation"]["errorDescription"]
    r = sapi(hub, "POST", "/settlements", {"settlementModel": "NOPE", "reason": "t",
                                           "settlementWindows": [{"id": window["settlementWindowId"]}]})
    assert "Settlement model not found" in r.json()["errorInformation"]["errorDescription"]
    hub.admin("POST", "/settlementModels", {
        "name": "GROSS1", "settlementGranularity": "GROSS", "settlementInterchange": "BILATERAL",
        "settlementDelay": "IMMEDIATE", "requireLiquidityCheck": True, "ledgerAccountType": "POSITION",
        "settlementAccountType": "SETTLEMENT", "autoPositionReset": True, "currency": "EUR"})
    r = sapi(hub, "POST", "/settlements", {"settlementModel": "GROSS1", "reason": "t",
                                           "settlementWindows": [{"id": window["settlementWindowId"]}]})
    assert "GROSS or IMMEDIATE" in r.json()["errorInformation"]["errorDescription"]
    r = sapi(hub, "POST", "/settlements", {"settlementModel": "DEFERRED_NET", "reason": "t",
                                           "settlementWindows": [{"id": 4242}]})
    assert "does not exist" in r.json()["errorInformation"]["errorDescription"]
    pay(hub, receiver, a, b, "1")
    close(hub, window["settlementWindowId"])
    r = sapi(hub, "POST", "/settlements", {"settlementModel": "DEFERRED_NET", "reason": "t",
                                           "settlementWindows": [{"id": window["settlementWindowId"]}]})
    s = r.json()
    step_all(hub, s, "PS_TRANSFERS_RECORDED")
    step_all(hub, s, "PS_TRANSFERS_RESERVED")
    step_all(hub, s, "PS_TRANSFERS_COMMITTED")
    r = sapi(hub, "PUT", f"/settlements/{s['id']}", {"state": "ABORTED", "reason": "no"})
    assert r.status_code == 400 and "not allowed" in r.json()["errorInformation"]["errorDescription"]
    # one account SETTLED, the other not yet: SETTLING
    first = s["participants"][0]
    r = sapi(hub, "PUT", f"/settlements/{s['id']}/participants/{first['id']}",
             {"accounts": [{"id": first["accounts"][0]["id"], "state": "SETTLED", "reason": "paid"}]})
    assert r.json()["state"] == "SETTLING"
    wid = window["settlementWindowId"]
    assert sapi(hub, "GET", f"/settlementWindows/{wid}").json()["state"] == "PENDING_SETTLEMENT"
    assert step_all(hub, s, "SETTLED")["state"] == "SETTLED"


def test_window_close_is_asynchronous_and_survives_a_restart(tmp_path: Any, receiver: Receiver,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settlement_windows, "CLOSE_DELAY_S", 0.5)
    db = str(tmp_path / "hub.sqlite")
    with running_hub(db) as hub:
        provision_hub(hub, "USD")
        a, b = unique("ra"), unique("rb")
        provision_fsp(hub, receiver.url, a)
        provision_fsp(hub, receiver.url, b)
        pay(hub, receiver, a, b, "3")
        window = open_window(hub)
        wid = window["settlementWindowId"]
        r = sapi(hub, "POST", f"/settlementWindows/{wid}", {"state": "CLOSED", "reason": "async"})
        assert r.status_code == 200
        assert sapi(hub, "GET", f"/settlementWindows/{window['settlementWindowId']}").json()["state"] == "PROCESSING"
        pay(hub, receiver, a, b, "4")  # lands in the new window
        new_id = r.json()["settlementWindowId"]
        close(hub, new_id)
        new = sapi(hub, "GET", f"/settlementWindows/{new_id}").json()
        assert [x["currencyId"] for x in new["content"]] == ["USD"]
    with running_hub(db) as hub:  # the hub that started the close is gone; the close still completes
        deadline = time.monotonic() + 5
        while sapi(hub, "GET", f"/settlementWindows/{window['settlementWindowId']}").json()["state"] != "CLOSED":
            assert time.monotonic() < deadline, "window did not close after the restart"
            time.sleep(0.05)


def test_window_queries_and_refusals_as_central_settlement(hub: HubClient) -> None:
    r = sapi(hub, "GET", "/settlementWindows?state=open")
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3101"
    r = sapi(hub, "GET", "/settlementWindows?state=CLOSED&currency=XTS")
    assert r.json()["errorInformation"] == {
        "errorCode": "3100",
        "errorDescription":
            "Generic validation error - settlementWindow by filters: {state:CLOSED,currency:XTS} not found"}
    r = sapi(hub, "GET", "/settlementWindows/999999")
    assert r.status_code == 500 and r.json()["errorInformation"] == {
        "errorCode": "2001",
        "errorDescription": "Internal server error - No record for settlementWindowId: 999999 found"}
    r = sapi(hub, "POST", "/settlementWindows/999999", {"state": "CLOSED", "reason": "x"})
    assert r.json()["errorInformation"]["errorDescription"] == "Generic validation error - Window 999999 does not exist"
    (open_one,) = sapi(hub, "GET", "/settlementWindows?state=OPEN").json()
    assert list(open_one) == ["settlementWindowId", "state", "reason", "createdDate", "changedDate", "content"]
