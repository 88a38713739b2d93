"""The callback receiver of one payer FSP (one per Locust worker process): the hub PUTs every callback here, and
the user greenlet that sent the request is woken with it.

Runs inside Locust's gevent world only (imports gevent). A callback is keyed by what identifies it on the wire:
``parties/MSISDN/123``, ``quotes/<quoteId>``, ``transfers/<transferId>``, with a trailing ``/error`` marking an
error callback. The user registers the key before it sends the request, so a callback that comes back faster
than the 202 is not missed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from gevent.event import AsyncResult
from gevent.pywsgi import WSGIServer

from mojacheck.load.wire import callback_key

__all__ = ["Callback", "Receiver"]

_OK = [("Content-Length", "0")]


@dataclass(frozen=True)
class Callback:
    """One callback as the payer received it: error or not, its raw body, and when it arrived (perf_counter)."""

    key: str
    error: bool
    body: bytes
    at: float


class Receiver:
    """A WSGI server on (host, port) that hands callbacks to whoever awaits their key."""

    def __init__(self, host: str, port: int) -> None:
        self._waiting: dict[str, AsyncResult] = {}
        self.unexpected = 0  # callbacks nobody awaited (late after a timeout, or never asked for)
        self.received = 0
        self.server = WSGIServer((host, port), self._app, log=None, error_log=None)

    def start(self) -> int:
        """Bind and serve in the background; returns the bound port."""
        self.server.start()
        return int(self.server.server_port)

    def stop(self) -> None:
        self.server.stop(timeout=1)

    def expect(self, key: str) -> AsyncResult:
        """Register interest in the callback ``key`` (call before sending the request)."""
        result = AsyncResult()
        self._waiting[key] = result
        return result

    def forget(self, keys: Iterable[str]) -> None:
        for key in keys:
            self._waiting.pop(key, None)

    def _app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        found = callback_key(environ.get("PATH_INFO", ""))
        self.received += 1
        if found is not None:
            waiter = self._waiting.pop(found[0], None)
            if waiter is not None:
                waiter.set(Callback(found[0], found[1], body, time.perf_counter()))
            else:
                self.unexpected += 1
        else:
            self.unexpected += 1
        start_response("200 OK", _OK)
        return [b""]
