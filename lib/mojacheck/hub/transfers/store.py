"""Transfer rows, their states, and the messages that report a transfer's state (behaviour ref §6).

What a read-back says follows central-ledger's ``getByIdLight`` + ``toFulfil``: ``completedTimestamp`` is the time
of the latest state change, ``fulfilment`` once the transfer has one, the extensionList of the fulfil (once
fulfilled) or of the prepare, and for a transfer aborted with an error the extension
``{"key": "cause", "value": "<errorCode>: <errorDescription>"}`` cut to 128 characters.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
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
CAUSE_MAX = 128  # central-ledger cuts "code: description" with substr(0, 128)

PUT_ENDPOINT = "FSPIOP_CALLBACK_URL_TRANSFER_PUT"
POST_ENDPOINT = "FSPIOP_CALLBACK_URL_TRANSFER_POST"
ERROR_ENDPOINT = "FSPIOP_CALLBACK_URL_TRANSFER_ERROR"


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


def abort(hub: Hub, row: sqlite3.Row, state: str, code: str, description: str, **columns: Any) -> None:
    """One transaction: give the payer's reservation back (if any) and record why the transfer ended.

    ``description`` is stored as central-ledger's transferError row holds it (the full errorDescription).
    """
    with hub.db.tx():
        current = get(hub, row["id"])
        assert current is not None
        if current["state"] == RESERVED:
            ledger.release_reserved(hub.db, row["id"])  # the payer's reservation, or the FXP's for a dependent one
        set_state(hub, row["id"], state, error_code=code, error_description=description,
                  completed_timestamp=now_iso(), **columns)


def _extension_list(text: Any) -> list[dict[str, Any]]:
    try:
        body = json.loads(text) if isinstance(text, (bytes, str)) and text else text
    except ValueError:
        return []
    if isinstance(body, Mapping):
        items = (body.get("extensionList") or {}).get("extension") if "extensionList" in body else body.get(
            "extension")
        if isinstance(items, list):
            return [{"key": str(e.get("key")), "value": str(e.get("value"))} for e in items if isinstance(e, Mapping)]
    return []


def extensions(row: sqlite3.Row, *, ledger_view: bool = False) -> list[dict[str, Any]]:
    """The extensionList a read-back carries: the fulfil's once the transfer has a fulfilment (``getByIdLight``),
    else the prepare's (``ledger_view``: always the prepare's, as ``getById`` reads them), then the error cause."""
    if row["fulfilment"] and not ledger_view:
        items = _extension_list(row["fulfil_extensions"])
    else:
        items = _extension_list(row["prepare_body"])
    if API_STATE.get(row["state"]) == "ABORTED" and row["error_code"]:
        cause = f"{row['error_code']}: {row['error_description'] or ''}"[:CAUSE_MAX]
        items.append({"key": "cause", "value": cause})
    return items


def state_body(row: sqlite3.Row, *, ledger_view: bool = False) -> dict[str, Any]:
    """What ``PUT /transfers/{ID}`` says about a transfer (GET answer, duplicate answer, commit notification)."""
    body: dict[str, Any] = {"completedTimestamp": row["changed"], "transferState": API_STATE.get(row["state"],
                                                                                                  "ABORTED")}
    if row["fulfilment"]:
        body["fulfilment"] = row["fulfilment"]
    if items := extensions(row, ledger_view=ledger_view):
        body["extensionList"] = {"extension": items}
    return body


def send_state(hub: Hub, row: sqlite3.Row, fsp: str, trigger: Mapping[str, str] | None = None) -> None:
    """Tell ``fsp`` where the transfer stands (GET answer, duplicate answer).

    An expired transfer reads ABORTED; releases before helm v15 answered it with error 3303 instead.
    """
    if row["state"] in EXPIRED and hub.release.expired_get_error:
        hub.outbox.error_to(fsp, "transfers", params(row["id"]), "3303", trigger=trigger)
        return
    url = hub.outbox.url(fsp, PUT_ENDPOINT, params(row["id"]))
    if url is None:
        hub.outbox.error_to(fsp, "transfers", params(row["id"]), "3201", f"No {PUT_ENDPOINT} endpoint for {fsp}",
                            trigger=trigger)
        return
    hub.outbox.hub_message("PUT", fsp, url, "transfers", state_body(row), trigger=trigger)
