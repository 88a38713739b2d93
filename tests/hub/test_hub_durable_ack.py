"""The hub acknowledges only what it has stored (issue 12 item 5).

A real ml-api-adapter answers 202 only once the message is durable. Here a spy wraps the hub's ASGI app and, at the
moment the hub starts its answer (before the client can see it), reads the database through a connection of its own:
only committed data is visible there, which is what survives a ``kill -9`` right after the answer. A hub that answers
first and stores in a background task fails these tests deterministically (the task has not run yet when the answer
starts, since nothing in between gives the event loop a turn).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import P2P, make_p2p
from fx_support import fx_quote_body, fx_transfer_body, make_fx
from hub_support import CURRENCY, FULFILMENT, HubClient, Receiver, iso, provision_hub, transfer_body, unique
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from test_hub_thirdparty import Credential, auth_participant, oracles, tp_participant

from mojacheck.hub import HubConfig, create_app
from mojacheck.server import ServerThread

Probe = tuple[str, tuple[Any, ...]]


class AnswerSpy:
    """Runs the probe registered for a path when the hub starts answering it; keeps (status, row seen)."""

    def __init__(self, app: ASGIApp, db_path: Path) -> None:
        self.app = app
        self.db_path = db_path
        self.probes: dict[str, Probe] = {}
        self.seen: dict[str, tuple[int, tuple[Any, ...] | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        probe = self.probes.get(scope["path"]) if scope["type"] == "http" else None
        if probe is None:
            await self.app(scope, receive, send)
            return

        async def spy(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.seen[scope["path"]] = (message["status"], self.read(probe))
            await send(message)

        await self.app(scope, receive, spy)

    def read(self, probe: Probe) -> tuple[Any, ...] | None:
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)  # committed data only
        try:
            row = conn.execute(*probe).fetchone()
            return None if row is None else tuple(row)
        finally:
            conn.close()

    def at_answer(self, path: str, sql: str, *params: Any) -> None:
        self.probes[path] = (sql, params)


@pytest.fixture
def spied(tmp_path: Path) -> Iterator[tuple[HubClient, AnswerSpy]]:
    db = tmp_path / "hub.sqlite"
    # Quotes in persistent mode: simple routing mode (quoting-service's default) stores no quote at all.
    config = HubConfig(db_path=str(db), expiry_interval_s=0.2, bearer_token=None, quotes_simple_routing=False)
    spy = AnswerSpy(create_app(config), db)
    with ServerThread(spy) as server:
        client = HubClient(server.url)
        try:
            yield client, spy
        finally:
            client.http.close()


@pytest.fixture
def p2p_spied(spied: tuple[HubClient, AnswerSpy], receiver: Receiver) -> tuple[P2P, AnswerSpy]:
    hub, spy = spied
    return make_p2p(hub, receiver), spy


def prepared(p2p: P2P) -> str:
    body = transfer_body(p2p.payer, p2p.payee, "10")
    assert p2p.hub.fspiop("POST", "/transfers", p2p.payer, p2p.payee, body=body).status_code == 202
    p2p.receiver.get(p2p.payee, "POST", "/transfers")
    return str(body["transferId"])


def test_prepare_is_stored_before_its_202(p2p_spied: tuple[P2P, AnswerSpy]) -> None:
    p2p, spy = p2p_spied
    body = transfer_body(p2p.payer, p2p.payee, "10")
    spy.at_answer("/transfers", "SELECT state, amount FROM transfer WHERE id = ?", body["transferId"])
    assert p2p.hub.fspiop("POST", "/transfers", p2p.payer, p2p.payee, body=body).status_code == 202
    assert spy.seen["/transfers"] == (202, ("RESERVED", "10"))


def test_prepare_refused_by_validation_is_stored_before_its_202(p2p_spied: tuple[P2P, AnswerSpy]) -> None:
    p2p, spy = p2p_spied
    body = transfer_body(p2p.payer, "nosuchpayee", "10")
    spy.at_answer("/transfers", "SELECT state FROM transfer WHERE id = ?", body["transferId"])
    assert p2p.hub.fspiop("POST", "/transfers", p2p.payer, "nosuchpayee", body=body).status_code == 202
    assert spy.seen["/transfers"] == (202, ("INVALID",))


def test_fulfil_is_committed_before_its_200(p2p_spied: tuple[P2P, AnswerSpy]) -> None:
    p2p, spy = p2p_spied
    tid = prepared(p2p)
    spy.at_answer(f"/transfers/{tid}", "SELECT state FROM transfer WHERE id = ?", tid)
    fulfil = {"transferState": "COMMITTED", "fulfilment": FULFILMENT, "completedTimestamp": iso()}
    assert p2p.hub.fspiop("PUT", f"/transfers/{tid}", p2p.payee, p2p.payer, body=fulfil).status_code == 200
    assert spy.seen[f"/transfers/{tid}"] == (200, ("COMMITTED",))


def test_payee_rejection_is_stored_before_its_200(p2p_spied: tuple[P2P, AnswerSpy]) -> None:
    p2p, spy = p2p_spied
    tid = prepared(p2p)
    spy.at_answer(f"/transfers/{tid}/error", "SELECT state FROM transfer WHERE id = ?", tid)
    error = {"errorInformation": {"errorCode": "5105", "errorDescription": "Payee rejected"}}
    assert p2p.hub.fspiop("PUT", f"/transfers/{tid}/error", p2p.payee, p2p.payer, body=error).status_code == 200
    assert spy.seen[f"/transfers/{tid}/error"] == (200, ("ABORTED_ERROR",))


def test_quote_is_recorded_before_its_202(p2p_spied: tuple[P2P, AnswerSpy]) -> None:
    p2p, spy = p2p_spied
    quote_id = str(uuid.uuid4())
    body = {
        "quoteId": quote_id, "transactionId": str(uuid.uuid4()),
        "payee": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "123", "fspId": p2p.payee}},
        "payer": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "456", "fspId": p2p.payer}},
        "amountType": "SEND", "amount": {"amount": "100", "currency": CURRENCY},
        "transactionType": {"scenario": "TRANSFER", "initiator": "PAYER", "initiatorType": "CONSUMER"},
    }
    spy.at_answer("/quotes", "SELECT payer, payee FROM quote WHERE id = ?", quote_id)
    assert p2p.hub.fspiop("POST", "/quotes", p2p.payer, p2p.payee, body=body).status_code == 202
    assert spy.seen["/quotes"] == (202, (p2p.payer, p2p.payee))


def test_party_registration_and_deletion_are_stored_before_their_202(p2p_spied: tuple[P2P, AnswerSpy]) -> None:
    p2p, spy = p2p_spied
    path = "/participants/MSISDN/27730000001"
    spy.at_answer(path, "SELECT fsp_id FROM party WHERE id_type = 'MSISDN' AND identifier = ?", "27730000001")
    r = p2p.hub.fspiop("POST", path, p2p.payee, body={"fspId": p2p.payee, "currency": CURRENCY})
    assert r.status_code == 202
    assert spy.seen[path] == (202, (p2p.payee,))
    assert p2p.hub.fspiop("DELETE", path, p2p.payee).status_code == 202
    assert spy.seen[path] == (202, None)


def test_batch_registration_is_stored_before_its_200(p2p_spied: tuple[P2P, AnswerSpy]) -> None:
    # ALS answers the batch 200 and stores only parties the requester names as their own fspId.
    p2p, spy = p2p_spied
    party_list = [{"partyIdType": "MSISDN", "partyIdentifier": ident, "fspId": p2p.payee}
                  for ident in ("27730000002", "27730000003")]
    body = {"requestId": str(uuid.uuid4()), "partyList": party_list}
    spy.at_answer("/participants", "SELECT count(*) FROM party WHERE identifier IN ('27730000002', '27730000003')")
    assert p2p.hub.fspiop("POST", "/participants", p2p.payee, body=body).status_code == 200
    assert spy.seen["/participants"] == (200, (2,))


def test_consent_registration_and_revocation_are_stored_before_their_202(
        spied: tuple[HubClient, AnswerSpy], receiver: Receiver) -> None:
    hub, spy = spied
    provision_hub(hub)
    oracles(hub)
    dfsp, auth = unique("dfsp"), unique("auth")
    tp_participant(hub, receiver, dfsp, "dfsp")
    auth_participant(hub, auth)
    consent_id = str(uuid.uuid4())
    scopes = [{"address": "acc-1", "actions": ["ACCOUNTS_TRANSFER"]}]
    body = {"consentId": consent_id, "scopes": scopes, "credential": Credential().generic(consent_id, scopes),
            "status": "ISSUED"}
    headers = {"Content-Type": "application/vnd.interoperability.consents+json;version=1.0",
               "Accept": "application/vnd.interoperability.consents+json;version=1"}
    spy.at_answer("/auth-service/consents", "SELECT status FROM tp_consent WHERE consent_id = ?", consent_id)
    r = hub.fspiop("POST", "/auth-service/consents", dfsp, auth, body, version="1.0", headers=headers)
    assert r.status_code == 202, r.text
    assert spy.seen["/auth-service/consents"] == (202, ("ACTIVE",))
    path = f"/auth-service/consents/{consent_id}"
    spy.at_answer(path, "SELECT status FROM tp_consent WHERE consent_id = ?", consent_id)
    r = hub.fspiop("DELETE", path, dfsp, auth, version="1.0", headers=headers)
    assert r.status_code == 202, r.text
    assert spy.seen[path] == (202, ("REVOKED",))


def test_fx_prepare_fulfil_and_error_are_stored_before_their_answer(
        spied: tuple[HubClient, AnswerSpy], receiver: Receiver) -> None:
    hub, spy = spied
    fx = make_fx(hub, receiver)
    body = fx_transfer_body(fx)
    cid = body["commitRequestId"]
    spy.at_answer("/fxTransfers", "SELECT state FROM fx_transfer WHERE commit_request_id = ?", cid)
    fx.post("/fxTransfers", fx.payer, fx.fxp, body)
    assert spy.seen["/fxTransfers"] == (202, ("RESERVED",))
    spy.at_answer(f"/fxTransfers/{cid}", "SELECT state FROM fx_transfer WHERE commit_request_id = ?", cid)
    fx.put(f"/fxTransfers/{cid}", fx.fxp, fx.payer, {"conversionState": "RESERVED",
                                                    "fulfilment": "UNlJ98hZTY_dsw0cAqw4i_UN3v4utt7CZFB4yfLbVFA",
                                                    "completedTimestamp": iso()})
    assert spy.seen[f"/fxTransfers/{cid}"] == (200, ("RECEIVED_FULFIL_DEPENDENT",))
    spy.at_answer(f"/fxTransfers/{cid}/error", "SELECT state FROM fx_transfer WHERE commit_request_id = ?", cid)
    fx.put(f"/fxTransfers/{cid}/error", fx.fxp, fx.payer,
           {"errorInformation": {"errorCode": "5100", "errorDescription": "FXP cancels"}})
    assert spy.seen[f"/fxTransfers/{cid}/error"] == (200, ("ABORTED_ERROR",))
    quote = fx_quote_body(fx)
    spy.at_answer("/fxQuotes", "SELECT fxp FROM fx_quote WHERE id = ?", quote["conversionRequestId"])
    fx.post("/fxQuotes", fx.payer, fx.fxp, quote)
    assert spy.seen["/fxQuotes"] == (202, (fx.fxp,))


def test_funds_in_and_window_close_are_stored_before_their_answer(p2p_spied: tuple[P2P, AnswerSpy]) -> None:
    """These already booked before answering; kept here so every accepting route of the hub is covered."""
    p2p, spy = p2p_spied
    accounts = p2p.hub.admin("GET", f"/participants/{p2p.payer}/accounts").json()
    settlement = next(a for a in accounts if a["ledgerAccountType"] == "SETTLEMENT")
    funds_path = f"/admin/participants/{p2p.payer}/accounts/{settlement['id']}"
    transfer_id = str(uuid.uuid4())
    spy.at_answer(funds_path, "SELECT state FROM funds_transfer WHERE id = ?", transfer_id)
    r = p2p.hub.admin("POST", funds_path.removeprefix("/admin"), {
        "transferId": transfer_id, "externalReference": "x", "action": "recordFundsIn", "reason": "durable",
        "amount": {"amount": "5", "currency": CURRENCY}})
    assert r.status_code == 202, r.text
    assert spy.seen[funds_path] == (202, ("COMMITTED",))
    tid = prepared(p2p)
    fulfil = {"transferState": "COMMITTED", "fulfilment": FULFILMENT, "completedTimestamp": iso()}
    assert p2p.hub.fspiop("PUT", f"/transfers/{tid}", p2p.payee, p2p.payer, body=fulfil).status_code == 200
    window = p2p.hub.http.get("/settlement/v2/settlementWindows", params={"state": "OPEN"}).json()[0]
    window_id = window.get("settlementWindowId", window.get("id"))  # the key issue 11 renames
    path = f"/settlement/v2/settlementWindows/{window_id}"
    spy.at_answer(path, "SELECT state FROM settlement_window WHERE id = ?", window_id)
    r = p2p.hub.http.post(path, json={"state": "CLOSED", "reason": "durable"})
    assert r.status_code == 200, r.text
    assert spy.seen[path][0] == 200 and spy.seen[path][1] in (("PROCESSING",), ("CLOSED",))
