"""Bulk transfers and bulk quotes through the embedded hub, over HTTP: each item reserved, committed, aborted and
expired on its own, the bulk's end announced as central-ledger's bulk handlers do, and the helm 13/14 behaviour."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import P2P, make_p2p
from hub_support import CURRENCY, FULFILMENT, ILP_PACKET, HubClient, Receiver, iso, running_hub, unique

from mojacheck.fspiop import condition_for

OTHER_FULFILMENT = "xLctttbu2HvTsa1XWvUoGRcQozHsqeu9Ahl2JW9Bsu8"


def item(amount: str, currency: str = CURRENCY, **extra: Any) -> dict[str, Any]:
    return {"transferId": str(uuid.uuid4()), "transferAmount": {"amount": amount, "currency": currency},
            "ilpPacket": ILP_PACKET, "condition": condition_for(FULFILMENT), **extra}


def bulk_body(p2p: P2P, *amounts: str, expires_in: float = 60.0, items: list[dict[str, Any]] | None = None
              ) -> dict[str, Any]:
    return {"bulkTransferId": str(uuid.uuid4()), "bulkQuoteId": str(uuid.uuid4()), "payerFsp": p2p.payer,
            "payeeFsp": p2p.payee, "expiration": iso(timedelta(seconds=expires_in)),
            "individualTransfers": items if items is not None else [item(a) for a in amounts]}


def post(p2p: P2P, body: dict[str, Any], **kwargs: Any) -> Any:
    return p2p.hub.fspiop("POST", "/bulkTransfers", kwargs.pop("source", p2p.payer),
                          kwargs.pop("destination", p2p.payee), body, **kwargs)


def prepared(p2p: P2P, body: dict[str, Any]) -> dict[str, Any]:
    """POST the bulk; return the POST /bulkTransfers the payee received."""
    r = post(p2p, body)
    assert r.status_code == 202, r.text
    return p2p.receiver.wait(lambda i: i.fsp == p2p.payee and i.method == "POST"
                             and (i.body or {}).get("bulkTransferId") == body["bulkTransferId"]).body


def fulfil(p2p: P2P, bulk_id: str, results: list[dict[str, Any]], *, destination: str = "Hub",
           completed: str | None = None) -> Any:
    answer = {"bulkTransferState": "COMPLETED", "completedTimestamp": completed or iso(),
              "individualTransferResults": results}
    return p2p.hub.fspiop("PUT", f"/bulkTransfers/{bulk_id}", p2p.payee, destination, answer)


def ok(transfer_id: str) -> dict[str, str]:
    return {"transferId": transfer_id, "fulfilment": FULFILMENT}


def positions(p2p: P2P) -> tuple[Decimal, Decimal]:
    return Decimal(p2p.hub.position(p2p.payer)), Decimal(p2p.hub.position(p2p.payee))


def final(p2p: P2P, fsp: str, bulk_id: str, *, error: bool = False) -> Any:
    return p2p.receiver.get(fsp, "PUT", f"/bulkTransfers/{bulk_id}{'/error' if error else ''}")


def test_happy_path_each_item_commits_and_both_sides_hear_the_results(p2p: P2P) -> None:
    before = positions(p2p)
    body = bulk_body(p2p, "10.25", "1", "0.5")
    body["individualTransfers"][0]["extensionList"] = {"extension": [{"key": "k", "value": "v"}]}
    got = prepared(p2p, body)
    request = p2p.receiver.find(p2p.payee, "POST", "/bulkTransfers")[-1]
    assert request.headers["fspiop-source"] == "Hub" and request.headers["fspiop-uri"] == "/bulkTransfers"
    assert request.headers["fspiop-http-method"] == "POST"
    assert got["expiration"].endswith(".000Z") and len(got["individualTransfers"]) == 3
    assert got["individualTransfers"][0]["extensionList"] == {"extension": [{"key": "k", "value": "v"}]}
    assert positions(p2p) == (before[0] + Decimal("11.75"), before[1])  # reserved, not yet committed

    ids = [i["transferId"] for i in body["individualTransfers"]]
    assert fulfil(p2p, body["bulkTransferId"], [ok(t) for t in ids]).status_code == 200
    to_payer = final(p2p, p2p.payer, body["bulkTransferId"])
    assert to_payer.body["bulkTransferState"] == "COMPLETED" and to_payer.body["completedTimestamp"]
    assert [r["fulfilment"] for r in to_payer.body["individualTransferResults"]] == [FULFILMENT] * 3
    assert to_payer.headers["fspiop-source"] == "Hub"
    assert to_payer.headers["fspiop-uri"] == f"/{p2p.payer}/bulkTransfers/{body['bulkTransferId']}"
    assert final(p2p, p2p.payee, body["bulkTransferId"]).body["bulkTransferState"] == "COMPLETED"
    assert positions(p2p) == (before[0] + Decimal("11.75"), before[1] - Decimal("11.75"))
    p2p.hub.fspiop("GET", f"/transfers/{ids[0]}", p2p.payer)
    assert p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{ids[0]}").body["transferState"] == "COMMITTED"


def test_each_item_is_checked_against_the_running_position(hub: HubClient, receiver: Receiver) -> None:
    p2p = make_p2p(hub, receiver, ndc="25")
    body = bulk_body(p2p, "10", "10", "10", "3")
    got = prepared(p2p, body)
    ids = [i["transferId"] for i in body["individualTransfers"]]
    assert [i["transferId"] for i in got["individualTransfers"]] == [ids[0], ids[1], ids[3]]
    assert positions(p2p)[0] == Decimal("23")
    fulfil(p2p, body["bulkTransferId"], [ok(ids[0]), ok(ids[1]), ok(ids[3])])
    results = final(p2p, p2p.payer, body["bulkTransferId"]).body["individualTransferResults"]
    assert results[2] == {"transferId": ids[2], "errorInformation": {"errorCode": "4200",
                                                                     "errorDescription": "Payer limit error"}}
    payee_view = final(p2p, p2p.payee, body["bulkTransferId"]).body["individualTransferResults"]
    assert [r["transferId"] for r in payee_view] == [ids[0], ids[1], ids[3]]


def test_item_in_a_currency_without_account_fails_validation(p2p: P2P) -> None:
    body = bulk_body(p2p, items=[item("1"), item("2", "EUR")])
    got = prepared(p2p, body)
    assert len(got["individualTransfers"]) == 1
    fulfil(p2p, body["bulkTransferId"], [ok(body["individualTransfers"][0]["transferId"])])
    bad = final(p2p, p2p.payer, body["bulkTransferId"]).body["individualTransferResults"][1]["errorInformation"]
    assert bad["errorCode"] == "3100"
    assert bad["errorDescription"].startswith(f"Generic validation error - Participant {p2p.payer} EUR account")


def test_payee_rejecting_one_item_restores_only_it(p2p: P2P) -> None:
    before = positions(p2p)
    body = bulk_body(p2p, "5", "7", "9")
    ids = [i["transferId"] for i in prepared(p2p, body)["individualTransfers"]]
    rejected = {"transferId": ids[1], "errorInformation": {"errorCode": "5105", "errorDescription": "no thanks"}}
    fulfil(p2p, body["bulkTransferId"], [ok(ids[0]), rejected, ok(ids[2])])
    to_payer = final(p2p, p2p.payer, body["bulkTransferId"]).body
    assert to_payer["bulkTransferState"] == "COMPLETED"
    assert to_payer["individualTransferResults"][1] == rejected
    assert positions(p2p) == (before[0] + 14, before[1] - 14)


def test_the_last_item_decides_a_rejected_last_item_rejects_the_bulk(p2p: P2P) -> None:
    before = positions(p2p)
    body = bulk_body(p2p, "5", "7")
    ids = [i["transferId"] for i in prepared(p2p, body)["individualTransfers"]]
    rejected = {"transferId": ids[1], "errorInformation": {"errorCode": "5105", "errorDescription": "no thanks"}}
    fulfil(p2p, body["bulkTransferId"], [ok(ids[0]), rejected])
    assert final(p2p, p2p.payer, body["bulkTransferId"], error=True).body == {
        "errorInformation": rejected["errorInformation"]}
    assert final(p2p, p2p.payee, body["bulkTransferId"], error=True).error_code == "5105"
    assert positions(p2p) == (before[0] + 5, before[1] - 5)  # the first item committed all the same


def test_payee_error_aborts_every_item_and_is_relayed_as_sent(p2p: P2P) -> None:
    before = positions(p2p)
    body = bulk_body(p2p, "1", "2")
    prepared(p2p, body)
    err = {"errorInformation": {"errorCode": "5100", "errorDescription": "An error occured"}}
    r = p2p.hub.fspiop("PUT", f"/bulkTransfers/{body['bulkTransferId']}/error", p2p.payee, p2p.payer, err,
                       version="1.0")
    assert r.status_code == 200
    assert final(p2p, p2p.payer, body["bulkTransferId"], error=True).body == err
    assert positions(p2p) == before
    p2p.hub.fspiop("GET", f"/bulkTransfers/{body['bulkTransferId']}", p2p.payer, "Hub")
    got = p2p.receiver.wait(lambda i: i.fsp == p2p.payer and i.method == "PUT"
                            and i.path == f"/bulkTransfers/{body['bulkTransferId']}")
    assert got.body["bulkTransferState"] == "REJECTED"


def test_invalid_fulfilment_aborts_the_item_per_transfer_and_the_bulk_never_ends(p2p: P2P) -> None:
    before = positions(p2p)
    body = bulk_body(p2p, "3", "4")
    ids = [i["transferId"] for i in prepared(p2p, body)["individualTransfers"]]
    fulfil(p2p, body["bulkTransferId"], [ok(ids[0]), {"transferId": ids[1], "fulfilment": OTHER_FULFILMENT}])
    for fsp in (p2p.payer, p2p.payee):
        err = p2p.receiver.get(fsp, "PUT", f"/transfers/{ids[1]}/error")
        assert err.error_code == "3100" and "invalid fulfilment" in err.body["errorInformation"]["errorDescription"]
    p2p.hub.fspiop("GET", f"/bulkTransfers/{body['bulkTransferId']}", p2p.payer, "Hub")
    state = p2p.receiver.get(p2p.payer, "PUT", f"/bulkTransfers/{body['bulkTransferId']}").body
    assert state["bulkTransferState"] == "PROCESSING"  # stuck: no final callback was ever sent
    assert [r.path for r in p2p.receiver.items if r.path.endswith(f"{body['bulkTransferId']}/error")] == []
    assert positions(p2p) == (before[0] + 3, before[1] - 3)


def test_future_completed_timestamp_rejects_the_bulk(p2p: P2P) -> None:
    before = positions(p2p)
    body = bulk_body(p2p, "2", "3")
    ids = [i["transferId"] for i in prepared(p2p, body)["individualTransfers"]]
    r = fulfil(p2p, body["bulkTransferId"], [ok(t) for t in ids], completed=iso(timedelta(seconds=10)))
    assert r.status_code == 200
    err = final(p2p, p2p.payer, body["bulkTransferId"], error=True)
    assert err.error_code == "3100" and "future timestamp" in err.body["errorInformation"]["errorDescription"]
    assert len(p2p.receiver.find(p2p.payee, "PUT", f"/bulkTransfers/{body['bulkTransferId']}/error")) >= 1
    assert positions(p2p) == before


def test_expiry_completes_the_bulk_with_3303_and_a_late_answer_changes_nothing(p2p: P2P) -> None:
    before = positions(p2p)
    body = bulk_body(p2p, "2", "3", expires_in=1.0)
    ids = [i["transferId"] for i in prepared(p2p, body)["individualTransfers"]]
    done = p2p.receiver.get(p2p.payer, "PUT", f"/bulkTransfers/{body['bulkTransferId']}", timeout=10)
    assert done.body["bulkTransferState"] == "COMPLETED" and "completedTimestamp" not in done.body
    assert [r["errorInformation"] for r in done.body["individualTransferResults"]] == [
        {"errorCode": "3303", "errorDescription": "Transfer expired"}] * 2
    assert final(p2p, p2p.payee, body["bulkTransferId"]).body["bulkTransferState"] == "COMPLETED"
    assert p2p.receiver.find(p2p.payer, "PUT", f"/transfers/{ids[0]}/error") == []  # reported by the bulk only
    assert positions(p2p) == before
    assert fulfil(p2p, body["bulkTransferId"], [ok(t) for t in ids]).status_code == 200
    p2p.hub.fspiop("GET", f"/transfers/{ids[0]}", p2p.payer)  # a marker after the late answer was processed
    p2p.receiver.get(p2p.payer, "PUT", f"/transfers/{ids[0]}")
    assert len(p2p.receiver.find(p2p.payer, "PUT", f"/bulkTransfers/{body['bulkTransferId']}")) == 1
    assert positions(p2p) == before


def test_duplicates(p2p: P2P) -> None:
    body = bulk_body(p2p, "1")
    ids = [i["transferId"] for i in prepared(p2p, body)["individualTransfers"]]
    fulfil(p2p, body["bulkTransferId"], [ok(ids[0])])
    first = final(p2p, p2p.payer, body["bulkTransferId"]).body
    assert post(p2p, body).status_code == 202
    again = p2p.receiver.wait(lambda i: i.fsp == p2p.payer and i.path == f"/bulkTransfers/{body['bulkTransferId']}"
                              and i is not p2p.receiver.find(p2p.payer, "PUT", i.path)[0])
    assert again.body == first
    post(p2p, {**body, "individualTransfers": [item("1")]})
    modified = final(p2p, p2p.payer, body["bulkTransferId"], error=True)
    assert modified.body["errorInformation"] == {"errorCode": "3106", "errorDescription": "Modified request"}
    fulfil(p2p, body["bulkTransferId"], [ok(ids[0])], completed=iso(timedelta(seconds=-1)))
    assert final(p2p, p2p.payee, body["bulkTransferId"], error=True).error_code == "3106"


@pytest.mark.parametrize(("change", "code", "text"), [
    ({"payerFsp": "DUMMY"}, "3100", "Generic validation error - FSPIOP-Source header should match Payer FSP"),
    ({"payeeFsp": "DUMMY"}, "3203", "Payee FSP ID not found - Participant DUMMY not found"),
])
def test_bulk_validation_failures_are_reported_to_the_payer(p2p: P2P, change: dict[str, str], code: str,
                                                            text: str) -> None:
    body = {**bulk_body(p2p, "1"), **change}
    post(p2p, body)
    err = final(p2p, p2p.payer, body["bulkTransferId"], error=True)
    assert err.body["errorInformation"] == {"errorCode": code, "errorDescription": text}


def test_get_unknown_and_not_a_party(hub: HubClient, receiver: Receiver) -> None:
    p2p = make_p2p(hub, receiver)
    ghost_id = str(uuid.uuid4())
    hub.fspiop("GET", f"/bulkTransfers/{ghost_id}", p2p.payer, "Hub")
    assert final(p2p, p2p.payer, ghost_id, error=True).error_code == "3210"
    body = bulk_body(p2p, "1")
    prepared(p2p, body)
    other = make_p2p(hub, receiver)
    hub.fspiop("GET", f"/bulkTransfers/{body['bulkTransferId']}", other.payer, "Hub")
    assert final(p2p, other.payer, body["bulkTransferId"], error=True).error_code == "3000"
    hub.fspiop("GET", f"/bulkTransfers/{body['bulkTransferId']}", p2p.payee, "Hub")
    view = final(p2p, p2p.payee, body["bulkTransferId"]).body
    assert view["bulkTransferState"] == "ACCEPTED" and view["individualTransferResults"][0]["condition"]


def test_every_item_failing_sends_nothing(hub: HubClient, receiver: Receiver) -> None:
    p2p = make_p2p(hub, receiver, ndc="1")
    body = bulk_body(p2p, "5", "6")
    post(p2p, body)
    hub.fspiop("GET", f"/bulkTransfers/{body['bulkTransferId']}", p2p.payer, "Hub")
    view = final(p2p, p2p.payer, body["bulkTransferId"]).body
    assert view["bulkTransferState"] == "ACCEPTED"
    assert {r["errorInformation"]["errorCode"] for r in view["individualTransferResults"]} == {"4200"}
    assert p2p.receiver.find(p2p.payee, "POST", "/bulkTransfers") == []


def test_sync_refusals(p2p: P2P) -> None:
    body = bulk_body(p2p, "1")
    r = post(p2p, {**body, "expiration": body["expiration"].replace(".", ",")})
    assert (r.status_code, r.json()["errorInformation"]["errorCode"]) == (400, "3100")
    r = p2p.hub.fspiop("PUT", f"/bulkTransfers/{body['bulkTransferId']}", p2p.payee, p2p.payer,
                       {"bulkTransferState": "COMPLETED"})
    assert r.json()["errorInformation"]["errorCode"] == "3102"
    assert "individualTransferResults" in r.json()["errorInformation"]["errorDescription"]


@pytest.fixture
def legacy(tmp_path: Path, receiver: Receiver) -> Iterator[P2P]:
    with running_hub(str(tmp_path / "hub14.sqlite"), release="14") as hub:
        yield make_p2p(hub, receiver)


def test_helm_14_keeps_the_fsps_headers_and_answers_202(legacy: P2P) -> None:
    body = bulk_body(legacy, "1", "2")
    prepared(legacy, body)
    request = legacy.receiver.find(legacy.payee, "POST", "/bulkTransfers")[-1]
    assert request.headers["fspiop-source"] == legacy.payer
    ids = [i["transferId"] for i in body["individualTransfers"]]
    r = fulfil(legacy, body["bulkTransferId"], [ok(t) for t in ids], destination=legacy.payer)
    assert r.status_code == 202
    to_payer = final(legacy, legacy.payer, body["bulkTransferId"])
    assert to_payer.headers["fspiop-source"] == legacy.payee
    assert to_payer.body["bulkTransferState"] == "COMPLETED"


def test_helm_14_refuses_a_future_timestamp_synchronously_with_its_own_body(legacy: P2P) -> None:
    body = bulk_body(legacy, "1")
    prepared(legacy, body)
    r = fulfil(legacy, body["bulkTransferId"], [ok(body["individualTransfers"][0]["transferId"])],
               destination=legacy.payer, completed=iso(timedelta(seconds=10)))
    assert r.status_code == 400 and r.json()["errorCode"] == 400
    assert "future timestamp" in r.json()["extensionList"]["extension"][0]["value"]


def test_helm_14_validation_failure_is_silent_and_get_names_internal_states(legacy: P2P) -> None:
    bad = {**bulk_body(legacy, "1"), "payeeFsp": "DUMMY"}
    post(legacy, bad)
    good = bulk_body(legacy, "1")
    prepared(legacy, good)
    legacy.hub.fspiop("GET", f"/bulkTransfers/{good['bulkTransferId']}", legacy.payer, legacy.payee)
    assert final(legacy, legacy.payer, good["bulkTransferId"]).body["bulkTransferState"] == "ACCEPTED"
    assert legacy.receiver.find(legacy.payer, "PUT", f"/bulkTransfers/{bad['bulkTransferId']}/error") == []
    err = {"errorInformation": {"errorCode": "5100", "errorDescription": "An error occured"}}
    legacy.hub.fspiop("PUT", f"/bulkTransfers/{good['bulkTransferId']}/error", legacy.payee, legacy.payer, err)
    final(legacy, legacy.payer, good["bulkTransferId"], error=True)
    legacy.hub.fspiop("GET", f"/bulkTransfers/{good['bulkTransferId']}", legacy.payer, legacy.payee)
    legacy.receiver.wait(lambda i: i.fsp == legacy.payer and len(legacy.receiver.find(
        legacy.payer, "PUT", f"/bulkTransfers/{good['bulkTransferId']}/error")) == 2)


# -- bulk quotes ------------------------------------------------------------------------------------------------
def bulk_quote(p2p: P2P, currency: str = CURRENCY) -> dict[str, Any]:
    def one() -> dict[str, Any]:
        return {"quoteId": str(uuid.uuid4()), "transactionId": str(uuid.uuid4()),
                "payee": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "1", "fspId": p2p.payee}},
                "amountType": "SEND", "amount": {"amount": "5", "currency": currency},
                "transactionType": {"scenario": "TRANSFER", "initiator": "PAYER", "initiatorType": "BUSINESS"}}

    return {"bulkQuoteId": str(uuid.uuid4()),
            "payer": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "2", "fspId": p2p.payer}},
            "individualQuotes": [one(), one()]}


def test_bulk_quote_is_relayed_both_ways(p2p: P2P) -> None:
    body = bulk_quote(p2p)
    ident = body["bulkQuoteId"]
    assert p2p.hub.fspiop("POST", "/bulkQuotes", p2p.payer, p2p.payee, body).status_code == 202
    assert p2p.receiver.get(p2p.payee, "POST", "/bulkQuotes").body == body
    answer = {"individualQuoteResults": [
        {"quoteId": body["individualQuotes"][0]["quoteId"], "transferAmount": {"amount": "5", "currency": "USD"}},
        {"quoteId": body["individualQuotes"][1]["quoteId"],
         "errorInformation": {"errorCode": "5101", "errorDescription": "Payee rejected quote"}}],
        "expiration": iso(timedelta(seconds=60))}
    assert p2p.hub.fspiop("PUT", f"/bulkQuotes/{ident}", p2p.payee, p2p.payer, answer).status_code == 200
    back = p2p.receiver.get(p2p.payer, "PUT", f"/bulkQuotes/{ident}")
    assert back.body == answer and back.headers["fspiop-source"] == p2p.payee and "accept" not in back.headers
    assert p2p.hub.fspiop("GET", f"/bulkQuotes/{ident}", p2p.payer, p2p.payee).status_code == 202
    p2p.receiver.get(p2p.payee, "GET", f"/bulkQuotes/{ident}")


def test_bulk_quote_errors(p2p: P2P) -> None:
    body = bulk_quote(p2p, "EUR")
    p2p.hub.fspiop("POST", "/bulkQuotes", p2p.payer, p2p.payee, body)
    err = p2p.receiver.get(p2p.payer, "PUT", f"/bulkQuotes/{body['bulkQuoteId']}/error")
    assert err.body["errorInformation"] == {"errorCode": "3202", "errorDescription":
                                            f"Payer FSP ID not found - Unsupported participant '{p2p.payer}'"}
    # quoting-service names its own errors' resource "quotes"
    assert err.headers["content-type"].startswith("application/vnd.interoperability.quotes+json")
    assert err.headers["fspiop-uri"] == f"/bulkQuotes/{body['bulkQuoteId']}/error"
    ghost = bulk_quote(p2p)
    p2p.hub.fspiop("POST", "/bulkQuotes", p2p.payer, unique("ghost"), ghost)
    assert p2p.receiver.get(p2p.payer, "PUT", f"/bulkQuotes/{ghost['bulkQuoteId']}/error").error_code == "3201"
    ident = str(uuid.uuid4())
    p2p.hub.fspiop("PUT", f"/bulkQuotes/{ident}", p2p.payee, p2p.payer, {"expiration": iso()},
                   headers={"Accept": "application/vnd.interoperability.bulkQuotes+json;version=1"})
    assert p2p.receiver.get(p2p.payee, "PUT", f"/bulkQuotes/{ident}/error").error_code == "3100"


def test_an_item_repeating_an_earlier_transfer(p2p: P2P, tmp_path: Path, receiver: Receiver) -> None:
    """Helm 17: an identical individual duplicate never resolves, so the bulk is never sent to the payee; helm 14:
    the item fails with 3106 and the rest goes on."""
    first = bulk_body(p2p, "1")
    ids = [i["transferId"] for i in prepared(p2p, first)["individualTransfers"]]
    fulfil(p2p, first["bulkTransferId"], [ok(ids[0])])
    final(p2p, p2p.payer, first["bulkTransferId"])
    again = {**bulk_body(p2p, "2"), "expiration": first["expiration"]}
    again["individualTransfers"].insert(0, first["individualTransfers"][0])
    post(p2p, again)
    p2p.hub.fspiop("GET", f"/bulkTransfers/{again['bulkTransferId']}", p2p.payer, "Hub")
    assert final(p2p, p2p.payer, again["bulkTransferId"]).body["bulkTransferState"] == "PENDING"
    assert [r for r in p2p.receiver.find(p2p.payee, "POST", "/bulkTransfers")
            if r.body["bulkTransferId"] == again["bulkTransferId"]] == []
    with running_hub(str(tmp_path / "hub13.sqlite"), release="13") as hub:
        old = make_p2p(hub, receiver)
        first = bulk_body(old, "1")
        prepared(old, first)
        again = {**bulk_body(old, "2"), "expiration": first["expiration"]}
        again["individualTransfers"].insert(0, first["individualTransfers"][0])
        got = prepared(old, again)
        assert [i["transferId"] for i in got["individualTransfers"]] == [again["individualTransfers"][1]["transferId"]]
        hub.fspiop("GET", f"/bulkTransfers/{again['bulkTransferId']}", old.payer, old.payee)
        view = final(old, old.payer, again["bulkTransferId"]).body
        assert view["individualTransferResults"][0]["errorInformation"] == {
            "errorCode": "3106", "errorDescription": "Modified request - Individual transfer prepare duplicate"}


def test_an_answer_from_the_wrong_fsp_rejects_the_bulk_at_17(hub: HubClient, receiver: Receiver) -> None:
    p2p = make_p2p(hub, receiver)
    before = positions(p2p)
    body = bulk_body(p2p, "4")
    ids = [i["transferId"] for i in prepared(p2p, body)["individualTransfers"]]
    other = make_p2p(hub, receiver)
    answer = {"bulkTransferState": "COMPLETED", "completedTimestamp": iso(), "individualTransferResults": [ok(ids[0])]}
    hub.fspiop("PUT", f"/bulkTransfers/{body['bulkTransferId']}", other.payee, "Hub", answer)
    err = final(p2p, p2p.payer, body["bulkTransferId"], error=True)
    assert err.body["errorInformation"]["errorDescription"] == \
        "Generic validation error - FSPIOP-Source header should match Payee FSP"
    assert positions(p2p) == before


def test_helm_14_ignores_an_identical_duplicate_and_an_answer_to_the_hub(legacy: P2P) -> None:
    body = bulk_body(legacy, "1")
    ids = [i["transferId"] for i in prepared(legacy, body)["individualTransfers"]]
    fulfil(legacy, body["bulkTransferId"], [ok(ids[0])], destination="Hub")  # helm 14: must name the payer
    legacy.hub.fspiop("GET", f"/bulkTransfers/{body['bulkTransferId']}", legacy.payer, legacy.payee)
    view = final(legacy, legacy.payer, body["bulkTransferId"]).body
    assert view["bulkTransferState"] == "INVALID"  # stored INVALID, nobody told; the payment waits for expiry
    post(legacy, body)
    legacy.hub.fspiop("GET", f"/transfers/{ids[0]}", legacy.payer)  # a marker after the duplicate was handled
    legacy.receiver.get(legacy.payer, "PUT", f"/transfers/{ids[0]}")
    assert len(legacy.receiver.find(legacy.payer, "PUT", f"/bulkTransfers/{body['bulkTransferId']}")) == 1
