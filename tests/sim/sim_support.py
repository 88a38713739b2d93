"""Helpers for simulator tests: a fake hub that records what the simulator sends it, hub-like deliveries."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mojacheck.fspiop import new_id, request_headers

PAYER = "payerfsp"
PAYEE = "payeefsp"
DEADLINE_S = 5.0


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    query: str = ""


class FakeHub:
    """Records every request; tests wait on its state with a deadline."""

    def __init__(self) -> None:
        self.url = ""
        self.received: list[Received] = []
        self._cond = threading.Condition()
        self.app = Starlette(
            routes=[Route("/{path:path}", self._handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])]
        )

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        body = json.loads(raw) if raw else None
        with self._cond:
            self.received.append(Received(request.method, request.url.path, dict(request.headers), body,
                                          request.url.query))
            self._cond.notify_all()
        return Response(status_code=200 if request.method in ("PUT", "PATCH") else 202)

    def wait_for(self, pred: Callable[[Received], bool], deadline_s: float = DEADLINE_S) -> Received:
        end = time.monotonic() + deadline_s
        with self._cond:
            while True:
                for item in self.received:
                    if pred(item):
                        return item
                remaining = end - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"fake hub got no matching request; got {self.paths()}")
                self._cond.wait(remaining)

    def wait_path(self, method: str, path: str) -> Received:
        return self.wait_for(lambda r: r.method == method and r.path == path)

    def paths(self) -> list[str]:
        with self._cond:
            return [f"{r.method} {r.path}" for r in self.received]


def deliver(
    client: httpx.Client,
    method: str,
    path: str,
    body: Any = None,
    *,
    source: str = PAYER,
    destination: str | None = PAYEE,
    version: str = "1.1",
    extra: dict[str, str] | None = None,
) -> httpx.Response:
    """Send what a hub would deliver to the simulator."""
    segments = path.strip("/").split("/")
    resource = segments[1] if segments[0] in (PAYER, PAYEE) else segments[0]
    headers = request_headers(resource, source, destination, version=version, accept=method != "PUT")
    headers.update(extra or {})
    content = None if body is None else json.dumps(body).encode()
    return client.request(method, path, headers=headers, content=content)


def quote_request(party_id: str = "27710000001", amount: str = "10.5") -> dict[str, Any]:
    return {
        "quoteId": new_id(),
        "transactionId": new_id(),
        "payee": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": party_id, "fspId": PAYEE}},
        "payer": {"partyIdInfo": {"partyIdType": "MSISDN", "partyIdentifier": "27710000999", "fspId": PAYER}},
        "amountType": "SEND",
        "amount": {"amount": amount, "currency": "USD"},
        "transactionType": {"scenario": "TRANSFER", "initiator": "PAYER", "initiatorType": "CONSUMER"},
    }


def quote(sim: httpx.Client, hub: FakeHub, party_id: str = "27710000001") -> tuple[dict[str, Any], Received]:
    """Run POST /quotes against the simulator and return (request, the PUT /quotes it sent the hub)."""
    request = quote_request(party_id)
    assert deliver(sim, "POST", f"/{PAYEE}/quotes", request).status_code == 202
    return request, hub.wait_path("PUT", f"/quotes/{request['quoteId']}")


def transfer_body(answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "transferId": new_id(),
        "payerFsp": PAYER,
        "payeeFsp": PAYEE,
        "amount": answer["transferAmount"],
        "ilpPacket": answer["ilpPacket"],
        "condition": answer["condition"],
        "expiration": answer["expiration"],
    }
