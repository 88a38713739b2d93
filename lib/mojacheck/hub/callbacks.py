"""Outbound messages: endpoint templates, relays, hub-originated callbacks, delivery in the background.

Deliveries never block the request that caused them: each one is an asyncio task tracked by the outbox so
shutdown can wait for or cancel it. A missing endpoint or an unreachable FSP is logged (every delivery and its
outcome by the hub's ``LoggedDelivery``, see ``server/logs.py``) and, where the caller asks, answered with an error
callback to the requester; it never raises into a handler.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from mojacheck.fspiop import callback_headers, error_body
from mojacheck.hub.db import HUB_NAME, Database
from mojacheck.hub.releases import Release
from mojacheck.server import Delivery, DeliveryResult

log = logging.getLogger("mojacheck.hub")

# Headers that belong to one HTTP hop, or to the hub's own gateway, and must not be relayed to an FSP.
_HOP_HEADERS = frozenset({
    "host", "content-length", "connection", "keep-alive", "transfer-encoding", "accept-encoding",
    "authorization", "expect", "upgrade", "te", "proxy-connection",
})
_PLACEHOLDER = re.compile(r"{{\s*([A-Za-z0-9_]+)\s*}}")

# (error endpoint type, sub-id error endpoint type) per FSPIOP resource, for error callbacks.
ERROR_ENDPOINTS: dict[str, tuple[str, str | None, str]] = {
    # resource: (endpoint type, endpoint type when a SubId is present, path appended to a base-URL type)
    "parties": ("FSPIOP_CALLBACK_URL_PARTIES_PUT_ERROR", "FSPIOP_CALLBACK_URL_PARTIES_SUB_ID_PUT_ERROR", ""),
    "participants": (
        "FSPIOP_CALLBACK_URL_PARTICIPANT_PUT_ERROR", "FSPIOP_CALLBACK_URL_PARTICIPANT_SUB_ID_PUT_ERROR", ""),
    "participants-batch": ("FSPIOP_CALLBACK_URL_PARTICIPANT_BATCH_PUT_ERROR", None, ""),
    "quotes": ("FSPIOP_CALLBACK_URL_QUOTES", None, "/quotes/{id}/error"),
    "transfers": ("FSPIOP_CALLBACK_URL_TRANSFER_ERROR", None, ""),
    "fxQuotes": ("FSPIOP_CALLBACK_URL_FX_QUOTES", None, "/fxQuotes/{id}/error"),
    "fxTransfers": ("FSPIOP_CALLBACK_URL_FX_TRANSFER_ERROR", None, ""),
}


def render(template: str, params: Mapping[str, str]) -> str:
    """Mustache-style substitution of ``{{name}}``; unknown names become empty, as Mustache does."""
    return _PLACEHOLDER.sub(lambda m: str(params.get(m.group(1), "")), template)


def relay_headers(headers: Mapping[str, str], method: str, **overrides: str) -> dict[str, str]:
    """The sender's headers minus hop-by-hop ones; PUT/PATCH lose Accept (receivers reject it)."""
    out = {k: v for k, v in headers.items() if k.lower() not in _HOP_HEADERS}
    if method in ("PUT", "PATCH"):
        out = {k: v for k, v in out.items() if k.lower() != "accept"}
    for name, value in overrides.items():
        out = {k: v for k, v in out.items() if k.lower() != name.lower()}
        out[name] = value
    return out


class Outbox:
    """Finds FSP endpoints and delivers messages to them in background tasks."""

    def __init__(self, db: Database, release: Release, delivery: Delivery) -> None:
        self.db = db
        self.release = release
        self.delivery = delivery
        self.tasks: set[asyncio.Task[Any]] = set()
        # (fsp, endpoint type) → template: read on every message (several per transfer), written only by the
        # operator API; dropped whenever the endpoint table changes.
        self._endpoints: dict[tuple[str, str], str | None] = {}
        db.watch("endpoint", self._endpoints.clear)

    def spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
        """Run ``coro`` in the background; its exceptions are logged, never lost."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self.tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background task %s failed", what, exc_info=t.exception())

        task.add_done_callback(done)
        return task

    def endpoint(self, fsp: str, endpoint_type: str) -> str | None:
        key = (fsp, endpoint_type)
        if key in self._endpoints:
            return self._endpoints[key]
        row = self.db.one(
            "SELECT e.value FROM endpoint e JOIN participant p ON p.id = e.participant_id "
            "WHERE p.name = ? AND e.type = ?",
            (fsp, endpoint_type),
        )
        value = self._endpoints[key] = None if row is None else str(row["value"])
        return value

    def url(self, fsp: str, endpoint_type: str, params: Mapping[str, str], suffix: str = "") -> str | None:
        template = self.endpoint(fsp, endpoint_type)
        if template is None:
            return None
        return render(template, params).rstrip("/") + suffix if suffix else render(template, params)

    def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        on_failure: Callable[[DeliveryResult], None] | None = None,
    ) -> None:
        """Deliver in the background; ``on_failure`` runs when no 2xx came back (the delivery logs it)."""

        async def go() -> None:
            result = await self.delivery.send(method, url, headers, body)
            if not result.ok and on_failure is not None:
                on_failure(result)

        self.spawn(go(), f"{method} {url}")

    def hub_headers(self, resource: str, destination: str, *, source: str = HUB_NAME) -> dict[str, str]:
        headers = dict(callback_headers(resource, source, destination, version=self.release.default_version))
        return {k: v for k, v in headers.items() if k.lower() != "accept"}

    def hub_message(
        self, method: str, destination: str, url: str, resource: str, body: Mapping[str, Any] | None
    ) -> None:
        """A message the hub itself originates (FSPIOP-Source: Hub, release default version)."""
        data = None if body is None else json.dumps(body).encode()
        self.send(method, url, self.hub_headers(resource, destination), data)

    def error_to(
        self,
        fsp: str,
        resource: str,
        params: Mapping[str, str],
        code: str,
        detail: str | None = None,
        *,
        extension_list: list[dict[str, Any]] | None = None,
    ) -> bool:
        """``PUT …/error`` from the hub to ``fsp``; False (and a log line) when it has no such endpoint."""
        endpoint_type, sub_type, suffix = ERROR_ENDPOINTS[resource]
        if sub_type and params.get("partySubIdOrType"):
            endpoint_type = sub_type
        url = self.url(fsp, endpoint_type, params, suffix.format(id=params.get("ID", "")))
        if url is None:
            log.warning("no %s endpoint for %s: error %s %s not delivered", endpoint_type, fsp, code, detail)
            return False
        body = error_body(code, detail, extension_list)
        topic = "participants" if resource == "participants-batch" else resource
        self.hub_message("PUT", fsp, url, topic, body)
        return True

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` for pending deliveries, then cancel what is left."""
        pending = set(self.tasks)
        if pending:
            _done, still = await asyncio.wait(pending, timeout=timeout)
            for task in still:
                task.cancel()
