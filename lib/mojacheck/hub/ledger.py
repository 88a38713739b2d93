"""Participants' accounts and money movements: positions, NDC and liquidity, funds in/out, window content.

Money is Decimal in Python and TEXT in SQLite; it is never a float. Sign conventions follow central-ledger:
a POSITION value is what the DFSP owes (positive = net debtor); a SETTLEMENT value is negative when funded.
Callers own the transaction (``with db.tx():``); nothing here commits.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from mojacheck.hub.db import Database, now_iso
from mojacheck.hub.releases import Release

POSITION = "POSITION"
SETTLEMENT = "SETTLEMENT"
HUB_RECONCILIATION = "HUB_RECONCILIATION"
HUB_MULTILATERAL_SETTLEMENT = "HUB_MULTILATERAL_SETTLEMENT"
HUB_ACCOUNT_TYPES = (HUB_RECONCILIATION, HUB_MULTILATERAL_SETTLEMENT)


def to_decimal(value: object) -> Decimal:
    """Decimal from a wire value (string or JSON number); ValueError when it is not a number."""
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def fmt(value: Decimal | str) -> str:
    """Plain decimal string without exponent or trailing zeros ("100", "10.5", "-3")."""
    d = Decimal(value) if isinstance(value, str) else value
    if d == 0:
        return "0"
    text = format(d.normalize(), "f")
    return text


def participant(db: Database, name: str) -> sqlite3.Row | None:
    return db.one("SELECT * FROM participant WHERE name = ?", (name,))


def account(db: Database, participant_id: int, ledger_type: str, currency: str) -> sqlite3.Row | None:
    return db.one(
        "SELECT * FROM account WHERE participant_id = ? AND ledger_account_type = ? AND currency = ?",
        (participant_id, ledger_type, currency),
    )


def account_by_name(db: Database, name: str, ledger_type: str, currency: str) -> sqlite3.Row | None:
    return db.one(
        "SELECT a.* FROM account a JOIN participant p ON p.id = a.participant_id "
        "WHERE p.name = ? AND a.ledger_account_type = ? AND a.currency = ?",
        (name, ledger_type, currency),
    )


def create_account(db: Database, participant_id: int, ledger_type: str, currency: str, active: bool) -> int:
    ts = now_iso()
    cur = db.execute(
        "INSERT INTO account (participant_id, ledger_account_type, currency, is_active, created, changed) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (participant_id, ledger_type, currency, int(active), ts, ts),
    )
    return int(cur.lastrowid or 0)


def adjust(db: Database, account_id: int, delta: Decimal, transfer_id: str, kind: str) -> Decimal:
    """Add ``delta`` to an account's value, journal it, return the new value."""
    row = db.one("SELECT value FROM account WHERE id = ?", (account_id,))
    if row is None:
        raise LookupError(f"account {account_id} not found")
    new_value = Decimal(row["value"]) + delta
    ts = now_iso()
    db.execute("UPDATE account SET value = ?, changed = ? WHERE id = ?", (fmt(new_value), ts, account_id))
    db.execute(
        "INSERT INTO ledger_entry (transfer_id, account_id, amount, value_after, kind, created) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (transfer_id, account_id, fmt(delta), fmt(new_value), kind, ts),
    )
    return new_value


def settlement_model_for(db: Database, currency: str) -> sqlite3.Row | None:
    """The model for ``currency``, else the default (currency-less) one, as central-ledger picks it."""
    row = db.one("SELECT * FROM settlement_model WHERE currency = ? AND is_active = 1", (currency,))
    return row or db.one("SELECT * FROM settlement_model WHERE currency IS NULL AND is_active = 1")


def ndc(db: Database, position_account_id: int) -> Decimal:
    row = db.one("SELECT value FROM participant_limit WHERE account_id = ?", (position_account_id,))
    return Decimal(row["value"]) if row else Decimal(0)


@dataclass(frozen=True)
class PositionCheck:
    """The position check's verdict; central-ledger words 4001/4200 with the code's own message, no detail."""

    ok: bool
    error_code: str | None = None
    detail: str | None = None


def check_payer(db: Database, release: Release, payer: str, currency: str, amount: Decimal) -> PositionCheck:
    """The prepare position check of behaviour ref §9, with the rule of ``release``."""
    pos = account_by_name(db, payer, POSITION, currency)
    settle = account_by_name(db, payer, SETTLEMENT, currency)
    if pos is None or settle is None:
        return PositionCheck(False, "3100", f"Participant {payer} {currency} account not found")
    effective = Decimal(pos["value"]) + Decimal(pos["reserved_value"])
    cap = ndc(db, pos["id"])
    if not release.liquidity_split:
        # central-ledger <= v13.16: one check, cover = NDC, failure 4001.
        if cap - effective < amount:
            return PositionCheck(False, "4001")
        return PositionCheck(True)
    model = settlement_model_for(db, currency)
    if model is None or model["require_liquidity_check"]:
        cover = -Decimal(settle["value"])
        if cover - effective < amount:
            return PositionCheck(False, "4001")
    if cap - effective < amount:
        return PositionCheck(False, "4200")
    return PositionCheck(True)


def reserve(db: Database, payer: str, currency: str, amount: Decimal, transfer_id: str) -> None:
    pos = account_by_name(db, payer, POSITION, currency)
    assert pos is not None
    adjust(db, pos["id"], amount, transfer_id, "PRINCIPLE_VALUE_RESERVE")


def release_reserved(db: Database, transfer_id: str) -> None:
    """Abort or expiry: give back exactly what was reserved under ``transfer_id`` and not yet given back, on
    whichever account it was reserved (the payer's, or an FXP's for a transfer that depends on a conversion), as
    central-ledger reverts the recorded position changes of a transfer rather than recomputing them."""
    open_per_account: dict[int, Decimal] = {}
    for row in db.all("SELECT account_id, amount FROM ledger_entry WHERE transfer_id = ? AND kind IN (?, ?) "
                      "ORDER BY id", (transfer_id, "PRINCIPLE_VALUE_RESERVE", "PRINCIPLE_VALUE_ABORT")):
        open_per_account[row["account_id"]] = open_per_account.get(row["account_id"], Decimal(0)) + Decimal(
            row["amount"])
    for account_id, reserved in open_per_account.items():
        if reserved != 0:
            adjust(db, account_id, -reserved, transfer_id, "PRINCIPLE_VALUE_ABORT")


def commit(db: Database, payer: str, payee: str, currency: str, amount: Decimal, transfer_id: str) -> int:
    """Payee position −amount and the transfer counted in the OPEN settlement window; returns the window id."""
    payee_pos = account_by_name(db, payee, POSITION, currency)
    payer_pos = account_by_name(db, payer, POSITION, currency)
    assert payee_pos is not None and payer_pos is not None
    adjust(db, payee_pos["id"], -amount, transfer_id, "PRINCIPLE_VALUE_COMMIT")
    window_id = open_window_id(db)
    content_id = _window_content(db, window_id, POSITION, currency)
    _aggregate(db, content_id, payer_pos["id"], "PAYER_DFSP", amount)
    _aggregate(db, content_id, payee_pos["id"], "PAYEE_DFSP", -amount)
    return window_id


def open_window_id(db: Database) -> int:
    row = db.one("SELECT id FROM settlement_window WHERE state = 'OPEN' ORDER BY id DESC LIMIT 1")
    if row is not None:
        return int(row["id"])
    ts = now_iso()
    cur = db.execute(
        "INSERT INTO settlement_window (state, reason, created, changed) VALUES ('OPEN', NULL, ?, ?)", (ts, ts)
    )
    return int(cur.lastrowid or 0)


def _window_content(db: Database, window_id: int, ledger_type: str, currency: str) -> int:
    row = db.one(
        "SELECT id FROM settlement_window_content WHERE window_id = ? AND ledger_account_type = ? "
        "AND currency = ?",
        (window_id, ledger_type, currency),
    )
    if row is not None:
        return int(row["id"])
    ts = now_iso()
    cur = db.execute(
        "INSERT INTO settlement_window_content (window_id, ledger_account_type, currency, state, created, "
        "changed) VALUES (?, ?, ?, 'OPEN', ?, ?)",
        (window_id, ledger_type, currency, ts, ts),
    )
    return int(cur.lastrowid or 0)


def _aggregate(db: Database, content_id: int, account_id: int, role: str, amount: Decimal) -> None:
    row = db.one(
        "SELECT amount FROM settlement_content_aggregation WHERE content_id = ? AND account_id = ? AND role = ?",
        (content_id, account_id, role),
    )
    if row is None:
        db.execute(
            "INSERT INTO settlement_content_aggregation (content_id, account_id, role, amount) VALUES (?, ?, ?, ?)",
            (content_id, account_id, role, fmt(amount)),
        )
    else:
        db.execute(
            "UPDATE settlement_content_aggregation SET amount = ? WHERE content_id = ? AND account_id = ? "
            "AND role = ?",
            (fmt(Decimal(row["amount"]) + amount), content_id, account_id, role),
        )
