"""The payee's answer to a bulk (``PUT /bulkTransfers/{ID}`` and ``…/error``) and the end of a bulk
(central-ledger src/handlers/bulk/fulfil/handler.js and processing/handler.js).

A valid answer is split per ``individualTransferResults`` entry, in array order: a fulfilment commits its transfer
(payee position lowered, counted in the open settlement window), an error or a missing fulfilment aborts it (payer's
reservation given back), a fulfilment that does not match the condition aborts it through the single-transfer path
(``PUT /transfers/{ID}/error`` to payer and payee) and leaves the item in PROCESSING for good. The bulk is complete
when no item is still RECEIVED, ACCEPTED or PROCESSING; the last item's event decides how it ends: an abort →
REJECTED and ``PUT …/error`` to both, a commit or a timeout → COMPLETED and the results to both, a fulfil that
failed its checks (non-RESERVED, expired) → COMPLETED and no message at all (bulk-api-adapter drops it).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse, Response

from mojacheck.fspiop import error_description, fulfilment_matches, normalise_code
from mojacheck.hub import ledger
from mojacheck.hub.bodycheck import check_body
from mojacheck.hub.bulk import bodies, notify, store
from mojacheck.hub.db import HUB_NAME
from mojacheck.hub.transfers import store as ts
from mojacheck.hub.validation import FspiopRequest
from mojacheck.hub.web import body_hash, log

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

MAX_AGE = timedelta(seconds=300)  # MAX_FULFIL_TIMEOUT_DURATION_SECONDS
FUTURE = "completedTimestamp fails because future timestamp was provided"
TOO_OLD = "completedTimestamp fails because provided timestamp exceeded the maximum timeout duration"
UNDEFINED_CODE = "API specification undefined errorCode"

Event = tuple[str, dict[str, str] | None]  # ("commit" | "abort" | "fulfil_error" | "hang", errorInformation)


def _timestamp_problem(body: dict[str, Any]) -> str | None:
    value = body.get("completedTimestamp")
    if value is None:
        return None
    try:
        when = ts.parse_datetime(str(value))
    except ValueError:
        return "completedTimestamp is not a date-time"
    now = datetime.now(UTC)
    if when > now:
        return FUTURE
    if when < now - MAX_AGE:
        return TOO_OLD
    return None


async def put_bulk_transfer(hub: Hub, req: FspiopRequest) -> Response:
    check_body(bodies.PUT_BULK_TRANSFER, req.body)
    if hub.release.bulk_legacy:
        # bulk-api-adapter <= 14.0.1 checked the timestamp itself and answered with a non-FSPIOP body.
        problem = _timestamp_problem(req.body)
        if problem is not None:
            return JSONResponse({"errorCode": 400, "errorDescription": "Bad Request", "extensionList": {
                "extension": [{"key": "customValidationError", "value": problem}]}}, status_code=400)

    async def work() -> None:
        answer(hub, req, is_error=False)

    hub.outbox.spawn(work(), "PUT /bulkTransfers")
    return Response(status_code=202 if hub.release.bulk_legacy else 200)


async def put_bulk_transfer_error(hub: Hub, req: FspiopRequest) -> Response:
    check_body(bodies.BULK_ERROR, req.body)

    async def work() -> None:
        answer(hub, req, is_error=True)

    hub.outbox.spawn(work(), "PUT /bulkTransfers error")
    return Response(status_code=200)


def _validate(hub: Hub, req: FspiopRequest, bulk: sqlite3.Row) -> str | None:
    """central-ledger's bulk fulfil validation: the detail of the first failure, or None."""
    if req.source != bulk["payee"]:
        return "FSPIOP-Source header should match Payee FSP"
    allowed = {bulk["payer"].lower()} if hub.release.bulk_legacy else {bulk["payer"].lower(), HUB_NAME.lower()}
    if req.destination.lower() not in allowed:
        return "FSPIOP-Destination header should match Payer FSP"
    if not hub.release.bulk_legacy:  # before, bulk-api-adapter refused it synchronously
        problem = _timestamp_problem(req.body)
        if problem is not None:
            return f"Bulk fulfil failed validation - {problem}"
    return None


def answer(hub: Hub, req: FspiopRequest, *, is_error: bool) -> None:
    bulk_id, digest = req.params["ID"], body_hash(req.body)
    bulk = store.get(hub, bulk_id)
    if bulk is None:
        log.info("answer to unknown bulk %s dropped (central-ledger's duplicate check needs the bulk)", bulk_id)
        return
    if bulk["fulfil_hash"] is not None:
        if bulk["fulfil_hash"] != digest:
            notify.error_code(hub, req.source, bulk_id, "3106", None, req.headers)
        return  # identical: ignored
    problem = _validate(hub, req, bulk)
    with hub.db.tx():
        store.set_state(hub, bulk_id, bulk["state"], fulfil_hash=digest, fulfil_headers=json.dumps(req.headers))
    if problem is not None:
        if hub.release.bulk_legacy:  # stored INVALID, nobody told; the items expire
            with hub.db.tx():
                store.set_state(hub, bulk_id, store.INVALID, reason=problem)
            return
        info = {"errorCode": "3100", "errorDescription": error_description("3100", problem)}
        notify.error(hub, req.source, bulk_id, info, req.headers)  # the payee hears it at once
        abort_all(hub, bulk_id, info, req.headers, while_state=store.ABORTING)
        return
    if is_error:
        abort_all(hub, bulk_id, _error_info(req.body.get("errorInformation")), req.headers,
                  while_state=store.PROCESSING)
        return
    _fulfil(hub, req, bulk_id)


def _error_info(given: Any) -> dict[str, str]:
    """The errorInformation an abort records: the payee's own, or 3100 for a code outside the specification."""
    given = given if isinstance(given, dict) else {}
    raw = given.get("errorCode")
    code = normalise_code(raw) if raw is not None else "3100"
    if raw is None or code != str(raw):
        return {"errorCode": "3100", "errorDescription": error_description("3100", UNDEFINED_CODE)}
    return {"errorCode": code, "errorDescription": str(given.get("errorDescription", ""))}


def abort_all(hub: Hub, bulk_id: str, info: dict[str, str], trigger: dict[str, str], *, while_state: str) -> None:
    """Abort every item the payee was asked about with ``info``; the bulk ends REJECTED (when any was aborted)."""
    with hub.db.tx():
        store.set_state(hub, bulk_id, while_state)
        aborted = 0
        for item in store.items(hub, bulk_id):
            if item["state"] != "ACCEPTED":
                continue
            transfer = ts.get(hub, item["transfer_id"])
            if transfer is not None and transfer["state"] == ts.RESERVED:
                ts.abort(hub, transfer, ts.ABORTED_ERROR, info["errorCode"], info["errorDescription"])
            store.set_item(hub, bulk_id, item["seq"], "REJECTED", error=(info["errorCode"], info["errorDescription"]))
            aborted += 1
        if aborted and store.is_complete(hub, bulk_id):
            store.set_state(hub, bulk_id, store.REJECTED, reason=json.dumps(info))
    if aborted and store.is_complete(hub, bulk_id):
        notify.final(hub, bulk_id, trigger, payee_answer=False)
    elif not aborted:
        log.info("bulk %s: nothing left to abort; no message (no item event reaches the processing handler)", bulk_id)


def _fulfil(hub: Hub, req: FspiopRequest, bulk_id: str) -> None:
    body = req.body
    invalid: list[sqlite3.Row] = []
    last: Event | None = None
    with hub.db.tx():
        store.set_state(hub, bulk_id, store.PROCESSING,
                        completed_timestamp=store.whole_seconds(body.get("completedTimestamp")),
                        fulfil_extensions=json.dumps(body["extensionList"]) if body.get("extensionList") else None)
        for entry in body["individualTransferResults"]:
            item = _item(hub, bulk_id, str(entry.get("transferId")))
            if item is None:
                log.info("bulk %s: result for unknown transfer %s ignored", bulk_id, entry.get("transferId"))
                continue
            last = _entry(hub, bulk_id, item, entry, str(body.get("completedTimestamp") or ""))
            if last[0] == "hang":
                invalid.append(item)
        done = finish(hub, bulk_id, last)
    for item in invalid:
        # The single-transfer path reports the invalid fulfilment per transfer; the bulk never hears of it.
        bulk = store.get(hub, bulk_id)
        assert bulk is not None
        for fsp in (bulk["payer"], bulk["payee"]):
            hub.outbox.error_to(fsp, "transfers", ts.params(item["transfer_id"]), "3100", "invalid fulfilment",
                                trigger=req.headers)
    if done:
        notify.final(hub, bulk_id, req.headers, payee_answer=True)


def _item(hub: Hub, bulk_id: str, transfer_id: str) -> sqlite3.Row | None:
    return hub.db.one("SELECT * FROM bulk_item WHERE bulk_id = ? AND transfer_id = ? ORDER BY state = 'ACCEPTED' DESC, "
                      "seq LIMIT 1", (bulk_id, transfer_id))


def _entry(hub: Hub, bulk_id: str, item: sqlite3.Row, entry: dict[str, Any], completed: str) -> Event:
    """One result of the payee's answer applied to its item (inside the caller's transaction)."""
    seq, transfer = item["seq"], ts.get(hub, item["transfer_id"])
    reserved = transfer is not None and transfer["state"] == ts.RESERVED and item["state"] == "ACCEPTED"
    if "errorInformation" in entry or not entry.get("fulfilment"):
        info = _error_info(entry.get("errorInformation"))
        if not reserved:
            return _fulfil_error(hub, bulk_id, seq)
        assert transfer is not None
        ts.abort(hub, transfer, ts.ABORTED_ERROR, info["errorCode"], info["errorDescription"])
        store.set_item(hub, bulk_id, seq, "REJECTED", error=(info["errorCode"], info["errorDescription"]))
        return "abort", info
    fulfilment = str(entry["fulfilment"])
    if reserved and not fulfilment_matches(fulfilment, transfer["condition"]):
        assert transfer is not None
        ts.abort(hub, transfer, ts.ABORTED_REJECTED, "3100", "invalid fulfilment")
        store.set_item(hub, bulk_id, seq, "PROCESSING")
        return "hang", None
    if not reserved:
        return _fulfil_error(hub, bulk_id, seq)
    assert transfer is not None
    if transfer["expiration_ts"] <= datetime.now(UTC).timestamp():
        ts.abort(hub, transfer, ts.EXPIRED_RESERVED, "3303", "Transfer expired")
        store.set_item(hub, bulk_id, seq, "FULFIL_INVALID", error=("3303", "Transfer expired"))
        return "fulfil_error", None
    window = ledger.commit(hub.db, transfer["payer"], transfer["payee"], transfer["currency"],
                           Decimal(transfer["amount"]), transfer["id"])
    ts.set_state(hub, transfer["id"], ts.COMMITTED, fulfilment=fulfilment, completed_timestamp=completed or None,
                 settlement_window_id=window)
    store.set_item(hub, bulk_id, seq, "COMPLETED", fulfilment=fulfilment, extensions=entry.get("extensionList"))
    return "commit", None


def _fulfil_error(hub: Hub, bulk_id: str, seq: int) -> Event:
    detail = error_description("3100", "non-RESERVED transfer state")
    store.set_item(hub, bulk_id, seq, "FULFIL_INVALID", error=("3100", detail))
    return "fulfil_error", None


def finish(hub: Hub, bulk_id: str, last: Event | None) -> bool:
    """After the items' events: the bulk's next state; True when its end is to be announced."""
    if not store.is_complete(hub, bulk_id):
        store.set_state(hub, bulk_id, store.PENDING_FULFIL)
        return False
    event, info = last or ("fulfil_error", None)
    if event == "abort":
        store.set_state(hub, bulk_id, store.REJECTED, reason=json.dumps(info))
        return True
    store.set_state(hub, bulk_id, store.COMPLETED)
    # A fulfil that failed its checks ends the bulk with an event bulk-api-adapter does not handle: no message.
    return event in ("commit", "expired")


def answer_get(hub: Hub, req: FspiopRequest) -> None:
    """``GET /bulkTransfers/{ID}``: the requester's view of the bulk (central-ledger bulk/get/handler.js)."""
    bulk_id, requester = req.params["ID"], req.source
    row = ledger.participant(hub.db, requester)
    if row is None or not row["is_active"]:
        log.info("GET /bulkTransfers from unknown or inactive %r dropped", requester)
        return
    bulk = store.get(hub, bulk_id)
    if bulk is None:
        notify.error_code(hub, requester, bulk_id, "3210", "Provided Bulk Transfer ID was not found on the server.",
                          req.headers)
        return
    if requester not in (bulk["payer"], bulk["payee"]):
        notify.error_code(hub, requester, bulk_id, "3000", None, req.headers)
        return
    payee = requester == bulk["payee"]
    with_results = bulk["state"] != store.PROCESSING
    if not hub.release.bulk_legacy:
        state = store.API_STATE.get(bulk["state"], bulk["state"])
        notify.put(hub, requester, bulk_id, store.state_body(hub, bulk, payee=payee, state=state,
                                                             with_results=with_results), req.headers)
        return
    # Before helm 14.1: the internal state's name, and a REJECTED bulk as an error (its first item's).
    if bulk["state"] == store.REJECTED:
        shown = store.results(hub, bulk, payee=payee)
        if shown and "errorInformation" in shown[0]:
            notify.error(hub, requester, bulk_id, shown[0]["errorInformation"], req.headers)
        return
    notify.put(hub, requester, bulk_id, store.state_body(hub, bulk, payee=payee, state=bulk["state"],
                                                         with_results=with_results), req.headers)


async def get_bulk_transfer(hub: Hub, req: FspiopRequest) -> Response:
    async def work() -> None:
        answer_get(hub, req)

    hub.outbox.spawn(work(), "GET /bulkTransfers")
    return Response(status_code=202)
