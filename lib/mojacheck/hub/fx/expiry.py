"""central-ledger's timeout handler for conversions (fx.md §4.9): a conversion still RESERVED (the FXP has not
fulfilled) past its expiration is aborted, the payer's reservation given back, and the payer DFSP and the FXP each
hear 3303 from the hub. A fulfilled conversion (RECEIVED_FULFIL_DEPENDENT) does not expire by itself (central-ledger
PR #1219); it expires with its dependent transfer (``dependent.expire``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mojacheck.hub import ledger
from mojacheck.hub.fx import store as fs

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub


def sweep_once(hub: Hub, moment: float) -> int:
    """Expire every due conversion; returns how many were expired."""
    due = hub.db.all("SELECT * FROM fx_transfer WHERE state = ? AND expiration_ts <= ? ORDER BY expiration_ts",
                     (fs.RESERVED, moment))
    for row in due:
        with hub.db.tx():
            ledger.release_reserved(hub.db, row["commit_request_id"])
            fs.set_state(hub, row["commit_request_id"], fs.EXPIRED_RESERVED, error_code="3303",
                         error_description="Transfer expired")
        for fsp in (row["initiating_fsp"], row["counterparty_fsp"]):
            hub.outbox.error_to(fsp, fs.RESOURCE, fs.params(row["commit_request_id"]), "3303")
    return len(due)
