"""The simulator as bulk payee against a fake hub: bulk quotes with ILP per item, bulk transfers fulfilled per
item, and the per-item and whole-bulk behaviours."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sim_support import PAYEE, PAYER, FakeHub, deliver

from mojacheck.fspiop import condition_for, decode_transaction, fulfilment_matches, new_id


def bulk_quote(n: int = 3) -> dict[str, Any]:
    return {"bulkQuoteId": new_id(),
            "payer": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "27710000999", "fspId": PAYER}},
            "individualQuotes": [{
                "quoteId": new_id(), "transactionId": new_id(),
                "payee": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": f"2771000000{i}",
                                          "fspId": PAYEE}},
                "amountType": "SEND", "amount": {"amount": f"{i + 1}.5", "currency": "USD"},
                "transactionType": {"scenario": "TRANSFER", "initiator": "PAYER", "initiatorType": "BUSINESS"}}
                for i in range(n)]}


def quoted(sim: httpx.Client, hub: FakeHub, body: dict[str, Any]) -> dict[str, Any]:
    assert deliver(sim, "POST", f"/{PAYEE}/bulkQuotes", body).status_code == 202
    return hub.wait_path("PUT", f"/bulkQuotes/{body['bulkQuoteId']}").body


def bulk_transfer(quote: dict[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
    return {"bulkTransferId": new_id(), "bulkQuoteId": quote["bulkQuoteId"], "payerFsp": PAYER, "payeeFsp": PAYEE,
            "expiration": "2030-01-01T00:00:00.000Z",
            "individualTransfers": [{"transferId": new_id(), "transferAmount": r["transferAmount"],
                                     "ilpPacket": r["ilpPacket"], "condition": r["condition"]}
                                    for r in answer["individualQuoteResults"]]}


def fulfilled(sim: httpx.Client, hub: FakeHub, body: dict[str, Any], source: str = "Hub") -> Any:
    assert deliver(sim, "POST", f"/{PAYEE}/bulkTransfers", body, source=source, version="2.0").status_code == 202
    return hub.wait_path("PUT", f"/bulkTransfers/{body['bulkTransferId']}")


def test_bulk_quote_has_a_sealed_packet_per_item(sim: httpx.Client, hub: FakeHub) -> None:
    body = bulk_quote()
    answer = quoted(sim, hub, body)
    results = answer["individualQuoteResults"]
    assert [r["quoteId"] for r in results] == [q["quoteId"] for q in body["individualQuotes"]]
    assert [r["transferAmount"]["amount"] for r in results] == ["1.5", "2.5", "3.5"]
    sealed = decode_transaction(results[1]["ilpPacket"])
    assert sealed["quoteId"] == body["individualQuotes"][1]["quoteId"]
    assert sealed["payer"] == body["payer"] and answer["expiration"].endswith("Z")
    deliver(sim, "GET", f"/{PAYEE}/bulkQuotes/{body['bulkQuoteId']}")
    again = [r for r in hub.received if r.method == "PUT" and r.path == f"/bulkQuotes/{body['bulkQuoteId']}"]
    hub.wait_for(lambda r: len([x for x in hub.received if x.path == again[0].path]) == 2)
    deliver(sim, "GET", f"/{PAYEE}/bulkQuotes/{new_id()}")
    assert hub.wait_for(lambda r: r.path.endswith("/error")).body["errorInformation"]["errorCode"] == "3209"


def test_bulk_quote_item_and_whole_rejections(sim: httpx.Client, hub: FakeHub) -> None:
    body = bulk_quote()
    victim = body["individualQuotes"][1]["quoteId"]
    sim.post("/_sim/rules", json={"fsp": PAYEE, "resource": "bulkQuotes", "behaviour": "reject",
                                  "match": {"id": victim}})
    results = quoted(sim, hub, body)["individualQuoteResults"]
    assert results[1]["errorInformation"]["errorCode"] == "5101" and "ilpPacket" in results[0]
    whole = bulk_quote()
    sim.post("/_sim/rules", json={"fsp": PAYEE, "resource": "bulkQuotes", "behaviour": "reject",
                                  "match": {"id": whole["bulkQuoteId"]}, "errorCode": "5100"})
    deliver(sim, "POST", f"/{PAYEE}/bulkQuotes", whole)
    err = hub.wait_path("PUT", f"/bulkQuotes/{whole['bulkQuoteId']}/error")
    assert err.body["errorInformation"]["errorCode"] == "5100"


def test_bulk_transfer_fulfils_every_item_and_answers_whoever_sent_it(sim: httpx.Client, hub: FakeHub) -> None:
    quote = bulk_quote()
    body = bulk_transfer(quote, quoted(sim, hub, quote))
    answer = fulfilled(sim, hub, body)
    assert answer.headers["fspiop-destination"] == "Hub"  # the hub sent the POST (helm >= 14.1)
    assert answer.headers["content-type"].endswith("version=2.0")
    assert answer.body["bulkTransferState"] == "COMPLETED"
    completed = datetime.fromisoformat(answer.body["completedTimestamp"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - completed).total_seconds()) < 5
    for item, result in zip(body["individualTransfers"], answer.body["individualTransferResults"], strict=True):
        assert result["transferId"] == item["transferId"]
        assert fulfilment_matches(result["fulfilment"], item["condition"])
    legacy = bulk_transfer(quote, quoted(sim, hub, bulk_quote()))
    assert fulfilled(sim, hub, legacy, source=PAYER).headers["fspiop-destination"] == PAYER


def test_bulk_transfer_item_behaviours(sim: httpx.Client, hub: FakeHub) -> None:
    quote = bulk_quote()
    body = bulk_transfer(quote, quoted(sim, hub, quote))
    first, second = body["individualTransfers"][0]["transferId"], body["individualTransfers"][1]["transferId"]
    sim.post("/_sim/rules", json={"fsp": PAYEE, "resource": "bulkTransfers", "behaviour": "reject",
                                  "match": {"id": first}})
    sim.post("/_sim/rules", json={"fsp": PAYEE, "resource": "bulkTransfers", "behaviour": "invalid_fulfilment",
                                  "match": {"id": second}})
    results = fulfilled(sim, hub, body).body["individualTransferResults"]
    assert results[0]["errorInformation"]["errorCode"] == "5105" and "fulfilment" not in results[0]
    assert len(results[1]["fulfilment"]) == 43
    assert not fulfilment_matches(results[1]["fulfilment"], body["individualTransfers"][1]["condition"])
    assert fulfilment_matches(results[2]["fulfilment"], body["individualTransfers"][2]["condition"])


def test_bulk_transfer_whole_behaviours(sim: httpx.Client, hub: FakeHub) -> None:
    quote = bulk_quote(1)
    answer = quoted(sim, hub, quote)
    future = bulk_transfer(quote, answer)
    sim.post("/_sim/rules", json={"fsp": PAYEE, "resource": "bulkTransfers", "behaviour": "future_timestamp",
                                  "match": {"id": future["bulkTransferId"]}})
    stamp = fulfilled(sim, hub, future).body["completedTimestamp"]
    assert datetime.fromisoformat(stamp.replace("Z", "+00:00")) > datetime.now(UTC)
    rejected = bulk_transfer(quote, answer)
    sim.post("/_sim/rules", json={"fsp": PAYEE, "resource": "bulkTransfers", "behaviour": "reject",
                                  "match": {"id": rejected["bulkTransferId"]}})
    deliver(sim, "POST", f"/{PAYEE}/bulkTransfers", rejected, source="Hub")
    err = hub.wait_path("PUT", f"/bulkTransfers/{rejected['bulkTransferId']}/error")
    assert err.body["errorInformation"]["errorCode"] == "5105"
    silent = bulk_transfer(quote, answer)
    sim.post("/_sim/rules", json={"fsp": PAYEE, "resource": "bulkTransfers", "behaviour": "no_answer",
                                  "match": {"id": silent["bulkTransferId"]}})
    deliver(sim, "POST", f"/{PAYEE}/bulkTransfers", silent, source="Hub")
    marker = bulk_transfer(quote, answer)
    fulfilled(sim, hub, marker)  # answered after the silent one was handled
    assert not [r for r in hub.received if silent["bulkTransferId"] in r.path]
    assert condition_for(fulfilled(sim, hub, bulk_transfer(quote, answer)).body[
        "individualTransferResults"][0]["fulfilment"]) == answer["individualQuoteResults"][0]["condition"]
