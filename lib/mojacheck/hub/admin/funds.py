"""Funds in and out of a DFSP's SETTLEMENT account (central-ledger admin, behaviour ref §11).

central-ledger accepts these with 202 and books them through Kafka; the hub books them before answering,
so a client reading the accounts right after the 202 already sees the effect (a real hub may lag).
A replayed request with the same transferId and body is a no-op; the same id with another body is 3106.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mojacheck.hub import ledger
from mojacheck.hub.db import HUB_NAME, Database, now_iso
from mojacheck.hub.web import NUMBER, ApiError, check_types, guarded, parse_json, require, to_int

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

FUNDS_IN = "recordFundsIn"
FUNDS_OUT_RESERVE = "recordFundsOutPrepareReserve"
FUNDS_OUT_COMMIT = "recordFundsOutCommit"
FUNDS_OUT_ABORT = "recordFundsOutAbort"


def _settlement_account(hub: Hub, name: str, account_id: str, currency: str | None) -> sqlite3.Row:
    """The checks (and 2001 texts) of central-ledger's recordFundsInOut, in its order."""
    row = ledger.participant(hub.db, name)
    if row is None:
        raise ApiError("2001", "Participant does not exist")
    if not row["is_active"]:
        raise ApiError("2001", "Participant is currently set inactive")
    acct = hub.db.one("SELECT * FROM account WHERE id = ? AND participant_id = ?", (_int(account_id), row["id"]))
    if acct is None or (currency is not None and acct["currency"] != currency):
        raise ApiError("2001", "The account does not match participant or currency specified")
    if not acct["is_active"]:
        raise ApiError("2001", "Account is currently set inactive")
    if acct["ledger_account_type"] != ledger.SETTLEMENT:
        raise ApiError("2001", "Account is not SETTLEMENT type")
    return acct


def _int(text: str) -> int:
    return to_int(text, "account id")  # Joi number().integer(): not a (safe) number is 3100


def _hub_reconciliation(db: Database, currency: str) -> sqlite3.Row:
    acct = ledger.account_by_name(db, HUB_NAME, ledger.HUB_RECONCILIATION, currency)
    if acct is None:
        raise ApiError("3003", "Hub reconciliation account for the specified currency does not exist")
    return acct


def _hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, separators=(",", ":")).encode()).hexdigest()


async def record_funds(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    body = parse_json(await request.body())
    require(body, "transferId", "action", "amount.amount", "amount.currency")
    check_types(body, {"transferId": str, "action": str, "reason": str, "externalReference": str,
                       "amount.amount": (str, *NUMBER), "amount.currency": str}, joi=True)
    action = body["action"]
    if action not in (FUNDS_IN, FUNDS_OUT_RESERVE):
        raise ApiError("2001", "The action is not supported")
    currency = str(body["amount"]["currency"])
    acct = _settlement_account(hub, request.path_params["name"], request.path_params["id"], currency)
    try:
        amount = ledger.to_decimal(body["amount"]["amount"])
    except ValueError:
        raise ApiError("3101", "amount.amount must be a number") from None
    if amount <= 0:
        raise ApiError("3100", "amount.amount must be positive")
    transfer_id, digest = str(body["transferId"]), _hash(body)
    with hub.db.tx():
        old = hub.db.one("SELECT body_hash FROM funds_transfer WHERE id = ?", (transfer_id,))
        if old is not None:
            if old["body_hash"] != digest:
                raise ApiError("3106", f"transferId {transfer_id} was already used with another request")
            return Response(status_code=202)
        state = _book(hub.db, acct, action, amount, transfer_id)
        ts = now_iso()
        hub.db.execute(
            "INSERT INTO funds_transfer (id, participant_id, account_id, action, amount, currency, state, reason, "
            "external_reference, body_hash, created, changed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (transfer_id, acct["participant_id"], acct["id"], action, ledger.fmt(amount), currency, state,
             body.get("reason"), body.get("externalReference"), digest, ts, ts),
        )
    return Response(status_code=202)


def _book(db: Database, acct: sqlite3.Row, action: str, amount: Decimal, transfer_id: str) -> str:
    recon = _hub_reconciliation(db, acct["currency"])
    if action == FUNDS_IN:
        ledger.adjust(db, acct["id"], -amount, transfer_id, "RECORD_FUNDS_IN")
        ledger.adjust(db, recon["id"], amount, transfer_id, "RECORD_FUNDS_IN")
        return "COMMITTED"
    if Decimal(acct["value"]) + amount > 0:
        # central-ledger aborts a funds-out that would overdraw the settlement account.
        return "ABORTED"
    ledger.adjust(db, acct["id"], amount, transfer_id, "RECORD_FUNDS_OUT")
    ledger.adjust(db, recon["id"], -amount, transfer_id, "RECORD_FUNDS_OUT")
    return "RESERVED"


async def finish_funds_out(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    body = parse_json(await request.body())
    require(body, "action")
    check_types(body, {"action": str, "reason": str}, joi=True)
    action = body["action"]
    if action not in (FUNDS_OUT_COMMIT, FUNDS_OUT_ABORT):
        raise ApiError("2001", "The action is not supported")
    acct = _settlement_account(hub, request.path_params["name"], request.path_params["id"], None)
    transfer_id = request.path_params["transferId"]
    with hub.db.tx():
        row = hub.db.one("SELECT * FROM funds_transfer WHERE id = ? AND account_id = ?", (transfer_id, acct["id"]))
        if row is None:
            raise ApiError("3208", f"Funds-out transfer {transfer_id} not found")
        if row["state"] != "RESERVED":
            return Response(status_code=202)  # already finished: a replay changes nothing
        state = "COMMITTED"
        if action == FUNDS_OUT_ABORT:
            amount = Decimal(row["amount"])
            recon = _hub_reconciliation(hub.db, row["currency"])
            ledger.adjust(hub.db, acct["id"], -amount, transfer_id, "RECORD_FUNDS_OUT_ABORT")
            ledger.adjust(hub.db, recon["id"], amount, transfer_id, "RECORD_FUNDS_OUT_ABORT")
            state = "ABORTED"
        hub.db.execute("UPDATE funds_transfer SET state = ?, reason = ?, changed = ? WHERE id = ?",
                       (state, body.get("reason", row["reason"]), now_iso(), transfer_id))
    return Response(status_code=202)


funds_routes = [
    Route("/participants/{name}/accounts/{id}", guarded(record_funds), methods=["POST"]),
    Route("/participants/{name}/accounts/{id}/transfers/{transferId}", guarded(finish_funds_out), methods=["PUT"]),
]
