"""quoting-service for ``/fxQuotes``: the payer DFSP's conversion quote relayed to the FXP and the FXP's answer
relayed back (fx.md §3).

The hub checks only that the FXP named in FSPIOP-Destination can convert: an active participant with active
POSITION accounts in both currencies (else 3100 "Unsupported participant"). Bodies travel byte for byte; duplicates
are told apart by body hash (same id and body: forwarded again; another body: 3106), as the hub's ``/quotes`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from starlette.responses import Response

from mojacheck.hub import ledger
from mojacheck.hub.als.parties import active
from mojacheck.hub.db import now_iso
from mojacheck.hub.fx import syntax
from mojacheck.hub.fx.store import QUOTES_ENDPOINT
from mojacheck.hub.headers import relayed
from mojacheck.hub.validation import FspiopRequest
from mojacheck.hub.web import body_hash, log
from mojacheck.server import DeliveryResult

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

RESOURCE = "fxQuotes"


def _error(hub: Hub, fsp: str, quote_id: str, code: str, detail: str | None = None,
           trigger: Mapping[str, str] | None = None) -> None:
    hub.outbox.error_to(fsp, RESOURCE, {"ID": quote_id}, code, detail, trigger=trigger)


def _fail_back(hub: Hub, requester: str, quote_id: str, target: str,
               trigger: Mapping[str, str]) -> Callable[[DeliveryResult], None]:
    """Delivery failure: 1001 (no answer or 5xx) or 3000 (4xx) to the requester, as quoting-service's http lib."""

    def failed(result: DeliveryResult) -> None:
        code = "3000" if result.status is not None and 400 <= result.status < 500 else "1001"
        _error(hub, requester, quote_id, code, f"Delivery to {target} failed", trigger)

    return failed


def can_convert(hub: Hub, fxp: str, currencies: tuple[str, ...]) -> bool:
    """Active participant with an active POSITION account in each currency (quoting-service's FXP check)."""
    if not active(hub, fxp):
        return False
    for currency in currencies:
        pos = ledger.account_by_name(hub.db, fxp, ledger.POSITION, currency)
        if pos is None or not pos["is_active"]:
            return False
    return True


def _modified(hub: Hub, quote_id: str, requester: str, fxp: str, digest: str) -> bool:
    """Record the fxQuote; True when its id is known with another body (3106)."""
    with hub.db.tx():
        row = hub.db.one("SELECT body_hash FROM fx_quote WHERE id = ?", (quote_id,))
        if row is not None:
            return bool(row["body_hash"] != digest)
        hub.db.execute("INSERT INTO fx_quote (id, requester, fxp, body_hash, created) VALUES (?, ?, ?, ?, ?)",
                       (quote_id, requester, fxp, digest, now_iso()))
    return False


def forward_quote(hub: Hub, req: FspiopRequest) -> None:
    quote_id, requester, fxp = str(req.body["conversionRequestId"]), req.source, req.destination
    terms = req.body["conversionTerms"]
    if ledger.participant(hub.db, requester) is None:
        log.warning("POST /fxQuotes from unknown FSP %r dropped (no endpoint to answer)", requester)
        return
    if not active(hub, requester):
        _error(hub, requester, quote_id, "3202", f"Payer FSP {requester!r} is inactive", req.headers)
        return
    pair = (str(terms["sourceAmount"]["currency"]), str(terms["targetAmount"]["currency"]))
    if not can_convert(hub, fxp, pair):
        _error(hub, requester, quote_id, "3100", f"Unsupported participant '{fxp or 'undefined'}'", req.headers)
        return
    if _modified(hub, quote_id, requester, fxp, body_hash(req.body)):
        _error(hub, requester, quote_id, "3106", f"Quote {quote_id} is a duplicate but hashes dont match", req.headers)
        return
    url = hub.outbox.url(fxp, QUOTES_ENDPOINT, {}, "/fxQuotes")
    if url is None:
        _error(hub, requester, quote_id, "3201",
               f"No {QUOTES_ENDPOINT} endpoint found for FSP '{fxp}' while processing fxquote {quote_id}", req.headers)
        return
    headers = relayed(req.headers, "POST", destination=fxp)  # quoting-service keeps the sender's FSPIOP-URI
    hub.outbox.relay("POST", url, headers, req.raw, on_failure=_fail_back(hub, requester, quote_id, fxp, req.headers))


async def post_fx_quote(hub: Hub, req: FspiopRequest) -> Response:
    syntax.fx_quote_request(req)
    forward_quote(hub, req)  # the quote record (duplicate detection) is committed before the 202
    return Response(status_code=202)


def _relay(hub: Hub, req: FspiopRequest, method: str, suffix: str) -> None:
    """To FSPIOP-Destination's FX_QUOTES base + /fxQuotes/{ID}[/error]; 3201 back to the sender when impossible."""
    quote_id, dest = req.params["ID"], req.destination
    if not active(hub, dest):
        _error(hub, req.source, quote_id, "3201", f"Destination FSP {dest!r} not found", req.headers)
        return
    url = hub.outbox.url(dest, QUOTES_ENDPOINT, {}, f"/fxQuotes/{quote_id}{suffix}")
    if url is None:
        _error(hub, req.source, quote_id, "3201",
               f"No {QUOTES_ENDPOINT} endpoint found for FSP '{dest}' while processing fxQuote {quote_id}", req.headers)
        return
    body = None if method == "GET" else req.raw
    on_failure = _fail_back(hub, req.source, quote_id, dest, req.headers) if method == "GET" else None
    hub.outbox.relay(method, url, relayed(req.headers, method), body, on_failure=on_failure)


async def put_fx_quote(hub: Hub, req: FspiopRequest) -> Response:
    syntax.fx_quote_answer(req)

    async def work() -> None:
        if "accept" in req.headers:
            # quoting-service refuses it after the 200, with an error callback to the FXP (fx.md §3.4).
            _error(hub, req.source, req.params["ID"], "3100", f"Update for fx quote {req.params['ID']} failed: "
                   '"accept" header should not be sent in callbacks.', req.headers)
            return
        _relay(hub, req, "PUT", "")

    hub.outbox.spawn(work(), "PUT /fxQuotes")
    return Response(status_code=200)


async def put_fx_quote_error(hub: Hub, req: FspiopRequest) -> Response:
    _relay(hub, req, "PUT", "/error")
    return Response(status_code=200)


async def get_fx_quote(hub: Hub, req: FspiopRequest) -> Response:
    _relay(hub, req, "GET", "")
    return Response(status_code=202)
