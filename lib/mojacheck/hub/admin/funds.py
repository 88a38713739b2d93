"""Funds in and out of a DFSP's SETTLEMENT account (central-ledger admin, behaviour ref §11): transfers under
the given ``transferId``, booked as central-ledger's admin handler books them.

* ``recordFundsIn``: COMMITTED at once; HUB_RECONCILIATION +amount, the DFSP's SETTLEMENT −amount.
* ``recordFundsOutPrepareReserve``: RESERVED; only SETTLEMENT +amount. Were SETTLEMENT then above zero, the
  reserve is aborted at once ("Aborted due to insufficient funds") and SETTLEMENT restored.
* ``recordFundsOutCommit``: COMMITTED; HUB_RECONCILIATION −amount. ``recordFundsOutAbort``: ABORTED; SETTLEMENT
  −amount (restored). Either is silently ignored for an unknown, non-RESERVED or expired funds transfer.
* The same ``transferId`` again (same body or not) is silently ignored.

An FSP's ``GET /transfers/{transferId}`` reads them back (``read_back``). central-ledger books through Kafka after
its 202; the hub books before answering, so a client reading the accounts right after the 202 already sees the
effect (a real hub may lag: clients wait for it).
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mojacheck.hub import ledger
from mojacheck.hub.admin.common import INVALID, check_currency, participant_or_missing
from mojacheck.hub.db import HUB_NAME, Database, now_iso
from mojacheck.hub.web import NUMBER, ApiError, check_types, guarded, parse_json, require, to_int

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

FUNDS_IN = "recordFundsIn"
FUNDS_OUT_RESERVE = "recordFundsOutPrepareReserve"
FUNDS_OUT_COMMIT = "recordFundsOutCommit"
FUNDS_OUT_ABORT = "recordFundsOutAbort"
# INTERNAL_TRANSFER_VALIDITY_SECONDS: an admin transfer expires 5 days after it was made.
VALIDITY = timedelta(seconds=432000)
_TRANSFER_ID = re.compile(r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[1-7][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|"
                          r"[0-9A-HJKMNP-TV-Z]{26})$")


def _settlement_account(hub: Hub, name: str, account_id: str, currency: str | None) -> sqlite3.Row:
    """The checks (and 2001 texts) of central-ledger's recordFundsInOut, in its order."""
    row = participant_or_missing(hub, name, active=True)
    acct = hub.db.one("SELECT * FROM account WHERE id = ? AND participant_id = ?", (_int(account_id), row["id"]))
    if acct is None or (currency is not None and acct["currency"] != currency):
        raise ApiError("2001", "The account does not match participant or currency specified")
    if not acct["is_active"]:
        raise ApiError("2001", "Account is currently set inactive")
    if acct["ledger_account_type"] != ledger.SETTLEMENT:
        raise ApiError("2001", "Account is not SETTLEMENT type")
    return acct


def _int(text: str) -> int:
    # beyond JavaScript's safe integers the id is no number either (SQLite could not hold it anyway)
    return to_int(text, '"id"', INVALID)


def _hub_reconciliation(db: Database, currency: str) -> sqlite3.Row:
    acct = ledger.account_by_name(db, HUB_NAME, ledger.HUB_RECONCILIATION, currency)
    if acct is None:
        raise ApiError("3003", "Hub reconciliation account for the specified currency does not exist")
    return acct


def _validated(body: Any) -> Decimal:
    """central-ledger's Joi schema of the funds request: every failure 3101 (``common.INVALID``)."""
    require(body, "transferId", "externalReference", "action", "reason", "amount.amount", "amount.currency",
            code=INVALID)
    check_types(body, {"transferId": str, "externalReference": str, "action": str, "reason": str,
                       "amount.amount": (str, *NUMBER), "amount.currency": str, "extensionList": dict,
                       "extensionList.extension": list}, code=INVALID)
    if not _TRANSFER_ID.match(str(body["transferId"])):
        raise ApiError("3101", '"transferId" fails to match the required pattern')
    if body["action"] not in (FUNDS_IN, FUNDS_OUT_RESERVE):
        raise ApiError("3101", f'"action is missing or not supported" must be one of [{FUNDS_IN}, {FUNDS_OUT_RESERVE}]')
    check_currency(body["amount"]["currency"])
    try:
        amount = ledger.to_decimal(body["amount"]["amount"])
    except ValueError:
        raise ApiError(INVALID, '"amount" must be a number') from None
    if amount <= 0:
        raise ApiError(INVALID, '"amount" must be a positive number')
    if amount != amount.quantize(Decimal("0.0001")):
        raise ApiError(INVALID, '"amount" must have no more than 4 decimal places')
    return amount


async def record_funds(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    body = parse_json(await request.body())
    amount = _validated(body)
    currency = str(body["amount"]["currency"])
    acct = _settlement_account(hub, request.path_params["name"], request.path_params["id"], currency)
    transfer_id = str(body["transferId"])
    with hub.db.tx():
        if _known(hub.db, transfer_id):
            return Response(status_code=202)  # a resent or reused transferId: logged and ignored by central-ledger
        state, reason = _book(hub.db, acct, str(body["action"]), amount, transfer_id)
        ts = now_iso()
        extensions = (body.get("extensionList") or {}).get("extension") or []
        hub.db.execute(
            "INSERT INTO funds_transfer (id, participant_id, account_id, action, amount, currency, state, reason, "
            "external_reference, body_hash, created, changed, extensions) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (transfer_id, acct["participant_id"], acct["id"], body["action"], ledger.fmt(amount), currency, state,
             reason or body.get("reason"), body.get("externalReference"), "", ts, ts, json.dumps(extensions)),
        )
    return Response(status_code=202)


def _known(db: Database, transfer_id: str) -> bool:
    """central-ledger keeps one duplicate table for every transfer id, FSPIOP and admin alike."""
    return (db.one("SELECT id FROM funds_transfer WHERE id = ?", (transfer_id,)) is not None
            or db.one("SELECT id FROM transfer WHERE id = ?", (transfer_id,)) is not None)


def _book(db: Database, acct: sqlite3.Row, action: str, amount: Decimal, transfer_id: str) -> tuple[str, str | None]:
    recon = _hub_reconciliation(db, acct["currency"])
    if action == FUNDS_IN:
        ledger.adjust(db, recon["id"], amount, transfer_id, "RECORD_FUNDS_IN")
        ledger.adjust(db, acct["id"], -amount, transfer_id, "RECORD_FUNDS_IN")
        return "COMMITTED", None
    value = ledger.adjust(db, acct["id"], amount, transfer_id, "RECORD_FUNDS_OUT")
    if value > 0:
        # More out than the DFSP has: central-ledger aborts the reserve in the same transaction.
        ledger.adjust(db, acct["id"], -amount, transfer_id, "RECORD_FUNDS_OUT_ABORT")
        return "ABORTED", "Aborted due to insufficient funds"
    return "RESERVED", None


async def finish_funds_out(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    body = parse_json(await request.body())
    require(body, "reason", code=INVALID)
    check_types(body, {"action": str, "reason": str}, code=INVALID)  # a value SQLite cannot store is refused by name
    action = body.get("action")
    if action not in (FUNDS_OUT_COMMIT, FUNDS_OUT_ABORT):
        raise ApiError("3101", f'"action is missing or not supported" must be one of [{FUNDS_OUT_COMMIT}, '
                               f'{FUNDS_OUT_ABORT}]')
    acct = _settlement_account(hub, request.path_params["name"], request.path_params["id"], None)
    transfer_id = request.path_params["transferId"]
    with hub.db.tx():
        row = hub.db.one("SELECT * FROM funds_transfer WHERE id = ? AND account_id = ?", (transfer_id, acct["id"]))
        if row is None or row["state"] != "RESERVED" or _expired(row):
            return Response(status_code=202)  # central-ledger logs it and does nothing
        amount = Decimal(row["amount"])
        if action == FUNDS_OUT_COMMIT:
            recon = _hub_reconciliation(hub.db, row["currency"])
            ledger.adjust(hub.db, recon["id"], -amount, transfer_id, "RECORD_FUNDS_OUT_COMMIT")
            state = "COMMITTED"
        else:
            ledger.adjust(hub.db, acct["id"], -amount, transfer_id, "RECORD_FUNDS_OUT_ABORT")
            state = "ABORTED"
        hub.db.execute("UPDATE funds_transfer SET state = ?, reason = ?, changed = ? WHERE id = ?",
                       (state, body.get("reason", row["reason"]), now_iso(), transfer_id))
    return Response(status_code=202)


def _expired(row: sqlite3.Row) -> bool:
    created = datetime.fromisoformat(str(row["created"]).replace("Z", "+00:00"))
    return created + VALIDITY <= datetime.now(UTC)


def funds_transfer(db: Database, transfer_id: str) -> sqlite3.Row | None:
    return db.one("SELECT f.*, p.name AS participant_name FROM funds_transfer f JOIN participant p "
                  "ON p.id = f.participant_id WHERE f.id = ?", (transfer_id,))


def read_back(row: sqlite3.Row) -> dict[str, Any]:
    """What ``GET /transfers/{ID}`` answers for a funds transfer: its state and time; while RESERVED (no
    fulfilment yet) its extensions, ``externalReference`` first. No fulfilment (central-ledger stores "0")."""
    body: dict[str, Any] = {"completedTimestamp": row["changed"], "transferState": row["state"]}
    if row["state"] == "RESERVED":
        items = [{"key": "externalReference", "value": str(row["external_reference"])}]
        items += [{"key": str(e.get("key")), "value": str(e.get("value"))}
                  for e in json.loads(row["extensions"] or "[]") if isinstance(e, dict)]
        body["extensionList"] = {"extension": items}
    return body


funds_routes = [
    Route("/participants/{name}/accounts/{id}", guarded(record_funds), methods=["POST"]),
    Route("/participants/{name}/accounts/{id}/transfers/{transferId}", guarded(finish_funds_out), methods=["PUT"]),
]
