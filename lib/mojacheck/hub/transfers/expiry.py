"""The timeout handler: transfers past their expiration are aborted with 3303 (behaviour ref §10).

Mojaloop sweeps every 15 s; the hub sweeps every ``expiry_interval_s`` (1 s by default), so an expiry is
reported 0–interval seconds after the expiration, never before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mojacheck.hub.fx import dependent
from mojacheck.hub.fx import expiry as fx_expiry
from mojacheck.hub.transfers import store as ts
from mojacheck.hub.web import log

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub


def sweep_once(hub: Hub, now: float | None = None) -> int:
    """Expire every due transfer; returns how many were expired."""
    moment = datetime.now(UTC).timestamp() if now is None else now
    due = hub.db.all(
        "SELECT * FROM transfer WHERE state IN (?, ?) AND expiration_ts <= ? ORDER BY expiration_ts",
        (ts.RECEIVED_PREPARE, ts.RESERVED, moment),
    )
    for row in due:
        was_reserved = row["state"] == ts.RESERVED
        new_state = ts.EXPIRED_RESERVED if was_reserved else ts.EXPIRED_PREPARED
        ts.abort(hub, row, new_state, "3303", "Transfer expired")
        params = ts.params(row["id"])
        hub.outbox.error_to(row["payer"], "transfers", params, "3303")
        if was_reserved:
            hub.outbox.error_to(row["payee"], "transfers", params, "3303")
        dependent.expire(hub, row)  # a conversion waiting on this transfer expires with it
    return len(due) + fx_expiry.sweep_once(hub, moment)


async def sweep_forever(hub: Hub, interval: float, *,
                        before: Sequence[Callable[[Hub, float], int]] = ()) -> None:
    """Run until cancelled; one failing sweep is logged and the next one still runs.

    ``before``: sweeps of transfers that belong to something bigger (bulk items), run first with the same clock
    reading, so this sweep never reports such a transfer on its own.
    """
    while True:
        await asyncio.sleep(interval)
        now = datetime.now(UTC).timestamp()
        try:
            for other in before:
                other(hub, now)
            sweep_once(hub, now)
        except Exception:
            log.exception("expiry sweep failed")
