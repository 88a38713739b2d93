"""The simulator acting as FXP (foreign exchange provider): answers ``POST /fxQuotes`` from a rate table per
currency pair, and ``POST /fxTransfers`` with the fulfilment of the condition it quoted (FSPIOP 2.0, fx.md §3, §4).

* Rates: per FXP and (source, target) pair, target units per source unit, and a fee in the source currency
  (``PUT /_sim/fxp/{fsp}/rates/{source}/{target}``, ``fxp_control``). No rate for a pair: the FXP answers 5106
  (unsupported currency).
* The quote's condition is the FXP's own: an ILP v1 packet of amount 0 addressed ``g.{fxp}.{source}.{target}`` whose
  data are the quote (``conversionRequestId`` and the answered ``conversionTerms``), fulfilled with the FXP's secret,
  as the Mojaloop SDK builds it. The FXP remembers what it quoted by condition, and fulfils an fxTransfer only if it
  carries a condition it quoted with the same amounts (else 3100).
* Behaviours (``/_sim/rules``, resources ``fxQuotes`` and ``fxTransfers``): reject, no_answer, delay; for
  fxTransfers also ``invalid_fulfilment`` and ``committed`` (answer COMMITTED instead of RESERVED).
* ``PATCH /fxTransfers/{ID}`` (the hub's commit or abort notice) needs no answer: the inbox records it.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from mojacheck.fspiop import b64url_encode, condition_for, encode_packet_v1, fulfilment_for, stable_json
from mojacheck.fspiop.errors import FspiopError
from mojacheck.fspiop.fx import convert, money_text
from mojacheck.sim.config import SimConfig
from mojacheck.sim.inbox import utc_now_iso
from mojacheck.sim.payee import Incoming, Payee, reply_for
from mojacheck.sim.state import ControlError, RuleBook, answer_after
from mojacheck.sim.tasks import RoleTasks

log = logging.getLogger(__name__)

_MEMORY = 20_000
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Rate:
    """Target units per source unit, and the FXP's fee in the source currency."""

    rate: Decimal
    fee: Decimal

    def to_json(self, fsp: str, source: str, target: str) -> dict[str, str]:
        return {"fsp": fsp, "source": source, "target": target, "rate": money_text(self.rate),
                "fee": money_text(self.fee)}


@dataclass(frozen=True)
class Quoted:
    """What the FXP quoted under one condition: the fulfilment and the agreed amounts."""

    fulfilment: str
    source: dict[str, str]
    target: dict[str, str]


def _decimal(raw: Any, field: str, *, positive: bool) -> Decimal:
    try:
        value = Decimal(str(raw)) if isinstance(raw, str | int) and not isinstance(raw, bool) else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0 or (positive and value == 0):
        kind = "a positive" if positive else "a non-negative"
        raise ControlError(field, f"expected {kind} decimal number as a string, got {raw!r}")
    return value


class Fxp:
    def __init__(self, config: SimConfig, rules: RuleBook, payee: Payee) -> None:
        self.config = config
        self.rules = rules
        self.payee = payee  # its sender: every answer goes out (and is recorded) the way the payee's do
        self.rates: dict[tuple[str, str, str], Rate] = {}
        self.quoted: OrderedDict[tuple[str, str], Quoted] = OrderedDict()  # (fsp, condition)
        self.answers: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()  # (fsp, conversionRequestId)
        self._tasks = RoleTasks("FXP")

    # ------------------------------------------------------------ dispatch

    def handle(self, inc: Incoming) -> None:
        segments = inc.path.split("?", 1)[0].strip("/").split("/")
        if inc.method == "POST" and segments == ["fxQuotes"]:
            self._tasks.spawn(self._quote(inc))
        elif inc.method == "GET" and inc.resource == "fxQuotes" and len(segments) == 2:
            self._tasks.spawn(self._quote_again(inc, segments[1]))
        elif inc.method == "POST" and segments == ["fxTransfers"]:
            self._tasks.spawn(self._transfer(inc))

    async def aclose(self) -> None:
        await self._tasks.aclose()

    def _remember(self, store: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        store[key] = value
        while len(store) > _MEMORY:
            store.popitem(last=False)

    # ------------------------------------------------------------ fxQuotes

    async def _quote(self, inc: Incoming) -> None:
        request = inc.body if isinstance(inc.body, dict) else {}
        quote_id = request.get("conversionRequestId")
        terms = request.get("conversionTerms") if isinstance(request.get("conversionTerms"), dict) else {}
        reply = reply_for(inc)
        if not isinstance(quote_id, str) or not quote_id:
            return
        ids = tuple(str(v) for v in (quote_id, terms.get("conversionId"), terms.get("determiningTransferId")) if v)
        rule = self.rules.find(inc.fsp, "fxQuotes", ids=ids)
        if not await answer_after(rule):
            return
        path = f"/fxQuotes/{quote_id}"
        if rule is not None and rule.behaviour == "reject":
            await self.payee.send_error(reply, path, rule.reject_code)
            return
        try:
            answer = self.answer(inc.fsp, quote_id, terms)
        except LookupError as exc:
            await self.payee.send_error(reply, path, "5106", str(exc))
            return
        except (KeyError, TypeError, ValueError, ArithmeticError, FspiopError) as exc:
            await self.payee.send_error(reply, path, "3100", f"cannot quote: {type(exc).__name__} {exc}")
            return
        self._remember(self.answers, (inc.fsp, quote_id), answer)
        await self.payee.send(reply, "PUT", path, answer)

    def answer(self, fsp: str, quote_id: str, terms: dict[str, Any]) -> dict[str, Any]:
        """The PUT /fxQuotes body: the request's terms with both amounts and the fee filled in, and a condition."""
        source, target = str(terms["sourceAmount"]["currency"]), str(terms["targetAmount"]["currency"])
        rate = self.rates.get((fsp, source, target))
        if rate is None:
            raise LookupError(f"{fsp} offers no conversion from {source} to {target}")
        amount_type = str(terms["amountType"])
        given = terms["sourceAmount" if amount_type == "SEND" else "targetAmount"]["amount"]
        done = convert(Decimal(str(given)), rate=rate.rate, fee=rate.fee, source=source, target=target,
                       amount_type=amount_type)
        answered = {**terms, "sourceAmount": {"currency": source, "amount": money_text(done.source)},
                    "targetAmount": {"currency": target, "amount": money_text(done.target)}}
        if done.fee_source:
            answered["charges"] = [{"chargeType": "currency conversion",
                                    "sourceAmount": {"currency": source, "amount": money_text(done.fee_source)},
                                    "targetAmount": {"currency": target, "amount": money_text(done.fee_target)}}]
        data = b64url_encode(stable_json({"conversionRequestId": quote_id, "conversionTerms": answered}).encode())
        address = f"g.{fsp}.{source}.{target}".lower()
        packet = b64url_encode(encode_packet_v1(0, address, data.encode("ascii")))
        fulfilment = fulfilment_for(packet, self.config.secret_for(fsp))
        condition = condition_for(fulfilment)
        self._remember(self.quoted, (fsp, condition),
                       Quoted(fulfilment, answered["sourceAmount"], answered["targetAmount"]))
        return {"condition": condition, "conversionTerms": answered}

    async def _quote_again(self, inc: Incoming, quote_id: str) -> None:
        reply = reply_for(inc)
        answer = self.answers.get((inc.fsp, quote_id))
        if answer is None:
            await self.payee.send_error(reply, f"/fxQuotes/{quote_id}", "3205", f"{inc.fsp} has no fxQuote {quote_id}")
            return
        await self.payee.send(reply, "PUT", f"/fxQuotes/{quote_id}", answer)

    # ------------------------------------------------------------ fxTransfers

    async def _transfer(self, inc: Incoming) -> None:
        body = inc.body if isinstance(inc.body, dict) else {}
        commit_request_id = body.get("commitRequestId")
        reply = reply_for(inc)
        if not isinstance(commit_request_id, str) or not commit_request_id:
            return
        ids = tuple(str(v) for v in (commit_request_id, body.get("determiningTransferId")) if v)
        rule = self.rules.find(inc.fsp, "fxTransfers", ids=ids)
        if not await answer_after(rule):
            return
        path = f"/fxTransfers/{commit_request_id}"
        behaviour = "normal" if rule is None else rule.behaviour
        if rule is not None and behaviour == "reject":
            await self.payee.send_error(reply, path, rule.reject_code)
            return
        quoted = self.quoted.get((inc.fsp, str(body.get("condition"))))
        if quoted is None or not self._same_money(body, quoted):
            await self.payee.send_error(reply, path, "3100", "fxTransfer does not match a conversion this FXP quoted")
            return
        fulfilment = quoted.fulfilment
        if behaviour == "invalid_fulfilment":
            fulfilment = fulfilment_for(fulfilment, self.config.secret_for(inc.fsp) + ":not-the-secret")
        answer = {"conversionState": "COMMITTED" if behaviour == "committed" else "RESERVED",
                  "fulfilment": fulfilment, "completedTimestamp": utc_now_iso()}
        await self.payee.send(reply, "PUT", path, answer)

    @staticmethod
    def _same_money(body: dict[str, Any], quoted: Quoted) -> bool:
        try:
            return all(str(body[side]["currency"]) == agreed["currency"]
                       and Decimal(str(body[side]["amount"])) == Decimal(agreed["amount"])
                       for side, agreed in (("sourceAmount", quoted.source), ("targetAmount", quoted.target)))
        except (KeyError, TypeError, InvalidOperation):
            return False

    # ------------------------------------------------------------ rates

    def set_rate(self, fsp: str, source: str, target: str, body: Any) -> Rate:
        for field, value in (("source", source), ("target", target)):
            if not _CURRENCY.match(value):
                raise ControlError(field, f"expected a 3-letter currency code, got {value!r}")
        if not isinstance(body, dict):
            raise ControlError("body", "expected a JSON object with 'rate' and optional 'fee'")
        unknown = sorted(set(body) - {"rate", "fee"})
        if unknown:
            raise ControlError(unknown[0], "unknown field; allowed: rate, fee")
        rate = Rate(_decimal(body.get("rate"), "rate", positive=True),
                    _decimal(body.get("fee", "0"), "fee", positive=False))
        self.rates[(fsp, source, target)] = rate
        return rate
