"""Transfer rows, their states, and the messages that report a transfer's state (behaviour ref §6)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mojacheck.hub import ledger
from mojacheck.hub.db import now_iso

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

RECEIVED_PREPARE = "RECEIVED_PREPARE"
RESERVED = "RESERVED"
COMMITTED = "COMMITTED"
ABORTED_REJECTED = "ABORTED_REJECTED"
ABORTED_ERROR = "ABORTED_ERROR"
EXPIRED_PREPARED = "EXPIRED_PREPARED"
EXPIRED_RESERVED = "EXPIRED_RESERVED"
INVALID = "INVALID"

# Internal state → the TransferState enumeration FSPs see (central-ledger seeds/transferState.js).
API_STATE = {
    RECEIVED_PREPARE: "RECEIVED", RESERVED: "RESERVED", "RECEIVED_FULFIL": "RESERVED",
    "RESERVED_TIMEOUT": "RESERVED", "RECEIVED_REJECT": "RESERVED", "RECEIVED_ERROR": "RESERVED",
    COMMITTED: "COMMITTED", "SETTLED": "COMMITTED", ABORTED_REJECTED: "ABORTED", ABORTED_ERROR: "ABORTED",
    EXPIRED_PREPARED: "ABORTED", EXPIRED_RESERVED: "ABORTED", INVALID: "ABORTED", "FAILED": "ABORTED",
}
FINAL = frozenset({COMMITTED, ABORTED_REJECTED, ABORTED_ERROR, EXPIRED_PREPARED, EXPIRED_RESERVED, INVALID})
EXPIRED = frozenset({EXPIRED_PREPARED, EXPIRED_RESERVED})

PUT_ENDPOINT = "FSPIOP_CALLBACK_URL_TRANSFER_PUT"
POST_ENDPOINT = "FSPIOP_CALLBACK_URL_TRANSFER_POST"


def parse_datetime(text: str) -> datetime:
    """ISO-8601 date-time with zone → aware UTC datetime; ValueError otherwise."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"no time zone in {text!r}")
    return value.astimezone(UTC)


def get(hub: Hub, transfer_id: str) -> sqlite3.Row | None:
    return hub.db.one("SELECT * FROM transfer WHERE id = ?", (transfer_id,))


def params(transfer_id: str) -> dict[str, str]:
    return {"transferId": transfer_id, "ID": transfer_id}


def set_state(hub: Hub, transfer_id: str, state: str, **columns: Any) -> None:
    """Update state and any other columns; the caller holds the transaction."""
    sets = ", ".join(f"{name} = ?" for name in columns)
    sql = f"UPDATE transfer SET state = ?, changed = ?{', ' + sets if sets else ''} WHERE id = ?"
    hub.db.execute(sql, (state, now_iso(), *columns.values(), transfer_id))


def abort(hub: Hub, row: sqlite3.Row, state: str, code: str, detail: str, *, fulfil_hash: str | None = None) -> None:
    """One transaction: give the payer's reservation back (if any) and record why the transfer ended."""
    with hub.db.tx():
        current = get(hub, row["id"])
        assert current is not None
        if current["state"] == RESERVED:
            ledger.release_reserved(hub.db, row["id"])  # the payer's reservation, or the FXP's for a dependent one
        extra: dict[str, Any] = {"error_code": code, "error_description": detail, "completed_timestamp": now_iso()}
        if fulfil_hash is not None:
            extra["fulfil_hash"] = fulfil_hash
        set_state(hub, row["id"], state, **extra)


def state_body(row: sqlite3.Row) -> dict[str, Any]:
    """What ``PUT /transfers/{ID}`` says about a transfer (GET answer, duplicate answer)."""
    body: dict[str, Any] = {"transferState": API_STATE.get(row["state"], "ABORTED")}
    if row["completed_timestamp"]:
        body["completedTimestamp"] = row["completed_timestamp"]
    if row["state"] == COMMITTED and row["fulfilment"]:
        body["fulfilment"] = row["fulfilment"]
    return body


def send_state(hub: Hub, row: sqlite3.Row, fsp: str) -> None:
    """Tell ``fsp`` where the transfer stands (GET answer, duplicate answer).

    An expired transfer reads ABORTED; releases before helm v15 answered it with error 3303 instead.
    """
    if row["state"] in EXPIRED and hub.release.expired_get_error:
        hub.outbox.error_to(fsp, "transfers", params(row["id"]), "3303")
        return
    url = hub.outbox.url(fsp, PUT_ENDPOINT, params(row["id"]))
    if url is None:
        hub.outbox.error_to(fsp, "transfers", params(row["id"]), "3201", f"No {PUT_ENDPOINT} endpoint for {fsp}")
        return
    hub.outbox.hub_message("PUT", fsp, url, "transfers", state_body(row))
