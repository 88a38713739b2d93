"""The null hub: a stub that answers every FSPIOP request a payer sends with 202 and its callback at once, to
measure the load generator's own ceiling (``mojacheck load --null-hub``). It keeps no ledger and checks nothing.

It knows only what the generator's workers do: they register their callback endpoints (``POST
/admin/participants/{fsp}/endpoints``), look up parties, ask for quotes, send transfers and read transfers back.
A raw ASGI app (no framework) on the fastest server installed, so the stub costs as little CPU as it can.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from mojacheck.fspiop import callback_headers
from mojacheck.server.delivery import make_delivery
from mojacheck.server.serve import read_body

__all__ = ["NullHub"]

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_PLACEHOLDER = re.compile(r"{{\s*([A-Za-z0-9_]+)\s*}}")
_ENDPOINTS = re.compile(r"^/admin/participants/([^/]+)/endpoints$")
_PACKET = "AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZlakgyOVc4bXFmNEpLMHlGTFGCAUBQU0svMS4w"
_CONDITION = "GRzLaTP7DJ9t4P-a_BA0WA9wzzlsugf00-Tn6kESAfM"
_FULFILMENT = "WLctttbu2HvTsa1XWvUoGRcQozHsqeu9Ahl2JW9Bsu8"


def _now(delta_s: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=delta_s)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class NullHub:
    """The stub: endpoint templates per FSP in memory, answers delivered by background tasks."""

    def __init__(self) -> None:
        self.endpoints: dict[tuple[str, str], str] = {}
        self.delivery = make_delivery(timeout=10.0)
        self.tasks: set[asyncio.Task[None]] = set()
        self.answered = 0

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        status = self.route(scope["method"], scope["path"], headers, body)
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    def route(self, method: str, path: str, headers: dict[str, str], body: bytes) -> int:
        parts = path.strip("/").split("/")
        source = headers.get("fspiop-source", "")
        if method == "POST" and (found := _ENDPOINTS.match(path)):
            data = json.loads(body)
            self.endpoints[(found.group(1), str(data["type"]))] = str(data["value"])
            return 201
        if method == "GET" and parts == ["health"]:
            return 200
        if method == "GET" and parts[0] == "parties" and len(parts) >= 3:
            info = {"partyIdType": parts[1], "partyIdentifier": parts[2], "fspId": "nullpayee"}
            self.answer(source, "parties", "FSPIOP_CALLBACK_URL_PARTIES_PUT",
                        {"partyIdType": parts[1], "partyIdentifier": parts[2]}, {"party": {"partyIdInfo": info}})
            return 202
        if method == "POST" and parts == ["quotes"]:
            request = json.loads(body)
            answer = {"transferAmount": request["amount"], "expiration": _now(60), "ilpPacket": _PACKET,
                      "condition": _CONDITION}
            self.answer(source, "quotes", "FSPIOP_CALLBACK_URL_QUOTES", {}, answer, suffix=f"/quotes/"
                        f"{request['quoteId']}")
            return 202
        if (method == "POST" and parts == ["transfers"]) or (method == "GET" and parts[0] == "transfers"):
            transfer_id = json.loads(body)["transferId"] if method == "POST" else parts[1]
            answer = {"transferState": "COMMITTED", "fulfilment": _FULFILMENT, "completedTimestamp": _now()}
            self.answer(source, "transfers", "FSPIOP_CALLBACK_URL_TRANSFER_PUT",
                        {"transferId": transfer_id, "ID": transfer_id}, answer)
            return 202
        return 404

    def answer(self, fsp: str, resource: str, endpoint: str, values: dict[str, str], body: dict[str, Any], *,
               suffix: str = "") -> None:
        template = self.endpoints.get((fsp, endpoint))
        if template is None:
            return  # an FSP without endpoints hears nothing, as from a real hub
        url = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), template)
        url = url.rstrip("/") + suffix if suffix else url
        headers = callback_headers(resource, "nullhub", fsp)
        task = asyncio.get_running_loop().create_task(self._deliver(url, headers, json.dumps(body).encode()))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _deliver(self, url: str, headers: dict[str, str], body: bytes) -> None:
        await self.delivery.send("PUT", url, headers, body)
        self.answered += 1
