"""The simulator as the payee of bulk quotes and bulk transfers (salary runs, G2P disbursements).

* ``POST /bulkQuotes`` → ``PUT /bulkQuotes/{ID}`` with one result per individual quote: transferAmount =
  payeeReceiveAmount = the amount (no fees), an ILP packet and condition sealed with the FSP's secret, the payee as
  asked. ``GET /bulkQuotes/{ID}`` resends it (3209 for a bulk quote never answered).
* ``POST /bulkTransfers`` → ``PUT /bulkTransfers/{ID}`` ``{bulkTransferState: COMPLETED, completedTimestamp,
  individualTransferResults: [{transferId, fulfilment}…]}`` to whoever sent the POST (the hub from helm 14.1, the
  payer before).

Rules (``POST /_sim/rules``): matching the bulk's id (or no id) a rule acts on the whole bulk, matching an item's
quoteId/transferId on that item only. ``bulkQuotes``: reject (whole: ``PUT …/error``, 5101 or the rule's code;
item: that result carries ``errorInformation``), no_answer, delay. ``bulkTransfers``: reject (whole: ``PUT …/error``
5105; item: ``errorInformation``), invalid_fulfilment (a well-formed fulfilment of another condition),
future_timestamp (whole: ``completedTimestamp`` 10 s ahead), no_answer, delay.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

from mojacheck.fspiop import build_ilp, error_body, fulfilment_for, transaction_object
from mojacheck.fspiop.errors import FspiopError
from mojacheck.sim.config import SimConfig
from mojacheck.sim.inbox import utc_now_iso
from mojacheck.sim.payee import Incoming, Payee, Reply, reply_for
from mojacheck.sim.state import Rule, RuleBook, answer_after
from mojacheck.sim.tasks import RoleTasks

log = logging.getLogger(__name__)

_MEMORY = 2_000
FUTURE_S = 10


def _later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class BulkPayee:
    def __init__(self, config: SimConfig, payee: Payee, rules: RuleBook) -> None:
        self.config = config
        self.payee = payee  # sends the answers and records them, as for single quotes and transfers
        self.rules = rules
        self.quotes: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._tasks = RoleTasks("bulk payee")

    def handle(self, inc: Incoming) -> None:
        parts = inc.path.split("?", 1)[0].strip("/").split("/")
        if inc.method == "POST" and parts == ["bulkQuotes"]:
            self._tasks.spawn(self._quote(inc))
        elif inc.method == "GET" and parts[0] == "bulkQuotes" and len(parts) == 2:
            self._tasks.spawn(self._quote_again(inc, parts[1]))
        elif inc.method == "POST" and parts == ["bulkTransfers"]:
            self._tasks.spawn(self._transfer(inc))

    async def aclose(self) -> None:
        await self._tasks.aclose()

    def _rules(self, fsp: str, resource: str, bulk_id: str) -> tuple[Rule | None, dict[str, Rule]]:
        """The rule for the whole bulk, and the rules naming single items (by item id)."""
        whole = self.rules.find(fsp, resource, ids=(bulk_id,))
        per_item = {r.match_id: r for r in self.rules.list()
                    if r.resource == resource and r.fsp in (None, fsp) and r.match_id and r.match_id != bulk_id}
        return whole, per_item

    # ------------------------------------------------------------ bulk quotes
    async def _quote(self, inc: Incoming) -> None:
        body = inc.body if isinstance(inc.body, dict) else {}
        bulk_id, reply = str(body.get("bulkQuoteId", "")), reply_for(inc)
        whole, per_item = self._rules(inc.fsp, "bulkQuotes", bulk_id)
        if not await answer_after(whole):
            return
        path = f"/bulkQuotes/{bulk_id}"
        if whole is not None and whole.behaviour == "reject":
            await self.payee.send_error(reply, path, whole.reject_code)
            return
        results = []
        for quote in body.get("individualQuotes") or []:
            rule = per_item.get(str(quote.get("quoteId")))
            results.append(self._quote_result(inc.fsp, body, quote, rule))
        answer = {"individualQuoteResults": results, "expiration": _later(self.config.quote_ttl_s)}
        self.quotes[(inc.fsp, bulk_id)] = answer
        while len(self.quotes) > _MEMORY:
            self.quotes.popitem(last=False)
        await self.payee.send(reply, "PUT", path, answer)

    def _quote_result(self, fsp: str, bulk: dict[str, Any], quote: dict[str, Any], rule: Rule | None
                      ) -> dict[str, Any]:
        quote_id = str(quote.get("quoteId"))
        if rule is not None and rule.behaviour == "reject":
            return {"quoteId": quote_id, **error_body(rule.reject_code, "the payee will not receive this one")}
        request = {"quoteId": quote_id, "transactionId": quote.get("transactionId"), "payee": quote.get("payee"),
                   "payer": bulk.get("payer"), "transactionType": quote.get("transactionType"),
                   "note": quote.get("note")}
        amount = {"amount": str(quote["amount"]["amount"]), "currency": quote["amount"]["currency"]}
        response: dict[str, Any] = {"transferAmount": amount, "payeeReceiveAmount": dict(amount),
                                    "expiration": _later(self.config.quote_ttl_s)}
        try:
            ilp = build_ilp(transaction_object(request, response), fsp, self.config.secret_for(fsp))
        except (KeyError, TypeError, ValueError, FspiopError) as exc:
            return {"quoteId": quote_id, **error_body("3100", f"cannot quote: {type(exc).__name__} {exc}")}
        return {"quoteId": quote_id, "payee": quote.get("payee"), "transferAmount": amount,
                "payeeReceiveAmount": dict(amount), "ilpPacket": ilp.packet, "condition": ilp.condition}

    async def _quote_again(self, inc: Incoming, bulk_id: str) -> None:
        reply, answer = reply_for(inc), self.quotes.get((inc.fsp, bulk_id))
        if answer is None:
            await self.payee.send_error(reply, f"/bulkQuotes/{bulk_id}", "3209", f"{inc.fsp} has no {bulk_id}")
            return
        await self.payee.send(reply, "PUT", f"/bulkQuotes/{bulk_id}", answer)

    # ------------------------------------------------------------ bulk transfers
    async def _transfer(self, inc: Incoming) -> None:
        body = inc.body if isinstance(inc.body, dict) else {}
        bulk_id, reply = str(body.get("bulkTransferId", "")), reply_for(inc)
        whole, per_item = self._rules(inc.fsp, "bulkTransfers", bulk_id)
        if not await answer_after(whole):
            return
        path = f"/bulkTransfers/{bulk_id}"
        behaviour = "normal" if whole is None else whole.behaviour
        if whole is not None and behaviour == "reject":
            await self.payee.send_error(reply, path, whole.reject_code)
            return
        results = [self._result(reply, item, per_item.get(str(item.get("transferId"))), behaviour)
                   for item in body.get("individualTransfers") or []]
        completed = _later(FUTURE_S) if behaviour == "future_timestamp" else utc_now_iso()
        answer = {"bulkTransferState": "COMPLETED", "completedTimestamp": completed,
                  "individualTransferResults": results}
        await self.payee.send(reply, "PUT", path, answer)

    def _result(self, reply: Reply, item: dict[str, Any], rule: Rule | None, whole: str) -> dict[str, Any]:
        transfer_id = str(item.get("transferId"))
        behaviour = rule.behaviour if rule is not None else whole
        if rule is not None and behaviour == "reject":
            return {"transferId": transfer_id, **error_body(rule.reject_code, "the payee refused this transfer")}
        secret = self.config.secret_for(reply.fsp)
        if behaviour == "invalid_fulfilment":
            secret += ":not-the-secret"  # well-formed, but it hashes to another condition
        return {"transferId": transfer_id, "fulfilment": fulfilment_for(str(item.get("ilpPacket", "")), secret)}
