"""Ledger effects of settlement account steps under a model with ``autoPositionReset`` (behaviour ref §12).

Each account in a settlement gets one settlement transfer between its POSITION account and the hub's
HUB_MULTILATERAL_SETTLEMENT account of the currency (central-settlement's facade does the same):

* PS_TRANSFERS_RECORDED: the transfer is recorded (id, RECEIVED_PREPARE); no balance moves.
* PS_TRANSFERS_RESERVED: a net **recipient** (net < 0) has its position raised by |net| and the hub account
  takes net (so it goes down by |net|); with ``requireLiquidityCheck`` the recipient's NDC is raised when the
  new position would exceed it. Net senders' transfers are only marked RESERVED.
* PS_TRANSFERS_COMMITTED: a net **sender** (net > 0) has its position lowered by net and the hub account
  takes net. Recipients' transfers are only marked COMMITTED.
* abort: a reserved recipient's position and the hub account are given back.

Positions plus the hub multilateral account therefore sum to the same value before and after every step,
and once all steps are done every position is back where it was before the window's transfers.
SETTLEMENT accounts are never touched: the bank movement is booked by the operator with funds in/out.
"""

from __future__ import annotations

import sqlite3
import uuid
from decimal import Decimal

from mojacheck.hub import ledger
from mojacheck.hub.db import HUB_NAME, Database
from mojacheck.hub.settlement import store as st

NET_SENDER, NET_RECIPIENT, NET_ZERO = "SETTLEMENT_NET_SENDER", "SETTLEMENT_NET_RECIPIENT", "SETTLEMENT_NET_ZERO"


def entry_type(net: Decimal) -> str:
    return NET_SENDER if net > 0 else NET_RECIPIENT if net < 0 else NET_ZERO


def hub_account(db: Database, currency: str) -> sqlite3.Row:
    row = ledger.account_by_name(db, HUB_NAME, ledger.HUB_MULTILATERAL_SETTLEMENT, currency)
    if row is None:
        raise LookupError(f"no HUB_MULTILATERAL_SETTLEMENT account in {currency}")
    return row


def _set_transfer(db: Database, sa_id: int, state: str, transfer_id: str | None = None) -> None:
    if transfer_id is None:
        db.execute("UPDATE settlement_account SET transfer_state = ? WHERE id = ?", (state, sa_id))
    else:
        db.execute("UPDATE settlement_account SET transfer_state = ?, transfer_id = ? WHERE id = ?",
                   (state, transfer_id, sa_id))


def _move(db: Database, sa: sqlite3.Row, dfsp_delta: Decimal, kind: str) -> None:
    """Position of the DFSP += dfsp_delta, hub multilateral account −= dfsp_delta, one journal pair."""
    hub = hub_account(db, sa["currency"])
    ledger.adjust(db, sa["account_id"], dfsp_delta, sa["transfer_id"], kind)
    ledger.adjust(db, hub["id"], -dfsp_delta, sa["transfer_id"], kind)


def _raise_ndc_if_needed(db: Database, sa: sqlite3.Row, amount: Decimal) -> None:
    row = db.one("SELECT value, reserved_value FROM account WHERE id = ?", (sa["account_id"],))
    assert row is not None
    cap = ledger.ndc(db, sa["account_id"])
    if cap - Decimal(row["value"]) - Decimal(row["reserved_value"]) - amount < 0:
        db.execute("UPDATE participant_limit SET value = ? WHERE account_id = ?",
                   (ledger.fmt(cap + amount), sa["account_id"]))


def apply_step(db: Database, sa: sqlite3.Row, target: str, model: sqlite3.Row) -> None:
    """Book what moving account ``sa`` (a settlement_account row with currency) to ``target`` does."""
    if not model["auto_position_reset"]:
        return
    net = Decimal(sa["net_amount"])
    if target == st.PS_RECORDED:
        _set_transfer(db, sa["id"], "RECEIVED_PREPARE", str(uuid.uuid4()))
    elif target == st.PS_RESERVED:
        if net < 0:
            if model["require_liquidity_check"]:
                _raise_ndc_if_needed(db, sa, -net)
            _move(db, sa, -net, NET_RECIPIENT)
        _set_transfer(db, sa["id"], "RESERVED")
    elif target == st.PS_COMMITTED:
        if net > 0:
            _move(db, sa, -net, NET_SENDER)
        _set_transfer(db, sa["id"], "COMMITTED")


def abort_account(db: Database, sa: sqlite3.Row) -> None:
    """Give back what a reservation took; a transfer that was never reserved is only marked ABORTED."""
    net = Decimal(sa["net_amount"])
    if sa["transfer_state"] == "RESERVED" and net < 0:
        _move(db, sa, net, "SETTLEMENT_ABORT")
    if sa["transfer_id"] is not None:
        _set_transfer(db, sa["id"], "ABORTED")
