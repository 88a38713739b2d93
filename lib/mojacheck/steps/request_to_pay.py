"""Steps of request to pay (``23_request_to_pay``): the payee FSP asks, the payer FSP answers, quotes, asks the
customer for the OTP at the payee's device, and pays (FSPIOP 6.4, 6.6).

The notebook plays the merchant's FSP sending ``POST /transactionRequests``; the simulator plays the payer FSP and
the payee's device (``sim/request_to_pay.py``) and the ordinary payee answering quotes and transfers. ``follow``
waits until the simulated payer FSP has finished, then collects every message the hub delivered on the way, so
each is shown as evidence and its body checked against the FSPIOP definition.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from mojacheck.clients.sim import Callback
from mojacheck.clients.wait import wait_until
from mojacheck.evidence.conformance import spec_version
from mojacheck.fspiop import decode_transaction, new_id
from mojacheck.fspiop.errors import WaitTimeout
from mojacheck.steps.bulk import HUB_NAMES
from mojacheck.steps.errors import SyncError, check_sync_error, delivered, raw_fspiop, timestamp
from mojacheck.steps.p2p import Party
from mojacheck.steps.silence import nothing_arrives

if TYPE_CHECKING:
    from mojacheck.clients.session import Session
    from mojacheck.fspiop import Exchange

__all__ = ["Flow", "Request", "ask", "check_paid", "check_relayed", "deliveries", "entered", "follow", "from_hub",
           "initiate", "nothing_arrives", "query_of", "refused", "request_body", "send", "state_query", "version_of"]

# transaction-requests-service's base URL: behind the embedded hub's one port (and a deployment's API gateway) it
# is the ml-api-adapter's host; params have no key of its own (yet).
SERVICE = "ml_api_adapter"
FINAL = ("ACCEPTED", "REJECTED", "FAILED")


@dataclass
class Request:
    """A ``POST /transactionRequests`` the payee FSP sent, the hub's answer and the inbox mark before it."""

    body: dict[str, Any]
    payee: Party
    payer: Party
    exchange: Exchange | None
    mark: int

    @property
    def request_id(self) -> str:
        """Its transactionRequestId."""
        return str(self.body["transactionRequestId"])


@dataclass
class Flow:
    """What followed a request: each message the hub delivered, and the simulated payer FSP's own record."""

    record: dict[str, Any]
    delivered: Callback | None = None  # POST /transactionRequests at the payer FSP
    answer: Callback | None = None  # PUT /transactionRequests/{ID} (or /error) at the payee FSP: the first one
    quote: Callback | None = None  # POST /quotes at the payee FSP
    authorizations: list[Callback] = field(default_factory=list)  # GET /authorizations at the payee FSP
    entered: list[Callback] = field(default_factory=list)  # PUT /authorizations at the payer FSP
    transfer: Callback | None = None  # POST /transfers at the payee FSP
    result: Callback | None = None  # PUT /transfers/{ID} at the payer FSP
    final: Callback | None = None  # a later PUT /transactionRequests/{ID} at the payee (REJECTED after RECEIVED)

    @property
    def state(self) -> str:
        """Where the payer FSP says the request ended: ACCEPTED (paid), REJECTED or FAILED."""
        return str(self.record.get("state"))


def request_body(payee: Party, payer: Party, amount: Decimal | str, currency: str, *, otp: bool = False,
                 expires_in_s: float | None = 300, note: str | None = None) -> dict[str, Any]:
    """A ``POST /transactionRequests`` body: the merchant (payee) asks ``payer`` for ``amount`` (not sent yet)."""
    body: dict[str, Any] = {
        "transactionRequestId": new_id(), "payee": payee.fspiop_party(), "payer": payer.id_info(),
        "amount": {"amount": str(amount), "currency": currency},
        "transactionType": {"scenario": "PAYMENT", "initiator": "PAYEE", "initiatorType": "BUSINESS"},
    }
    if otp:
        body["authenticationType"] = "OTP"
    if expires_in_s is not None:
        body["expiration"] = timestamp(expires_in_s)
    if note:
        body["note"] = note
    return body


def send(s: Session, method: str, path: str, *, source: str, destination: str | None, body: Any = None,
         version: str | None = None) -> Exchange:
    """An FSPIOP request to transaction-requests-service (recorded); the answer is the synchronous one."""
    return s.fspiop(method, SERVICE, path, source=source, destination=destination, body=body, version=version)


def ask(s: Session, payee: Party, payer: Party, body: dict[str, Any]) -> Request:
    """The payee FSP sends ``body`` as ``POST /transactionRequests``; the check is the hub's 202."""
    mark = s.sim.mark()
    ex = send(s, "POST", "/transactionRequests", source=payee.fsp, destination=payer.fsp, body=body)
    s.check("POST /transactionRequests answered 202", 202, ex.status)
    return Request(body, payee, payer, ex, mark)


def initiate(s: Session, payee: Party, payer: Party, amount: Decimal | str, currency: str, *,
             otp: bool = False) -> Request:
    """The simulated payee FSP sends the request itself (its own POST /transactionRequests through the hub)."""
    mark = s.sim.mark()
    body: dict[str, Any] = {"payee": payee.fspiop_party(), "payer": payer.id_info(),
                            "amount": {"amount": str(amount), "currency": currency},
                            "transactionType": {"scenario": "PAYMENT", "initiator": "PAYEE",
                                                "initiatorType": "BUSINESS"}}
    if otp:
        body["authenticationType"] = "OTP"
    started = s.sim.request_to_pay(payee.fsp, body)
    s.check("the simulated payee FSP's POST /transactionRequests is answered 202", 202, started.get("status"))
    return Request({**body, "transactionRequestId": started["transactionRequestId"]}, payee, payer, None, mark)


def _record(s: Session, req: Request) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        found = s.sim.payer_request(req.payer.fsp, req.request_id)
        return found if found and found.get("state") in FINAL else None

    return dict(wait_until(f"payer FSP {req.payer.fsp} to finish request {req.request_id}", done,
                           timeout=3 * s.timeout))


def follow(s: Session, req: Request) -> Flow:
    """Wait until the simulated payer FSP has finished ``req``, then take every message the hub delivered on the
    way from the inbox (as evidence, bodies checked against the spec)."""
    record = _record(s, req)
    flow = Flow(record)
    ident, payer, payee = req.request_id, req.payer.fsp, req.payee.fsp
    flow.delivered = s.await_callback(payer, "transactionRequests", ident, after=req.mark, method="POST")
    flow.answer = s.await_callback(payee, "transactionRequests", ident, after=req.mark)
    if record.get("quoteId"):
        flow.quote = s.await_callback(payee, "quotes", record["quoteId"], after=req.mark, method="POST")
    after = req.mark
    for _ in record.get("authorizations") or []:
        asked = s.await_callback(payee, "authorizations", ident, after=after, method="GET")
        entered = s.await_callback(payer, "authorizations", ident, after=asked.seq)
        flow.authorizations.append(asked)
        flow.entered.append(entered)
        after = entered.seq
    if record.get("transferId"):
        flow.transfer = s.await_callback(payee, "transfers", record["transferId"], after=req.mark, method="POST")
        flow.result = s.await_callback(payer, "transfers", record["transferId"], after=req.mark)
    first = flow.answer.body if flow.answer is not None and isinstance(flow.answer.body, dict) else {}
    if first.get("transactionRequestState") == "RECEIVED" and record.get("state") == "REJECTED":
        flow.final = s.await_callback(payee, "transactionRequests", ident, after=flow.answer.seq)
    return flow


def check_relayed(s: Session, req: Request, flow: Flow) -> None:
    """The request reached the payer FSP as the payee sent it, and the payer's answer came back from the payer."""
    got = flow.delivered
    assert got is not None
    s.check("the payer FSP receives the request body unchanged", req.body, got.body)
    s.check("it comes from the payee FSP", req.payee.fsp, got.headers.get("fspiop-source"))
    s.check("it is addressed to the payer FSP", req.payer.fsp, got.headers.get("fspiop-destination"))
    answer = flow.answer
    assert answer is not None
    s.check("the payee FSP hears the payer's answer from the payer FSP itself", req.payer.fsp,
            answer.headers.get("fspiop-source"))
    s.check("the relayed answer names its method (FSPIOP-HTTP-Method)", "PUT",
            answer.headers.get("fspiop-http-method"))


def check_paid(s: Session, req: Request, flow: Flow) -> None:
    """The payment the request led to: RECEIVED first, a quote carrying the request, a transfer sealed with the
    quote's transaction, COMMITTED to the payer."""
    received = flow.answer.body if flow.answer is not None and isinstance(flow.answer.body, dict) else {}
    s.check("the payer FSP answers RECEIVED first", "RECEIVED", received.get("transactionRequestState"))
    quote = flow.quote.body if flow.quote is not None and isinstance(flow.quote.body, dict) else {}
    s.check("the payer's quote carries the transactionRequestId", req.request_id, quote.get("transactionRequestId"))
    s.check("the quote's transactionId is the one announced with RECEIVED", received.get("transactionId"),
            quote.get("transactionId"))
    s.check("the quote says the payee initiated it", "PAYEE", (quote.get("transactionType") or {}).get("initiator"))
    transfer = flow.transfer.body if flow.transfer is not None and isinstance(flow.transfer.body, dict) else {}
    sealed = decode_transaction(transfer["ilpPacket"]) if transfer.get("ilpPacket") else {}
    s.check("the transfer's ILP packet seals the quote's transaction", (quote.get("quoteId"),
                                                                      quote.get("transactionId")),
            (sealed.get("quoteId"), sealed.get("transactionId")))
    result = flow.result.body if flow.result is not None and isinstance(flow.result.body, dict) else {}
    s.check("the payer FSP is told the transfer is COMMITTED", "COMMITTED",
            flow.result.error_code if flow.result is not None and flow.result.error else result.get("transferState"),
            error_code=flow.result.error_code if flow.result is not None else None)
    s.check("the payer FSP records the request as paid (ACCEPTED)", "ACCEPTED", flow.state)


def refused(s: Session, what: str, status: int, code: str, *, source: str, destination: str | None,
            method: str = "POST", path: str = "/transactionRequests", body: Any = None,
            headers: dict[str, str] | None = None, drop: tuple[str, ...] = ()) -> SyncError:
    """A request transaction-requests-service must refuse synchronously with ``status``/``code`` (headers replaced
    with ``headers`` or left out with ``drop``)."""
    ex = raw_fspiop(s, method, SERVICE, path, source=source, destination=destination, body=body, headers=headers,
                    drop=drop)
    return check_sync_error(s, what, ex, status, code)


def deliveries(s: Session, fsp: str, request_id: str, *, after: int, expected: int) -> int:
    """How many ``POST /transactionRequests`` for ``request_id`` reached ``fsp`` since ``after``, waiting (with the
    callback deadline) until ``expected`` did."""
    def count() -> int:
        return delivered(s, fsp, "transactionRequests", request_id, after=after, method="POST")

    with contextlib.suppress(WaitTimeout):  # fewer than expected is the answer the check shows
        wait_until(f"{expected} deliveries of {request_id} to {fsp}", lambda: count() >= expected, timeout=s.timeout)
    return count()


def from_hub(cb: Callback) -> bool:
    """Whether the hub itself signed the message (FSPIOP-Source is the hub's name: Hub, or switch before v17)."""
    return str(cb.headers.get("fspiop-source", "")).lower() in HUB_NAMES


def version_of(cb: Callback) -> str | None:
    """The FSPIOP version in the message's Content-Type."""
    return spec_version(cb.headers)


def entered(flow: Flow) -> list[str | None]:
    """Each value the customer typed on the payee's device, in order (None where nothing was typed)."""
    values = []
    for cb in flow.entered:
        body = cb.body if isinstance(cb.body, dict) else {}
        values.append((body.get("authenticationInfo") or {}).get("authenticationValue"))
    return values


def query_of(cb: Callback) -> dict[str, str]:
    """The query string of a delivered GET, one value per key."""
    return {k: v[0] for k, v in parse_qs(cb.path.partition("?")[2]).items()}


def state_query(s: Session, asker: Party, other: Party, request_id: str) -> Callback:
    """``GET /transactionRequests/{ID}`` from ``asker`` to ``other``; returns what ``other`` answers (relayed)."""
    mark = s.sim.mark()
    ex = send(s, "GET", f"/transactionRequests/{request_id}", source=asker.fsp, destination=other.fsp)
    s.check("GET /transactionRequests answered 202", 202, ex.status)
    return s.await_callback(asker.fsp, "transactionRequests", request_id, after=mark)

