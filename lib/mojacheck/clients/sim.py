"""The simulator's control API as notebooks use it: parties, behaviours (payee and 3PPI PISP), and waiting on
callbacks.

Waiting long-polls the simulator's inbox with a deadline; there is no fixed sleep anywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from mojacheck.fspiop.errors import CallbackTimeout, UnexpectedResponse

__all__ = ["Callback", "SimControl"]

_POLL_S = 5.0  # one long-poll; the overall deadline is the caller's


@dataclass(frozen=True)
class Callback:
    """A message the hub delivered to a simulated FSP."""

    seq: int
    fsp: str
    method: str
    path: str
    resource: str
    key: str
    error: bool
    headers: dict[str, str]
    body: Any
    received: datetime

    @property
    def error_code(self) -> str | None:
        """The body's errorInformation.errorCode; None when it carries none."""
        if isinstance(self.body, dict):
            return (self.body.get("errorInformation") or {}).get("errorCode")
        return None

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Callback:
        """A Callback from one item of the simulator's inbox."""
        return cls(seq=item["seq"], fsp=item["fsp"], method=item["method"], path=item["path"],
                   resource=item.get("resource", ""), key=item.get("key", ""), error=bool(item.get("error")),
                   headers=item.get("headers") or {}, body=item.get("body"),
                   received=datetime.fromisoformat(item["received"].replace("Z", "+00:00")))


class SimControl:
    """Client of one simulator (`sim.url`). `request` is the session's recorded HTTP call."""

    def __init__(self, url: str, request: Callable[..., Any]) -> None:
        self.url = url.rstrip("/")
        self._request = request

    def _call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
              ok: tuple[int, ...] = (200, 201, 204)) -> Any:
        kept = {k: v for k, v in (params or {}).items() if v is not None}
        # Keys can hold any party identifier: encode them rather than trust they are URL-safe.
        query = "?" + urlencode(kept, safe="/") if kept else ""
        exchange = self._request(method, f"{self.url}{path}{query}", json=json, record=False)
        if exchange.status not in ok:
            raise UnexpectedResponse(f"simulator {method} {path} answered {exchange.status}: "
                                     f"{exchange.response_body}", response=exchange)
        return exchange.response_body

    def health(self) -> Any:
        """GET /health of the simulator: its answer body."""
        return self._call("GET", "/health")

    def add_party(self, fsp: str, party: dict[str, Any]) -> None:
        """Make simulated `fsp` hold `party` (an FSPIOP Party object) and answer lookups for it."""
        info = party["partyIdInfo"]
        path = f"/_sim/parties/{fsp}/{info['partyIdType']}/{info['partyIdentifier']}"
        if info.get("partySubIdOrType"):
            path += f"/{info['partySubIdOrType']}"
        self._call("PUT", path, json=party)

    def add_rule(self, fsp: str | None, resource: str, behaviour: str, **match_and_options: Any) -> str:
        """A rule for ``fsp`` (None: every FSP); ``resource`` parties|quotes|transfers (payee),
        transactionRequests|otp (request to pay), bulkQuotes|bulkTransfers (bulk payee) or authorizations|consents
        (PISP); ``id=``/``partyIdentifier=`` match, other keywords are options
        (``errorCode``, ``delayMs``). See docs/internals.md for which behaviour applies to which resource."""
        match = {k: match_and_options.pop(k) for k in ("id", "partyIdentifier") if k in match_and_options}
        body = {"fsp": fsp, "resource": resource, "behaviour": behaviour, "match": match, **match_and_options}
        return self._call("POST", "/_sim/rules", json=body)["id"]

    def remove_rule(self, rule_id: str) -> None:
        """Delete a rule made by `add_rule` (no error if it is already gone)."""
        self._call("DELETE", f"/_sim/rules/{rule_id}", ok=(200, 204, 404))

    @contextmanager
    def behaviour(self, fsp: str | None, resource: str, behaviour: str, **match_and_options: Any) -> Iterator[str]:
        """A behaviour (payee or PISP) for the length of a `with` block, removed afterwards even on failure."""
        rule = self.add_rule(fsp, resource, behaviour, **match_and_options)
        try:
            yield rule
        finally:
            self.remove_rule(rule)

    def set_fx_rate(self, fxp: str, source: str, target: str, rate: Decimal, fee: Decimal = Decimal(0)) -> None:
        """Make simulated FXP `fxp` quote `source` → `target` at `rate` (target units per source unit) with `fee`
        (in the source currency) as its charge."""
        self._call("PUT", f"/_sim/fxp/{fxp}/rates/{source}/{target}", json={"rate": str(rate), "fee": str(fee)})

    def fx_rates(self, fxp: str) -> list[dict[str, str]]:
        """The rates simulated FXP `fxp` quotes: [{source, target, rate, fee}, ...]."""
        return list(self._call("GET", f"/_sim/fxp/{fxp}/rates")["items"])

    def mark(self) -> int:
        """The inbox position now: wait for callbacks after it, so an old run's messages never match."""
        return int(self._call("GET", "/_sim/inbox/last")["last"])  # constant time, whatever the inbox holds

    def wait_for(self, fsp: str, resource: str, key: str, *, after: int, timeout: float,
                 method: str | None = "PUT", error: bool | None = None) -> Callback:
        """The first delivery to `fsp` matching resource/key after `after`, or CallbackTimeout at the deadline."""
        deadline = time.monotonic() + timeout
        cursor = after
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                what = f"{method or 'any'} /{resource}/{key}{'/error' if error else ''} to {fsp}"
                raise CallbackTimeout(f"no {what} arrived within {timeout:g} s")
            params = {"fsp": fsp, "resource": resource, "key": key, "method": method, "after": cursor,
                      "direction": "in", "wait": round(min(remaining, _POLL_S), 3)}
            if error is not None:
                params["error"] = str(error).lower()
            found = self._call("GET", "/_sim/inbox", params=params)
            items = [i for i in found["items"] if i.get("direction", "in") == "in"]
            if items:
                return Callback.from_item(items[0])
            cursor = max(cursor, int(found.get("last", cursor)))

    def request_to_pay(self, fsp: str, body: dict[str, Any]) -> dict[str, Any]:
        """Make simulated payee FSP `fsp` send a POST /transactionRequests (`body`: payer PartyIdInfo with fspId,
        amount, optional payee, authenticationType, expiration, note); returns {transactionRequestId, status}."""
        return self._call("POST", f"/_sim/requestToPay/{fsp}", json=body, ok=(201,))

    def payer_request(self, fsp: str, request_id: str) -> dict[str, Any] | None:
        """What simulated payer FSP `fsp` knows of a transaction request (state, transactionId, quoteId, transferId,
        the OTP it texted, each authorization asked); None when it never received it."""
        found = self._call("GET", f"/_sim/requestToPay/{fsp}/{request_id}", ok=(200, 404))
        return found if isinstance(found, dict) and "transactionRequestId" in found else None

    def sent(self, fsp: str, resource: str, key: str, *, after: int) -> list[dict[str, Any]]:
        """What the simulator itself sent to the hub as `fsp` (its answers as payee)."""
        found = self._call("GET", "/_sim/inbox", params={"fsp": fsp, "resource": resource, "key": key,
                                                         "after": after, "direction": "out"})
        return [i for i in found["items"] if i.get("direction") == "out"]
