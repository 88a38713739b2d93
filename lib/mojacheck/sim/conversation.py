"""A simulated FSP that asks and waits: send an FSPIOP request to the hub, wait (with a deadline) for the answer
the hub delivers back. Used by the roles that drive a flow themselves (the request-to-pay payer FSP).

``expect`` registers a future before the request goes out, ``resolve`` hands it the matching delivery (its
``/error`` variant too, whoever sends it: an error may come from the hub instead of the party asked). Everything
sent is recorded in the inbox as ``direction: out`` with the hub's status.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from mojacheck.fspiop import jws, request_headers
from mojacheck.server.delivery import Delivery, DeliveryResult
from mojacheck.server.jsonutil import dumps
from mojacheck.sim.config import SimConfig
from mojacheck.sim.inbox import Inbox
from mojacheck.sim.payee import Incoming

WAIT_S = 10.0


def base_path(path: str) -> str:
    """The path without query and without a trailing ``/error``."""
    bare = path.split("?", 1)[0].rstrip("/")
    return bare[: -len("/error")] if bare.endswith("/error") else bare


@dataclass
class _Waiter:
    fsp: str
    method: str
    path: str
    future: asyncio.Future[Incoming]


class Conversations:
    """Outstanding questions of the simulated FSPs and the sending of their requests."""

    def __init__(self, config: SimConfig, inbox: Inbox, delivery: Delivery) -> None:
        self.config = config
        self.inbox = inbox
        self.delivery = delivery
        self._waiters: list[_Waiter] = []

    def resolve(self, inc: Incoming) -> bool:
        """Hand ``inc`` to the flow waiting for it; False when nobody waits."""
        key = (inc.fsp, inc.method, base_path(inc.path))
        for waiter in list(self._waiters):
            if (waiter.fsp, waiter.method, waiter.path) == key and not waiter.future.done():
                self._waiters.remove(waiter)
                waiter.future.set_result(inc)
                return True
        return False

    def expect(self, fsp: str, method: str, path: str) -> asyncio.Future[Incoming]:
        future: asyncio.Future[Incoming] = asyncio.get_running_loop().create_future()
        self._waiters.append(_Waiter(fsp, method, base_path(path), future))
        return future

    def forget(self, future: asyncio.Future[Incoming]) -> None:
        self._waiters = [w for w in self._waiters if w.future is not future]

    async def ask(self, fsp: str, destination: str, method: str, path: str, body: Any, *, answer_path: str,
                  version: str = "1.1", timeout: float = WAIT_S) -> Incoming | None:
        """Send a request and wait for ``PUT answer_path`` (or its /error); None if the hub refused the request
        or nothing came by the deadline."""
        future = self.expect(fsp, "PUT", answer_path)
        result = await self.send(fsp, destination, method, path, body, version=version)
        if not result.ok:
            self.forget(future)
            return None
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            self.forget(future)
            return None

    async def send(self, fsp: str, destination: str, method: str, path: str, body: Any, *,
                   version: str = "1.1") -> DeliveryResult:
        """One message from ``fsp`` to the hub for ``destination``; recorded as an outbound inbox item."""
        resource = path.lstrip("/").split("/", 1)[0].split("?", 1)[0]
        headers = request_headers(resource, fsp, destination, version=version,
                                  accept=method in ("GET", "POST", "DELETE"))
        # What an FSP's connector sends with every message (and signs, when it signs), as the payee role does.
        headers["FSPIOP-URI"] = path.split("?", 1)[0]
        headers["FSPIOP-HTTP-Method"] = method
        data = None if body is None else dumps(body)
        key_file = self.config.signing_key_file(fsp)
        if key_file is not None:
            headers["FSPIOP-Signature"] = jws.sign(headers, data or b"", jws.load_private_key(key_file))
        token = self.config.bearer()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = self.config.url_for(resource, path)
        result = await self.delivery.send(method, url, headers, data)
        self.inbox.record(direction="out", fsp=fsp, method=method, path=path, resource=resource, headers=headers,
                          body=body, status=result.status, url=url, deliveryError=result.error,
                          elapsedMs=round(result.elapsed_ms, 1))
        return result
