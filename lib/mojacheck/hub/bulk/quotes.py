"""quoting-service for ``/bulkQuotes``: a relay that stores nothing (quoting-service src/model/bulkQuotes.js).

``POST`` checks payer (``FSPIOP-Source``) and payee (``FSPIOP-Destination``): active, with an active POSITION account
in the currency of the *first* individual quote (the others are not checked) — 3202 / 3201 "Unsupported participant"
otherwise — and forwards the body unchanged to the payee's ``FSPIOP_CALLBACK_URL_BULK_QUOTES`` + ``/bulkQuotes``.
The payee's ``PUT`` (per-quote errors travel inside ``individualQuoteResults``) and ``PUT …/error`` go back to the
payer, a ``GET`` to the destination. No duplicate check in any mode: a resent POST is forwarded again. A PUT that
carries ``Accept`` is refused asynchronously (3100). Delivery failures: 404 → 3000, anything else → 1001.

Quirk kept: errors the service makes itself name the resource ``quotes`` in their Content-Type (its error headers
are built without a resource), while their FSPIOP-URI is ``/bulkQuotes/{ID}/error``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.routing import Route

from mojacheck.fspiop import error_body
from mojacheck.hub import ledger
from mojacheck.hub.als.parties import active
from mojacheck.hub.bodycheck import check_body
from mojacheck.hub.bulk import bodies
from mojacheck.hub.headers import hub_made
from mojacheck.hub.validation import FspiopRequest, fspiop
from mojacheck.hub.web import log
from mojacheck.server import DeliveryResult

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

ENDPOINT = "FSPIOP_CALLBACK_URL_BULK_QUOTES"
# quoting-service forwards only these headers (lib/util.js), Accept not on a PUT.
_KEPT = ("accept", "content-type", "date", "fspiop-source", "fspiop-destination", "fspiop-http-method",
         "fspiop-signature", "fspiop-uri", "traceparent", "tracestate")


def _forwarded(headers: Mapping[str, str], method: str) -> dict[str, str]:
    kept = {k: v for k, v in headers.items() if k.lower() in _KEPT}
    if method == "PUT":
        kept = {k: v for k, v in kept.items() if k.lower() != "accept"}
    return kept


def error_to(hub: Hub, fsp: str, bulk_quote_id: str, code: str, detail: str | None,
             trigger: Mapping[str, str]) -> None:
    """``PUT /bulkQuotes/{ID}/error`` from the hub (Content-Type names ``quotes``, as quoting-service's does)."""
    base = hub.outbox.endpoint(fsp, ENDPOINT) if fsp else None
    if base is None:
        log.warning("no %s endpoint for %r: bulk quote error %s %s not delivered", ENDPOINT, fsp, code, detail)
        return
    uri = f"/bulkQuotes/{bulk_quote_id}/error"
    headers = hub_made(hub.outbox.voice, "quotes", fsp, method="PUT", uri=uri, trigger=trigger)
    hub.outbox.send_made("PUT", base.rstrip("/") + uri, headers, error_body(code, detail))


def _fail_back(hub: Hub, req: FspiopRequest, ident: str) -> Callable[[DeliveryResult], None]:
    def failed(result: DeliveryResult) -> None:
        if result.status == 404:
            error_to(hub, req.source, ident, "3000", "Not found", req.headers)
        else:
            error_to(hub, req.source, ident, "1001", "Network error", req.headers)

    return failed


def _supports(hub: Hub, fsp: str, currency: str) -> bool:
    if not active(hub, fsp):
        return False
    account = ledger.account_by_name(hub.db, fsp, ledger.POSITION, currency)
    return account is not None and bool(account["is_active"])


def _forward(hub: Hub, req: FspiopRequest, ident: str, party: str) -> None:
    """Deliver ``req`` to its destination; no endpoint → 3201 to the sender (naming whose endpoint is missing)."""
    dest = req.destination
    base = hub.outbox.endpoint(dest, ENDPOINT) if dest else None
    if base is None:
        error_to(hub, req.source, ident, "3201", f"No {ENDPOINT} found for quote {ident} {party} party", req.headers)
        return
    is_error = req.path.endswith("/error")
    path = "/bulkQuotes" if req.method == "POST" else f"/bulkQuotes/{ident}{'/error' if is_error else ''}"
    on_failure = None if is_error else _fail_back(hub, req, ident)
    body = req.raw if req.method in ("POST", "PUT") else None
    hub.outbox.send(req.method, base.rstrip("/") + path, _forwarded(req.headers, req.method), body,
                    on_failure=on_failure)


def prepare(hub: Hub, req: FspiopRequest) -> None:
    ident = str(req.body["bulkQuoteId"])
    currency = str(req.body["individualQuotes"][0]["amount"]["currency"])
    if not _supports(hub, req.source, currency):
        error_to(hub, req.source, ident, "3202", f"Unsupported participant '{req.source}'", req.headers)
        return
    if not _supports(hub, req.destination, currency):
        error_to(hub, req.source, ident, "3201", f"Unsupported participant '{req.destination}'", req.headers)
        return
    _forward(hub, req, ident, "PAYEE")


async def post_bulk_quote(hub: Hub, req: FspiopRequest) -> Response:
    check_body(bodies.POST_BULK_QUOTE, req.body)

    async def work() -> None:
        prepare(hub, req)

    hub.outbox.spawn(work(), "POST /bulkQuotes")
    return Response(status_code=202)


async def put_bulk_quote(hub: Hub, req: FspiopRequest) -> Response:
    is_error = req.path.endswith("/error")
    check_body(bodies.QUOTE_ERROR if is_error else bodies.PUT_BULK_QUOTE, req.body)
    ident = req.params["ID"]

    async def work() -> None:
        if "accept" in req.headers and not is_error:
            error_to(hub, req.source, ident, "3100",
                     f'Update for bulk quote {ident} failed: "accept" header should not be sent in callbacks.',
                     req.headers)
            return
        _forward(hub, req, ident, "PAYER")

    hub.outbox.spawn(work(), "PUT /bulkQuotes")
    return Response(status_code=200)


async def get_bulk_quote(hub: Hub, req: FspiopRequest) -> Response:
    ident = req.params["ID"]

    async def work() -> None:
        _forward(hub, req, ident, "PAYEE")

    hub.outbox.spawn(work(), "GET /bulkQuotes")
    return Response(status_code=202)


routes = [
    Route("/bulkQuotes", fspiop(post_bulk_quote), methods=["POST"]),
    Route("/bulkQuotes/{ID}", fspiop(get_bulk_quote), methods=["GET"]),
    Route("/bulkQuotes/{ID}", fspiop(put_bulk_quote), methods=["PUT"]),
    Route("/bulkQuotes/{ID}/error", fspiop(put_bulk_quote), methods=["PUT"]),
]
