"""Bulk items expire through the transfer timeout (central-ledger src/handlers/timeouts/handler.js).

An item still ACCEPTED at the bulk's expiration is released like a single transfer (payer's reservation given back,
EXPIRED_RESERVED) and recorded with 3303 "Transfer expired", but the payer hears of it only through the bulk: once no
item is open, the bulk is COMPLETED and payer and payee get the results. Runs in the hub's sweep before the
single-transfer sweep, with the same clock reading, so that one never reports a bulk item on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mojacheck.hub.bulk import notify, store
from mojacheck.hub.bulk.fulfil import finish
from mojacheck.hub.transfers import store as ts

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

EXPIRED = ("3303", "Transfer expired")


def sweep(hub: Hub, now: float) -> int:
    """Expire the due items of open bulks; returns how many."""
    due = hub.db.all(
        "SELECT t.*, i.bulk_id AS bulk_id, i.seq AS seq FROM transfer t JOIN bulk_item i ON i.transfer_id = t.id "
        "WHERE i.state = 'ACCEPTED' AND t.state IN (?, ?) AND t.expiration_ts <= ? ORDER BY i.bulk_id, i.seq",
        (ts.RECEIVED_PREPARE, ts.RESERVED, now))
    finished: list[str] = []
    with hub.db.tx():
        for row in due:
            state = ts.EXPIRED_RESERVED if row["state"] == ts.RESERVED else ts.EXPIRED_PREPARED
            ts.abort(hub, row, state, *EXPIRED)
            store.set_item(hub, row["bulk_id"], row["seq"], "EXPIRED", error=EXPIRED)
        for bulk_id in dict.fromkeys(row["bulk_id"] for row in due):
            if finish(hub, bulk_id, ("expired", None)):
                finished.append(bulk_id)
            else:
                store.set_state(hub, bulk_id, store.EXPIRING)
    for bulk_id in finished:
        notify.final(hub, bulk_id, None, payee_answer=False)
    return len(due)
