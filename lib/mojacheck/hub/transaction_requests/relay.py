"""transaction-requests-service: ``/transactionRequests`` and ``/authorizations`` relayed, nothing stored.

The service keeps no state (no database, no expiry, no duplicate check): every request is validated (headers with
its own accepted versions, 1.0/1.1 in every release; bodies and the authorization query against its own OpenAPI
document, ``bodies.py``), answered at once (POST/GET 202, PUT 200) and forwarded to the participant named in
``FSPIOP-Destination`` at its ``FSPIOP_CALLBACK_URL_TRX_REQ_SERVICE`` / ``FSPIOP_CALLBACK_URL_AUTHORIZATIONS``
base URL plus the same path (a GET keeps its query, rebuilt from the validated values). Headers travel as sent
minus the hop's own, ``Accept`` dropped from a PUT, ``FSPIOP-HTTP-Method`` set to the forwarded method.

A forward that fails goes back to the sender as an error callback (transaction-requests-service
src/domain/transactionRequests and src/domain/authorizations, central-services-shared src/util/endpoints.js and
request.js):
destination without endpoint → 2001 "Invalid template!" before central-services-shared 18.28 (helm 13, 14),
1001 "no … endpoint for DFSP x" / "no endpoints found for fsp" since (helm 17.1); no 2xx or no answer → 1001
"Failed to send HTTP request to host" (with the HTTP status as extension). Quirk kept: the transactionRequests error
keeps the request's own headers (``FSPIOP-Source`` is still the sender), the authorizations error comes from the
hub in version 1.0 (central-services-shared's default for that resource). An error callback that cannot be
delivered is only logged.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mojacheck.fspiop import LIBRARY_DEFAULT_VERSIONS, error_body
from mojacheck.hub import ledger
from mojacheck.hub.bodycheck import Schema, check_body, check_query
from mojacheck.hub.headers import URI, HubVoice, hub_made, relayed
from mojacheck.hub.releases import Release
from mojacheck.hub.transaction_requests import bodies
from mojacheck.hub.validation import FspiopRequest, fspiop, read_fspiop
from mojacheck.hub.web import guarded, log
from mojacheck.server import DeliveryResult, dumps

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

TEMPLATE_ERROR = ('Invalid template! Template should be a "string" but "undefined" was given as the first argument '
                  'for mustache#render(template, view, partials)')
SEND_FAILED = "Failed to send HTTP request to host"


@dataclass(frozen=True)
class Family:
    """One of the service's two resources: its path, where it is delivered, and how its errors are made."""

    resource: str
    endpoint: str
    hub_sourced_errors: bool  # authorizations: the hub signs its errors; transactionRequests: the sender's headers


TRANSACTION_REQUESTS = Family("transactionRequests", "FSPIOP_CALLBACK_URL_TRX_REQ_SERVICE", False)
AUTHORIZATIONS = Family("authorizations", "FSPIOP_CALLBACK_URL_AUTHORIZATIONS", True)


def trs_versions(release: Release) -> tuple[str, ...]:
    return release.trs_versions


def _no_endpoint(hub: Hub, family: Family, fsp: str) -> tuple[str, str]:
    """What central-services-shared reports when ``fsp`` has no ``family.endpoint`` (code, detail)."""
    if hub.release.trs_missing_endpoint_code == "2001":
        return "2001", TEMPLATE_ERROR
    if not fsp or ledger.participant(hub.db, fsp) is None:
        return "1001", "no endpoints found for fsp"
    return "1001", f"no {family.endpoint} endpoint for DFSP {fsp}"


def _error_callback(hub: Hub, family: Family, req: FspiopRequest, ident: str, code: str, detail: str,
                    extension: list[dict[str, str]] | None) -> None:
    """``PUT /{resource}/{ID}/error`` to the request's sender; only logged when it has no endpoint."""
    sender = req.source
    base = hub.outbox.endpoint(sender, family.endpoint)
    if base is None:
        log.warning("no %s endpoint for %s: %s error %s not delivered", family.endpoint, sender, family.resource, code)
        return
    url = f"{base.rstrip('/')}/{family.resource}/{ident}/error"
    body = error_body(code, detail, extension)
    if family.hub_sourced_errors:
        # The sender's headers re-sourced to the hub (its FSPIOP-URI kept, the method corrected to PUT), the
        # resource's library version; the service has no JWS signer, so nothing is signed.
        voice = hub.outbox.voice
        # central-services-shared's default for the resource (DEFAULT_API_VERSIONS): the service passes no
        # protocol versions of its own, so only RESOURCE_VERSIONS changes it.
        version = voice.resource_versions.get(family.resource) or LIBRARY_DEFAULT_VERSIONS[family.resource]
        trs_voice = HubVoice(voice.name, version, voice.resource_versions)
        sent_uri = next((v for k, v in req.headers.items() if k.lower() == URI.lower()), None)
        headers = hub_made(trs_voice, family.resource, sender, method="PUT", uri=sent_uri, trigger=req.headers)
        hub.outbox.send_made("PUT", url, headers, body, sign=False)
    else:
        hub.outbox.send("PUT", url, relayed(req.headers, "PUT"), dumps(body))


def forward(hub: Hub, family: Family, req: FspiopRequest, ident: str, *, query: dict[str, Any] | None = None,
            is_error: bool = False) -> None:
    """Deliver ``req`` to its FSPIOP-Destination; a failure becomes an error callback to the sender (or a log line
    when ``req`` is itself an error callback)."""
    dest = req.destination

    def fail(code: str, detail: str, extension: list[dict[str, str]] | None = None) -> None:
        if is_error:
            log.warning("%s error callback %s not delivered to %r: %s %s", family.resource, ident, dest, code, detail)
            return
        _error_callback(hub, family, req, ident, code, detail, extension)

    base = hub.outbox.endpoint(dest, family.endpoint) if dest else None
    if base is None:
        fail(*_no_endpoint(hub, family, dest))
        return
    suffix = "/error" if is_error else ""
    path = f"/{family.resource}" if req.method == "POST" else f"/{family.resource}/{ident}{suffix}"
    if query is not None:
        path += "?" + urllib.parse.urlencode(query)

    def failed(result: DeliveryResult) -> None:
        extension = [{"key": "status", "value": str(result.status)}] if result.status is not None else None
        fail("1001", SEND_FAILED, extension)

    headers = relayed(req.headers, req.method)  # the sender's URI kept, an FSPIOP-HTTP-Method it sent corrected
    body = req.raw if req.method in ("POST", "PUT") else None
    hub.outbox.send(req.method, base.rstrip("/") + path, headers, body, on_failure=failed)


def _route(family: Family, schema: Schema | None, status: int, *, is_error: bool = False) -> Callable[..., Any]:
    async def handler(hub: Hub, req: FspiopRequest) -> Response:
        if schema is not None:
            check_body(schema, req.body)
        ident = req.params.get("ID") or str(req.body.get("transactionRequestId", ""))
        hub.outbox.spawn(_later(hub, family, req, ident, is_error), f"{req.method} /{family.resource}")
        return Response(status_code=status)

    handler.__name__ = f"{family.resource}_{status}{'_error' if is_error else ''}"
    return fspiop(handler, versions=trs_versions)


async def _later(hub: Hub, family: Family, req: FspiopRequest, ident: str, is_error: bool) -> None:
    forward(hub, family, req, ident, is_error=is_error)


async def get_authorization(hub: Hub, req: FspiopRequest, query: dict[str, str]) -> Response:
    values = check_query(bodies.GET_AUTHORIZATION_QUERY, query)
    ident = req.params["ID"]

    async def later() -> None:
        forward(hub, AUTHORIZATIONS, req, ident, query=values)

    hub.outbox.spawn(later(), "GET /authorizations")
    return Response(status_code=202)


def _get_authorization_route() -> Callable[..., Any]:
    async def endpoint(request: Request) -> Response:
        hub: Hub = request.app.state.hub
        req = await read_fspiop(request, hub, with_body=False, versions=trs_versions)
        return await get_authorization(hub, req, dict(request.query_params))

    endpoint.__name__ = "get_authorization"
    return guarded(endpoint)


routes = [
    Route("/transactionRequests", _route(TRANSACTION_REQUESTS, bodies.POST_TRANSACTION_REQUEST, 202),
          methods=["POST"]),
    Route("/transactionRequests/{ID}", _route(TRANSACTION_REQUESTS, None, 202), methods=["GET"]),
    Route("/transactionRequests/{ID}", _route(TRANSACTION_REQUESTS, bodies.PUT_TRANSACTION_REQUEST, 200),
          methods=["PUT"]),
    Route("/transactionRequests/{ID}/error", _route(TRANSACTION_REQUESTS, bodies.ERROR, 200, is_error=True),
          methods=["PUT"]),
    Route("/authorizations/{ID}", _get_authorization_route(), methods=["GET"]),
    Route("/authorizations/{ID}", _route(AUTHORIZATIONS, bodies.PUT_AUTHORIZATION, 200), methods=["PUT"]),
    Route("/authorizations/{ID}/error", _route(AUTHORIZATIONS, bodies.ERROR, 200, is_error=True), methods=["PUT"]),
]
