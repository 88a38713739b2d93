"""The callback receiver of one payer FSP (one per Locust worker process): the hub PUTs every callback here, and
the user greenlet that sent the request is woken with it.

Runs inside Locust's gevent world only (imports gevent). A callback is keyed by what identifies it on the wire:
``parties/MSISDN/123``, ``quotes/<quoteId>``, ``transfers/<transferId>``, with a trailing ``/error`` marking an
error callback. The user registers the key before it sends the request, so a callback that comes back faster
than the 202 is not missed.

It is a gevent stream server with the llhttp parser (httptools) rather than a WSGI server: every callback is
answered ``200`` with an empty body, kept alive, so per callback it parses only the request line, the length and
the body. Under load gevent's pywsgi (headers through the stdlib email parser) was the generator's largest cost.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httptools
from gevent.event import AsyncResult
from gevent.server import StreamServer

from mojacheck.load.wire import callback_key

__all__ = ["Callback", "Receiver"]

_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
_OK_CLOSE = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


@dataclass(frozen=True)
class Callback:
    """One callback as the payer received it: error or not, its raw body, and when it arrived (perf_counter)."""

    key: str
    error: bool
    body: bytes
    at: float


class _Requests:
    """llhttp callbacks for one connection: each complete request becomes (path, body, keep-alive)."""

    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.chunks: list[bytes] = []
        self.done: list[tuple[str, bytes, bool]] = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        path = self.url.split(b"?", 1)[0].decode("latin-1")
        self.done.append((path, b"".join(self.chunks), self.parser.should_keep_alive()))
        self.url, self.chunks = b"", []


class Receiver:
    """A stream server on (host, port) that hands callbacks to whoever awaits their key."""

    def __init__(self, host: str, port: int) -> None:
        self._waiting: dict[str, AsyncResult] = {}
        self.unexpected = 0  # callbacks nobody awaited (late after a timeout, or never asked for)
        self.received = 0
        self.server = StreamServer((host, port), self._connection)

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

    def _connection(self, sock: Any, _address: Any) -> None:
        requests = _Requests()
        with sock:
            while True:
                data = sock.recv(65536)
                if not data:
                    return
                try:
                    requests.parser.feed_data(data)
                except httptools.HttpParserError:
                    return  # not HTTP: nothing to answer
                if not requests.done:
                    continue
                for path, body, _alive in requests.done:
                    self._deliver(path, body)
                keep = all(alive for _p, _b, alive in requests.done)
                sock.sendall(b"".join(_OK if alive else _OK_CLOSE for _p, _b, alive in requests.done))
                requests.done.clear()
                if not keep:
                    return

    def _deliver(self, path: str, body: bytes) -> None:
        self.received += 1
        found = callback_key(path)
        waiter = self._waiting.pop(found[0], None) if found is not None else None
        if waiter is None or found is None:
            self.unexpected += 1
            return
        waiter.set(Callback(found[0], found[1], body, time.perf_counter()))
