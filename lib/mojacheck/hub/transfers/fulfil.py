"""The payee's answer to a transfer: ``PUT /transfers/{ID}`` (commit, commit notification, ABORTED) and
``PUT /transfers/{ID}/error``, checked in central-ledger's fulfil-handler order (behaviour ref §5.3, §7):

0. a ``RESERVED`` fulfil in FSPIOP 1.0 is dropped (the transfer stays RESERVED and expires);
1. unknown transfer → 2001 "transfer not found" to the sender;
2. ``FSPIOP-Source`` not the payee or ``FSPIOP-Destination`` not the payer → the transfer is aborted, the payer
   hears 3100, a ``RESERVED`` sender gets ``PATCH ABORTED`` with the cause;
3. duplicates by body hash (fulfils and errors apart): identical and final → the state again, identical and in
   progress → nothing, modified → 3106 "Modified request" to the sender;
4. a ``COMMITTED``/``RESERVED`` fulfil whose fulfilment does not match the condition (or is missing, since
   central-ledger v19.14) aborts the transfer: 3100 "invalid fulfilment" to the payer, PATCH ABORTED to a
   ``RESERVED`` sender;
5. not RESERVED → 3100 "non-RESERVED transfer state" to the sender; expired → 3303 to the sender;
6. success: commit (notifications in ``notify.py``); ``transferState: ABORTED`` is stored and otherwise ignored;
   an error aborts the transfer and is relayed to the payer.

ml-api-adapter's synchronous check comes first: a ``completedTimestamp`` in the future or older than the maximum
fulfil time is refused with 400/3100 and nothing else happens. Each outcome is one transaction, committed before
the 200 (the hub acknowledges only what it has stored); the notifications are delivered in the background.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from starlette.responses import Response

from mojacheck.fspiop import error_description, fulfilment_matches, normalise_code
from mojacheck.hub import ledger
from mojacheck.hub.fx import dependent
from mojacheck.hub.transfers import notify
from mojacheck.hub.transfers import store as ts
from mojacheck.hub.validation import FspiopRequest
from mojacheck.hub.web import ApiError, body_hash, log

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

# ml-api-adapter's fulfil validator (lib/validator.js, code defaults): completedTimestamp no older than
# MAX_FULFIL_TIMEOUT_DURATION_SECONDS (300) and no later than now + MAX_CALLBACK_TIME_LAG_DILATION_MILLISECONDS (200).
COMPLETED_WINDOW = timedelta(seconds=300)
CLOCK_SLACK = timedelta(milliseconds=200)
COMMIT, RESERVE, REJECT, ABORT = "commit", "reserve", "reject", "abort"
MISMATCH = "FSP does not match one of the fsp-id's associated with a transfer on the Fulfil callback response"
SOURCE_MISMATCH = "fspiop-source does not match payee fsp on the Fulfil callback response"
DESTINATION_MISMATCH = "fspiop-destination does not match payer fsp on the Fulfil callback response"


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
        raise ApiError("3100", "completedTimestamp fails because future timestamp was provided")
    if when < now - COMPLETED_WINDOW:
        raise ApiError("3100", "completedTimestamp fails because provided timestamp exceeded the maximum timeout "
                               "duration")


async def put_transfer(hub: Hub, req: FspiopRequest) -> Response:
    if req.body["transferState"] not in ("RECEIVED", "RESERVED", "COMMITTED", "ABORTED"):
        raise ApiError("3101", "/body/transferState must be one of RECEIVED, RESERVED, COMMITTED, ABORTED")
    check_completed_timestamp(req)
    answer(hub, req, _action(req))  # stored before the 200
    return Response(status_code=200)


async def put_transfer_error(hub: Hub, req: FspiopRequest) -> Response:
    answer(hub, req, ABORT)  # stored before the 200
    return Response(status_code=200)


def _action(req: FspiopRequest) -> str:
    """ml-api-adapter's classification of a payee PUT: ABORTED → reject, RESERVED → reserve, else commit."""
    return {"ABORTED": REJECT, "RESERVED": RESERVE}.get(req.body["transferState"], COMMIT)


def answer(hub: Hub, req: FspiopRequest, action: str) -> None:
    transfer_id = req.params["ID"]
    if action == RESERVE and req.content_version == "1.0":
        # The commit notification needs FSPIOP 1.1; central-ledger drops a 1.0 RESERVED (the transfer expires).
        log.info("PUT /transfers/%s RESERVED with version 1.0 ignored", transfer_id)
        return
    row = ts.get(hub, transfer_id)
    if row is None:
        hub.outbox.error_to(req.source, "transfers", ts.params(transfer_id), "2001", "transfer not found",
                            trigger=req.headers)
        return
    if _headers_mismatch(hub, req, row, action) or not _first_time(hub, req, row, action):
        return
    if action == REJECT:
        # central-ledger stores the hash, then ignores it ("action REJECT is not allowed into fulfil handler").
        log.info("PUT /transfers/%s with transferState ABORTED ignored", transfer_id)
        return
    row = ts.get(hub, transfer_id) or row
    if action in (COMMIT, RESERVE) and _fulfilment_invalid(hub, req, row):
        _abort_validation(hub, req, row, action, "invalid fulfilment")
        return
    if not _still_open(hub, req, row, action):
        return
    if action == ABORT:
        _abort_by_payee(hub, req, row)
    else:
        _commit(hub, req, row, action)


def _headers_mismatch(hub: Hub, req: FspiopRequest, row: sqlite3.Row, action: str) -> bool:
    """Source not the payee or Destination not the payer (each only when present): the transfer is aborted."""
    bad_source = bool(req.source) and req.source.lower() != str(row["payee"]).lower()
    bad_destination = bool(req.destination) and req.destination.lower() != str(row["payer"]).lower()
    if not (bad_source or bad_destination):
        return False
    detail = DESTINATION_MISMATCH if bad_destination else SOURCE_MISMATCH if bad_source else MISMATCH
    _abort_validation(hub, req, row, action, detail)
    return True


def _abort_validation(hub: Hub, req: FspiopRequest, row: sqlite3.Row, action: str, detail: str) -> None:
    """ABORT_VALIDATION: the transfer is aborted with 3100, the payer told, a RESERVED sender PATCHed."""
    description = error_description("3100", detail)
    if row["state"] != ts.RESERVED:
        # Nothing left to abort: the sender hears why, as for any fulfil of a finished transfer.
        hub.outbox.error_to(req.source, "transfers", ts.params(row["id"]), "3100", description=description,
                            trigger=req.headers)
        return
    _abort(hub, row, "3100", description, req.headers)
    notify.validation_error_to_payer(hub, row, description, req.headers)
    if action == RESERVE:
        notify.reserved_aborted(hub, row, "3100", description, req.headers)


def _first_time(hub: Hub, req: FspiopRequest, row: sqlite3.Row, action: str) -> bool:
    """The duplicate check (fulfils and errors hashed apart): True when this body is new for the transfer."""
    column = "error_hash" if action == ABORT else "fulfil_hash"
    digest = body_hash(req.body)
    if row[column] is None:
        with hub.db.tx():
            hub.db.execute(f"UPDATE transfer SET {column} = ? WHERE id = ?", (digest, row["id"]))
        return True
    params = ts.params(row["id"])
    if row[column] != digest:
        hub.outbox.error_to(req.source, "transfers", params, "3106", trigger=req.headers)
        return False
    if ts.API_STATE.get(row["state"]) not in ("COMMITTED", "ABORTED"):
        return False  # still in progress: the answer is on its way
    if action == RESERVE:
        # The RESERVE notification again: the payer's PUT with the ledger's view, the payee's PATCH.
        body = ts.state_body(row, ledger_view=True)
        notify.patch_to_payee(hub, row, {k: v for k, v in body.items() if k != "fulfilment"}, req.headers,
                              after=body)
    else:
        ts.send_state(hub, row, req.source, req.headers)
    return False


def _fulfilment_invalid(hub: Hub, req: FspiopRequest, row: sqlite3.Row) -> bool:
    fulfilment = req.body.get("fulfilment")
    if not fulfilment:
        # central-ledger before v19.14 skipped the check (and committed) when the fulfilment was missing.
        return hub.release.missing_fulfilment_invalid
    return not fulfilment_matches(str(fulfilment), row["condition"])


def _still_open(hub: Hub, req: FspiopRequest, row: sqlite3.Row, action: str) -> bool:
    """RESERVED and not expired; otherwise the sender hears why (and a RESERVED sender gets PATCH ABORTED)."""
    params = ts.params(row["id"])
    if row["state"] != ts.RESERVED:
        description = error_description("3100", "non-RESERVED transfer state")
        hub.outbox.error_to(req.source, "transfers", params, "3100", description=description, trigger=req.headers)
        if action == RESERVE:
            notify.patch_to_payee(hub, row, {"completedTimestamp": row["changed"], "transferState": "ABORTED"},
                                  req.headers)
        return False
    if row["expiration_ts"] <= datetime.now(UTC).timestamp():
        # The expiry sweep aborts it and tells both sides; the late payee hears it now. (central-ledger's PATCH for a
        # RESERVED sender here is addressed to the hub itself, so it reaches nobody.)
        hub.outbox.error_to(req.source, "transfers", params, "3303", trigger=req.headers)
        return False
    return True


def _commit(hub: Hub, req: FspiopRequest, row: sqlite3.Row, action: str) -> None:
    fulfilment = req.body.get("fulfilment")
    extensions = (req.body.get("extensionList") or {}).get("extension")
    with hub.db.tx():
        fx = dependent.commit(hub, row)  # both legs of a transfer that completes a conversion, else None
        window = fx.window_id if fx else ledger.commit(hub.db, row["payer"], row["payee"], row["currency"],
                                                       Decimal(row["amount"]), row["id"])
        ts.set_state(hub, row["id"], ts.COMMITTED, fulfilment=str(fulfilment) if fulfilment else None,
                     completed_timestamp=str(req.body.get("completedTimestamp") or ""),
                     settlement_window_id=window,
                     fulfil_extensions=json.dumps({"extension": extensions}) if extensions else None)
    if fx:
        dependent.tell_fxp(hub, fx.conversions, "COMMITTED", req.headers)
    committed = ts.get(hub, row["id"]) or row
    if action == RESERVE:
        notify.committed_reserved(hub, req, committed)
    else:
        notify.relay_fulfil(hub, req, committed)


def _abort_by_payee(hub: Hub, req: FspiopRequest, row: sqlite3.Row) -> None:
    """The payee's error: ABORTED_ERROR, the reservation back; an errorCode outside every specified range is
    replaced by 3100 "API specification undefined errorCode", as central-ledger does."""
    info = req.body["errorInformation"]
    code = normalise_code(info["errorCode"])
    known = code == str(info["errorCode"])
    if known:
        description = str(info["errorDescription"])
    else:
        code, description = "3100", error_description("3100", "API specification undefined errorCode")
    _abort(hub, row, code, description, req.headers)
    notify.payee_error(hub, req, row, code, description, known)


def _abort(hub: Hub, row: sqlite3.Row, code: str, description: str, trigger: Mapping[str, str]) -> None:
    """ABORTED_ERROR with its cause; a conversion waiting on the transfer is aborted with it and its FXP told."""
    with hub.db.tx():
        ts.abort(hub, row, ts.ABORTED_ERROR, code, description)
        conversions = dependent.abort(hub, row, code, description)
    dependent.tell_fxp(hub, conversions, "ABORTED", trigger)
