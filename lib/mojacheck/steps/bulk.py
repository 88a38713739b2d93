"""Steps of bulk payments (``24_bulk``, and the bulk round of ``40_settlement``): a bulk quote to one payee FSP, a
bulk transfer built from its results, and the checks of what payer and payee hear and how positions move.

The notebook plays the payer FSP; the simulator is the payee FSP (``sim/bulk.py``) and answers per its rules. A
bulk transfer's items are ordinary transfers on the hub, so ``GET /transfers/{ID}`` reads each one back.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mojacheck.clients.sim import Callback
from mojacheck.clients.wait import wait_until
from mojacheck.fspiop import error_message, fulfilment_matches, new_id
from mojacheck.steps.errors import answer, delivered, timestamp
from mojacheck.steps.p2p import Party, expect_accepted
from mojacheck.steps.silence import nothing_arrives

if TYPE_CHECKING:
    from mojacheck.clients.session import Session
    from mojacheck.fspiop import Exchange

__all__ = ["BulkQuote", "BulkTransfer", "answer_bulk", "check_duplicate", "check_refused", "error_of", "get_bulk",
           "hub_or_fsp", "kind_of", "nothing_arrives", "pay", "payee_answer", "payee_quote", "post", "quote",
           "quote_body", "quote_codes", "result_codes", "send", "send_quote", "transfer", "transfer_body"]

QUOTING = "quoting"
# bulk-api-adapter's base URL: behind the embedded hub's one port (and a deployment's API gateway) it is the
# ml-api-adapter's host; params have no key of its own (yet).
ADAPTER = "ml_api_adapter"
HUB_NAMES = ("hub", "switch")  # how a hub signs its own messages (HUB_PARTICIPANT.NAME; "switch" before v17)


@dataclass
class BulkQuote:
    """A ``POST /bulkQuotes`` sent and the callback the payer received."""

    request: dict[str, Any]
    callback: Callback
    payer: Party
    payee_fsp: str

    @property
    def results(self) -> list[dict[str, Any]]:
        """The individualQuoteResults ([] when the callback is an error)."""
        body = self.callback.body if isinstance(self.callback.body, dict) else {}
        return list(body.get("individualQuoteResults") or [])


@dataclass
class BulkTransfer:
    """A ``POST /bulkTransfers`` sent, its 202, and the inbox mark before it."""

    request: dict[str, Any]
    exchange: Exchange
    mark: int
    source: str  # who sent it (the payer FSP, unless a scenario says otherwise)

    @property
    def bulk_id(self) -> str:
        """Its bulkTransferId."""
        return str(self.request["bulkTransferId"])

    @property
    def transfer_ids(self) -> list[str]:
        """The items' transferIds in order."""
        return [str(i["transferId"]) for i in self.request["individualTransfers"]]

    @property
    def payer(self) -> str:
        """The payer FSP."""
        return str(self.request["payerFsp"])

    @property
    def payee(self) -> str:
        """The payee FSP."""
        return str(self.request["payeeFsp"])


def quote_body(payer: Party, payees: list[Party], amounts: list[str], currencies: list[str]) -> dict[str, Any]:
    """A ``POST /bulkQuotes`` body: one SEND quote per amount, to ``payees`` in turn (not sent yet)."""
    quotes = [{"quoteId": new_id(), "transactionId": new_id(),
               "payee": {"partyIdInfo": payees[i % len(payees)].id_info()}, "amountType": "SEND",
               "amount": {"amount": str(amount), "currency": currencies[i % len(currencies)]},
               "transactionType": {"scenario": "TRANSFER", "initiator": "PAYER", "initiatorType": "BUSINESS"}}
              for i, amount in enumerate(amounts)]
    return {"bulkQuoteId": new_id(), "payer": {"partyIdInfo": payer.id_info()}, "individualQuotes": quotes}


def quote(s: Session, payer: Party, payees: list[Party], amounts: list[str], currency: str | list[str]) -> BulkQuote:
    """``POST /bulkQuotes`` from ``payer`` to the payees' FSP (``currency``: one, or one per item in turn); returns
    it with the ``PUT /bulkQuotes`` (or error)."""
    currencies = [currency] if isinstance(currency, str) else list(currency)
    return send_quote(s, payer, quote_body(payer, payees, amounts, currencies), payees[0].fsp)


def send_quote(s: Session, payer: Party, body: dict[str, Any], payee_fsp: str) -> BulkQuote:
    """``POST /bulkQuotes`` with ``body`` as given to ``payee_fsp``; returns it with the payer's callback."""
    mark = s.sim.mark()
    ex = s.fspiop("POST", QUOTING, "/bulkQuotes", source=payer.fsp, destination=payee_fsp, body=body)
    expect_accepted(ex, "POST /bulkQuotes")
    cb = s.await_callback(payer.fsp, "bulkQuotes", body["bulkQuoteId"], after=mark)
    return BulkQuote(body, cb, payer, payee_fsp)


def payee_quote(s: Session, q: BulkQuote) -> Any:
    """The body the simulated payee sent for bulk quote ``q`` (what the payer should receive unchanged)."""
    sent = [i for i in s.sim.sent(q.payee_fsp, "bulkQuotes", q.request["bulkQuoteId"], after=0)
            if i.get("method") == "PUT"]
    return sent[-1]["body"] if sent else None


def quote_codes(q: BulkQuote) -> list[str]:
    """Each individual quote result in one word: "quoted" (it has an ILP packet) or its errorCode."""
    return [str((r.get("errorInformation") or {}).get("errorCode")) if "errorInformation" in r
            else "quoted" if r.get("ilpPacket") else "empty" for r in q.results]


def transfer_body(q: BulkQuote, *, expires_in_s: float = 60) -> dict[str, Any]:
    """A ``POST /bulkTransfers`` body for the quoted items (those without errorInformation), fresh ids."""
    items = [{"transferId": new_id(), "transferAmount": r["transferAmount"], "ilpPacket": r["ilpPacket"],
              "condition": r["condition"]} for r in q.results if "errorInformation" not in r]
    return {"bulkTransferId": new_id(), "bulkQuoteId": q.request["bulkQuoteId"], "payerFsp": q.payer.fsp,
            "payeeFsp": q.payee_fsp, "expiration": timestamp(expires_in_s), "individualTransfers": items}


def send(s: Session, method: str, path: str, *, source: str, destination: str | None, body: Any = None) -> Exchange:
    """An FSPIOP request to bulk-api-adapter (recorded); the answer is the synchronous one."""
    return s.fspiop(method, ADAPTER, path, source=source, destination=destination, body=body)


def post(s: Session, body: dict[str, Any], *, source: str | None = None, destination: str | None = None
         ) -> BulkTransfer:
    """``POST /bulkTransfers`` as the payer (or ``source``), without waiting for anything but the sync answer."""
    mark = s.sim.mark()
    sender = source or str(body["payerFsp"])
    ex = send(s, "POST", "/bulkTransfers", source=sender, destination=destination or str(body["payeeFsp"]),
              body=body)
    return BulkTransfer(body, ex, mark, sender)


def transfer(s: Session, body: dict[str, Any], *, timeout: float | None = None) -> tuple[BulkTransfer, Callback]:
    """``POST /bulkTransfers``; returns it with the payer's final callback (results, or ``…/error``)."""
    t = post(s, body)
    expect_accepted(t.exchange, "POST /bulkTransfers")
    return t, s.await_callback(t.payer, "bulkTransfers", t.bulk_id, after=t.mark, timeout=timeout)


def get_bulk(s: Session, requester: str, bulk_id: str) -> Callback:
    """``GET /bulkTransfers/{ID}`` as ``requester`` (addressed to the hub); returns the hub's answer."""
    mark = s.sim.mark()
    ex = send(s, "GET", f"/bulkTransfers/{bulk_id}", source=requester, destination="Hub")
    expect_accepted(ex, f"GET /bulkTransfers/{bulk_id}")
    return s.await_callback(requester, "bulkTransfers", bulk_id, after=mark)


def hub_or_fsp(cb: Callback, payer: str, payee: str) -> str:
    """Who a message is from, as the expectations table names it: "hub", "payer", "payee" or the source itself."""
    source = str(cb.headers.get("fspiop-source", ""))
    if source.lower() in HUB_NAMES:
        return "hub"
    return {payer: "payer", payee: "payee"}.get(source, source)


def result_codes(cb: Callback) -> list[str]:
    """Each individualTransferResult in one word: "fulfilled", or its errorCode."""
    body = cb.body if isinstance(cb.body, dict) else {}
    return ["fulfilled" if r.get("fulfilment") else str((r.get("errorInformation") or {}).get("errorCode"))
            for r in body.get("individualTransferResults") or []]


def _fulfilments_match(cb: Callback, request: dict[str, Any]) -> bool:
    conditions = {i["transferId"]: i["condition"] for i in request["individualTransfers"]}
    results = (cb.body or {}).get("individualTransferResults") or [] if isinstance(cb.body, dict) else []
    fulfilled = [r for r in results if r.get("fulfilment")]
    return bool(fulfilled) and all(fulfilment_matches(r["fulfilment"], conditions.get(r["transferId"], ""))
                                   for r in fulfilled)


def pay(s: Session, payer: Party, payees: list[Party], amounts: list[str], currency: str) -> BulkTransfer:
    """A bulk payment with all its checks: bulk quote, bulk transfer, what payer and payee hear, positions moved by
    the sum to the decimal. ``payees`` are parties of one payee FSP."""
    exp = s.expectations
    total = sum((Decimal(a) for a in amounts), Decimal(0))
    payee = payees[0].fsp
    before = (s.admin.position(payer.fsp, currency), s.admin.position(payee, currency))
    q = quote(s, payer, payees, amounts, currency)
    s.check(f"bulk quote to {payee} answered with PUT /bulkQuotes (no error)", "PUT", answer(q.callback),
            error_code=q.callback.error_code)
    s.check(f"{payee} quotes every item", [str(Decimal(a)) for a in amounts],
            [str(Decimal(r.get("transferAmount", {}).get("amount", "0"))) for r in q.results])
    t, result = transfer(s, transfer_body(q))
    prepare = s.await_callback(payee, "bulkTransfers", t.bulk_id, after=t.mark, method="POST")
    s.check(f"{payee} is asked about every item", t.transfer_ids,
            [i.get("transferId") for i in (prepare.body or {}).get("individualTransfers", [])])
    s.check("the payee's POST /bulkTransfers comes from", exp.bulk_prepare_source, hub_or_fsp(prepare, payer.fsp,
                                                                                               payee),
            expectation="bulk_prepare_source")
    s.check("the payer hears the bulk COMPLETED", "COMPLETED", answer_bulk(result), error_code=result.error_code)
    s.check("every item is fulfilled", ["fulfilled"] * len(amounts), result_codes(result))
    s.check("every fulfilment hashes to its item's condition", True, _fulfilments_match(result, t.request))
    s.check("the payer's result comes from", exp.bulk_result_source, hub_or_fsp(result, payer.fsp, payee),
            expectation="bulk_result_source")
    to_payee = s.await_callback(payee, "bulkTransfers", t.bulk_id, after=prepare.seq)
    s.check(f"{payee} hears COMPLETED from the hub", ("COMPLETED", "hub"),
            (answer_bulk(to_payee), hub_or_fsp(to_payee, payer.fsp, payee)))
    s.check(f"payer position rose by {total} {currency}", before[0] + total, s.admin.position(payer.fsp, currency))
    s.check(f"{payee} position fell by {total} {currency}", before[1] - total, s.admin.position(payee, currency))
    return t


def answer_bulk(cb: Callback) -> str:
    """What a bulk callback says in one word: its error code, else the bulkTransferState."""
    if cb.error:
        return cb.error_code or "error without errorCode"
    body = cb.body if isinstance(cb.body, dict) else {}
    return str(body.get("bulkTransferState") or cb.method)


def kind_of(cb: Callback) -> str:
    """"error" for an error callback, else the bulkTransferState it reports."""
    return "error" if cb.error else answer_bulk(cb)


def error_of(cb: Callback) -> str | None:
    """The error a bulk callback carries: its own errorCode, else its first item's; None when there is none."""
    if cb.error:
        return cb.error_code
    body = cb.body if isinstance(cb.body, dict) else {}
    for result in body.get("individualTransferResults") or []:
        if "errorInformation" in result:
            return str(result["errorInformation"].get("errorCode"))
    return None


def payee_answer(s: Session, t: BulkTransfer) -> dict[str, Any]:
    """The simulated payee's own answer to bulk ``t`` (inbox item: body, and ``status``, the hub's sync answer),
    waited for with the callback deadline (a delayed answer comes late)."""
    def sent() -> dict[str, Any] | None:
        items = [i for i in s.sim.sent(t.payee, "bulkTransfers", t.bulk_id, after=t.mark) if i.get("method") == "PUT"]
        return items[0] if items else None

    return dict(wait_until(f"{t.payee} to answer bulk {t.bulk_id}", sent, timeout=2 * s.timeout))


def check_duplicate(s: Session, t: BulkTransfer, first: Callback) -> None:
    """The identical POST again: answered 202 and, where the release does (``bulk_duplicate_resend``), with the
    first result again (state, completedTimestamp, results); nothing otherwise."""
    again = post(s, t.request)
    s.check("the identical POST is answered 202", 202, again.exchange.status)
    came = nothing_arrives(s, t.payer, "bulkTransfers", t.bulk_id, after=again.mark) > 0
    s.check("the identical POST is answered with the result again", s.expectations.bulk_duplicate_resend, came,
            expectation="bulk_duplicate_resend")
    if came:
        resent = s.await_callback(t.payer, "bulkTransfers", t.bulk_id, after=again.mark)
        keys = ("bulkTransferState", "completedTimestamp", "individualTransferResults")
        s.check("the result re-sent is the first one", [first.body.get(k) for k in keys],
                [resent.body.get(k) for k in keys], expectation="bulk_duplicate_resend")


def check_refused(s: Session, t: BulkTransfer, what: str, code: str, description: str) -> None:
    """A bulk failing the hub's validation: 202, then the payer told ``code``/``description`` where the release
    does (``bulk_validation_callback``), nothing otherwise; the payee never sees it."""
    s.check(f"{what}: POST answered 202", 202, t.exchange.status)
    tell = s.expectations.bulk_validation_callback
    if tell:
        cb = s.await_callback(t.source, "bulkTransfers", t.bulk_id,
                              after=t.mark, error=True)
        s.check(f"{what}: the payer is told {code} {error_message(code)}", code, cb.error_code, error_code=code,
                expectation="bulk_validation_callback")
        s.check(f"{what}: the description", description,
                str(((cb.body or {}).get("errorInformation") or {}).get("errorDescription")),
                expectation="bulk_validation_callback")
    else:
        came = nothing_arrives(s, t.source, "bulkTransfers", t.bulk_id,
                               after=t.mark)
        s.check(f"{what}: the payer is told {code} {error_message(code)}", False, came > 0,
                expectation="bulk_validation_callback")
    s.check(f"{what}: the payee never sees it", 0,
            delivered(s, t.payee, "bulkTransfers", t.bulk_id, after=t.mark, method="POST"))
