"""The transfer that depends on a conversion (its ``transferId`` is a watched ``determiningTransferId``), as
central-ledger's "cyril" handles it (fx.md §5). The transfer modules call these hooks; they do nothing for a
transfer no conversion waits on, and nothing at a release without FX.

* prepare: every linked conversion must be fulfilled (else 3100 "Related FX Transfer is not fulfilled"); only the
  payee's account in the transfer currency is checked (the payer needs none in the target currency); liquidity and
  NDC are those of the **FXP in the conversion's target currency**, reserved by the conversion's ``targetAmount``.
* commit: the FXP's source position falls by ``sourceAmount`` (the conversion COMMITTED, the FXP told by
  ``PATCH /fxTransfers/{ID}``), then the payee's target position falls by ``targetAmount``.
* abort (payee error or bad fulfilment): every reservation is given back, the conversion ABORTED, the FXP told by
  PATCH ABORTED; the payer hears only about the transfer.
* expiry: the conversion expires with the transfer (3303 to payer and FXP, no PATCH).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from mojacheck.hub import ledger
from mojacheck.hub.fx import store as fs

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub


@dataclass(frozen=True)
class Plan:
    """How a dependent transfer is prepared: who is reserved, in which currency, by how much, and why not."""

    fxp: str
    currency: str
    amount: Decimal
    reasons: list[str] = field(default_factory=list)


def _linked(hub: Hub, transfer_id: str) -> list[sqlite3.Row]:
    return fs.linked(hub, transfer_id) if hub.release.fx else []


def plan(hub: Hub, transfer_id: str) -> Plan | None:
    """The reservation a dependent transfer makes, or None for a transfer no conversion waits on."""
    rows = _linked(hub, transfer_id)
    if not rows:
        return None
    # Several conversions may share a determining transfer (reference currency); the one that delivers the
    # transfer's currency is the last in the chain, and its FXP's target position is what the transfer reserves.
    last = rows[-1]
    reasons = [] if all(r["state"] == fs.RECEIVED_FULFIL_DEPENDENT for r in rows) else [
        "Related FX Transfer is not fulfilled"]
    return Plan(last["counterparty_fsp"], last["target_currency"], Decimal(last["target_amount"]), reasons)


@dataclass(frozen=True)
class Committed:
    """The conversions a dependent transfer's commit completed, and the settlement window of the transfer leg."""

    conversions: list[sqlite3.Row]
    window_id: int


def commit(hub: Hub, transfer: sqlite3.Row) -> Committed | None:
    """Inside the caller's transaction: book both legs. None for a transfer no conversion waits on."""
    rows = [r for r in _linked(hub, transfer["id"]) if r["state"] == fs.RECEIVED_FULFIL_DEPENDENT]
    if not rows:
        return None
    for fx in rows:
        # FXP source position −sourceAmount; the leg (payer +S, FXP −S) counted in the open window.
        ledger.commit(hub.db, fx["initiating_fsp"], fx["counterparty_fsp"], fx["source_currency"],
                      Decimal(fx["source_amount"]), fx["commit_request_id"])
        fs.set_state(hub, fx["commit_request_id"], fs.COMMITTED)
    last = rows[-1]
    # Payee target position −targetAmount of the conversion (central-ledger does not compare it with the
    # transfer's amount); the leg (FXP +T, payee −T) counted in the open window.
    window = ledger.commit(hub.db, last["counterparty_fsp"], transfer["payee"], last["target_currency"],
                           Decimal(last["target_amount"]), transfer["id"])
    return Committed(rows, window)


def tell_fxp(hub: Hub, conversions: list[sqlite3.Row], state: str, trigger: Mapping[str, str] | None = None) -> None:
    """``PATCH /fxTransfers/{ID}`` from the hub to each FXP: COMMITTED (with the time the FXP fulfilled) or ABORTED;
    ``trigger``: the payee's request that ended the transfer."""
    for fx in conversions:
        url = hub.outbox.url(fx["counterparty_fsp"], fs.PUT_ENDPOINT, fs.params(fx["commit_request_id"]))
        if url is None:
            continue
        body = {"conversionState": state}
        if state == "COMMITTED" and fx["fulfilled_at"]:
            body["completedTimestamp"] = fx["fulfilled_at"]
        hub.outbox.hub_message("PATCH", fx["counterparty_fsp"], url, fs.RESOURCE, body, trigger=trigger)


def abort(hub: Hub, transfer: sqlite3.Row, code: str, detail: str) -> list[sqlite3.Row]:
    """Inside the caller's transaction: the conversions of an aborted dependent transfer end too; returns them."""
    ended = []
    for fx in _linked(hub, transfer["id"]):
        if fx["state"] in fs.OPEN:
            ledger.release_reserved(hub.db, fx["commit_request_id"])
            fs.set_state(hub, fx["commit_request_id"], fs.ABORTED_ERROR, error_code=code, error_description=detail)
            ended.append(fx)
    return ended


def expire(hub: Hub, transfer: sqlite3.Row) -> None:
    """The dependent transfer expired: its conversions expire with it, 3303 to the payer and the FXP."""
    with hub.db.tx():
        ended = []
        for fx in _linked(hub, transfer["id"]):
            if fx["state"] in fs.OPEN:
                ledger.release_reserved(hub.db, fx["commit_request_id"])
                fs.set_state(hub, fx["commit_request_id"], fs.EXPIRED_RESERVED, error_code="3303",
                             error_description="Transfer expired")
                ended.append(fx)
    for fx in ended:
        for fsp in (fx["initiating_fsp"], fx["counterparty_fsp"]):
            hub.outbox.error_to(fsp, fs.RESOURCE, fs.params(fx["commit_request_id"]), "3303")
