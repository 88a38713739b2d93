"""Every message the simulator received or sent, in a bounded ring, queryable with long-poll.

Waiters block on an ``asyncio.Event`` that is replaced on every append, so a long-poll wakes exactly when
something new arrives (no sleep loop); the ring bounds memory during long soak runs.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

REDACTED = "[redacted]"
_SENSITIVE = frozenset({"authorization", "proxy-authorization"})

# Body field naming the id of a POST, so `key` finds a POST /transfers by transferId like its PUT callback.
_POST_ID_FIELD = {
    "transfers": "transferId",
    "quotes": "quoteId",
    "bulkTransfers": "bulkTransferId",
    "bulkQuotes": "bulkQuoteId",
    "fxQuotes": "conversionRequestId",
    "fxTransfers": "commitRequestId",
    "transactionRequests": "transactionRequestId",
    "participants": "requestId",
    "consentRequests": "consentRequestId",
    "consents": "consentId",
}


def utc_now_iso() -> str:
    """ISO-8601 UTC with milliseconds and Z, the FSPIOP DateTime form."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def redact(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased header names; credentials replaced so evidence can be shared."""
    return {k.lower(): (REDACTED if k.lower() in _SENSITIVE else v) for k, v in headers.items()}


def key_of(resource: str, path: str, body: Any = None) -> str:
    """Path after the resource, trailing ``/error`` removed; for a bare POST, the id from the body."""
    rest = path.split("?", 1)[0].strip("/").split("/")[1:]
    if rest and rest[-1] == "error":
        rest = rest[:-1]
    key = "/".join(rest)
    if not key and isinstance(body, dict):
        value = body.get(_POST_ID_FIELD.get(resource, ""))
        if isinstance(value, str):
            return value
    return key


@dataclass(frozen=True)
class InboxFilter:
    fsp: str | None = None
    method: str | None = None
    resource: str | None = None
    key: str | None = None
    error: bool | None = None
    direction: str | None = None

    def matches(self, item: Mapping[str, Any]) -> bool:
        return (
            (self.fsp is None or item["fsp"] == self.fsp)
            and (self.method is None or item["method"] == self.method.upper())
            and (self.resource is None or item["resource"] == self.resource)
            and (self.key is None or item["key"] == self.key)
            and (self.error is None or item["error"] == self.error)
            and (self.direction is None or item["direction"] == self.direction)
        )


class Inbox:
    def __init__(self, size: int) -> None:
        self._items: deque[dict[str, Any]] = deque(maxlen=size)
        self._seq = 0
        self._changed = asyncio.Event()

    @property
    def last(self) -> int:
        return self._seq

    def record(
        self,
        *,
        direction: str,
        fsp: str | None,
        method: str,
        path: str,
        resource: str,
        headers: Mapping[str, str],
        body: Any,
        status: int | None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Append one message and wake every long-poll."""
        self._seq += 1
        item: dict[str, Any] = {
            "seq": self._seq,
            "direction": direction,
            "fsp": fsp,
            "method": method.upper(),
            "path": path,
            "resource": resource,
            "key": key_of(resource, path, body),
            "error": path.split("?", 1)[0].rstrip("/").endswith("/error"),
            "headers": redact(headers),
            "body": body,
            "status": status,
            "received": utc_now_iso(),
            **extra,
        }
        self._items.append(item)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        return item

    def query(self, flt: InboxFilter, after: int = 0) -> list[dict[str, Any]]:
        """Every matching item with ``seq > after``, oldest first."""
        found: list[dict[str, Any]] = []
        for item in reversed(self._items):  # seqs ascend, so stop at the first one already seen
            if item["seq"] <= after:
                break
            if flt.matches(item):
                found.append(item)
        found.reverse()
        return found

    async def wait(self, flt: InboxFilter, after: int = 0, wait_s: float = 0.0) -> tuple[list[dict[str, Any]], int]:
        """Like ``query``, but with ``wait_s`` > 0 block until something matches or the time is up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            changed = self._changed  # taken before the check, so an append in between still wakes us
            items = self.query(flt, after)
            remaining = deadline - loop.time()
            if items or remaining <= 0:
                return items, self.last
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except TimeoutError:
                return self.query(flt, after), self.last

    def clear(self) -> None:
        """Drop stored items; seq keeps counting so ``after`` cursors stay valid."""
        self._items.clear()
