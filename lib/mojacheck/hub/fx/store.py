"""Conversion rows (``fx_transfer``), their states, and the messages that report a conversion's state.

Internal states follow central-ledger's ``fxTransferState``; FSPs see the TransferState enumeration (fx.md §4.6).
A conversion the FXP has fulfilled waits in RECEIVED_FULFIL_DEPENDENT (shown as RESERVED) until the transfer
that depends on it commits or aborts; only then is it COMMITTED or ABORTED.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mojacheck.hub.db import now_iso

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

RECEIVED_PREPARE = "RECEIVED_PREPARE"
RESERVED = "RESERVED"
RECEIVED_FULFIL_DEPENDENT = "RECEIVED_FULFIL_DEPENDENT"
COMMITTED = "COMMITTED"
ABORTED_REJECTED = "ABORTED_REJECTED"
ABORTED_ERROR = "ABORTED_ERROR"
EXPIRED_RESERVED = "EXPIRED_RESERVED"
INVALID = "INVALID"

API_STATE = {
    RECEIVED_PREPARE: "RECEIVED", RESERVED: "RESERVED", RECEIVED_FULFIL_DEPENDENT: "RESERVED", COMMITTED: "COMMITTED",
    ABORTED_REJECTED: "ABORTED", ABORTED_ERROR: "ABORTED", EXPIRED_RESERVED: "ABORTED", INVALID: "ABORTED",
}
OPEN = frozenset({RESERVED, RECEIVED_FULFIL_DEPENDENT})  # a position is reserved for the conversion
FINAL = frozenset({COMMITTED, ABORTED_REJECTED, ABORTED_ERROR, EXPIRED_RESERVED, INVALID})

POST_ENDPOINT = "FSPIOP_CALLBACK_URL_FX_TRANSFER_POST"
PUT_ENDPOINT = "FSPIOP_CALLBACK_URL_FX_TRANSFER_PUT"  # also where the hub's PATCH goes
ERROR_ENDPOINT = "FSPIOP_CALLBACK_URL_FX_TRANSFER_ERROR"
QUOTES_ENDPOINT = "FSPIOP_CALLBACK_URL_FX_QUOTES"
RESOURCE = "fxTransfers"


def get(hub: Hub, commit_request_id: str) -> sqlite3.Row | None:
    return hub.db.one("SELECT * FROM fx_transfer WHERE commit_request_id = ?", (commit_request_id,))


def linked(hub: Hub, transfer_id: str) -> list[sqlite3.Row]:
    """The conversions on central-ledger's watch list for ``transfer_id`` (their determiningTransferId)."""
    return hub.db.all("SELECT * FROM fx_transfer WHERE determining_transfer_id = ? AND watched = 1 ORDER BY created",
                      (transfer_id,))


def params(commit_request_id: str) -> dict[str, str]:
    """Endpoint template values: ``{{commitRequestId}}`` as central-ledger registers them, ``ID`` for error paths."""
    return {"commitRequestId": commit_request_id, "ID": commit_request_id}


def set_state(hub: Hub, commit_request_id: str, state: str, **columns: Any) -> None:
    """Update state (and the time of the change, what a GET reports) plus any other columns; the caller holds the
    transaction."""
    now = now_iso()
    columns = {"completed_timestamp": now, **columns}
    sets = ", ".join(f"{name} = ?" for name in columns)
    hub.db.execute(f"UPDATE fx_transfer SET state = ?, changed = ?, {sets} WHERE commit_request_id = ?",
                   (state, now, *columns.values(), commit_request_id))


def state_body(row: sqlite3.Row, key: str = "conversionState") -> dict[str, Any]:
    """What ``PUT /fxTransfers/{ID}`` from the hub says (GET and duplicate answers): no extensionList for FX.

    ``key`` is ``transferState`` only for the answer to an FXP's resent fulfil, where central-ledger uses the
    transfer transform (fx.md §4.7) — kept, as real Mojaloop does it."""
    body: dict[str, Any] = {"completedTimestamp": row["completed_timestamp"] or row["changed"],
                            key: API_STATE.get(row["state"], "ABORTED")}
    if row["fulfilment"]:
        body["fulfilment"] = row["fulfilment"]
    return body


def send_state(hub: Hub, row: sqlite3.Row, fsp: str, *, key: str = "conversionState",
               trigger: Mapping[str, str] | None = None) -> None:
    """Tell ``fsp`` where the conversion stands, from the hub (``trigger``: the request that asked)."""
    url = hub.outbox.url(fsp, PUT_ENDPOINT, params(row["commit_request_id"]))
    if url is None:
        hub.outbox.error_to(fsp, RESOURCE, params(row["commit_request_id"]), "3201",
                            f"No {PUT_ENDPOINT} endpoint for {fsp}", trigger=trigger)
        return
    hub.outbox.hub_message("PUT", fsp, url, RESOURCE, state_body(row, key), trigger=trigger)
