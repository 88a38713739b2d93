"""A small synchronous HTTP client for notebooks: every call becomes an `Exchange` (evidence), never None.

It adds the bearer token, keeps it out of the evidence, and turns "no answer at all" into HubUnreachable.
"""

from __future__ import annotations

import json as jsonlib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any

import httpx

from mojacheck.fspiop.errors import FspiopError, HubUnreachable

REDACTED = "***"


@dataclass
class Exchange:
    """One request and its response, as evidence. Authorization values are redacted."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: Any
    status: int
    response_headers: dict[str, str]
    response_body: Any
    started: datetime
    elapsed_ms: float
    extra: dict[str, Any] = field(default_factory=dict)  # free slot for callers (e.g. kind: request|callback)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (started as ISO-8601)."""
        return {
            "method": self.method,
            "url": self.url,
            "request_headers": dict(self.request_headers),
            "request_body": self.request_body,
            "status": self.status,
            "response_headers": dict(self.response_headers),
            "response_body": self.response_body,
            "started": self.started.isoformat(),
            "elapsed_ms": self.elapsed_ms,
            **({"extra": dict(self.extra)} if self.extra else {}),
        }


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Copy with every Authorization value reduced to its scheme: `Bearer ***`."""
    redacted: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() == "authorization":
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} {REDACTED}".strip()
        redacted[name] = value
    return redacted


def parse_body(data: bytes | str | None) -> Any:
    """Parsed JSON if it parses, else the text; None when empty. Amounts stay the strings sent, and a JSON
    number with a fraction (the operator APIs write money as numbers) is a Decimal, never a float."""
    if data is None or len(data) == 0:
        return None
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    try:
        return jsonlib.loads(text, parse_float=Decimal)
    except ValueError:
        return text


def _json_default(value: Any) -> Any:
    # Money is Decimal in our code and a string on the wire; anything else is a caller bug.
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dump_json(body: Any) -> bytes:
    """Compact UTF-8 JSON like JSON.stringify; Decimal → string."""
    return jsonlib.dumps(body, default=_json_default, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _ssl_context(verify: bool | str, cert: str | tuple[str, str] | None,
                 key_password: str | None = None) -> ssl.SSLContext | bool:
    """One SSLContext for CA file and client cert (httpx 0.28 deprecates str `verify` and `cert`).

    A wrong or missing password for an encrypted key fails here, before any request, as FspiopError."""
    if cert is None and not isinstance(verify, str):
        return verify
    context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    certfile, keyfile = cert if isinstance(cert, tuple) else (cert, None)
    if certfile is not None:
        try:
            # A callable, so that an encrypted key never makes OpenSSL prompt on a terminal.
            context.load_cert_chain(certfile=certfile, keyfile=keyfile, password=lambda: key_password or "")
        except (ssl.SSLError, OSError) as exc:
            raise FspiopError(f"cannot load the client certificate {certfile} / key {keyfile}: {exc}") from exc
    return context


class HttpClient:
    """Sync httpx wrapper: bearer auth, TLS options, Exchange records, HubUnreachable on no answer."""

    def __init__(
        self,
        *,
        token: str | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        key_password: str | None = None,
        timeout: float = 10.0,
        on_exchange: Callable[[Exchange], None] | None = None,
    ) -> None:
        self._token = token
        self._on_exchange = on_exchange
        self._client = httpx.Client(verify=_ssl_context(verify, cert, key_password), timeout=timeout)
        # httpx sends `Accept: */*` by default; FSPIOP callbacks must carry no Accept at all.
        del self._client.headers["accept"]

    def _headers(self, headers: Mapping[str, str] | None, has_json: bool) -> dict[str, str]:
        merged = dict(headers or {})
        lower = {name.lower() for name in merged}
        if self._token and "authorization" not in lower:
            merged["Authorization"] = f"Bearer {self._token}"
        if has_json and "content-type" not in lower:
            merged["Content-Type"] = "application/json"
        return merged

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
    ) -> Exchange:
        """Send one request; returns the Exchange whatever the status. HubUnreachable if nothing answered."""
        method = method.upper()
        body = dump_json(json) if json is not None else content
        sent_headers = self._headers(headers, json is not None)
        started = datetime.now(UTC)
        clock = time.perf_counter()
        try:
            response = self._client.request(method, url, headers=sent_headers, content=body)
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise HubUnreachable(f"no answer from {method} {url}: {reason}", request=(method, url)) from exc
        elapsed_ms = (time.perf_counter() - clock) * 1000.0
        exchange = Exchange(
            method=method,
            url=url,
            request_headers=redact_headers(sent_headers),
            request_body=parse_body(body),  # re-parsed, so Decimals show as the strings sent
            status=response.status_code,
            response_headers=dict(response.headers),
            response_body=parse_body(response.content),
            started=started,
            elapsed_ms=round(elapsed_ms, 3),
        )
        if self._on_exchange is not None:
            self._on_exchange(exchange)
        return exchange

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> Exchange:
        return self.request("GET", url, headers=headers)

    def post(self, url: str, *, headers: Mapping[str, str] | None = None, json: Any = None) -> Exchange:
        return self.request("POST", url, headers=headers, json=json)

    def put(self, url: str, *, headers: Mapping[str, str] | None = None, json: Any = None) -> Exchange:
        return self.request("PUT", url, headers=headers, json=json)

    def delete(self, url: str, *, headers: Mapping[str, str] | None = None) -> Exchange:
        return self.request("DELETE", url, headers=headers)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
