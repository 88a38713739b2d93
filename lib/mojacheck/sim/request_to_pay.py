"""Request to pay between simulated FSPs (FSPIOP API Definition v1.1, 6.4 and 6.6:
figures 44, 45, 49-51).

Roles, by what an FSP receives:

* **payer FSP**, on ``POST /transactionRequests``: decides (rule ``transactionRequests``: normal, reject →
  ``transactionRequestState: REJECTED``, error → ``PUT …/error`` 4101 or the rule's code, no_answer, delay); an
  expired request is refused with 3301. Otherwise it answers ``RECEIVED`` with a new transactionId, quotes the payee
  (``POST /quotes`` carrying the ``transactionRequestId``, amountType RECEIVE), and when the request asks for an OTP
  it texts one to its customer's phone (readable through the control API) and asks the payee's device for it with
  ``GET /authorizations/{ID}?authenticationType=OTP&retriesLeft=N&amount&currency`` — a wrong value costs a retry,
  the last retry is ``retriesLeft=1``, ``RESEND`` texts a new one, ``REJECTED`` or no retries left reject the
  request (``PUT /transactionRequests/{ID}`` REJECTED). Then it pays: ``POST /transfers`` with the quote's ILP
  packet and condition. ``GET /transactionRequests/{ID}`` is answered with where it stands (RECEIVED while in
  progress, ACCEPTED once paid, REJECTED).
* **payee FSP** (the merchant's device), on ``GET /authorizations/{ID}``: the customer types the OTP from the phone
  (rule ``otp``: normal, wrong_otp, wrong_once, reject → ``responseType: REJECTED``, no_answer, delay). Quotes and
  transfers are answered by the ordinary payee (``payee.py``).
* **payee FSP initiating**: ``POST /_sim/requestToPay/{fsp}`` makes ``fsp`` send a ``POST /transactionRequests``.
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request as StarletteRequest
from starlette.responses import Response
from starlette.routing import Route

from mojacheck.fspiop import error_body, new_id
from mojacheck.server.jsonutil import JsonBodyError, json_response, loads
from mojacheck.sim.conversation import Conversations
from mojacheck.sim.payee import Incoming, Payee, reply_for
from mojacheck.sim.state import Rule, RuleBook, answer_after
from mojacheck.sim.tasks import RoleTasks

log = logging.getLogger(__name__)

RETRIES = 2  # retriesLeft of the first GET /authorizations (1 = the last try)
MAX_RESENDS = 3
TRANSFER_TTL_S = 60
MEMORY = 20_000  # transaction requests remembered per simulator


@dataclass
class Request:
    """What a simulated payer FSP knows about one transaction request (shown by the control API)."""

    request_id: str
    payee: str
    state: str = "RECEIVED"  # RECEIVED (in progress), ACCEPTED (paid), REJECTED, FAILED
    transaction_id: str | None = None
    quote_id: str | None = None
    transfer_id: str | None = None
    otp: str | None = None
    authorizations: list[dict[str, Any]] = field(default_factory=list)  # each GET's retriesLeft and the answer
    reason: str | None = None

    def api_state(self) -> str:
        return {"ACCEPTED": "ACCEPTED", "REJECTED": "REJECTED", "FAILED": "REJECTED"}.get(self.state, "RECEIVED")

    def to_json(self) -> dict[str, Any]:
        """The control API's view, in FSPIOP's field names."""
        return {"transactionRequestId": self.request_id, "payee": self.payee, "state": self.state,
                "transactionId": self.transaction_id, "quoteId": self.quote_id, "transferId": self.transfer_id,
                "otp": self.otp, "authorizations": list(self.authorizations), "reason": self.reason}


def _iso(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _expired(text: Any) -> bool:
    try:
        when = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return False
    return when.tzinfo is not None and when <= datetime.now(UTC)


class RequestToPay:
    def __init__(self, talk: Conversations, payee: Payee, rules: RuleBook) -> None:
        self.talk = talk
        self.payee = payee  # sends answers (callbacks) the way the payee role does
        self.rules = rules
        # Bounded like the payee's quote memory, for soak runs.
        self.requests: OrderedDict[tuple[str, str], Request] = OrderedDict()
        self.asked: OrderedDict[tuple[str, str], int] = OrderedDict()  # GET /authorizations seen by the device
        self._tasks = RoleTasks("request-to-pay")

    # ------------------------------------------------------------ dispatch
    def handle(self, inc: Incoming) -> None:
        if self.talk.resolve(inc):
            return
        parts = inc.path.split("?", 1)[0].strip("/").split("/")
        if inc.method == "POST" and parts == ["transactionRequests"]:
            self._tasks.spawn(self._pay(inc))
        elif inc.method == "GET" and parts[0] == "transactionRequests" and len(parts) == 2:
            self._tasks.spawn(self._state(inc, parts[1]))
        elif inc.method == "GET" and parts[0] == "authorizations" and len(parts) == 2:
            self._tasks.spawn(self._enter_otp(inc, parts[1]))

    async def aclose(self) -> None:
        await self._tasks.aclose()

    def view(self, fsp: str, request_id: str) -> dict[str, Any] | None:
        found = self.requests.get((fsp, request_id))
        return None if found is None else found.to_json()

    # ------------------------------------------------------------ payee FSP initiating
    async def initiate(self, fsp: str, body: dict[str, Any]) -> dict[str, Any]:
        """``fsp`` (the payee) sends ``POST /transactionRequests`` to the payer FSP named in ``payer.fspId``."""
        request = {"transactionRequestId": new_id(),
                   "transactionType": {"scenario": "PAYMENT", "initiator": "PAYEE", "initiatorType": "BUSINESS"},
                   **body}
        payer_fsp = str(request["payer"].get("fspId", ""))
        result = await self.talk.send(fsp, payer_fsp, "POST", "/transactionRequests", request)
        return {"transactionRequestId": request["transactionRequestId"], "status": result.status,
                "error": result.error}

    # ------------------------------------------------------------ payer FSP
    async def _pay(self, inc: Incoming) -> None:
        body = inc.body if isinstance(inc.body, dict) else {}
        ident = str(body.get("transactionRequestId", ""))
        reply = reply_for(inc)
        if not ident or reply.destination is None:
            log.warning("POST /transactionRequests without id or source to %s ignored", inc.fsp)
            return
        record = self.requests[(inc.fsp, ident)] = Request(ident, reply.destination)
        _bound(self.requests)
        payer_id = str((body.get("payer") or {}).get("partyIdentifier", ""))
        rule = self.rules.find(inc.fsp, "transactionRequests", ids=(ident,), party=payer_id)
        if not await answer_after(rule):
            return
        path = f"/transactionRequests/{ident}"
        if (rule is not None and rule.behaviour in ("reject", "error")) or _expired(body.get("expiration")):
            await self._refuse(inc, record, rule)
            return
        record.transaction_id = new_id()
        await self.payee.send(reply, "PUT", path, {"transactionId": record.transaction_id,
                                                   "transactionRequestState": "RECEIVED"})
        quote = await self._quote(inc, record, body)
        if quote is None:
            await self._reject(inc, record, "the payee did not quote")
            return
        if body.get("authenticationType") == "OTP" and not await self._authorize(inc, record, quote):
            await self._reject(inc, record, "the customer was not authenticated")
            return
        await self._transfer(inc, record, quote)

    async def _refuse(self, inc: Incoming, record: Request, rule: Rule | None) -> None:
        path, reply = f"/transactionRequests/{record.request_id}", reply_for(inc)
        record.state = "REJECTED"
        if rule is not None and rule.behaviour == "reject":
            record.reason = "the payer declined"
            await self.payee.send(reply, "PUT", path, {"transactionRequestState": "REJECTED"})
            return
        if rule is not None and rule.behaviour == "error":
            record.reason = f"refused with {rule.reject_code}"
            await self.payee.send(reply, "PUT", f"{path}/error", error_body(rule.reject_code))
            return
        record.reason = "the request had expired"
        await self.payee.send(reply, "PUT", f"{path}/error", error_body("3301", "expiration is in the past"))

    async def _reject(self, inc: Incoming, record: Request, reason: str) -> None:
        record.state, record.reason = "REJECTED", reason
        await self.payee.send(reply_for(inc), "PUT", f"/transactionRequests/{record.request_id}",
                              {"transactionId": record.transaction_id, "transactionRequestState": "REJECTED"})

    async def _quote(self, inc: Incoming, record: Request, body: dict[str, Any]) -> dict[str, Any] | None:
        quote_id = record.quote_id = new_id()
        request: dict[str, Any] = {
            "quoteId": quote_id, "transactionId": record.transaction_id,
            "transactionRequestId": record.request_id, "payee": body["payee"],
            "payer": {"partyIdInfo": body["payer"]}, "amountType": "RECEIVE", "amount": body["amount"],
            "transactionType": body["transactionType"]}
        if body.get("note"):
            request["note"] = body["note"]
        answer = await self.talk.ask(inc.fsp, record.payee, "POST", "/quotes", request,
                                     answer_path=f"/quotes/{quote_id}")
        if answer is None or answer.path.rstrip("/").endswith("/error") or not isinstance(answer.body, dict):
            return None
        return answer.body

    async def _authorize(self, inc: Incoming, record: Request, quote: dict[str, Any]) -> bool:
        retries, resends = RETRIES, 0
        record.otp = _otp()
        ident = record.request_id
        while retries >= 1:
            query = urlencode({"authenticationType": "OTP", "retriesLeft": retries,
                               "amount": quote["transferAmount"]["amount"],
                               "currency": quote["transferAmount"]["currency"]})
            answer = await self.talk.ask(inc.fsp, record.payee, "GET", f"/authorizations/{ident}?{query}", None,
                                         answer_path=f"/authorizations/{ident}")
            given = answer.body if answer is not None and isinstance(answer.body, dict) else {}
            record.authorizations.append({"retriesLeft": retries, "answer": given})
            if answer is None or answer.path.rstrip("/").endswith("/error"):
                return False
            kind = given.get("responseType")
            if kind == "ENTERED" and (given.get("authenticationInfo") or {}).get("authenticationValue") == record.otp:
                return True
            if kind == "RESEND" and resends < MAX_RESENDS:
                resends += 1
                record.otp = _otp()
                continue
            if kind != "ENTERED":
                return False
            retries -= 1
        return False

    async def _transfer(self, inc: Incoming, record: Request, quote: dict[str, Any]) -> None:
        transfer_id = record.transfer_id = new_id()
        body = {"transferId": transfer_id, "payerFsp": inc.fsp, "payeeFsp": record.payee,
                "amount": quote["transferAmount"], "ilpPacket": quote["ilpPacket"], "condition": quote["condition"],
                "expiration": _iso(TRANSFER_TTL_S)}
        answer = await self.talk.ask(inc.fsp, record.payee, "POST", "/transfers", body,
                                     answer_path=f"/transfers/{transfer_id}")
        paid = answer is not None and isinstance(answer.body, dict) and \
            answer.body.get("transferState") == "COMMITTED"
        record.state = "ACCEPTED" if paid else "FAILED"
        if not paid:
            record.reason = "the transfer was not committed"

    async def _state(self, inc: Incoming, ident: str) -> None:
        """``GET /transactionRequests/{ID}``: where the payer FSP stands, or 3206 for a request it never had."""
        record = self.requests.get((inc.fsp, ident))
        reply, path = reply_for(inc), f"/transactionRequests/{ident}"
        if record is None:
            await self.payee.send(reply, "PUT", f"{path}/error", error_body("3206", f"{inc.fsp} has no {ident}"))
            return
        answer: dict[str, Any] = {"transactionRequestState": record.api_state()}
        if record.transaction_id:
            answer = {"transactionId": record.transaction_id, **answer}
        await self.payee.send(reply, "PUT", path, answer)

    # ------------------------------------------------------------ payee FSP's device
    async def _enter_otp(self, inc: Incoming, ident: str) -> None:
        rule = self.rules.find(inc.fsp, "otp", ids=(ident,))
        if not await answer_after(rule):
            return
        count = self.asked[(inc.fsp, ident)] = self.asked.get((inc.fsp, ident), 0) + 1
        _bound(self.asked)
        reply, path = reply_for(inc), f"/authorizations/{ident}"
        if rule is not None and rule.behaviour == "reject":
            await self.payee.send(reply, "PUT", path, {"responseType": "REJECTED"})
            return
        otp = self._phone(ident)
        query = parse_qs(inc.path.partition("?")[2])
        kind = (query.get("authenticationType") or ["OTP"])[0]
        wrong = rule is not None and (rule.behaviour == "wrong_otp" or (rule.behaviour == "wrong_once" and count == 1))
        value = _other(otp) if wrong else otp
        await self.payee.send(reply, "PUT", path, {"authenticationInfo": {"authentication": kind,
                                                                           "authenticationValue": value},
                                                    "responseType": "ENTERED"})

    def _phone(self, ident: str) -> str:
        """The OTP the customer reads on their phone: the one a simulated payer FSP texted for the request."""
        for (_fsp, request_id), record in self.requests.items():
            if request_id == ident and record.otp:
                return record.otp
        return "000000"


def _bound(memory: OrderedDict[Any, Any]) -> None:
    while len(memory) > MEMORY:
        memory.popitem(last=False)


def _otp() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def _other(otp: str) -> str:
    """A six-digit value that is not ``otp``."""
    return f"{(int(otp) + 1) % 10**6:06d}"


# ------------------------------------------------------------ control API (/_sim/requestToPay)
def _fail(field_name: str, message: str) -> Response:
    return json_response({"error": f"{field_name}: {message}", "field": field_name}, 400)


async def control_initiate(request: StarletteRequest) -> Response:
    """``POST /_sim/requestToPay/{fsp}`` ``{payer: PartyIdInfo with fspId, payee?: Party, amount: Money,
    authenticationType?, expiration?, note?, transactionRequestId?, transactionType?}``: ``fsp`` asks for the money;
    answers 201 ``{transactionRequestId, status}`` (``status``: the hub's answer to the POST)."""
    try:
        body = loads(await request.body())
    except JsonBodyError as exc:
        return _fail("body", str(exc))
    if not isinstance(body, dict):
        return _fail("body", "expected a JSON object")
    payer = body.get("payer")
    if not isinstance(payer, dict) or not payer.get("fspId") or not payer.get("partyIdentifier"):
        return _fail("payer", "expected a PartyIdInfo with partyIdType, partyIdentifier and fspId")
    amount = body.get("amount")
    if not isinstance(amount, dict) or not amount.get("amount") or not amount.get("currency"):
        return _fail("amount", "expected {amount, currency}")
    fsp = request.path_params["fsp"]
    body.setdefault("payee", {"partyIdInfo": {"partyIdType": "BUSINESS", "partyIdentifier": fsp, "fspId": fsp}})
    sim: Any = request.app.state.sim
    return json_response(await sim.request_to_pay.initiate(fsp, body), 201)


async def control_view(request: StarletteRequest) -> Response:
    """``GET /_sim/requestToPay/{fsp}/{id}``: what payer FSP ``fsp`` knows of the request (state, ids, the OTP it
    texted, each authorization asked), or 404."""
    sim: Any = request.app.state.sim
    found = sim.request_to_pay.view(request.path_params["fsp"], request.path_params["id"])
    if found is None:
        return json_response({"error": "no such transaction request at this FSP"}, 404)
    return json_response(found)


routes = [
    Route("/{fsp}", control_initiate, methods=["POST"]),
    Route("/{fsp}/{id}", control_view, methods=["GET"]),
]
