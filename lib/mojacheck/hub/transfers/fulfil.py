"""The payee's answer to a transfer: fulfil (PUT), commit notification (RESERVED → PATCH), reject (error).

Behaviour ref §5.3 step 5 and §7 (fulfil duplicates). Checks run in central-ledger's order; each outcome is
one transaction, committed before the 200 (the hub acknowledges only what it has stored), then the notifications
are delivered in the background.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from starlette.responses import Response

from mojacheck.fspiop import fulfilment_matches, normalise_code
from mojacheck.hub import ledger
from mojacheck.hub.callbacks import relay_headers
from mojacheck.hub.db import now_iso
from mojacheck.hub.fx import dependent
from mojacheck.hub.transfers import store as ts
from mojacheck.hub.validation import FspiopRequest
from mojacheck.hub.web import ApiError, body_hash, log

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

# ml-api-adapter's fulfil validator (lib/validator.js, defaults): completedTimestamp no older than
# MAX_FULFIL_TIMEOUT_DURATION_SECONDS (300) and no later than now + MAX_CALLBACK_TIME_LAG_DILATION_MILLISECONDS (200).
COMPLETED_WINDOW = timedelta(seconds=300)
CLOCK_SLACK = timedelta(milliseconds=200)
ERROR_ENDPOINT = "FSPIOP_CALLBACK_URL_TRANSFER_ERROR"


def check_completed_timestamp(req: FspiopRequest) -> None:
    value = req.body.get("completedTimestamp")
    if value is None:
        return
    try:
        when = ts.parse_datetime(str(value))
    except ValueError:
        raise ApiError("3101", "/body/completedTimestamp must be an ISO-8601 date-time") from None
    now = datetime.now(UTC)
    if when > now + CLOCK_SLACK:
        raise ApiError("3100", "Transfer completedTimestamp is in the future")
    if when < now - COMPLETED_WINDOW:
        raise ApiError("3100", "Transfer completedTimestamp is older than 300 seconds")


async def put_transfer(hub: Hub, req: FspiopRequest) -> Response:
    if req.body["transferState"] not in ("RECEIVED", "RESERVED", "COMMITTED", "ABORTED"):
        raise ApiError("3101", "/body/transferState must be one of RECEIVED, RESERVED, COMMITTED, ABORTED")
    check_completed_timestamp(req)
    fulfil(hub, req)  # stored before the 200
    return Response(status_code=200)


def _precheck(hub: Hub, req: FspiopRequest, row: sqlite3.Row | None, digest: str) -> bool:
    """Unknown id, wrong sender, duplicates, wrong state, expiry: True when the fulfil may proceed."""
    transfer_id = req.params["ID"]
    params = ts.params(transfer_id)
    if row is None:
        hub.outbox.error_to(req.source, "transfers", params, "3208")
        return False
    if req.source != row["payee"]:
        hub.outbox.error_to(req.source, "transfers", params, "3100", "FSPIOP-Source header should match Payee")
        return False
    if row["fulfil_hash"] is not None:
        if row["fulfil_hash"] != digest:
            hub.outbox.error_to(req.source, "transfers", params, "3106", f"Fulfil of {transfer_id} was modified")
        elif row["state"] in ts.FINAL:
            ts.send_state(hub, row, req.source)
        return False
    if row["state"] in ts.EXPIRED:
        hub.outbox.error_to(req.source, "transfers", params, "3303")
        return False
    if row["state"] != ts.RESERVED:
        hub.outbox.error_to(req.source, "transfers", params, "3100", "Transfer is in a non-RESERVED transfer state")
        return False
    if row["expiration_ts"] <= datetime.now(UTC).timestamp():
        # The sweep aborts it and tells both sides; the late payee hears it now.
        hub.outbox.error_to(req.source, "transfers", params, "3303")
        return False
    return True


def fulfil(hub: Hub, req: FspiopRequest) -> None:
    state = req.body["transferState"]
    if state in ("ABORTED", "RECEIVED"):
        # Current central-ledger ignores ABORTED in a PUT; payees reject with PUT …/error.
        log.info("PUT /transfers/%s with transferState %s ignored", req.params["ID"], state)
        return
    if state == "RESERVED" and req.content_version == "1.0":
        # The commit-notification flow needs v1.1; central-ledger drops a 1.0 RESERVED (it then expires).
        log.info("PUT /transfers/%s RESERVED with version 1.0 ignored", req.params["ID"])
        return
    digest = body_hash(req.body)
    row = ts.get(hub, req.params["ID"])
    if not _precheck(hub, req, row, digest):
        return
    assert row is not None
    if req.destination != row["payer"]:
        reject(hub, row, "FSPIOP-Destination header should match Payer", digest)
    elif not fulfilment_matches(str(req.body.get("fulfilment") or ""), row["condition"]):
        reject(hub, row, "invalid fulfilment", digest)
    else:
        commit(hub, req, row, digest)


def reject(hub: Hub, row: sqlite3.Row, detail: str, digest: str) -> None:
    """A fulfil that fails validation aborts the transfer; payer and payee both hear 3100."""
    with hub.db.tx():
        ts.abort(hub, row, ts.ABORTED_REJECTED, "3100", detail, fulfil_hash=digest)
        conversions = dependent.abort(hub, row, "3100", detail)
    dependent.tell_fxp(hub, conversions, "ABORTED")
    for fsp in (row["payer"], row["payee"]):
        hub.outbox.error_to(fsp, "transfers", ts.params(row["id"]), "3100", detail)


def commit(hub: Hub, req: FspiopRequest, row: sqlite3.Row, digest: str) -> None:
    completed = str(req.body.get("completedTimestamp") or now_iso())
    with hub.db.tx():
        fx = dependent.commit(hub, row)  # both legs of a transfer that completes a conversion, else None
        window = fx.window_id if fx else ledger.commit(hub.db, row["payer"], row["payee"], row["currency"],
                                                       Decimal(row["amount"]), row["id"])
        ts.set_state(hub, row["id"], ts.COMMITTED, fulfilment=str(req.body["fulfilment"]),
                     completed_timestamp=completed, fulfil_hash=digest, settlement_window_id=window)
    if fx:
        dependent.tell_fxp(hub, fx.conversions, "COMMITTED")
    params = ts.params(row["id"])
    payer_url = hub.outbox.url(row["payer"], ts.PUT_ENDPOINT, params)
    payee_url = hub.outbox.url(row["payee"], ts.PUT_ENDPOINT, params)
    hub_body = {"transferState": "COMMITTED", "fulfilment": req.body["fulfilment"], "completedTimestamp": completed}
    if req.body["transferState"] == "RESERVED":
        # v1.1 commit notification: the payer hears COMMITTED from the hub, the payee gets a PATCH.
        if payer_url:
            hub.outbox.hub_message("PUT", row["payer"], payer_url, "transfers", hub_body)
        if payee_url:
            patch = {"transferState": "COMMITTED", "completedTimestamp": completed}
            hub.outbox.hub_message("PATCH", row["payee"], payee_url, "transfers", patch)
    else:
        if payer_url:
            hub.outbox.send("PUT", payer_url, relay_headers(req.headers, "PUT"), req.raw)
        if payee_url:  # SEND_TRANSFER_CONFIRMATION_TO_PAYEE=true, central-ledger's default
            hub.outbox.hub_message("PUT", row["payee"], payee_url, "transfers", hub_body)
    if payer_url is None:
        log.warning("no %s endpoint for payer %s: commit of %s not reported", ts.PUT_ENDPOINT, row["payer"], row["id"])


async def put_transfer_error(hub: Hub, req: FspiopRequest) -> Response:
    payee_error(hub, req)  # stored before the 200
    return Response(status_code=200)


def payee_error(hub: Hub, req: FspiopRequest) -> None:
    """The payee rejects: ABORTED_ERROR, reservation back, error relayed to the payer and echoed to the payee."""
    digest = body_hash(req.body)
    row = ts.get(hub, req.params["ID"])
    if not _precheck(hub, req, row, digest):
        return
    assert row is not None
    info = req.body["errorInformation"]
    code = normalise_code(info["errorCode"])
    known = code == str(info["errorCode"])
    detail = str(info["errorDescription"]) if known else "API specification undefined errorCode"
    with hub.db.tx():
        ts.abort(hub, row, ts.ABORTED_ERROR, code, detail, fulfil_hash=digest)
        conversions = dependent.abort(hub, row, code, detail)
    dependent.tell_fxp(hub, conversions, "ABORTED")
    params = ts.params(row["id"])
    payer_url = hub.outbox.url(row["payer"], ERROR_ENDPOINT, params)
    if known and payer_url:
        hub.outbox.send("PUT", payer_url, relay_headers(req.headers, "PUT"), req.raw)
    elif payer_url:
        hub.outbox.error_to(row["payer"], "transfers", params, code, detail)
    payee_url = hub.outbox.url(row["payee"], ERROR_ENDPOINT, params)
    if payee_url:
        hub.outbox.hub_message("PUT", row["payee"], payee_url, "transfers", {"errorInformation": info})
