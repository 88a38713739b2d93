"""ALS resources served as account-lookup-service serves them: /participants in every form, the relay of a payee's
lookup error, and requests from an FSPIOP-Source that is not a participant (per release)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import P2P, make_p2p
from hub_support import CURRENCY, HubClient, Receiver, running_hub


def msisdn() -> str:
    return str(uuid.uuid4().int)[:12]


def register(p2p: P2P, number: str, owner: str, sub: str | None = None) -> None:
    path = f"/participants/MSISDN/{number}" + (f"/{sub}" if sub else "")
    assert p2p.hub.fspiop("POST", path, owner, body={"fspId": owner, "currency": CURRENCY}).status_code == 202
    p2p.receiver.get(owner, "PUT", path)


def test_put_participant_updates_the_oracle_and_tells_the_new_owner(p2p: P2P) -> None:
    number = msisdn()
    register(p2p, number, p2p.payee)
    path = f"/participants/MSISDN/{number}"
    r = p2p.hub.fspiop("PUT", path, p2p.payee, body={"fspId": p2p.payer, "currency": CURRENCY})
    assert r.status_code == 200, r.text
    told = p2p.receiver.get(p2p.payer, "PUT", path)
    assert told.body == {"partyList": [{"partyIdType": "MSISDN", "partyIdentifier": number, "fspId": p2p.payer}],
                         "currency": CURRENCY}
    p2p.hub.fspiop("GET", path, p2p.payee)
    owner = p2p.receiver.wait(lambda i: i.fsp == p2p.payee and i.path == path and i.body == {"fspId": p2p.payer})
    assert owner.headers["fspiop-source"] == "Hub" and owner.headers["fspiop-destination"] == p2p.payee


def test_sub_id_register_and_delete(p2p: P2P) -> None:
    number = msisdn()
    register(p2p, number, p2p.payee, "savings")
    put = p2p.receiver.find(p2p.payee, "PUT", f"/participants/MSISDN/{number}/savings")[-1]
    assert put.body["partyList"][0]["partySubIdOrType"] == "savings"
    assert p2p.hub.fspiop("DELETE", f"/participants/MSISDN/{number}/savings", p2p.payee).status_code == 202
    p2p.receiver.wait(lambda i: i.fsp == p2p.payee and i.path == f"/participants/MSISDN/{number}/savings"
                      and i.body == {"fspId": p2p.payee})
    p2p.hub.fspiop("DELETE", f"/participants/MSISDN/{number}/savings", p2p.payee)
    err = p2p.receiver.get(p2p.payee, "PUT", f"/participants/MSISDN/{number}/savings/error")
    assert err.body["errorInformation"] == {"errorCode": "3040", "errorDescription": "Delete Party information error"}


def test_participant_error_is_relayed_to_its_destination(p2p: P2P) -> None:
    number = msisdn()
    error = {"errorInformation": {"errorCode": "3204", "errorDescription": "Party not found"}}
    r = p2p.hub.fspiop("PUT", f"/participants/MSISDN/{number}/error", p2p.payee, p2p.payer, body=error,
                       headers={"FSPIOP-URI": f"/participants/MSISDN/{number}/error", "FSPIOP-HTTP-Method": "PUT"})
    assert r.status_code == 200
    relayed = p2p.receiver.get(p2p.payer, "PUT", f"/participants/MSISDN/{number}/error")
    assert relayed.body == error and relayed.headers["fspiop-source"] == p2p.payee
    assert relayed.headers["fspiop-uri"] == f"/participants/MSISDN/{number}/error"
    p2p.hub.fspiop("PUT", f"/participants/MSISDN/{number}/error", p2p.payee, "nosuchfsp", body=error)
    back = p2p.receiver.get(p2p.payee, "PUT", f"/participants/MSISDN/{number}/error")
    assert back.error_code == "3201"


def test_batch_request_id_puts_are_not_implemented_and_bad_items_refused(p2p: P2P) -> None:
    request_id = str(uuid.uuid4())
    for path in (f"/participants/{request_id}", f"/participants/{request_id}/error"):
        body = {"partyList": []} if path.endswith(request_id) else {
            "errorInformation": {"errorCode": "3000", "errorDescription": "x"}}
        r = p2p.hub.fspiop("PUT", path, p2p.payee, p2p.payer, body=body)
        assert r.status_code == 501 and r.json() == {
            "errorInformation": {"errorCode": "2002", "errorDescription": "Not implemented"}}
    r = p2p.hub.fspiop("POST", "/participants", p2p.payee,
                       body={"requestId": request_id, "partyList": [{"partyIdentifier": "1"}]})
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"] == "3102"


def test_payee_lookup_error_is_relayed_with_the_payees_headers(p2p: P2P) -> None:
    number = msisdn()
    register(p2p, number, p2p.payee, "31")
    p2p.hub.fspiop("GET", f"/parties/MSISDN/{number}/31", p2p.payer)
    p2p.receiver.get(p2p.payee, "GET", f"/parties/MSISDN/{number}/31")
    error = {"errorInformation": {"errorCode": "3200", "errorDescription": "ID not found"}}
    uri = f"/parties/MSISDN/{number}/31/error"
    p2p.hub.fspiop("PUT", uri, p2p.payee, p2p.payer, body=error,
                   headers={"FSPIOP-URI": uri, "FSPIOP-HTTP-Method": "PUT"})
    relayed = p2p.receiver.get(p2p.payer, "PUT", uri)
    assert relayed.body == error and relayed.headers["fspiop-source"] == p2p.payee
    assert relayed.headers["fspiop-uri"] == uri and relayed.headers["fspiop-http-method"] == "PUT"


def test_hub_made_parties_error_headers(p2p: P2P) -> None:
    p2p.hub.fspiop("GET", "/parties/MSISDN/000111", p2p.payer)
    err = p2p.receiver.get(p2p.payer, "PUT", "/parties/MSISDN/000111/error")
    assert err.headers["fspiop-uri"] == "/parties/MSISDN/000111/error"
    assert err.headers["fspiop-http-method"] == "PUT" and err.headers["fspiop-destination"] == p2p.payer
    assert "accept" not in err.headers


@pytest.mark.parametrize("source", ["invalidFSPIOPText", "{fspId}"])
def test_lookup_from_an_unknown_source_is_refused_at_17(hub: HubClient, source: str) -> None:
    r = hub.fspiop("GET", "/parties/MSISDN/123", source)
    assert r.status_code == 400 and r.json() == {"errorInformation": {
        "errorCode": "3101", "errorDescription": "Malformed syntax - invalid fspiop-source header"}}
    r = hub.fspiop("POST", "/participants/MSISDN/123", source, body={"fspId": source})
    assert r.status_code == 400 and r.json()["errorInformation"] == {
        "errorCode": "3200", "errorDescription": "Generic ID not found - Requester FSP not found"}
    r = hub.fspiop("GET", "/parties/MSISDN/123", "", headers={"FSPIOP-Source": ""})
    assert r.status_code == 400 and r.json()["errorInformation"]["errorCode"].startswith("3")


@pytest.fixture
def hub14(tmp_path: Path) -> Iterator[HubClient]:
    with running_hub(str(tmp_path / "hub14.sqlite"), release="14") as client:
        yield client


def test_lookup_from_an_unknown_source_is_dropped_before_17(hub14: HubClient, receiver: Receiver) -> None:
    p2p = make_p2p(hub14, receiver)
    before = len(receiver.items)
    assert hub14.fspiop("GET", "/parties/MSISDN/123", "invalidFSPIOPText").status_code == 202
    # A known FSP's lookup right after is answered; nothing went anywhere for the unknown one.
    hub14.fspiop("GET", "/parties/MSISDN/000222", p2p.payer)
    err = receiver.get(p2p.payer, "PUT", "/parties/MSISDN/000222/error")
    assert err.body["errorInformation"] == {"errorCode": "3204", "errorDescription": "Party not found"}
    assert err.headers["fspiop-source"] == "switch"
    assert [i for i in receiver.items[before:] if "123" in i.path] == []


def test_empty_sub_id_and_empty_transfer_id(p2p: P2P) -> None:
    number = msisdn()
    r = p2p.hub.fspiop("POST", f"/participants/MSISDN/{number}/", p2p.payee,
                       body={"fspId": p2p.payee, "currency": CURRENCY})
    assert r.status_code == 202
    p2p.receiver.get(p2p.payee, "PUT", f"/participants/MSISDN/{number}")
    r = p2p.hub.fspiop("PUT", "/transfers/", p2p.payee, p2p.payer, body={"transferState": "COMMITTED"})
    assert r.status_code == 404 and r.json()["errorInformation"]["errorCode"] == "3002"
    assert r.json()["errorInformation"]["errorDescription"].startswith("Unknown URI")
