"""The simulator's 3PPI side: DFSPs that link accounts and run PISP-initiated transactions, and PISPs that
hold real credentials (behaviour ref §13).

Which role an FSP plays follows from what it receives: ``POST /consentRequests``, ``GET /accounts``,
``POST /thirdpartyRequests/transactions`` make it a DFSP; ``POST /consents`` and
``POST /thirdpartyRequests/authorizations`` make it a PISP. Flows are coroutines that send a request and
wait for its answer (``expect``: a future resolved by the matching delivery, with a deadline).
Everything sent is recorded in the inbox as ``direction: out``.

Control API (JSON) under ``/_sim/thirdparty`` (``control.py``):

* ``PUT /{fsp}/dfsp`` ``{"authChannels": ["WEB", "OTP"], "authService": "centralAuth"}``: the DFSP's settings.
* ``PUT|DELETE /{fsp}/users/{userId}`` ``{"accounts": [{"accountNickname", "address", "currency"}]}``: a user.
* ``GET /{fsp}/otp/{consentRequestId}``: the OTP the DFSP texted the user (the user's phone).
* ``GET /{fsp}/authorize/{consentRequestId}``: the DFSP's web login (``authUri``); the user logs in and is
  redirected (302) to the PISP's ``callbackUri`` with ``secret`` in the query.
* ``GET /{fsp}``: the FSP's consents and transactions (states only, never keys).

The PISP's behaviours are rules in the simulator's one RuleBook (``POST /_sim/rules``, see ``sim/state.py``):
resource ``authorizations`` (matching a transactionRequestId) takes ``reject``, ``no_answer``,
``bad_signature``; resource ``consents`` (matching a consentRequestId or consentId) takes ``no_answer``,
``bad_signature``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from mojacheck.fspiop import error_body, request_headers
from mojacheck.server.delivery import Delivery, DeliveryResult
from mojacheck.server.jsonutil import dumps
from mojacheck.sim.config import SimConfig
from mojacheck.sim.inbox import Inbox
from mojacheck.sim.payee import Incoming
from mojacheck.sim.state import Rule, RuleBook
from mojacheck.sim.tasks import RoleTasks
from mojacheck.sim.thirdparty import dfsp, pisp
from mojacheck.sim.thirdparty.state import TP_VERSION, WAIT_S, Dfsp, Pisp

log = logging.getLogger(__name__)


@dataclass
class Waiter:
    fsp: str
    method: str
    path: str
    source: str | None
    future: asyncio.Future[Incoming]


def base_path(path: str) -> str:
    bare = path.split("?", 1)[0].rstrip("/")
    return bare[: -len("/error")] if bare.endswith("/error") else bare


class ThirdParty:
    def __init__(self, config: SimConfig, inbox: Inbox, delivery: Delivery, rules: RuleBook) -> None:
        self.config = config
        self.inbox = inbox
        self.delivery = delivery
        self.rules = rules  # the simulator's one RuleBook, shared with the payee
        self.dfsps: dict[str, Dfsp] = {}
        self.pisps: dict[str, Pisp] = {}
        self._waiters: list[Waiter] = []
        self._tasks = RoleTasks("3PPI")

    def dfsp(self, fsp: str) -> Dfsp:
        return self.dfsps.setdefault(fsp, Dfsp())

    def pisp(self, fsp: str) -> Pisp:
        return self.pisps.setdefault(fsp, Pisp())

    def rule(self, fsp: str, resource: str, ids: tuple[str, ...]) -> Rule | None:
        """The newest rule for ``fsp``'s answer on ``resource`` (``authorizations`` or ``consents``)."""
        return self.rules.find(fsp, resource, ids)

    # ------------------------------------------------------------ dispatch

    def handle(self, inc: Incoming) -> None:
        """Resolve a waiting flow, or start the role's answer to ``inc``."""
        path = base_path(inc.path)
        is_error = path != inc.path.split("?", 1)[0].rstrip("/")
        source = inc.headers.get("fspiop-source")
        for waiter in list(self._waiters):
            # An error may come from the hub instead of the party asked, so errors match whatever the source.
            from_expected = waiter.source in (None, source) or is_error
            if (waiter.fsp, waiter.method, waiter.path) == (inc.fsp, inc.method, path) and from_expected \
                    and not waiter.future.done():
                self._waiters.remove(waiter)
                waiter.future.set_result(inc)
                return

        handler = dfsp.handler_for(self, inc) or pisp.handler_for(self, inc)
        if handler is not None:
            self.spawn(handler)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._tasks.spawn(coro)

    async def aclose(self) -> None:
        await self._tasks.aclose()

    def expect(self, fsp: str, method: str, path: str, *, source: str | None = None) -> asyncio.Future[Incoming]:
        """A future for the delivery to ``fsp`` of ``method path`` (or its /error); register before sending."""
        future: asyncio.Future[Incoming] = asyncio.get_running_loop().create_future()
        self._waiters.append(Waiter(fsp, method, base_path(path), source, future))
        return future

    async def answer(self, future: asyncio.Future[Incoming], timeout: float = WAIT_S) -> Incoming | None:
        """The awaited delivery, or None at the deadline (the waiter is dropped)."""
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            self._waiters = [w for w in self._waiters if w.future is not future]
            return None

    async def ask(self, fsp: str, destination: str, method: str, path: str, body: Any, *, answer_path: str,
                  answer_from: str | None = None, version: str = TP_VERSION) -> Incoming | None:
        """Send a request and wait for its answer (``PUT answer_path`` or its /error); None if the hub refused
        the request or nothing came by the deadline."""
        future = self.expect(fsp, "PUT", answer_path, source=answer_from)
        result = await self.send(fsp, destination, method, path, body, version=version)
        if not result.ok:
            self._waiters = [w for w in self._waiters if w.future is not future]
            return None
        return await self.answer(future)

    # ------------------------------------------------------------ sending

    async def send(self, fsp: str, destination: str, method: str, path: str, body: Any, *,
                   version: str = TP_VERSION) -> DeliveryResult:
        """One message from ``fsp`` to the hub for ``destination``; recorded as an outbound inbox item."""
        resource = path.lstrip("/").split("/", 1)[0]
        headers = request_headers(resource, fsp, destination, version=version,
                                  accept=method in ("GET", "POST", "DELETE"))
        token = self.config.bearer()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = self.config.url_for(resource, path)
        result = await self.delivery.send(method, url, headers, None if body is None else dumps(body))
        self.inbox.record(direction="out", fsp=fsp, method=method, path=path, resource=resource, headers=headers,
                          body=body, status=result.status, url=url, deliveryError=result.error,
                          elapsedMs=round(result.elapsed_ms, 1))
        return result

    async def send_error(self, fsp: str, destination: str, path: str, code: str, detail: str) -> None:
        await self.send(fsp, destination, "PUT", f"{path}/error", error_body(code, detail))
