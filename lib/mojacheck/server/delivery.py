"""Outbound HTTP behind one small interface, so the client library can be picked by measurement.

``bench/delivery_bench.py`` measures both implementations on loopback; aiohttp is the default because it was
several times faster than httpx there (numbers in that script's docstring). A hand-made HTTP/1.1 client on the
llhttp parser was tried for the load work: 1.45x the hub's throughput (1,337 vs 923 e2e transfers/s at 32 in
flight), but aiohttp already meets the target more than twice over, and an HTTP client is not ours to maintain
against every FSP's server (close-delimited bodies, proxies, TLS). Deliveries never raise on network
errors: a hub or FSP that cannot be reached is a result (``status=None`` + ``error``), because callers
record it as evidence rather than crash a notebook or the simulator's background task.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import aiohttp
import httpx

DEFAULT_KIND = "aiohttp"
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


_KINDS: dict[str, type[AiohttpDelivery] | type[HttpxDelivery]] = {
    "aiohttp": AiohttpDelivery,
    "httpx": HttpxDelivery,
}


def make_delivery(kind: str = DEFAULT_KIND, *, timeout: float = 10.0) -> Delivery:
    """Build a delivery by name (``"aiohttp"`` or ``"httpx"``)."""
    try:
        cls = _KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown delivery kind {kind!r}; expected one of {sorted(_KINDS)}") from None
    return cls(timeout=timeout)
