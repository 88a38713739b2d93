"""Bulk rows and their states, and the bodies central-ledger builds from them (central-ledger
src/domain/bulkTransfer/index.js, seeds/bulkTransferState.js, seeds/bulkProcessingState.js).

A bulk's ``state`` is central-ledger's internal ``bulkTransferState``; FSPs see the API enumeration from helm 14.1
(``API_STATE``), the internal name before. An item's ``state`` is its ``bulkProcessingState``; ``ORDER`` is its
seeded id, which decides what the payee is shown (``results``).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mojacheck.hub.db import now_iso

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

# Bulk states (central-ledger seeds/bulkTransferState.js) → the BulkTransferState enumeration.
RECEIVED, PENDING_PREPARE, ACCEPTED, PROCESSING = "RECEIVED", "PENDING_PREPARE", "ACCEPTED", "PROCESSING"
PENDING_FULFIL, EXPIRING, ABORTING = "PENDING_FULFIL", "EXPIRING", "ABORTING"
COMPLETED, REJECTED, INVALID = "COMPLETED", "REJECTED", "INVALID"
API_STATE = {
    RECEIVED: "RECEIVED", PENDING_PREPARE: "PENDING", "PENDING_INVALID": "PENDING", ACCEPTED: "ACCEPTED",
    PROCESSING: "PROCESSING", PENDING_FULFIL: "PROCESSING", EXPIRING: "PROCESSING", ABORTING: "PROCESSING",
    COMPLETED: "COMPLETED", "EXPIRED": "COMPLETED", REJECTED: "REJECTED", INVALID: "REJECTED",
}
FINAL = frozenset({COMPLETED, REJECTED})

# Item states (seeds/bulkProcessingState.js), in the order of their ids.
ORDER = {name: i for i, name in enumerate((
    "RECEIVED", "RECEIVED_DUPLICATE", "RECEIVED_INVALID", "ACCEPTED", "PROCESSING", "FULFIL_DUPLICATE",
    "FULFIL_INVALID", "COMPLETED", "REJECTED", "EXPIRED", "ABORTING"), start=1)}
OPEN_ITEMS = ("RECEIVED", "ACCEPTED", "PROCESSING")  # a bulk with such items is not complete

PUT_ENDPOINT = "FSPIOP_CALLBACK_URL_BULK_TRANSFER_PUT"
ERROR_ENDPOINT = "FSPIOP_CALLBACK_URL_BULK_TRANSFER_ERROR"
POST_ENDPOINT = "FSPIOP_CALLBACK_URL_BULK_TRANSFER_POST"


def whole_seconds(text: str | None) -> str | None:
    """A date-time as central-ledger re-emits it from a MySQL DATETIME: UTC, whole seconds, ``.000Z``."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return str(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", ".000Z")


def get(hub: Hub, bulk_id: str) -> sqlite3.Row | None:
    return hub.db.one("SELECT * FROM bulk_transfer WHERE id = ?", (bulk_id,))


def items(hub: Hub, bulk_id: str) -> list[sqlite3.Row]:
    return hub.db.all("SELECT * FROM bulk_item WHERE bulk_id = ? ORDER BY seq", (bulk_id,))


def insert(hub: Hub, body: dict[str, Any], state: str, digest: str, headers: dict[str, str],
           reason: str | None = None) -> None:
    ts = now_iso()
    ext = body.get("extensionList")
    hub.db.execute(
        "INSERT INTO bulk_transfer (id, bulk_quote_id, payer, payee, expiration, state, reason, prepare_hash, "
        "prepare_headers, extensions, created, changed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (str(body["bulkTransferId"]), str(body["bulkQuoteId"]), str(body["payerFsp"]), str(body["payeeFsp"]),
         str(body["expiration"]), state, reason, digest, json.dumps(headers), json.dumps(ext) if ext else None,
         ts, ts))


def add_item(hub: Hub, bulk_id: str, seq: int, item: dict[str, Any], state: str,
             error: tuple[str, str] | None = None) -> None:
    ext = item.get("extensionList")
    amount = item["transferAmount"]
    hub.db.execute(
        "INSERT INTO bulk_item (bulk_id, seq, transfer_id, state, amount, currency, ilp_packet, condition, "
        "extensions, error_code, error_description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (bulk_id, seq, str(item["transferId"]), state, str(amount["amount"]), str(amount["currency"]),
         str(item["ilpPacket"]), str(item["condition"]), json.dumps(ext) if ext else None,
         *(error or (None, None))))


def set_state(hub: Hub, bulk_id: str, state: str, **columns: Any) -> None:
    sets = "".join(f", {name} = ?" for name in columns)
    hub.db.execute(f"UPDATE bulk_transfer SET state = ?, changed = ?{sets} WHERE id = ?",
                   (state, now_iso(), *columns.values(), bulk_id))


def set_item(hub: Hub, bulk_id: str, seq: int, state: str, *, error: tuple[str, str] | None = None,
             fulfilment: str | None = None, extensions: Any = None) -> None:
    hub.db.execute(
        "UPDATE bulk_item SET state = ?, error_code = COALESCE(?, error_code), "
        "error_description = COALESCE(?, error_description), fulfilment = COALESCE(?, fulfilment), "
        "fulfil_extensions = COALESCE(?, fulfil_extensions) WHERE bulk_id = ? AND seq = ?",
        (state, *(error or (None, None)), fulfilment, json.dumps(extensions) if extensions else None, bulk_id, seq))


def bulk_of_transfer(hub: Hub, transfer_id: str) -> sqlite3.Row | None:
    """The open association of an individual transfer, if it belongs to a bulk."""
    return hub.db.one("SELECT * FROM bulk_item WHERE transfer_id = ? AND state IN ('ACCEPTED', 'PROCESSING') "
                      "ORDER BY rowid DESC LIMIT 1", (transfer_id,))


def is_complete(hub: Hub, bulk_id: str) -> bool:
    """central-ledger's test: no association is still RECEIVED, ACCEPTED or PROCESSING."""
    marks = ",".join("?" for _ in OPEN_ITEMS)
    row = hub.db.one(f"SELECT COUNT(*) AS n FROM bulk_item WHERE bulk_id = ? AND state IN ({marks})",
                     (bulk_id, *OPEN_ITEMS))
    return row is not None and int(row["n"]) == 0


# -- bodies -------------------------------------------------------------------------------------------------------
def _result(item: sqlite3.Row) -> dict[str, Any]:
    """One item as central-ledger's getBulkTransferById shows it: error, fulfilment, or still the prepared item."""
    result: dict[str, Any] = {"transferId": item["transfer_id"]}
    if item["error_code"]:
        result["errorInformation"] = {"errorCode": item["error_code"], "errorDescription": item["error_description"]}
        return result
    if item["fulfilment"]:
        result["fulfilment"] = item["fulfilment"]
        ext = item["fulfil_extensions"]
    else:
        result["transferAmount"] = {"amount": item["amount"], "currency": item["currency"]}
        result["ilpPacket"] = item["ilp_packet"]
        result["condition"] = item["condition"]
        ext = item["extensions"]
    if ext:
        result["extensionList"] = json.loads(ext)
    return result


def results(hub: Hub, bulk: sqlite3.Row, *, payee: bool) -> list[dict[str, Any]]:
    """The individualTransferResults the payer (every item) or the payee is shown.

    The payee sees, of an ACCEPTED bulk, the accepted items; of a COMPLETED one, the items past PROCESSING (so not
    those that failed before it was asked); when that leaves nothing, every item.
    """
    rows = items(hub, bulk["id"])
    every = [_result(i) for i in rows]
    if not payee:
        return every
    if bulk["state"] == ACCEPTED:
        shown = [_result(i) for i in rows if i["state"] == "ACCEPTED"]
    elif bulk["state"] == COMPLETED:
        shown = [_result(i) for i in rows if ORDER[i["state"]] > ORDER["PROCESSING"]]
    else:
        shown = []
    return shown or every


def extension_list(bulk: sqlite3.Row) -> Any:
    """The bulk's extensions: the payee's fulfil extensions once it answered, the payer's before."""
    raw = bulk["fulfil_extensions"] if bulk["completed_timestamp"] else bulk["extensions"]
    return json.loads(raw) if raw else None


def state_body(hub: Hub, bulk: sqlite3.Row, *, payee: bool, state: str, with_results: bool = True) -> dict[str, Any]:
    """``PUT /bulkTransfers/{ID}``: the state, completedTimestamp, the results, the bulk extensions."""
    body: dict[str, Any] = {"bulkTransferState": state}
    if not with_results:
        return body
    if bulk["completed_timestamp"]:
        body["completedTimestamp"] = bulk["completed_timestamp"]
    shown = results(hub, bulk, payee=payee)
    if shown or payee:
        body["individualTransferResults"] = shown
    ext = extension_list(bulk)
    if ext:
        body["extensionList"] = ext
    return body


def prepare_body(hub: Hub, bulk: sqlite3.Row) -> dict[str, Any]:
    """The payee's ``POST /bulkTransfers``: the bulk's header fields, then only the items that were reserved."""
    body: dict[str, Any] = {"bulkTransferId": bulk["id"], "bulkQuoteId": bulk["bulk_quote_id"],
                            "payerFsp": bulk["payer"], "payeeFsp": bulk["payee"],
                            "expiration": whole_seconds(bulk["expiration"])}
    if bulk["extensions"]:
        body["extensionList"] = json.loads(bulk["extensions"])
    individual = []
    for item in items(hub, bulk["id"]):
        if item["state"] != "ACCEPTED":
            continue
        entry: dict[str, Any] = {"transferId": item["transfer_id"],
                                 "transferAmount": {"amount": item["amount"], "currency": item["currency"]},
                                 "ilpPacket": item["ilp_packet"], "condition": item["condition"]}
        if item["extensions"]:
            entry["extensionList"] = json.loads(item["extensions"])
        individual.append(entry)
    body["individualTransfers"] = individual
    return body


def headers_of(bulk: sqlite3.Row, column: str) -> dict[str, str]:
    raw = bulk[column]
    return dict(json.loads(raw)) if raw else {}
