"""The simulator's request-to-pay roles against a fake hub: the test relays each message between the simulated
payer FSP (PAYER) and payee FSP (PAYEE) as a hub would, and checks every step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sim_support import PAYEE, PAYER, FakeHub, Received, deliver

from mojacheck.clients.wait import wait_until
from mojacheck.fspiop import new_id


def r2p_body(**extra: Any) -> dict[str, Any]:
    return {"transactionRequestId": new_id(),
            "payee": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "27710000001", "fspId": PAYEE}},
            "payer": {"partyIdType": "MSISDN", "partyIdentifier": "27710000002", "fspId": PAYER},
            "amount": {"amount": "12.5", "currency": "USD"},
            "transactionType": {"scenario": "PAYMENT", "initiator": "PAYEE", "initiatorType": "BUSINESS"}, **extra}


def relay(sim: httpx.Client, got: Received, to: str, source: str) -> None:
    """What a hub does: deliver the message the simulator sent, as it came, to the FSP it is for."""
    path = f"/{to}{got.path}" + (f"?{got.query}" if got.query else "")
    r = deliver(sim, got.method, path, got.body, source=source, destination=to)
    assert r.status_code in (200, 202), r.text


def request(sim: httpx.Client, hub: FakeHub, body: dict[str, Any]) -> str:
    assert deliver(sim, "POST", f"/{PAYER}/transactionRequests", body, source=PAYEE, destination=PAYER
                   ).status_code == 202
    return str(body["transactionRequestId"])


def view(sim: httpx.Client, ident: str) -> dict[str, Any]:
    r = sim.get(f"/_sim/requestToPay/{PAYER}/{ident}")
    assert r.status_code == 200, r.text
    return r.json()


def settled(sim: httpx.Client, ident: str) -> dict[str, Any]:
    """The payer's record once it has left RECEIVED: the fulfil's 200 comes back before the payer role, awaiting
    it in another task, writes its state."""
    return dict(wait_until(f"request {ident} to settle", lambda: (v := view(sim, ident))["state"] != "RECEIVED" and v,
                           timeout=5.0))


def quote_round(sim: httpx.Client, hub: FakeHub, ident: str) -> dict[str, Any]:
    """The payer's quote reaches the payee and its answer comes back; returns the quote request."""
    received = hub.wait_for(lambda r: r.method == "POST" and r.path == "/quotes"
                            and (r.body or {}).get("transactionRequestId") == ident)
    relay(sim, received, PAYEE, PAYER)
    answer = hub.wait_path("PUT", f"/quotes/{received.body['quoteId']}")
    relay(sim, answer, PAYER, PAYEE)
    return received.body


def authorization_round(sim: httpx.Client, hub: FakeHub, ident: str, n: int) -> Received:
    """The n-th GET /authorizations reaches the payee's device and its answer comes back; returns that GET."""
    path = f"/authorizations/{ident}"
    hub.wait_for(lambda r: sum(x.method == "GET" and x.path == path for x in hub.received) >= n)
    asked = [r for r in hub.received if r.method == "GET" and r.path == path][n - 1]
    answered = sum(r.method == "PUT" and r.path == path for r in hub.received)  # before relaying: no race
    relay(sim, asked, PAYEE, PAYER)
    hub.wait_for(lambda r: sum(x.method == "PUT" and x.path == path for x in hub.received) > answered)
    answer = [r for r in hub.received if r.method == "PUT" and r.path == path][answered]
    relay(sim, answer, PAYER, PAYEE)
    return asked


def transfer_round(sim: httpx.Client, hub: FakeHub) -> dict[str, Any]:
    prepared = hub.wait_for(lambda r: r.method == "POST" and r.path == "/transfers")
    relay(sim, prepared, PAYEE, PAYER)
    fulfil = hub.wait_path("PUT", f"/transfers/{prepared.body['transferId']}")
    relay(sim, fulfil, PAYER, PAYEE)
    return prepared.body


def test_otp_request_is_received_quoted_authorized_and_paid(sim: httpx.Client, hub: FakeHub) -> None:
    ident = request(sim, hub, r2p_body(authenticationType="OTP"))
    received = hub.wait_path("PUT", f"/transactionRequests/{ident}")
    assert received.body["transactionRequestState"] == "RECEIVED"
    assert received.headers["fspiop-destination"] == PAYEE
    quote = quote_round(sim, hub, ident)
    assert quote["transactionId"] == received.body["transactionId"] and quote["amountType"] == "RECEIVE"
    asked = authorization_round(sim, hub, ident, 1)
    assert asked.query == "authenticationType=OTP&retriesLeft=2&amount=12.5&currency=USD"
    assert asked.headers["accept"].startswith("application/vnd.interoperability.authorizations+json")
    transfer = transfer_round(sim, hub)
    assert transfer["payeeFsp"] == PAYEE and transfer["amount"] == {"amount": "12.5", "currency": "USD"}
    state = settled(sim, ident)
    assert state["state"] == "ACCEPTED" and state["transferId"] == transfer["transferId"]
    assert state["authorizations"][0]["answer"]["authenticationInfo"]["authenticationValue"] == state["otp"]
    deliver(sim, "GET", f"/{PAYER}/transactionRequests/{ident}", source=PAYEE, destination=PAYER)
    answer = hub.wait_for(lambda r: r.method == "PUT" and r.path == f"/transactionRequests/{ident}"
                          and r.body.get("transactionRequestState") == "ACCEPTED")
    assert answer.body["transactionId"] == received.body["transactionId"]


def test_without_otp_the_payer_pays_after_the_quote(sim: httpx.Client, hub: FakeHub) -> None:
    ident = request(sim, hub, r2p_body())
    quote_round(sim, hub, ident)
    transfer_round(sim, hub)
    assert settled(sim, ident)["state"] == "ACCEPTED"
    assert not [r for r in hub.received if r.path.startswith("/authorizations")]


def test_wrong_otp_once_costs_a_retry(sim: httpx.Client, hub: FakeHub) -> None:
    body = r2p_body(authenticationType="OTP")
    ident = str(body["transactionRequestId"])
    assert sim.post("/_sim/rules", json={"fsp": PAYEE, "resource": "otp", "behaviour": "wrong_once",
                                         "match": {"id": ident}}).status_code == 201
    request(sim, hub, body)
    quote_round(sim, hub, ident)
    first = authorization_round(sim, hub, ident, 1)
    second = authorization_round(sim, hub, ident, 2)
    assert "retriesLeft=2" in first.query and "retriesLeft=1" in second.query
    transfer_round(sim, hub)
    assert [a["retriesLeft"] for a in view(sim, ident)["authorizations"]] == [2, 1]


def test_wrong_otp_every_time_rejects_the_request(sim: httpx.Client, hub: FakeHub) -> None:
    body = r2p_body(authenticationType="OTP")
    ident = str(body["transactionRequestId"])
    sim.post("/_sim/rules", json={"fsp": PAYEE, "resource": "otp", "behaviour": "wrong_otp"})
    request(sim, hub, body)
    quote_round(sim, hub, ident)
    authorization_round(sim, hub, ident, 1)
    authorization_round(sim, hub, ident, 2)
    rejected = hub.wait_for(lambda r: r.method == "PUT" and r.path == f"/transactionRequests/{ident}"
                            and r.body.get("transactionRequestState") == "REJECTED")
    assert rejected.body["transactionId"]
    assert settled(sim, ident)["state"] == "REJECTED"
    assert not [r for r in hub.received if r.path == "/transfers"]


@pytest.mark.parametrize(("rule", "path", "expect"), [
    ({"behaviour": "reject"}, "", {"transactionRequestState": "REJECTED"}),
    ({"behaviour": "error"}, "/error", "4101"),
    ({"behaviour": "error", "errorCode": "4102"}, "/error", "4102"),
])
def test_payer_refuses(sim: httpx.Client, hub: FakeHub, rule: dict[str, str], path: str, expect: Any) -> None:
    body = r2p_body()
    sim.post("/_sim/rules", json={"fsp": PAYER, "resource": "transactionRequests",
                                  "match": {"id": body["transactionRequestId"]}, **rule})
    ident = request(sim, hub, body)
    got = hub.wait_path("PUT", f"/transactionRequests/{ident}{path}")
    assert (got.body if path == "" else got.body["errorInformation"]["errorCode"]) == expect


def test_expired_request_is_refused_with_3301(sim: httpx.Client, hub: FakeHub) -> None:
    past = (datetime.now(UTC) - timedelta(seconds=5)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    ident = request(sim, hub, r2p_body(expiration=past))
    assert hub.wait_path("PUT", f"/transactionRequests/{ident}/error").body["errorInformation"]["errorCode"] == "3301"


def test_customer_rejects_on_the_device(sim: httpx.Client, hub: FakeHub) -> None:
    body = r2p_body(authenticationType="OTP")
    ident = str(body["transactionRequestId"])
    sim.post("/_sim/rules", json={"fsp": PAYEE, "resource": "otp", "behaviour": "reject", "match": {"id": ident}})
    request(sim, hub, body)
    quote_round(sim, hub, ident)
    authorization_round(sim, hub, ident, 1)
    hub.wait_for(lambda r: r.method == "PUT" and r.path == f"/transactionRequests/{ident}"
                 and r.body.get("transactionRequestState") == "REJECTED")


def test_payee_initiates_through_the_control_api(sim: httpx.Client, hub: FakeHub) -> None:
    r = sim.post(f"/_sim/requestToPay/{PAYEE}", json={
        "payer": {"partyIdType": "MSISDN", "partyIdentifier": "27710000002", "fspId": PAYER},
        "amount": {"amount": "3", "currency": "USD"}, "authenticationType": "OTP"})
    assert r.status_code == 201, r.text
    ident = r.json()["transactionRequestId"]
    assert r.json()["status"] == 202
    sent = hub.wait_path("POST", "/transactionRequests")
    assert sent.body["transactionRequestId"] == ident and sent.body["transactionType"]["initiator"] == "PAYEE"
    assert (sent.headers["fspiop-source"], sent.headers["fspiop-destination"]) == (PAYEE, PAYER)
    bad = sim.post(f"/_sim/requestToPay/{PAYEE}", json={"amount": {"amount": "3", "currency": "USD"}})
    assert bad.status_code == 400 and bad.json()["field"] == "payer"
    assert sim.get(f"/_sim/requestToPay/{PAYER}/{new_id()}").status_code == 404


def test_rules_reject_behaviours_of_other_roles(sim: httpx.Client) -> None:
    r = sim.post("/_sim/rules", json={"resource": "otp", "behaviour": "invalid_fulfilment"})
    assert r.status_code == 400 and r.json()["field"] == "behaviour"
