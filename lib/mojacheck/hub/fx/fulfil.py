"""The FXP's answer to a conversion: fulfil (``PUT /fxTransfers/{ID}``) and reject (``…/error``), fx.md §4.4–4.5.

A fulfil moves no position: the conversion waits (RECEIVED_FULFIL_DEPENDENT, shown as RESERVED) for the transfer
that depends on it, and the payer DFSP receives the FXP's answer unchanged. Checks run in central-ledger's order.
Where central-ledger emits an error no service delivers (an unknown, late or out-of-state fulfil: ml-api-adapter has
no branch for a failed ``fx-reserve``), the hub logs it and sends nothing, as a real hub does.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from mojacheck.fspiop import fulfilment_matches, normalise_code
from mojacheck.hub import ledger
from mojacheck.hub.db import now_iso
from mojacheck.hub.fx import store as fs
from mojacheck.hub.fx import syntax
from mojacheck.hub.headers import relayed, uri_of
from mojacheck.hub.transfers import store as ts
from mojacheck.hub.transfers.fulfil import check_completed_timestamp
from mojacheck.hub.validation import FspiopRequest
from mojacheck.hub.web import body_hash, log

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub


async def put_fx_transfer(hub: Hub, req: FspiopRequest) -> Response:
    syntax.fx_fulfil(req)
    check_completed_timestamp(req)
    fulfil(hub, req)  # stored before the 200 (the hub acknowledges only what it has stored)
    return Response(status_code=200)


def _dropped(req: FspiopRequest, why: str) -> None:
    log.warning("PUT /fxTransfers/%s from %s dropped, as central-ledger's fx-reserve errors are: %s",
                req.params["ID"], req.source, why)


def fulfil(hub: Hub, req: FspiopRequest) -> None:
    state = str(req.body["conversionState"])
    if state == "ABORTED":
        # ml-api-adapter makes it an fx-reject, which central-ledger ignores: the conversion stays RESERVED.
        log.info("PUT /fxTransfers/%s with conversionState ABORTED ignored", req.params["ID"])
        return
    row = fs.get(hub, req.params["ID"])
    if row is None:
        _dropped(req, "fxTransfer not found")
        return
    digest = body_hash(req.body)
    if row["fulfil_hash"] is not None:
        resent(hub, req, row, digest)
        return
    if row["state"] != fs.RESERVED:
        _dropped(req, f"Non-RESERVED fxTransfer state {row['state']}")
        return
    headers_ok = (req.source.lower() == row["counterparty_fsp"].lower()
                  and req.destination.lower() == row["initiating_fsp"].lower())
    if not headers_ok:  # central-ledger compares both headers, case-insensitively; a missing one fails
        abort_invalid(hub, row, req.headers)
        return
    if "fulfilment" in req.body and not fulfilment_matches(str(req.body["fulfilment"]), row["condition"]):
        abort_invalid(hub, row, req.headers)  # a PUT without fulfilment skips this check in central-ledger too
        return
    if row["expiration_ts"] is not None and row["expiration_ts"] <= datetime.now(UTC).timestamp():
        _dropped(req, "fxTransfer expired")
        return
    accept(hub, req, row, digest)


def accept(hub: Hub, req: FspiopRequest, row: sqlite3.Row, digest: str) -> None:
    """RESERVED or COMMITTED from the FXP: fulfilment kept, no position moves, the payer hears the FXP's answer."""
    commit_request_id, now = row["commit_request_id"], now_iso()
    with hub.db.tx():
        fs.set_state(hub, commit_request_id, fs.RECEIVED_FULFIL_DEPENDENT, fulfilment=req.body.get("fulfilment"),
                     fulfil_hash=digest, fulfilled_at=now, fulfil_window_id=ledger.open_window_id(hub.db))
    params = fs.params(commit_request_id)
    payer_url = hub.outbox.url(row["initiating_fsp"], fs.PUT_ENDPOINT, params)
    if payer_url is None:
        log.warning("no %s endpoint for %s: fulfil of %s not relayed", fs.PUT_ENDPOINT, row["initiating_fsp"],
                    commit_request_id)
    else:
        headers = relayed(req.headers, "PUT", uri=uri_of(payer_url, fs.RESOURCE))
        hub.outbox.relay("PUT", payer_url, headers, req.raw)
    if req.body["conversionState"] != "RESERVED" and hub.config.transfer_confirmation_to_payee:
        # fx-commit with SEND_TRANSFER_CONFIRMATION_TO_PAYEE (off by default, as helm): the FXP gets its own answer
        # back from the hub; never for an fx-reserve (ml-api-adapter's notification handler).
        fxp_url = hub.outbox.url(row["counterparty_fsp"], fs.PUT_ENDPOINT, params)
        if fxp_url:
            hub.outbox.hub_message("PUT", row["counterparty_fsp"], fxp_url, fs.RESOURCE, req.body,
                                   trigger=req.headers)


def abort_invalid(hub: Hub, row: sqlite3.Row, trigger: Any = None) -> None:
    """Bad headers or a fulfilment that does not match: central-ledger's abort-validation. The reservation is given
    back and the payer hears a bare 3100 from the hub (the detail is not carried through); the FXP hears nothing."""
    with hub.db.tx():
        ledger.release_reserved(hub.db, row["commit_request_id"])
        fs.set_state(hub, row["commit_request_id"], fs.ABORTED_REJECTED, error_code="3100",
                     error_description="Generic validation error")
    hub.outbox.error_to(row["initiating_fsp"], fs.RESOURCE, fs.params(row["commit_request_id"]), "3100",
                        trigger=trigger)


def resent(hub: Hub, req: FspiopRequest, row: sqlite3.Row, digest: str) -> None:
    """A fulfil sent again: another body is 3106 to the FXP; the same one, once final, the state (central-ledger
    answers it with the key ``transferState``: kept); while the conversion waits, nothing."""
    params = fs.params(row["commit_request_id"])
    if row["fulfil_hash"] != digest:
        hub.outbox.error_to(req.source, fs.RESOURCE, params, "3106", "No fxDuplicateHash found",
                                trigger=req.headers)
    elif row["state"] in fs.FINAL:
        fs.send_state(hub, row, req.source, key="transferState", trigger=req.headers)


async def put_fx_transfer_error(hub: Hub, req: FspiopRequest) -> Response:
    fxp_error(hub, req)  # stored before the 200
    return Response(status_code=200)


def fxp_error(hub: Hub, req: FspiopRequest) -> None:
    """The FXP aborts (before or after fulfilling): the conversion ends ABORTED, every reservation linked to its
    determining transfer is given back (the dependent transfer's too, if one is reserved), and the payer hears the
    FXP's error unchanged; the FXP gets a copy from the hub."""
    row = fs.get(hub, req.params["ID"])
    if row is None or req.source != row["counterparty_fsp"]:
        log.warning("PUT /fxTransfers/%s/error from %s dropped: no such fxTransfer of this FXP", req.params["ID"],
                    req.source)
        return
    digest = body_hash(req.body)
    params = fs.params(row["commit_request_id"])
    if row["error_hash"] is not None:
        if row["error_hash"] != digest:
            hub.outbox.error_to(req.source, fs.RESOURCE, params, "3106", "No fxDuplicateHash found",
                                trigger=req.headers)
        else:
            fs.send_state(hub, row, req.source, key="transferState", trigger=req.headers)
        return
    if row["state"] not in fs.OPEN:
        _dropped(req, f"fxTransfer is {row['state']}")
        return
    info = req.body["errorInformation"]
    code = normalise_code(info["errorCode"])
    known = code == str(info["errorCode"])
    detail = str(info["errorDescription"]) if known else "API specification undefined errorCode"
    dependent = _abort_with_dependent(hub, row, code, detail, digest)
    payer_url = hub.outbox.url(row["initiating_fsp"], fs.ERROR_ENDPOINT, params)
    if known and payer_url:
        hub.outbox.relay("PUT", payer_url, relayed(req.headers, "PUT", uri=uri_of(payer_url, fs.RESOURCE)), req.raw)
    else:
        hub.outbox.error_to(row["initiating_fsp"], fs.RESOURCE, params, code, detail, trigger=req.headers)
    hub.outbox.error_to(row["counterparty_fsp"], fs.RESOURCE, params, code, detail, trigger=req.headers)
    if dependent is not None:
        hub.outbox.error_to(dependent["payer"], "transfers", ts.params(dependent["id"]), code, detail,
                            trigger=req.headers)


def _abort_with_dependent(hub: Hub, row: sqlite3.Row, code: str, detail: str, digest: str) -> Any:
    """One transaction: the conversion and a reserved dependent transfer end; returns that transfer (or None)."""
    dependent = ts.get(hub, row["determining_transfer_id"] or "")
    with hub.db.tx():
        ledger.release_reserved(hub.db, row["commit_request_id"])
        fs.set_state(hub, row["commit_request_id"], fs.ABORTED_ERROR, error_code=code, error_description=detail,
                     error_hash=digest)
        if dependent is not None and dependent["state"] == ts.RESERVED:
            ts.abort(hub, dependent, ts.ABORTED_ERROR, code, detail)
        else:
            dependent = None
    return dependent
