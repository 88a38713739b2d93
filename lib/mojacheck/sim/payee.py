"""The simulator acting as payee FSP: answers GET /parties, POST /quotes and POST /transfers asynchronously.

Each delivery that calls for an answer becomes an asyncio task, so the hub gets its 202 at once and the
answer follows, the way a real FSP behaves. Every answer is recorded in the inbox as a ``direction: out`` item
together with the hub's status, so evidence shows both sides.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from mojacheck.fspiop import (
    build_ilp,
    callback_headers,
    condition_for,
    decode_transaction,
    error_body,
    fulfilment_for,
    jws,
    parse_content_type,
    transaction_object,
)
from mojacheck.fspiop.errors import FspiopError
from mojacheck.server.delivery import Delivery, DeliveryResult
from mojacheck.server.jsonutil import dumps
from mojacheck.sim.config import SimConfig
from mojacheck.sim.inbox import Inbox, utc_now_iso
from mojacheck.sim.state import PartyStore, RuleBook, answer_after
from mojacheck.sim.tasks import RoleTasks

log = logging.getLogger(__name__)

_TRACEPARENT_RE = re.compile(r"^00-([0-9a-f]{32})-[0-9a-f]{16}-([0-9a-f]{2})$")
_QUOTE_MEMORY = 20_000


@dataclass(frozen=True)
class Incoming:
    """One FSPIOP delivery attributed to a simulated FSP; ``path`` has no FSP prefix."""

    fsp: str
    method: str
    path: str
    resource: str
    headers: Mapping[str, str]  # lower-case names
    body: Any


@dataclass(frozen=True)
class Reply:
    """Who answers whom, in which version: derived from the request being answered."""

    fsp: str
    destination: str | None
    resource: str
    version: str
    traceparent: str | None


def reply_for(inc: Incoming) -> Reply:
    """The answer's addressing: from the FSP the request was for, to the request's sender, in its version."""
    try:
        _, version = parse_content_type(inc.headers.get("content-type", ""))
    except FspiopError:
        version = "1.1"  # a hub always sends one; fall back to the common version rather than go silent
    return Reply(inc.fsp, inc.headers.get("fspiop-source"), inc.resource, version, _child_trace(inc.headers))


def _child_trace(headers: Mapping[str, str]) -> str | None:
    """Same trace id, a new span id: our answer is a child of the hub's request."""
    match = _TRACEPARENT_RE.match(headers.get("traceparent", ""))
    if match is None:
        return None
    return f"00-{match.group(1)}-{secrets.token_hex(8)}-{match.group(2)}"


def _expiration(seconds: int) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _payee_identifier(party_holder: Any) -> str | None:
    """``payee.partyIdInfo.partyIdentifier`` of a quote request or transaction object, if present."""
    try:
        value = party_holder["payee"]["partyIdInfo"]["partyIdentifier"]
    except (KeyError, TypeError):
        return None
    return value if isinstance(value, str) else None


class Payee:
    def __init__(
        self, config: SimConfig, inbox: Inbox, parties: PartyStore, rules: RuleBook, delivery: Delivery
    ) -> None:
        self.config = config
        self.inbox = inbox
        self.parties = parties
        self.rules = rules
        self.delivery = delivery
        # (fsp, quoteId) → the PUT /quotes body sent, for GET /quotes/{ID}; bounded for soak runs.
        self.quotes: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._tasks = RoleTasks("payee")

    # ------------------------------------------------------------ dispatch

    def handle(self, inc: Incoming) -> None:
        """Start the payee's answer to ``inc`` if it is a request a payee answers."""
        segments = inc.path.split("?", 1)[0].strip("/").split("/")
        if inc.method == "GET" and inc.resource == "parties" and len(segments) in (3, 4):
            self._tasks.spawn(self._parties(inc, segments[1:]))
        elif inc.method == "POST" and segments == ["quotes"]:
            self._tasks.spawn(self._quote(inc))
        elif inc.method == "GET" and inc.resource == "quotes" and len(segments) == 2:
            self._tasks.spawn(self._quote_again(inc, segments[1]))
        elif inc.method == "POST" and segments == ["transfers"]:
            self._tasks.spawn(self._transfer(inc))

    async def aclose(self) -> None:
        await self._tasks.aclose()
        await self.delivery.aclose()

    # ------------------------------------------------------------ sending

    async def send(
        self, reply: Reply, method: str, path: str, body: Any, *, version: str | None = None
    ) -> DeliveryResult | None:
        """Send one answer to the hub and record it as an outbound inbox item."""
        url = self.config.url_for(reply.resource, path)
        if reply.destination is None:
            # Nobody to address the callback to; leave evidence instead of guessing.
            self._record_out(reply, method, path, {}, body, None, url, "request had no FSPIOP-Source")
            return None
        headers = callback_headers(reply.resource, reply.fsp, reply.destination, version=version or reply.version)
        # What an FSP's connector sends with every message (and signs, when it signs).
        headers["FSPIOP-URI"] = path
        headers["FSPIOP-HTTP-Method"] = method
        if reply.traceparent:
            headers["traceparent"] = reply.traceparent
        data = dumps(body)
        key_file = self.config.signing_key_file(reply.fsp)
        if key_file is not None:
            headers["FSPIOP-Signature"] = jws.sign(headers, data, jws.load_private_key(key_file))
        token = self.config.bearer()
        if token:
            headers["Authorization"] = f"Bearer {token}"
        result = await self.delivery.send(method, url, headers, data)
        self._record_out(reply, method, path, headers, body, result, url, result.error)
        return result

    def _record_out(
        self,
        reply: Reply,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: Any,
        result: DeliveryResult | None,
        url: str,
        error: str | None,
    ) -> None:
        self.inbox.record(
            direction="out",
            fsp=reply.fsp,
            method=method,
            path=path,
            resource=reply.resource,
            headers=headers,
            body=body,
            status=None if result is None else result.status,
            url=url,
            deliveryError=error,
            elapsedMs=None if result is None else round(result.elapsed_ms, 1),
        )

    async def send_error(self, reply: Reply, path: str, code: str, detail: str | None = None) -> None:
        await self.send(reply, "PUT", f"{path}/error", error_body(code, detail))

    # ------------------------------------------------------------ parties

    async def _parties(self, inc: Incoming, parts: list[str]) -> None:
        id_type, ident = parts[0], parts[1]
        sub_id = parts[2] if len(parts) == 3 else None
        reply = reply_for(inc)
        rule = self.rules.find(inc.fsp, "parties", ids=("/".join(parts), ident), party=ident)
        if not await answer_after(rule):
            return
        path = "/parties/" + "/".join(parts)
        if rule is not None and rule.behaviour == "reject":
            await self.send_error(reply, path, rule.reject_code)
            return
        party = self.parties.get(inc.fsp, id_type, ident, sub_id)
        if party is None:
            await self.send_error(reply, path, "3204", f"{inc.fsp} has no party {'/'.join(parts)}")
            return
        if reply.version.startswith("1."):
            # supportedCurrencies is FSPIOP 2.0's; a payee answering in 1.x does not state it.
            party.pop("supportedCurrencies", None)
        await self.send(reply, "PUT", path, {"party": party})

    # ------------------------------------------------------------ quotes

    async def _quote(self, inc: Incoming) -> None:
        request = inc.body if isinstance(inc.body, dict) else {}
        quote_id = request.get("quoteId")
        reply = reply_for(inc)
        if not isinstance(quote_id, str) or not quote_id:
            self._record_out(reply, "PUT", "/quotes", {}, None, None, "", "POST /quotes without quoteId")
            return
        ids = tuple(str(v) for v in (quote_id, request.get("transactionId")) if v)
        rule = self.rules.find(inc.fsp, "quotes", ids=ids, party=_payee_identifier(request))
        if not await answer_after(rule):
            return
        path = f"/quotes/{quote_id}"
        if rule is not None and rule.behaviour == "reject":
            await self.send_error(reply, path, rule.reject_code)
            return
        try:
            response = self._quote_response(request, inc.fsp)
        except (KeyError, TypeError, ValueError, FspiopError) as exc:
            await self.send_error(reply, path, "3100", f"cannot quote: {type(exc).__name__} {exc}")
            return
        self.quotes[(inc.fsp, quote_id)] = response
        while len(self.quotes) > _QUOTE_MEMORY:
            self.quotes.popitem(last=False)
        await self.send(reply, "PUT", path, response)

    def _quote_response(self, request: dict[str, Any], fsp: str) -> dict[str, Any]:
        # No fees in the simulator: for SEND and RECEIVE alike the payee receives what is transferred.
        amount = {"amount": str(request["amount"]["amount"]), "currency": request["amount"]["currency"]}
        response: dict[str, Any] = {
            "transferAmount": amount,
            "payeeReceiveAmount": dict(amount),
            "expiration": _expiration(self.config.quote_ttl_s),
        }
        ilp = build_ilp(transaction_object(request, response), fsp, self.config.secret_for(fsp))
        response["ilpPacket"] = ilp.packet
        response["condition"] = ilp.condition
        return response

    async def _quote_again(self, inc: Incoming, quote_id: str) -> None:
        """GET /quotes/{ID}: resend the answer given, or 3205 for a quote this FSP never answered."""
        reply = reply_for(inc)
        response = self.quotes.get((inc.fsp, quote_id))
        if response is None:
            await self.send_error(reply, f"/quotes/{quote_id}", "3205", f"{inc.fsp} has no quote {quote_id}")
            return
        await self.send(reply, "PUT", f"/quotes/{quote_id}", response)

    # ------------------------------------------------------------ transfers

    async def _transfer(self, inc: Incoming) -> None:
        body = inc.body if isinstance(inc.body, dict) else {}
        transfer_id = body.get("transferId")
        reply = reply_for(inc)
        if not isinstance(transfer_id, str) or not transfer_id:
            self._record_out(reply, "PUT", "/transfers", {}, None, None, "", "POST /transfers without transferId")
            return
        transaction, problem = self._decode(body)
        ids = tuple(str(v) for v in (transfer_id, transaction.get("quoteId"), transaction.get("transactionId")) if v)
        rule = self.rules.find(inc.fsp, "transfers", ids=ids, party=_payee_identifier(transaction))
        if not await answer_after(rule):
            return
        path = f"/transfers/{transfer_id}"
        behaviour = "normal" if rule is None else rule.behaviour
        if rule is not None and behaviour == "reject":
            await self.send_error(reply, path, rule.reject_code)
            return
        problem = problem or self._mismatch(body, transaction, inc.fsp)
        if problem:
            await self.send_error(reply, path, "5105", problem)
            return
        await self._fulfil(reply, path, body["ilpPacket"], behaviour)

    async def _fulfil(self, reply: Reply, path: str, packet: str, behaviour: str) -> None:
        secret = self.config.secret_for(reply.fsp)
        if behaviour == "invalid_fulfilment":
            secret += ":not-the-secret"  # a well-formed 32-byte preimage that hashes to another condition
        answer = {
            "transferState": "RESERVED" if behaviour == "reserved" else "COMMITTED",
            "fulfilment": fulfilment_for(packet, secret),
            "completedTimestamp": utc_now_iso(),
        }
        # Hubs ignore a RESERVED notification sent as version 1.0, so announce it as at least 1.1.
        version = "1.1" if behaviour == "reserved" and reply.version == "1.0" else None
        await self.send(reply, "PUT", path, answer, version=version)

    @staticmethod
    def _decode(body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        packet = body.get("ilpPacket")
        if not isinstance(packet, str):
            return {}, "transfer has no ilpPacket"
        try:
            return decode_transaction(packet), None
        except FspiopError as exc:
            return {}, f"ILP packet cannot be decoded: {exc}"

    def _mismatch(self, body: dict[str, Any], transaction: dict[str, Any], fsp: str) -> str | None:
        """Why the transfer does not match its ILP packet (or this FSP), or None when it does."""
        if body.get("payeeFsp") != fsp:
            return f"payeeFsp {body.get('payeeFsp')!r} is not this FSP {fsp!r}"
        sealed_fsp = (transaction.get("payee") or {}).get("partyIdInfo", {}).get("fspId")
        if sealed_fsp not in (None, fsp):
            return f"ILP packet is for payee FSP {sealed_fsp!r}, not {fsp!r}"
        try:
            sent, sealed = body["amount"], transaction["amount"]
            same = Decimal(str(sent["amount"])) == Decimal(str(sealed["amount"]))
            same = same and sent["currency"] == sealed["currency"]
        except (KeyError, TypeError, InvalidOperation):
            return "transfer or ILP packet has no valid amount"
        if not same:
            return "transfer amount/currency does not match the ILP packet"
        expected = condition_for(fulfilment_for(body["ilpPacket"], self.config.secret_for(fsp)))
        if body.get("condition") != expected:
            return "condition does not match the ILP packet sealed with this FSP's secret"
        return None
