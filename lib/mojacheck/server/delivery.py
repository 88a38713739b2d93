"""Outbound HTTP behind one small interface, so the client library can be picked by measurement.

``bench/delivery_bench.py`` measures the implementations on loopback. The default is ``raw``: a lean HTTP/1.1
client on asyncio with keep-alive pooling and the httptools (llhttp) response parser, for plain ``http://``
(``https://`` goes through aiohttp). Callbacks are small requests answered with an empty 200/202, and per request
aiohttp spent most of its time on what they never use (URL objects, cookie jars, tracing, multidicts): under load
it was the largest share of the hub's and the simulator's CPU (``nox -s bench`` has the figures). aiohttp stays
for TLS and as ``--delivery aiohttp``; httpx degrades with concurrency. Deliveries never raise on network errors:
a hub or FSP that cannot be reached is a result (``status=None`` + ``error``), because callers record it as
evidence rather than crash a notebook or the simulator's background task.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import aiohttp
import httpx

DEFAULT_KIND = "raw"
POOL_SIZE = 100


@dataclass
class DeliveryResult:
    """What came back from one outbound request; ``status`` is None when no HTTP answer arrived."""

    status: int | None
    body: bytes
    error: str | None
    elapsed_ms: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@runtime_checkable
class Delivery(Protocol):
    async def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> DeliveryResult: ...

    async def aclose(self) -> None: ...


def _elapsed_ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class AiohttpDelivery:
    """aiohttp ``ClientSession`` with a pooled connector.

    The session is created lazily inside the running loop (aiohttp binds it to the loop that creates it);
    if the loop changes (one test's loop ends, another's starts) a fresh session is made.
    """

    def __init__(self, *, timeout: float = 10.0, pool_size: int = POOL_SIZE) -> None:
        self._timeout = timeout
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _session_for_loop(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                # Cookies must not leak from one FSP's answers into requests to another.
                cookie_jar=aiohttp.DummyCookieJar(),
                # aiohttp would add "Accept: */*"; an FSPIOP PUT callback must carry no Accept (the
                # quoting-service rejects PUT /quotes with one), so only the caller's headers decide.
                skip_auto_headers=("Accept",),
            )
            self._loop = loop
        return self._session

    async def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> DeliveryResult:
        start = time.perf_counter()
        try:
            session = self._session_for_loop()
            async with session.request(method, url, headers=dict(headers), data=body) as resp:
                data = await resp.read()
                return DeliveryResult(resp.status, data, None, _elapsed_ms(start))
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            return DeliveryResult(None, b"", _describe(exc), _elapsed_ms(start))

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()


class HttpxDelivery:
    """httpx ``AsyncClient``; slower on loopback, kept for comparison and for environments without aiohttp."""

    def __init__(self, *, timeout: float = 10.0, pool_size: int = POOL_SIZE) -> None:
        self._timeout = timeout
        self._pool_size = pool_size
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client_for_loop(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client.is_closed or self._loop is not loop:
            limits = httpx.Limits(max_connections=self._pool_size, max_keepalive_connections=self._pool_size)
            self._client = httpx.AsyncClient(timeout=self._timeout, limits=limits)
            # httpx defaults "Accept: */*"; an FSPIOP PUT callback must carry none (see AiohttpDelivery).
            del self._client.headers["accept"]
            self._loop = loop
        return self._client

    async def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> DeliveryResult:
        start = time.perf_counter()
        try:
            client = self._client_for_loop()
            resp = await client.request(method, url, headers=dict(headers), content=body)
            return DeliveryResult(resp.status_code, resp.content, None, _elapsed_ms(start))
        except (httpx.HTTPError, httpx.InvalidURL, TimeoutError, OSError, ValueError) as exc:
            return DeliveryResult(None, b"", _describe(exc), _elapsed_ms(start))

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and not client.is_closed:
            await client.aclose()


class _Stale(ConnectionError):
    """A kept-alive connection closed before any byte of the answer: the server dropped it idle (safe to retry)."""


class _Connection(asyncio.Protocol):
    """One kept-alive HTTP/1.1 connection: one request at a time, the answer parsed by llhttp as it arrives."""

    def __init__(self) -> None:
        import httptools

        self.transport: Any = None  # asyncio's or uvloop's transport (uvloop's is no asyncio.Transport subclass)
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[tuple[int, bytes, bool]] | None = None
        self.chunks: list[bytes] = []
        self.started = False  # a byte of the current answer arrived
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.started = True
        try:
            self.parser.feed_data(data)
        except Exception as exc:  # httptools.HttpParserError and its kin: a malformed answer
            self._fail(ConnectionError(f"malformed HTTP answer: {exc}"))
            self.close()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        keep = self.parser.should_keep_alive()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((self.parser.get_status_code(), b"".join(self.chunks), keep))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.started:
            self._fail(_Stale("connection closed before the answer"))
        else:
            self._fail(ConnectionError(f"connection lost during the answer: {exc or 'closed by the peer'}"))

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    async def exchange(self, data: bytes) -> tuple[int, bytes, bool]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.chunks, self.started = [], False
        if self.closed:
            raise _Stale("connection closed while idle")
        self.transport.write(data)
        return await self.waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class RawDelivery:
    """HTTP/1.1 over asyncio streams with a keep-alive pool per host; ``https://`` goes through aiohttp.

    One request per connection at a time; at most ``pool_size`` connections at once. A kept-alive connection the
    server closed while idle is retried once on a fresh one (nothing of the request was answered: as urllib3 does).
    """

    def __init__(self, *, timeout: float = 10.0, pool_size: int = POOL_SIZE) -> None:
        self._timeout = timeout
        self._pool_size = pool_size
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._gate: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tls = AiohttpDelivery(timeout=timeout, pool_size=pool_size)

    def _for_loop(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._gate is None or self._loop is not loop:
            self._idle, self._gate, self._loop = {}, asyncio.Semaphore(self._pool_size), loop
        return self._gate

    async def send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None) -> DeliveryResult:
        start = time.perf_counter()
        if url.startswith("https://"):
            return await self._tls.send(method, url, headers, body)
        try:
            key, data = _request_bytes(method, url, headers, body)
            async with self._for_loop(), asyncio.timeout(self._timeout):
                status, payload = await self._exchange(key, data)
            return DeliveryResult(status, payload, None, _elapsed_ms(start))
        except (OSError, TimeoutError, ValueError, UnicodeError) as exc:
            return DeliveryResult(None, b"", _describe(exc), _elapsed_ms(start))

    async def _exchange(self, key: tuple[str, int], data: bytes) -> tuple[int, bytes]:
        conn = self._idle_connection(key)
        if conn is not None:
            try:
                return await self._on(conn, key, data)
            except _Stale:
                pass  # the server closed it while idle, before reading our request: once more on a fresh one
        loop = asyncio.get_running_loop()
        _transport, fresh = await loop.create_connection(_Connection, key[0], key[1])
        return await self._on(fresh, key, data)

    def _idle_connection(self, key: tuple[str, int]) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if not conn.closed:  # a server that closed it has already been heard (connection_lost)
                return conn
        return None

    async def _on(self, conn: _Connection, key: tuple[str, int], data: bytes) -> tuple[int, bytes]:
        try:
            status, payload, keep = await conn.exchange(data)
        except BaseException:  # stale, or a timeout or cancel mid-answer: the connection's state is unknown
            conn.close()
            raise
        if keep and not conn.closed:
            self._idle.setdefault(key, []).append(conn)
        else:
            conn.close()
        return status, payload

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle = {}
        await self._tls.aclose()


def _request_bytes(method: str, url: str, headers: Mapping[str, str], body: bytes | None
                   ) -> tuple[tuple[str, int], bytes]:
    """((host, port), the request on the wire); ValueError for a URL we cannot send to or a header that would
    split the request (CR or LF in a name or value)."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"not an http:// URL: {url!r}")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
    for name, value in headers.items():
        if name.lower() in _OWN_HEADERS:
            continue
        if _CRLF.search(name) or _CRLF.search(value):
            raise ValueError(f"header {name!r} has a line break")
        lines.append(f"{name}: {value}")
    payload = body or b""
    lines.append(f"Content-Length: {len(payload)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
    return (parts.hostname, parts.port or 80), head + payload


_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_CRLF = re.compile(r"[\r\n]")


_KINDS: dict[str, type[AiohttpDelivery] | type[HttpxDelivery] | type[RawDelivery]] = {
    "raw": RawDelivery,
    "aiohttp": AiohttpDelivery,
    "httpx": HttpxDelivery,
}


def make_delivery(kind: str = DEFAULT_KIND, *, timeout: float = 10.0) -> Delivery:
    """Build a delivery by name (``"raw"``, ``"aiohttp"`` or ``"httpx"``)."""
    try:
        cls = _KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown delivery kind {kind!r}; expected one of {sorted(_KINDS)}") from None
    return cls(timeout=timeout)
