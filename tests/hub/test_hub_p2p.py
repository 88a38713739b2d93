"""The P2P golden path through the embedded hub: lookup, quote, transfer, commit notification, GET."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

from conftest import P2P, make_p2p
from hub_support import CURRENCY, FULFILMENT, Receiver, iso, running_hub, transfer_body


def register_party(p2p: P2P, msisdn: str, owner: str) -> None:
    r = p2p.hub.fspiop("POST", f"/participants/MSISDN/{msisdn}", owner, body={"fspId": owner, "currency": CURRENCY})
    assert r.status_code == 202, r.text
    put = p2p.receiver.get(owner, "PUT", f"/participants/MSISDN/{msisdn}")
    assert put.body == {"partyList": [{"partyIdType": "MSISDN", "partyIdentifier": msisdn, "fspId": owner}],
                        "currency": CURRENCY}
    assert put.headers["fspiop-source"] == "Hub"


def test_party_lookup_is_routed_to_the_owner_and_back(p2p: P2P) -> None:
    msisdn = str(uuid.uuid4().int)[:12]
    register_party(p2p, msisdn, p2p.payee)
    r = p2p.hub.fspiop("GET", f"/parties/MSISDN/{msisdn}", p2p.payer)
    assert r.status_code == 202 and r.content == b""
    forwarded = p2p.receiver.get(p2p.payee, "GET", f"/parties/MSISDN/{msisdn}")
    assert forwarded.headers["fspiop-source"] == p2p.payer
    assert forwarded.headers["fspiop-destination"] == p2p.payee
    party = {"party": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": msisdn, "fspId": p2p.payee},
                       "name": "Bob"}}
    r = p2p.hub.fspiop("PUT", f"/parties/MSISDN/{msisdn}", p2p.payee, p2p.payer, body=party)
    assert r.status_code == 200, r.text
    answer = p2p.receiver.get(p2p.payer, "PUT", f"/parties/MSISDN/{msisdn}")
    assert answer.body == party and answer.headers["fspiop-source"] == p2p.payee
    assert "accept" not in answer.headers


def test_participant_get_and_delete(p2p: P2P) -> None:
    msisdn = str(uuid.uuid4().int)[:12]
    register_party(p2p, msisdn, p2p.payee)
    p2p.hub.fspiop("GET", f"/participants/MSISDN/{msisdn}", p2p.payer)
    assert p2p.receiver.get(p2p.payer, "PUT", f"/participants/MSISDN/{msisdn}").body == {"fspId": p2p.payee}
    assert p2p.hub.fspiop("DELETE", f"/participants/MSISDN/{msisdn}", p2p.payee).status_code == 202
    deleted = p2p.receiver.wait(lambda i: i.fsp == p2p.payee and i.path == f"/participants/MSISDN/{msisdn}"
                                and i.body == {"fspId": p2p.payee})
    assert deleted.headers["fspiop-source"] == "Hub"
    p2p.hub.fspiop("GET", f"/parties/MSISDN/{msisdn}", p2p.payer)
    err = p2p.receiver.get(p2p.payer, "PUT", f"/parties/MSISDN/{msisdn}/error")
    assert err.error_code == "3204"


def test_unknown_party_is_3204(p2p: P2P) -> None:
    r = p2p.hub.fspiop("GET", "/parties/MSISDN/000000000", p2p.payer)
    assert r.status_code == 202
    err = p2p.receiver.get(p2p.payer, "PUT", "/parties/MSISDN/000000000/error")
    assert err.error_code == "3204" and err.headers["fspiop-source"] == "Hub"


def test_lookup_with_unknown_destination(p2p: P2P) -> None:
    """Current ALS falls back to inter-scheme discovery: 3204 "No proxy found…" (ALS ≤ v15: 3200)."""
    p2p.hub.fspiop("GET", "/parties/MSISDN/111", p2p.payer, "nosuchfsp")
    err = p2p.receiver.get(p2p.payer, "PUT", "/parties/MSISDN/111/error")
    assert err.body["errorInformation"] == {"errorCode": "3204", "errorDescription":
                                            "Party not found - No proxy found to start inter-scheme discovery flow"}
    assert err.headers["fspiop-uri"] == "/parties/MSISDN/111/error" and err.headers["fspiop-source"] == "Hub"


def test_batch_participants(p2p: P2P) -> None:
    request_id = str(uuid.uuid4())
    bad = {"requestId": request_id, "partyList": [{"partyIdType": "NOPE", "partyIdentifier": "5552"}]}
    r = p2p.hub.fspiop("POST", "/participants", p2p.payee, body=bad)
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3100"  # the schema's enum
    body = {"requestId": request_id, "currency": CURRENCY, "partyList": [
        {"partyIdType": "MSISDN", "partyIdentifier": "5551", "fspId": p2p.payee},
        {"partyIdType": "MSISDN", "partyIdentifier": "5553", "fspId": p2p.payer}]}
    assert p2p.hub.fspiop("POST", "/participants", p2p.payee, body=body).status_code == 200  # ALS: 200, not 202
    put = p2p.receiver.get(p2p.payee, "PUT", f"/participants/{request_id}")
    assert put.headers["fspiop-source"] == "Hub" and put.body["currency"] == CURRENCY
    not_own, ok = put.body["partyList"]  # errors first, then the oracle's results
    assert ok == {"partyId": {"partyIdType": "MSISDN", "partyIdentifier": "5551", "fspId": p2p.payee}}
    assert not_own["errorInformation"] == {
        "errorCode": "3204", "errorDescription": "Party not found",
        "extensionList": {"extension": [{"key": "MSISDN", "value": "5553"}]}}


def quote_body(p2p: P2P, quote_id: str) -> dict:
    return {
        "quoteId": quote_id, "transactionId": str(uuid.uuid4()),
        "payee": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "123", "fspId": p2p.payee}},
        "payer": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "456", "fspId": p2p.payer}},
        "amountType": "SEND", "amount": {"amount": "100", "currency": CURRENCY},
        "transactionType": {"scenario": "TRANSFER", "initiator": "PAYER", "initiatorType": "CONSUMER"},
    }


def test_quote_is_relayed_both_ways(p2p: P2P) -> None:
    quote_id = str(uuid.uuid4())
    body = quote_body(p2p, quote_id)
    assert p2p.hub.fspiop("POST", "/quotes", p2p.payer, p2p.payee, body=body).status_code == 202
    forwarded = p2p.receiver.get(p2p.payee, "POST", "/quotes")
    assert forwarded.body == body and forwarded.headers["fspiop-source"] == p2p.payer
    answer = {"transferAmount": {"amount": "100", "currency": CURRENCY}, "expiration": iso(),
              "ilpPacket": "AYIB", "condition": "x" * 43}
    r = p2p.hub.fspiop("PUT", f"/quotes/{quote_id}", p2p.payee, p2p.payer, body=answer)
    assert r.status_code == 200, r.text
    assert p2p.receiver.get(p2p.payer, "PUT", f"/quotes/{quote_id}").body == answer
    # Simple routing mode (quoting-service's default): a resend, modified or not, is forwarded again.
    p2p.hub.fspiop("POST", "/quotes", p2p.payer, p2p.payee, body=body)
    p2p.hub.fspiop("POST", "/quotes", p2p.payer, p2p.payee, body={**body, "note": "changed"})
    p2p.receiver.wait(lambda i: len(p2p.receiver.find(p2p.payee, "POST", "/quotes")) >= 3)
    assert p2p.receiver.find(p2p.payer, "PUT", f"/quotes/{quote_id}/error") == []


def test_modified_quote_is_3106_in_persistent_mode(tmp_path: Path, receiver: Receiver) -> None:
    with running_hub(str(tmp_path / "q.sqlite"), quotes_simple_routing=False) as hub:
        p2p = make_p2p(hub, receiver)
        quote_id = str(uuid.uuid4())
        body = quote_body(p2p, quote_id)
        p2p.hub.fspiop("POST", "/quotes", p2p.payer, p2p.payee, body=body)
        p2p.hub.fspiop("POST", "/quotes", p2p.payer, p2p.payee, body=body)
        p2p.receiver.wait(lambda i: len(p2p.receiver.find(p2p.payee, "POST", "/quotes")) >= 2)
        p2p.hub.fspiop("POST", "/quotes", p2p.payer, p2p.payee, body={**body, "note": "changed"})
        err = p2p.receiver.get(p2p.payer, "PUT", f"/quotes/{quote_id}/error")
        expected = f"Modified request - Quote {quote_id} is a duplicate but hashes dont match"
        assert err.body["errorInformation"] == {"errorCode": "3106", "errorDescription": expected}


def test_quote_to_unknown_payee_is_3201(p2p: P2P) -> None:
    quote_id = str(uuid.uuid4())
    p2p.hub.fspiop("POST", "/quotes", p2p.payer, "ghost", body=quote_body(p2p, quote_id))
    assert p2p.receiver.get(p2p.payer, "PUT", f"/quotes/{quote_id}/error").error_code == "3201"


def prepare(p2p: P2P, amount: str = "100", *, payee: str | None = None, **kwargs: object) -> dict:
    body = transfer_body(p2p.payer, payee or p2p.payee, amount, **kwargs)  # type: ignore[arg-type]
    r = p2p.hub.fspiop("POST", "/transfers", p2p.payer, payee or p2p.payee, body=body)
    assert r.status_code == 202 and r.content == b"", r.text
    return body


def test_transfer_commit_moves_positions_exactly(p2p: P2P) -> None:
    body = prepare(p2p, "100.5")
    tid = body["transferId"]
    forwarded = p2p.receiver.get(p2p.payee, "POST", "/transfers")
    assert forwarded.body == body and forwarded.headers["fspiop-source"] == p2p.payer
    assert p2p.hub.position(p2p.payer) == "100.5"
    fulfil = {"transferState": "COMMITTED", "fulfilment": FULFILMENT, "completedTimestamp": iso()}
    r = p2p.hub.fspiop("PUT", f"/transfers/{tid}", p2p.payee, p2p.payer, body=fulfil)
    assert r.status_code == 200, r.text
    relayed = p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}")
    assert relayed.body == fulfil and relayed.headers["fspiop-source"] == p2p.payee
    assert relayed.headers["fspiop-uri"] == f"/transfers/{tid}" and relayed.headers["fspiop-http-method"] == "PUT"
    assert Decimal(p2p.hub.position(p2p.payer)) == Decimal("100.5")
    assert Decimal(p2p.hub.position(p2p.payee)) == Decimal("-100.5")
    # GET /transfers reports the committed state with the fulfilment.
    p2p.hub.fspiop("GET", f"/transfers/{tid}", p2p.payer)
    states = p2p.receiver.wait(lambda i: i.fsp == p2p.payer and i.path == f"/transfers/{tid}"
                               and i.headers.get("fspiop-source") == "Hub")
    assert states.body["transferState"] == "COMMITTED" and states.body["fulfilment"] == FULFILMENT
    assert "version=1.1" in states.headers["content-type"]  # hub.content_version, whatever the release


def test_reserved_fulfil_gets_patch_committed(p2p: P2P) -> None:
    tid = prepare(p2p, "7")["transferId"]
    p2p.receiver.get(p2p.payee, "POST", "/transfers")
    fulfil = {"transferState": "RESERVED", "fulfilment": FULFILMENT, "completedTimestamp": iso()}
    assert p2p.hub.fspiop("PUT", f"/transfers/{tid}", p2p.payee, p2p.payer, body=fulfil).status_code == 200
    patch = p2p.receiver.get(p2p.payee, "PATCH", f"/transfers/{tid}")
    assert patch.body["transferState"] == "COMMITTED" and patch.body["completedTimestamp"]
    assert "accept" not in patch.headers
    to_payer = p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}")
    assert to_payer.body["transferState"] == "COMMITTED" and to_payer.headers["fspiop-source"] == "Hub"
    assert p2p.hub.position(p2p.payee) == "-7"


def test_get_unknown_transfer_is_3208(p2p: P2P) -> None:
    tid = str(uuid.uuid4())
    p2p.hub.fspiop("GET", f"/transfers/{tid}", p2p.payer)
    assert p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{tid}/error").error_code == "3208"
