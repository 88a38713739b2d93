"""What a Locust worker does as a payer FSP: register its callback endpoints, then run payments, phase by phase,
each phase a request answered by a callback at the worker's own receiver.

Runs inside Locust's gevent world only. The HTTP client and the event sink are passed in (``Send``, ``Fire``), so
this module knows FSPIOP and the plan, and the locustfile knows Locust.
"""

from __future__ import annotations

import json
import os
import random
import ssl
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import gevent

from mojacheck.fspiop import new_id, request_headers
from mojacheck.fspiop.endpoints import endpoint_values
from mojacheck.load import records as r
from mojacheck.load.plan import LoadPlan, PayeeParty
from mojacheck.load.receiver import Callback, Receiver
from mojacheck.load.wire import PAYER_ENDPOINTS

__all__ = ["Flows", "PayerFsp", "Sent"]

# A syntactically valid ILP packet and condition for transfers that must fail before anyone reads them.
_DUMMY_PACKET = "AYIBgQAAAAAAAASwNGxldmVsb25lLmRmc3AxLm1lci45T2RTOF81MDdqUUZERmZlakgyOVc4bXFmNEpLMHlGTFGCAUBQU0svMS4w"
_DUMMY_CONDITION = "GRzLaTP7DJ9t4P-a_BA0WA9wzzlsugf00-Tn6kESAfM"


class Sent:
    """The hub's synchronous answer to one request: HTTP status (0: none came) and body."""

    __slots__ = ("body", "status")

    def __init__(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body


Send = Callable[[str, str, dict[str, str], bytes | None, str], Sent]  # method, url, headers, body, stats name
Fire = Callable[[str, str, float, str | None], None]  # request_type, name, ms, failure (None: success)


def _error_code(body: bytes) -> str | None:
    try:
        return str(json.loads(body)["errorInformation"]["errorCode"])
    except (ValueError, KeyError, TypeError):
        return None


def _iso(delta_s: float) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=delta_s)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class PayerFsp:
    """The payer FSP of one worker process: its name (from the plan, by worker index), its party, its receiver."""

    def __init__(self, plan: LoadPlan, worker_index: int, callback_host: str | None = None) -> None:
        self.plan = plan
        self.index = worker_index
        self.name = plan.payer_for(worker_index)
        self.callback_host = callback_host or plan.callback_host
        port = plan.callback_port_base + worker_index if plan.callback_port_base else 0
        self.receiver = Receiver(plan.callback_bind_host, port)
        self.party = {"partyIdType": "MSISDN", "partyIdentifier": f"2779{worker_index:08d}", "fspId": self.name}
        self.url = ""

    def start(self) -> str:
        """Serve callbacks and point this FSP's endpoints at them (central-ledger admin, as onboarding does)."""
        port = self.receiver.start()
        host = f"[{self.callback_host}]" if ":" in self.callback_host else self.callback_host
        self.url = f"http://{host}:{port}"
        values = endpoint_values(self.url)
        for kind in PAYER_ENDPOINTS:
            self._admin_post(f"/participants/{self.name}/endpoints", {"type": kind, "value": values[kind]})
        return self.url

    def _admin_post(self, path: str, body: dict[str, Any]) -> None:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        token = os.environ.get(self.plan.token_env) if self.plan.token_env else None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        url = self.plan.services["central_ledger_admin"] + path
        request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
        context = None if self.plan.verify_tls else ssl._create_unverified_context()  # tls.verify: false in the params
        with urllib.request.urlopen(request, timeout=30, context=context) as resp:
            if resp.status not in (200, 201, 202, 204):
                raise RuntimeError(f"POST {url} answered {resp.status}")

    def stop(self) -> None:
        self.receiver.stop()


class Flows:
    """The payments one simulated user makes, each returning its ``Payment`` record after firing its events."""

    def __init__(self, payer: PayerFsp, payee: PayeeParty, send: Send, fire: Fire, *, seed: int | None = None) -> None:
        self.payer = payer
        self.plan = payer.plan
        self.payee = payee
        self.send = send
        self.fire = fire
        self.random = random.Random(seed)
        self.kinds = list(self.plan.mix)
        self.weights = [self.plan.mix[k] for k in self.kinds]
        self._quote: dict[str, Any] | None = None  # a quote's answer to reuse for `transfer` payments

    def next_kind(self) -> str:
        return self.kinds[0] if len(self.kinds) == 1 else self.random.choices(self.kinds, self.weights)[0]

    def run(self, kind: str) -> r.Payment:
        rec = r.Payment(kind, self.payer.index, self.payer.name, time.time(), currency=self.plan.currency,
                        amount=self.plan.amount)
        started = time.perf_counter()
        {"p2p": self._p2p, "transfer": self._transfer_only, "unknown_party": self._unknown_party,
         "expired": self._expired}[kind](rec)
        if rec.outcome in (r.COMMITTED, r.ERROR, r.ABORTED):
            rec.e2e_ms = (time.perf_counter() - started) * 1000
        self.fire("payment", kind, rec.e2e_ms or (time.perf_counter() - started) * 1000,
                  None if rec.expected else f"{rec.phase}: {rec.outcome} {rec.error_code or ''}".strip())
        return rec

    # ------------------------------------------------------------ kinds

    def _p2p(self, rec: r.Payment) -> None:
        rec.payee = self.payee.fsp
        if self._lookup(rec, self.payee.key, "lookup") is None:
            return
        quote = self._quote_for(rec)
        if quote is not None:
            self._send_transfer(rec, quote, "transfer")
        rec.expected = rec.outcome == r.COMMITTED

    def _transfer_only(self, rec: r.Payment) -> None:
        rec.payee = self.payee.fsp
        quote = self._quote or self._quote_for(rec)
        if quote is None:
            return
        self._quote = quote  # later `transfer` payments of this user reuse its condition: no quote phase
        self._send_transfer(rec, quote, "transfer")
        rec.expected = rec.outcome == r.COMMITTED

    def _unknown_party(self, rec: r.Payment) -> None:
        self._lookup(rec, f"MSISDN/99{self.random.randrange(10**10):010d}", "lookup (unknown party)")
        rec.expected = rec.outcome == r.ERROR and rec.phase == "lookup"

    def _expired(self, rec: r.Payment) -> None:
        rec.payee = self.payee.fsp
        quote = {"transferAmount": {"amount": self.plan.amount, "currency": self.plan.currency},
                 "ilpPacket": _DUMMY_PACKET, "condition": _DUMMY_CONDITION}
        self._send_transfer(rec, quote, "transfer (expired)", expires_in_s=-1)
        rec.expected = rec.outcome == r.ERROR and rec.phase == "transfer"

    # ------------------------------------------------------------ phases

    def _lookup(self, rec: r.Payment, key: str, name: str) -> Callback | None:
        url = f"{self.plan.services['als']}/parties/{key}"
        headers = request_headers("parties", self.payer.name, version=self.plan.api_version)
        return self._phase(rec, "lookup", name, "GET", url, headers, None, f"parties/{key}",
                           "GET /parties/{Type}/{ID}")

    def _quote_for(self, rec: r.Payment) -> dict[str, Any] | None:
        quote_id = new_id()
        body = {
            "quoteId": quote_id, "transactionId": new_id(),
            "payee": {"partyIdInfo": {"partyIdType": self.payee.id_type, "partyIdentifier": self.payee.identifier,
                                      "fspId": self.payee.fsp}},
            "payer": {"partyIdInfo": self.payer.party},
            "amountType": "SEND", "amount": {"amount": self.plan.amount, "currency": self.plan.currency},
            "transactionType": {"scenario": "TRANSFER", "initiator": "PAYER", "initiatorType": "CONSUMER"},
        }
        headers = request_headers("quotes", self.payer.name, self.payee.fsp, version=self.plan.api_version)
        cb = self._phase(rec, "quote", "quote", "POST", f"{self.plan.services['quoting']}/quotes", headers,
                         json.dumps(body).encode(), f"quotes/{quote_id}", "POST /quotes")
        return None if cb is None or cb.error else json.loads(cb.body)

    def _send_transfer(self, rec: r.Payment, quote: dict[str, Any], name: str, *, expires_in_s: float = 60) -> None:
        transfer_id = new_id()
        body = {"transferId": transfer_id, "payerFsp": self.payer.name, "payeeFsp": self.payee.fsp,
                "amount": quote["transferAmount"], "ilpPacket": quote["ilpPacket"], "condition": quote["condition"],
                "expiration": _iso(expires_in_s)}
        rec.transfer_id = transfer_id
        rec.amount = str(quote["transferAmount"]["amount"])
        headers = request_headers("transfers", self.payer.name, self.payee.fsp, version=self.plan.api_version)
        cb = self._phase(rec, "transfer", name, "POST", f"{self.plan.services['ml_api_adapter']}/transfers",
                         headers, json.dumps(body).encode(), f"transfers/{transfer_id}", "POST /transfers")
        if cb is None or cb.error:
            return
        state = json.loads(cb.body).get("transferState")
        rec.outcome = r.COMMITTED if state == "COMMITTED" else r.ABORTED if state == "ABORTED" else str(state)
        if rec.outcome != r.COMMITTED:
            rec.phase = "transfer"

    def _phase(self, rec: r.Payment, phase: str, name: str, method: str, url: str, headers: dict[str, str],
               body: bytes | None, key: str, stats_name: str) -> Callback | None:
        """One request and its callback; None (and the record says why) when the payment cannot go on."""
        waiter = self.payer.receiver.expect(key)
        started = time.perf_counter()
        sent = self.send(method, url, headers, body, stats_name)
        if sent.status != 202:
            self.payer.receiver.forget([key])
            rec.outcome, rec.phase = (r.REFUSED if sent.status else r.FAILED), phase
            rec.error_code = _error_code(sent.body) if sent.status else None
            return None
        if phase == "transfer":
            rec.sent = True
        try:
            cb: Callback = waiter.get(timeout=self.plan.callback_timeout_s)
        except gevent.Timeout:
            self.payer.receiver.forget([key])
            rec.outcome, rec.phase = r.TIMEOUT, phase
            self.fire("callback", name, self.plan.callback_timeout_s * 1000, "no callback within the timeout")
            return None
        ms = (cb.at - started) * 1000
        setattr(rec, f"{phase}_ms", ms)
        if cb.error:
            rec.outcome, rec.phase, rec.error_code = r.ERROR, phase, _error_code(cb.body)
        expected_error = rec.kind in ("unknown_party", "expired")
        failure = f"error callback {rec.error_code}" if cb.error and not expected_error else None
        self.fire("callback", name, ms, failure)
        return cb
