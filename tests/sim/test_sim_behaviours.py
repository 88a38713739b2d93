"""Payee behaviour rules: invalid fulfilment, RESERVED, reject, no answer, delay; rule bookkeeping."""

from __future__ import annotations

import base64
import hashlib

import httpx
from sim_support import PAYEE, FakeHub, deliver, quote, quote_request, transfer_body


def rule(sim: httpx.Client, **body: object) -> dict[str, object]:
    resp = sim.post("/_sim/rules", json={"fsp": PAYEE, **body})
    assert resp.status_code == 201, resp.text
    return resp.json()


def run_transfer(sim: httpx.Client, hub: FakeHub, party: str = "27710000001", version: str = "1.1") -> dict:
    _, got = quote(sim, hub, party)
    body = transfer_body(got.body)
    deliver(sim, "POST", f"/{PAYEE}/transfers", body, version=version)
    return body


def test_invalid_fulfilment(sim: httpx.Client, hub: FakeHub) -> None:
    rule(sim, resource="transfers", match={"partyIdentifier": "27710000050"}, behaviour="invalid_fulfilment")
    body = run_transfer(sim, hub, party="27710000050")
    put = hub.wait_path("PUT", f"/transfers/{body['transferId']}")
    preimage = base64.urlsafe_b64decode(put.body["fulfilment"] + "=")
    assert len(preimage) == 32
    digest = base64.urlsafe_b64encode(hashlib.sha256(preimage).digest()).rstrip(b"=").decode()
    assert digest != body["condition"]


def test_reserved_uses_v11_even_for_v10_request(sim: httpx.Client, hub: FakeHub) -> None:
    rule(sim, resource="transfers", match={"partyIdentifier": "27710000051"}, behaviour="reserved")
    body = run_transfer(sim, hub, party="27710000051", version="1.0")
    put = hub.wait_path("PUT", f"/transfers/{body['transferId']}")
    assert put.body["transferState"] == "RESERVED"
    assert put.headers["content-type"].endswith("transfers+json;version=1.1")
    patch = {"transferState": "COMMITTED", "completedTimestamp": "2026-01-01T00:00:00.000Z"}
    assert deliver(sim, "PATCH", f"/{PAYEE}/transfers/{body['transferId']}", patch).status_code == 200
    items = sim.get("/_sim/inbox", params={"method": "PATCH", "key": body["transferId"]}).json()["items"]
    assert items[0]["body"] == patch


def test_reject_transfer_with_code(sim: httpx.Client, hub: FakeHub) -> None:
    _, got = quote(sim, hub)
    body = transfer_body(got.body)
    made = rule(sim, resource="transfers", match={"id": body["transferId"]}, behaviour="reject", errorCode="5104")
    assert made["errorCode"] == "5104"
    deliver(sim, "POST", f"/{PAYEE}/transfers", body)
    err = hub.wait_path("PUT", f"/transfers/{body['transferId']}/error")
    assert err.body["errorInformation"]["errorCode"] == "5104"


def test_reject_quote_default_code(sim: httpx.Client, hub: FakeHub) -> None:
    request = quote_request("27710000052")
    rule(sim, resource="quotes", match={"id": request["quoteId"]}, behaviour="reject")
    deliver(sim, "POST", f"/{PAYEE}/quotes", request)
    err = hub.wait_path("PUT", f"/quotes/{request['quoteId']}/error")
    assert err.body["errorInformation"]["errorCode"] == "5101"


def test_no_answer_sends_nothing(sim: httpx.Client, hub: FakeHub) -> None:
    rule(sim, resource="transfers", match={"partyIdentifier": "27710000053"}, behaviour="no_answer")
    silent = run_transfer(sim, hub, party="27710000053")
    marker = run_transfer(sim, hub, party="27710000054")
    hub.wait_path("PUT", f"/transfers/{marker['transferId']}")
    # The silent transfer was delivered (and recorded) before the marker, yet nothing went to the hub for it.
    assert not [p for p in hub.paths() if silent["transferId"] in p]
    seen = sim.get("/_sim/inbox", params={"key": silent["transferId"]}).json()["items"]
    assert [i["direction"] for i in seen] == ["in"]


def test_delay_then_normal(sim: httpx.Client, hub: FakeHub) -> None:
    rule(sim, resource="transfers", match={"partyIdentifier": "27710000055"}, behaviour="delay", delayMs=300)
    body = run_transfer(sim, hub, party="27710000055")
    put = hub.wait_path("PUT", f"/transfers/{body['transferId']}")
    assert put.body["transferState"] == "COMMITTED"
    # The out item is recorded once the hub has answered, so long-poll for it.
    params = {"key": body["transferId"], "direction": "out", "wait": 5}
    out = sim.get("/_sim/inbox", params=params).json()["items"]
    items = sim.get("/_sim/inbox", params={"key": body["transferId"]}).json()["items"]
    assert [i["direction"] for i in items] == ["in", "out"] and out == items[1:]
    assert out[0]["status"] == 200
    sent, answered = items[0]["received"], items[1]["received"]
    assert answered > sent  # ISO-8601 UTC strings compare in time order


def test_newest_rule_wins_and_delete(sim: httpx.Client, hub: FakeHub) -> None:
    first = rule(sim, resource="parties", behaviour="reject", errorCode="3200")
    second = rule(sim, resource="parties", behaviour="no_answer")
    assert sim.delete(f"/_sim/rules/{second['id']}").status_code == 204
    assert sim.delete(f"/_sim/rules/{second['id']}").status_code == 404
    assert [r["id"] for r in sim.get("/_sim/rules").json()["items"]] == [first["id"]]
    deliver(sim, "GET", f"/{PAYEE}/parties/MSISDN/27710000056")
    err = hub.wait_path("PUT", "/parties/MSISDN/27710000056/error")
    assert err.body["errorInformation"]["errorCode"] == "3200"
