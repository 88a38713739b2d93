"""After a load: read every transfer the generator sent back from the hub (FSPIOP ``GET /transfers/{ID}``, as its
payer FSP), so the load's verdict rests on what the hub says, not on what the generator believes.

The GET is asynchronous like every FSPIOP request: the answer is a ``PUT /transfers/{ID}`` (or ``…/error``) at the
payer's callback endpoint. The workers' receivers are gone by now, so the reconciler points each payer's
endpoints at a receiver of its own (uvicorn on the reconciler's event loop) and asks with bounded concurrency.
Plain asyncio (no gevent): the runner calls ``read_back`` in its own process.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mojacheck.fspiop import request_headers
from mojacheck.fspiop.endpoints import endpoint_values
from mojacheck.load.wire import PAYER_ENDPOINTS, callback_key
from mojacheck.server.delivery import AiohttpDelivery
from mojacheck.server.serve import read_body

__all__ = ["NO_ANSWER", "ReadBack", "read_back"]

NO_ANSWER = "no answer"
_CONCURRENCY = 32
_ATTEMPTS = 2


@dataclass(frozen=True)
class ReadBack:
    """Where the hub's answers go: the reconciler binds ``bind_host`` and registers ``http://callback_host:port``."""

    services: dict[str, str]
    token_env: str | None = None
    bind_host: str = "127.0.0.1"
    callback_host: str = "127.0.0.1"
    api_version: str = "1.1"
    timeout_s: float = 10.0
    concurrency: int = _CONCURRENCY


def _answer(body: bytes, error: bool) -> str:
    """What the hub said: the transferState, or ``error <code>``."""
    try:
        data = json.loads(body)
    except ValueError:
        return "unreadable answer"
    if error:
        return f"error {(data.get('errorInformation') or {}).get('errorCode')}"
    return str(data.get("transferState"))


class _Inbox:
    """An ASGI app that resolves the future awaiting each callback key."""

    def __init__(self) -> None:
        self.waiting: dict[str, asyncio.Future[str]] = {}

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                       send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        found = callback_key(scope["path"])
        if found is not None:
            future = self.waiting.pop(found[0], None)
            if future is not None and not future.done():
                future.set_result(_answer(body, found[1]))
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


async def _serve(app: _Inbox, host: str) -> tuple[Any, asyncio.Task[None], int]:
    import uvicorn

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False))
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it
        await asyncio.sleep(0.01)
    return server, task, int(sock.getsockname()[1])


async def _read_back(cfg: ReadBack, transfers: Sequence[tuple[str, str]]) -> dict[str, str]:
    inbox = _Inbox()
    server, task, port = await _serve(inbox, cfg.bind_host)
    delivery = AiohttpDelivery(timeout=cfg.timeout_s)
    token = os.environ.get(cfg.token_env) if cfg.token_env else None
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    host = f"[{cfg.callback_host}]" if ":" in cfg.callback_host else cfg.callback_host
    try:
        values = endpoint_values(f"http://{host}:{port}")
        admin = {"Content-Type": "application/json", "Accept": "application/json", **auth}
        for payer in sorted({p for p, _ in transfers}):
            for kind in PAYER_ENDPOINTS:
                result = await delivery.send("POST", f"{cfg.services['central_ledger_admin']}/participants/{payer}"
                                             "/endpoints", admin, json.dumps({"type": kind, "value": values[kind]})
                                             .encode())
                if not result.ok:
                    raise RuntimeError(f"cannot point {payer}'s {kind} at the reconciler: {result.status} "
                                       f"{result.error or result.body[:200]!r}")
        gate = asyncio.Semaphore(cfg.concurrency)

        async def one(payer: str, transfer_id: str) -> tuple[str, str]:
            async with gate:
                for _ in range(_ATTEMPTS):
                    future = asyncio.get_running_loop().create_future()
                    inbox.waiting[f"transfers/{transfer_id}"] = future
                    headers = {**request_headers("transfers", payer, version=cfg.api_version), **auth}
                    sent = await delivery.send("GET", f"{cfg.services['ml_api_adapter']}/transfers/{transfer_id}",
                                               headers, None)
                    if sent.status == 202:
                        try:
                            return transfer_id, await asyncio.wait_for(future, cfg.timeout_s)
                        except TimeoutError:
                            pass
                    inbox.waiting.pop(f"transfers/{transfer_id}", None)
                return transfer_id, NO_ANSWER

        answers = await asyncio.gather(*(one(p, t) for p, t in transfers))
        return dict(answers)
    finally:
        await delivery.aclose()
        server.should_exit = True
        await task


def read_back(cfg: ReadBack, transfers: Sequence[tuple[str, str]]) -> dict[str, str]:
    """transferId → what the hub answers to its payer's ``GET /transfers/{ID}`` (``COMMITTED``, ``ABORTED``, …,
    ``error 3208`` for a transfer it does not know, ``no answer``)."""
    if not transfers:
        return {}
    return asyncio.run(_read_back(cfg, transfers))
