"""Reads and state bookkeeping shared by the settlement routes: windows, content, settlements, journal.

Window and content states are those of central-ledger's ``settlementWindowState`` enum; settlement and
account states those of ``settlementState``. Callers own the transaction (``with db.tx():``).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from mojacheck.hub.db import Database, now_iso
from mojacheck.hub.web import ApiError, to_int

OPEN, CLOSED, PROCESSING = "OPEN", "CLOSED", "PROCESSING"
PENDING_SETTLEMENT, SETTLED, ABORTED = "PENDING_SETTLEMENT", "SETTLED", "ABORTED"
PS_RECORDED, PS_RESERVED, PS_COMMITTED = "PS_TRANSFERS_RECORDED", "PS_TRANSFERS_RESERVED", "PS_TRANSFERS_COMMITTED"
SETTLING = "SETTLING"
ACCOUNT_STATES = (PENDING_SETTLEMENT, PS_RECORDED, PS_RESERVED, PS_COMMITTED, SETTLED)


def journal(db: Database, entity: str, entity_id: int, state: str, reason: str | None) -> None:
    db.execute("INSERT INTO settlement_state_change (entity, entity_id, state, reason, created) "
               "VALUES (?, ?, ?, ?, ?)", (entity, entity_id, state, reason, now_iso()))


def int_param(text: Any, what: str) -> int:
    """An id from the path, query or body: 3100 naming ``what`` unless it is a safe integer (as Joi refuses)."""
    return to_int(text, what)


# -- windows --------------------------------------------------------------------------------------------------
def set_window_state(db: Database, window_id: int, state: str, reason: str | None) -> None:
    row = db.one("SELECT state, reason FROM settlement_window WHERE id = ?", (window_id,))
    if row is None or (row["state"] == state and reason is None):
        return
    db.execute("UPDATE settlement_window SET state = ?, reason = COALESCE(?, reason), changed = ? WHERE id = ?",
               (state, reason, now_iso(), window_id))
    journal(db, "window", window_id, state, reason)


def set_content_state(db: Database, content_id: int, state: str) -> None:
    db.execute("UPDATE settlement_window_content SET state = ?, changed = ? WHERE id = ?",
               (state, now_iso(), content_id))


def finish_due_closes(db: Database, now: float | None = None) -> None:
    """Complete the closes whose processing time has passed: PROCESSING → CLOSED, content OPEN → CLOSED."""
    moment = datetime.now(UTC).timestamp() if now is None else now
    due = db.all("SELECT * FROM settlement_window_closing WHERE due_ts <= ?", (moment,))
    if not due:
        return
    with db.tx():
        for row in due:
            for content in db.all("SELECT id FROM settlement_window_content WHERE window_id = ? AND state = ?",
                                  (row["window_id"], OPEN)):
                set_content_state(db, content["id"], CLOSED)
            set_window_state(db, row["window_id"], CLOSED, row["reason"])
            db.execute("DELETE FROM settlement_window_closing WHERE window_id = ?", (row["window_id"],))


def recompute_window(db: Database, window_id: int, reason: str | None) -> None:
    """A window's state follows its content once it is out of OPEN/PROCESSING (see ``window_state_for``)."""
    row = db.one("SELECT state FROM settlement_window WHERE id = ?", (window_id,))
    if row is None or row["state"] in (OPEN, PROCESSING):
        return
    states = [r["state"] for r in db.all("SELECT state FROM settlement_window_content WHERE window_id = ?",
                                         (window_id,))]
    new_state = window_state_for(states)
    if new_state != row["state"]:
        set_window_state(db, window_id, new_state, reason)


def window_state_for(content_states: list[str]) -> str:
    """All content SETTLED → SETTLED; any content pending, or settled beside unsettled → PENDING_SETTLEMENT;
    else ABORTED if any content was aborted, else CLOSED."""
    states = set(content_states)
    if states == {SETTLED}:
        return SETTLED
    if PENDING_SETTLEMENT in states or SETTLED in states:
        return PENDING_SETTLEMENT
    if ABORTED in states:
        return ABORTED
    return CLOSED


def window_item(db: Database, row: sqlite3.Row, *, key: str = "settlementWindowId") -> dict[str, Any]:
    """A window as central-settlement shows it: keyed ``settlementWindowId`` on /settlementWindows (``id`` inside a
    settlement), its content only once the window is closed (central-ledger makes the content rows at close)."""
    content = []
    if row["state"] not in (OPEN, PROCESSING):
        contents = db.all("SELECT c.*, (SELECT MAX(l.settlement_id) FROM settlement_content_link l "
                          "WHERE l.content_id = c.id) AS settlement_id FROM settlement_window_content c "
                          "WHERE c.window_id = ? ORDER BY c.id", (row["id"],))
        content = [{"id": c["id"], "state": c["state"], "ledgerAccountType": c["ledger_account_type"],
                    "currencyId": c["currency"], "createdDate": c["created"], "changedDate": c["changed"],
                    "settlementId": c["settlement_id"]} for c in contents]
    return {key: row["id"], "state": row["state"], "reason": row["reason"], "createdDate": row["created"],
            "changedDate": row["changed"], "content": content}


def window_or_error(db: Database, window_id: int) -> sqlite3.Row:
    row = db.one("SELECT * FROM settlement_window WHERE id = ?", (window_id,))
    if row is None:
        raise ApiError("2001", f"No record for settlementWindowId: {window_id} found")
    return row


# -- settlements ----------------------------------------------------------------------------------------------
def settlement_or_error(db: Database, settlement_id: int) -> sqlite3.Row:
    row = db.one("SELECT * FROM settlement WHERE id = ?", (settlement_id,))
    if row is None:
        raise ApiError("3100", f"Settlement with ID '{settlement_id}' not found")
    return row


def set_settlement_state(db: Database, settlement_id: int, state: str, reason: str | None) -> None:
    db.execute("UPDATE settlement SET state = ?, reason = ?, changed = ? WHERE id = ?",
               (state, reason, now_iso(), settlement_id))
    journal(db, "settlement", settlement_id, state, reason)


def accounts_of(db: Database, settlement_id: int) -> list[sqlite3.Row]:
    """The settlement's accounts with their participant id and currency, in a stable order."""
    return db.all("SELECT sa.*, a.participant_id, a.currency, p.name AS participant_name FROM settlement_account sa "
                  "JOIN account a ON a.id = sa.account_id JOIN participant p ON p.id = a.participant_id "
                  "WHERE sa.settlement_id = ? ORDER BY a.participant_id, sa.account_id", (settlement_id,))


def account_item(row: sqlite3.Row) -> dict[str, Any]:
    item: dict[str, Any] = {"id": row["account_id"], "state": row["state"], "reason": row["reason"],
                            "netSettlementAmount": {"amount": Decimal(row["net_amount"]),
                                                    "currency": row["currency"]}}
    if row["external_reference"]:
        item["externalReference"] = row["external_reference"]
    return item


def participants_item(rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
    grouped: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        grouped.setdefault(r["participant_id"], []).append(account_item(r))
    return [{"id": pid, "accounts": accounts} for pid, accounts in grouped.items()]


def windows_of(db: Database, settlement_id: int) -> list[dict[str, Any]]:
    rows = db.all("SELECT w.* FROM settlement_window w JOIN settlement_window_link l ON l.window_id = w.id "
                  "WHERE l.settlement_id = ? ORDER BY w.id", (settlement_id,))
    return [window_item(db, r, key="id") for r in rows]


def settlement_item(db: Database, row: sqlite3.Row, accounts: list[sqlite3.Row] | None = None) -> dict[str, Any]:
    return {"id": row["id"], "state": row["state"], "reason": row["reason"], "createdDate": row["created"],
            "changedDate": row["changed"], "settlementWindows": windows_of(db, row["id"]),
            "participants": participants_item(accounts_of(db, row["id"]) if accounts is None else accounts)}
