"""Quoting service as a relay (behaviour ref §5.2).

``SIMPLE_ROUTING_MODE`` (quoting-service's default, and helm's and the golden-path tests'): every POST and PUT is
checked (participants, endpoints) and forwarded, resends and modified resends alike. With it off (persistent mode)
a quote is remembered by id and body hash: the same id and body is forwarded again, another body is 3106 "Modified
request - Quote <id> is a duplicate but hashes dont match" to the payer (and for an answer, "Update for quote <id> is
a duplicate but hashes don't match" to the payee). quoting-service keeps no expiry: a resend after the quote's
expiration is treated as any resend. POST /quotes answers 202 once that record is committed; relays (PUT, GET)
keep no state, so there is nothing to store before their answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.routing import Route

from mojacheck.hub import ledger
from mojacheck.hub.als.parties import active
from mojacheck.hub.db import now_iso
from mojacheck.hub.headers import relayed
from mojacheck.hub.validation import FspiopRequest, fspiop
from mojacheck.hub.web import ApiError, body_hash, check_types, log
from mojacheck.server import DeliveryResult

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

QUOTES_ENDPOINT = "FSPIOP_CALLBACK_URL_QUOTES"
REQUIRED = ("quoteId", "transactionId", "payee", "payer", "amountType", "amount.amount", "amount.currency",
            "transactionType")


def _fail_back(hub: Hub, requester: str, quote_id: str, target: str,
               req: FspiopRequest) -> Callable[[DeliveryResult], None]:
    """Delivery failure → 1001 (no answer or 5xx) or 3000 (4xx) to the requester, as quoting-service does."""

    def failed(result: DeliveryResult) -> None:
        code = "3000" if result.status is not None and 400 <= result.status < 500 else "1001"
        hub.outbox.error_to(requester, "quotes", {"ID": quote_id}, code, f"Delivery to {target} failed",
                            trigger=req.headers)

    return failed


def _payee_problem(hub: Hub, payee: str, currency: str) -> str | None:
    if not active(hub, payee):
        return f"Destination FSP {payee!r} not found or inactive"
    pos = ledger.account_by_name(hub.db, payee, ledger.POSITION, currency)
    if pos is None or not pos["is_active"]:
        return f"Destination FSP {payee} has no active {currency} POSITION account"
    if hub.outbox.endpoint(payee, QUOTES_ENDPOINT) is None:
        return f"No {QUOTES_ENDPOINT} found for quote {{id}} PAYEE party {payee}"
    return None


def _is_duplicate_conflict(hub: Hub, quote_id: str, payer: str, payee: str, digest: str) -> bool:
    """Record the quote (persistent mode only); True when the id is known with another body (3106)."""
    if hub.config.quotes_simple_routing:
        return False
    with hub.db.tx():
        row = hub.db.one("SELECT body_hash FROM quote WHERE id = ?", (quote_id,))
        if row is not None:
            return bool(row["body_hash"] != digest)
        hub.db.execute("INSERT INTO quote (id, payer, payee, body_hash, created) VALUES (?, ?, ?, ?, ?)",
                       (quote_id, payer, payee, digest, now_iso()))
    return False


# FSPIOP 2.0 defines these for FX quotes, but quoting-service's QuotesPostRequest is closed and lacks them (fx.md §6).
NOT_ACCEPTED = ("converter", "currencyConversion")


def route_quote(hub: Hub, req: FspiopRequest) -> None:
    """Check the payer and payee, record the quote (duplicate detection), forward it; errors go back as callbacks."""
    quote_id, payer = str(req.body["quoteId"]), req.source
    payee = req.destination or str(((req.body.get("payee") or {}).get("partyIdInfo") or {}).get("fspId") or "")
    if ledger.participant(hub.db, payer) is None:
        log.warning("POST /quotes from unknown FSP %r dropped (3202)", payer)
        return
    if not active(hub, payer):
        # quoting-service: an inactive payer is "Unsupported participant", Payer FSP ID not found.
        hub.outbox.error_to(payer, "quotes", {"ID": quote_id}, "3202", f"Payer FSP {payer!r} is inactive",
                            trigger=req.headers)
        return
    problem = _payee_problem(hub, payee, str(req.body["amount"]["currency"]))
    if problem is not None:
        hub.outbox.error_to(payer, "quotes", {"ID": quote_id}, "3201", problem.replace("{id}", quote_id),
                            trigger=req.headers)
        return
    if _is_duplicate_conflict(hub, quote_id, payer, payee, body_hash(req.body)):
        hub.outbox.error_to(payer, "quotes", {"ID": quote_id}, "3106",
                            f"Quote {quote_id} is a duplicate but hashes dont match", trigger=req.headers)
        return
    url = hub.outbox.url(payee, QUOTES_ENDPOINT, {}, "/quotes")
    assert url is not None
    headers = relayed(req.headers, "POST", destination=payee)
    hub.outbox.relay("POST", url, headers, req.raw, on_failure=_fail_back(hub, payer, quote_id, payee, req))


async def post_quote(hub: Hub, req: FspiopRequest) -> Response:
    if extra := [name for name in NOT_ACCEPTED if name in req.body]:
        raise ApiError("3103", f"/body must NOT have additional properties: {', '.join(extra)}")
    check_types(req.body, {"payee": dict, "payer": dict, "payee.partyIdInfo": dict, "amount.currency": str})
    route_quote(hub, req)  # the quote is recorded before the 202; only the forward is in the background
    return Response(status_code=202)


def _relay(hub: Hub, req: FspiopRequest, method: str, suffix: str) -> None:
    quote_id, dest = req.params["ID"], req.destination
    url = hub.outbox.url(dest, QUOTES_ENDPOINT, {}, f"/quotes/{quote_id}{suffix}") if active(hub, dest) else None
    if url is None:
        # quoting-service looks the endpoint up and words the miss by what it was forwarding.
        what = f"quote GET {quote_id}" if method == "GET" else f"quote {quote_id} PAYER party"
        hub.outbox.error_to(req.source, "quotes", {"ID": quote_id}, "3201", f"No {QUOTES_ENDPOINT} found for {what}",
                            trigger=req.headers)
        return
    body = None if method == "GET" else req.raw
    on_failure = _fail_back(hub, req.source, quote_id, dest, req) if method == "GET" else None
    hub.outbox.relay(method, url, relayed(req.headers, method), body, on_failure=on_failure)


async def put_quote(hub: Hub, req: FspiopRequest) -> Response:
    async def work() -> None:
        if "accept" in req.headers:
            # quoting-service refuses it after the 200, with an error callback to the sender.
            quote_id = req.params["ID"]
            hub.outbox.error_to(req.source, "quotes", {"ID": quote_id}, "3100",
                                f'Update for quote {quote_id} failed: "accept" header should not be sent in callbacks.',
                                trigger=req.headers)
            return
        _relay(hub, req, "PUT", "")

    hub.outbox.spawn(work(), "PUT /quotes")
    return Response(status_code=200)


async def put_quote_error(hub: Hub, req: FspiopRequest) -> Response:
    _relay(hub, req, "PUT", "/error")
    return Response(status_code=200)


async def get_quote(hub: Hub, req: FspiopRequest) -> Response:
    _relay(hub, req, "GET", "")
    return Response(status_code=202)


routes = [
    Route("/quotes", fspiop(post_quote, required=REQUIRED), methods=["POST"]),
    Route("/quotes/{ID}", fspiop(get_quote), methods=["GET"]),
    Route("/quotes/{ID}", fspiop(put_quote, required=("transferAmount", "expiration", "ilpPacket", "condition")),
          methods=["PUT"]),
    Route("/quotes/{ID}/error", fspiop(put_quote_error, required=("errorInformation",)), methods=["PUT"]),
]
