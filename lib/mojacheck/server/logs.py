"""The logs the hub and the simulator write: a start line, one line per request served, one per message sent.

Loggers, for a service named ``mojacheck.hub`` (the simulator's are the same under ``mojacheck.sim``):

* ``mojacheck.hub.start``: where it listens and how it is configured; at every level (see ``configure``).
* ``mojacheck.hub.access`` (info): ``POST /transfers 202 2.4ms mcpayerfsp->mcpayeefsp1``.
* ``mojacheck.hub.delivery`` (info; warning when no 2xx came back):
  ``PUT http://127.0.0.1:4041/mcpayerfsp/transfers/x 200 3.1ms mcpayeefsp1->mcpayerfsp``.

Cheap on purpose: the level is checked once per request before anything is measured or formatted, arguments are
%-formatted lazily by logging, and no body is ever logged. No header but FSPIOP-Source and FSPIOP-Destination is
read, so Authorization (or any other secret header) never reaches a log; query strings are left out too, because a
3PPI web login's redirect carries the consent secret in one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mojacheck.server.delivery import Delivery, DeliveryResult

LEVELS = ("debug", "info", "warning", "error")
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure(level: str, service: str) -> None:
    """Log to stderr at ``level``; the service's start line (``<service>.start``) is written at any level."""
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ValueError(f"unknown log level {level!r}; expected one of {', '.join(LEVELS)}")
    # Records need no thread, process or caller (FORMAT shows none): skipping them makes a line ~25% cheaper (the
    # "Optimization" section of the logging HOWTO). Only the service processes call this, never a notebook kernel.
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None
    logging.basicConfig(level=number, format=FORMAT)
    # A logger's own level decides whether its records are made; the root handler writes whatever reaches it.
    logging.getLogger(f"{service}.start").setLevel(min(number, logging.INFO))


def _peers(source: str | None, destination: str | None) -> str:
    if source is None and destination is None:
        return ""
    return f" {source or '?'}->{destination or '?'}"


def _scope_peers(headers: Iterable[tuple[bytes, bytes]]) -> str:
    source = destination = None
    for name, value in headers:  # ASGI header names are lower-case
        if name == b"fspiop-source":
            source = value.decode("latin-1")
        elif name == b"fspiop-destination":
            destination = value.decode("latin-1")
    return _peers(source, destination)


def _mapping_peers(headers: Mapping[str, str]) -> str:
    source = destination = None
    for name, value in headers.items():  # callers mix "FSPIOP-Source" and "fspiop-source"
        lower = name.lower()
        if lower == "fspiop-source":
            source = value
        elif lower == "fspiop-destination":
            destination = value
    return _peers(source, destination)


class AccessLog:
    """ASGI middleware: one line per request served (method, path, status, ms, FSPIOP-Source->Destination).

    ``quiet`` path prefixes are logged at debug for GET: the simulator's inbox long-polls would otherwise outnumber
    the traffic worth reading. A request that raised is logged as 500, the answer Starlette then sends.
    """

    def __init__(self, app: ASGIApp, logger: str, quiet: tuple[str, ...] = ()) -> None:
        self.app = app
        self.log = logging.getLogger(logger)
        self.quiet = quiet

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        quiet = bool(self.quiet) and scope["method"] == "GET" and path.startswith(self.quiet)
        level = logging.DEBUG if quiet else logging.INFO
        if not self.log.isEnabledFor(level):
            await self.app(scope, receive, send)
            return
        status = 0

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_status)
        except Exception:
            status = status or 500
            raise
        finally:
            ms = (time.perf_counter() - start) * 1000.0
            self.log.log(level, "%s %s %s %.1fms%s", scope["method"], path, status or "-", ms,
                         _scope_peers(scope["headers"]))


def _safe_url(url: str) -> str:
    """The URL without user:password (an endpoint may carry them) and without its query."""
    if "@" not in url and "?" not in url and "#" not in url:
        return url  # the common case, without parsing
    parts = urlsplit(url)
    if "@" in parts.netloc:
        parts = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1])
    return urlunsplit(parts._replace(query="", fragment=""))


class LoggedDelivery:
    """A ``Delivery`` that logs every message it sent: info when a 2xx came back, warning otherwise."""

    def __init__(self, inner: Delivery, logger: str) -> None:
        self.inner = inner
        self.log = logging.getLogger(logger)

    async def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> DeliveryResult:
        result = await self.inner.send(method, url, headers, body)
        if result.ok:
            if self.log.isEnabledFor(logging.INFO):
                self.log.info("%s %s %s %.1fms%s", method, _safe_url(url), result.status, result.elapsed_ms,
                              _mapping_peers(headers))
        else:
            self.log.warning("%s %s failed: %s %.1fms%s", method, _safe_url(url), result.status or result.error,
                             result.elapsed_ms, _mapping_peers(headers))
        return result

    async def aclose(self) -> None:
        await self.inner.aclose()
