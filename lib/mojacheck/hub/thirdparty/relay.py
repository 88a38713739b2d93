"""thirdparty-api-svc: the 3PPI relay (behaviour ref §13).

Every 3PPI message goes to the participant in ``FSPIOP-Destination`` at the ``TP_CB_URL_*`` base URL it
registered, with the request path appended, headers and body unchanged. What cannot be delivered (unknown or
inactive destination, no endpoint: 3201; no answer or 5xx: 1001; 4xx: 3000) goes back to the sender as
``PUT …/{ID}/error`` at its own ``…_PUT_ERROR`` endpoint, from ``Hub``. Sync answers follow the deployed
service: 202 for POST/GET/DELETE and for ``PUT /consentRequests/{ID}``, ``PATCH /consentRequests/{ID}`` and
``PUT /consents/{ID}``; 200 for the other PUT/PATCH callbacks.

Besides relaying: ``GET /services/{ServiceType}`` is answered by the hub's participant list (participants that
registered the endpoint marking the role, see ``ROLE_MARKERS``); ``DELETE /consents/{ID}`` goes to the
consent's authoritative source found in ALS (``CONSENT`` party type), the hub's auth-service, else to the
destination DFSP. GETs the deployed service never implemented answer 501/2002.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.routing import Route

from mojacheck.fspiop import callback_headers, error_body
from mojacheck.hub.als.parties import active
from mojacheck.hub.callbacks import relay_headers
from mojacheck.hub.db import HUB_NAME
from mojacheck.hub.thirdparty.validation import SERVICE_TYPES, tp_route
from mojacheck.hub.validation import FspiopRequest
from mojacheck.hub.web import ApiError, error_response, log
from mojacheck.server import DeliveryResult

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

TP_VERSION = "1.0"
TP = "TP_CB_URL_"
# Which endpoint type marks a participant as offering a service (the hub's participant list service).
ROLE_MARKERS = {
    "THIRD_PARTY_DFSP": f"{TP}CONSENT_REQUEST_POST",
    "PISP": f"{TP}TRANSACTION_REQUEST_AUTH_POST",
    "AUTH_SERVICE": f"{TP}TRANSACTION_REQUEST_VERIFY_POST",
}


@dataclass(frozen=True)
class Family:
    """One 3PPI resource: its path, the body field holding a new item's id, where its errors go."""

    path: str
    id_field: str
    error_endpoint: str
    resource: str


SERVICES = Family("/services", "", f"{TP}SERVICES_PUT_ERROR", "services")
ACCOUNTS = Family("/accounts", "", f"{TP}ACCOUNTS_PUT_ERROR", "accounts")
CONSENT_REQUESTS = Family("/consentRequests", "consentRequestId", f"{TP}CONSENT_REQUEST_PUT_ERROR", "consentRequests")
CONSENTS = Family("/consents", "consentId", f"{TP}CONSENT_PUT_ERROR", "consents")
TRANSACTIONS = Family("/thirdpartyRequests/transactions", "transactionRequestId",
                      f"{TP}TRANSACTION_REQUEST_PUT_ERROR", "thirdpartyRequests")
AUTHORIZATIONS = Family("/thirdpartyRequests/authorizations", "authorizationRequestId",
                        f"{TP}TRANSACTION_REQUEST_AUTH_PUT_ERROR", "thirdpartyRequests")
VERIFICATIONS = Family("/thirdpartyRequests/verifications", "verificationRequestId",
                       f"{TP}TRANSACTION_REQUEST_VERIFY_PUT_ERROR", "thirdpartyRequests")


def tp_headers(resource: str, source: str, destination: str) -> dict[str, str]:
    """Headers of a message the hub (or its auth-service) originates: Thirdparty API 1.0, no Accept."""
    return dict(callback_headers(resource, source, destination, version=TP_VERSION))


def item_id(family: Family, req: FspiopRequest) -> str:
    return req.params.get("ID") or req.params.get("ServiceType") or str((req.body or {}).get(family.id_field, ""))


def error_back(hub: Hub, family: Family, fsp: str, ident: str, code: str, detail: str | None) -> bool:
    """``PUT {family}/{ident}/error`` from the Hub to ``fsp``; False when it has no such endpoint."""
    base = hub.outbox.endpoint(fsp, family.error_endpoint) if fsp else None
    if base is None:
        log.warning("no %s endpoint for %r: 3PPI error %s %s not delivered", family.error_endpoint, fsp, code, detail)
        return False
    url = f"{base.rstrip('/')}{family.path}/{ident}/error"
    data = json.dumps(error_body(code, detail)).encode()
    hub.outbox.send("PUT", url, tp_headers(family.resource, HUB_NAME, fsp), data)
    return True


def deliver(hub: Hub, *, method: str, family: Family, endpoint_type: str, path: str, source: str,
            destination: str, body: dict[str, Any] | None, ident: str) -> bool:
    """A 3PPI message a hub service originates (the auth-service's answers), as the relay would deliver it."""
    base = hub.outbox.endpoint(destination, endpoint_type) if active(hub, destination) else None
    if base is None:
        log.warning("no %s endpoint for %r: %s %s not delivered", endpoint_type, destination, method, path)
        return False
    data = None if body is None else json.dumps(body).encode()
    # A failed delivery is logged (URL, status or error, source->destination) by the hub's delivery itself.
    hub.outbox.send(method, base.rstrip("/") + path, tp_headers(family.resource, source, destination), data)
    return True


def relay(hub: Hub, req: FspiopRequest, family: Family, endpoint_type: str, *, destination: str | None = None,
          is_error: bool = False) -> None:
    """Forward ``req`` unchanged to the destination's ``endpoint_type`` base URL + the request path."""
    dest = destination or req.destination
    ident = item_id(family, req)
    # An error callback that cannot be delivered is only logged: answering an error with an error loops.
    fail = (lambda code, detail: log.warning("3PPI error callback not relayed: %s %s", code, detail)) if is_error \
        else (lambda code, detail: error_back(hub, family, req.source, ident, code, detail))
    if not dest or not active(hub, dest):
        fail("3201", f"Destination FSP {dest!r} not found or inactive")
        return
    base = hub.outbox.endpoint(dest, endpoint_type)
    if base is None:
        fail("3201", f"No {endpoint_type} endpoint found for {dest}")
        return

    def failed(result: DeliveryResult) -> None:
        code = "3000" if result.status is not None and 400 <= result.status < 500 else "1001"
        fail(code, f"Delivery of {req.method} {req.path} to {dest} failed")

    overrides = {"FSPIOP-Destination": dest} if destination else {}
    headers = relay_headers(req.headers, req.method, **overrides)
    url = base.rstrip("/") + req.path
    if hub.config.bearer_token and urllib.parse.urlsplit(url).netloc == req.headers.get("host"):
        # A service of this hub (its auth-service) sits behind the same gateway: pass it, as the cluster would.
        headers["Authorization"] = f"Bearer {hub.config.bearer_token}"
    body = req.raw if req.method in ("POST", "PUT", "PATCH") else None
    hub.outbox.send(req.method, url, headers, body, on_failure=failed)


def relay_route(family: Family, kind: str, *, status: int, rules: str = "", required: tuple[str, ...] = (),
                is_error: bool = False) -> Any:
    """A route handler relaying to the destination's ``TP_CB_URL_{kind}`` endpoint."""

    async def handler(hub: Hub, req: FspiopRequest) -> Response:
        relay(hub, req, family, f"{TP}{kind}", is_error=is_error)
        return Response(status_code=status)

    handler.__name__ = f"relay_{kind.lower()}"
    return tp_route(handler, rules, required)


def error_route(family: Family, kind: str) -> Any:
    return relay_route(family, kind, status=200, rules="error", required=("errorInformation",), is_error=True)


# ---------------------------------------------------------------- the participant list service


def providers(hub: Hub, service_type: str) -> list[str]:
    rows = hub.db.all(
        "SELECT p.name FROM participant p JOIN endpoint e ON e.participant_id = p.id "
        "WHERE e.type = ? AND p.is_active = 1 AND p.name != ? ORDER BY p.name",
        (ROLE_MARKERS[service_type], HUB_NAME),
    )
    return [str(r["name"]) for r in rows]


async def get_services(hub: Hub, req: FspiopRequest) -> Response:
    service_type = req.params["ServiceType"]
    if service_type not in SERVICE_TYPES:
        raise ApiError("3101", f"/params/ServiceType must be one of {', '.join(SERVICE_TYPES)}")

    async def work() -> None:
        found = providers(hub, service_type)
        if not found:
            error_back(hub, SERVICES, req.source, service_type, "7201", f"No {service_type} registered")
            return
        base = hub.outbox.endpoint(req.source, f"{TP}SERVICES_PUT")
        if base is None:
            log.warning("no TP_CB_URL_SERVICES_PUT endpoint for %r", req.source)
            return
        data = json.dumps({"providers": found}).encode()
        hub.outbox.send("PUT", f"{base.rstrip('/')}/services/{service_type}",
                        tp_headers("services", HUB_NAME, req.source), data)

    hub.outbox.spawn(work(), "GET /services")
    return Response(status_code=202)


# ---------------------------------------------------------------- unlinking


def consent_owner(hub: Hub, consent_id: str) -> str | None:
    """The participant ALS names as the consent's authoritative source (``CONSENT`` party type)."""
    row = hub.db.one("SELECT fsp_id FROM party WHERE id_type = 'CONSENT' AND identifier = ? AND sub_id = ''",
                     (consent_id,))
    return None if row is None else str(row["fsp_id"])


async def delete_consent(hub: Hub, req: FspiopRequest) -> Response:
    owner = consent_owner(hub, req.params["ID"])
    relay(hub, req, CONSENTS, f"{TP}CONSENT_POST", destination=owner or req.destination)
    return Response(status_code=202)


async def not_implemented(hub: Hub, req: FspiopRequest) -> Response:
    return error_response("2002", f"{req.method} {req.path} is not implemented by thirdparty-api-svc", status=501)


_CR = "/consentRequests"
_TX = "/thirdpartyRequests/transactions"
_AU = "/thirdpartyRequests/authorizations"
_VE = "/thirdpartyRequests/verifications"

routes = [
    Route("/services/{ServiceType}", tp_route(get_services), methods=["GET"]),
    Route("/services/{ServiceType}", relay_route(SERVICES, "SERVICES_PUT", status=200, rules="services.put",
                                                 required=("providers",)), methods=["PUT"]),
    Route("/services/{ServiceType}/error", error_route(SERVICES, "SERVICES_PUT_ERROR"), methods=["PUT"]),
    Route("/accounts/{ID}", relay_route(ACCOUNTS, "ACCOUNTS_GET", status=202), methods=["GET"]),
    Route("/accounts/{ID}", relay_route(ACCOUNTS, "ACCOUNTS_PUT", status=200, rules="accounts.put",
                                        required=("accounts",)), methods=["PUT"]),
    Route("/accounts/{ID}/error", error_route(ACCOUNTS, "ACCOUNTS_PUT_ERROR"), methods=["PUT"]),
    Route(_CR, relay_route(CONSENT_REQUESTS, "CONSENT_REQUEST_POST", status=202, rules="consentRequests.post",
                           required=("consentRequestId", "userId", "scopes", "authChannels", "callbackUri")),
          methods=["POST"]),
    Route(_CR + "/{ID}", tp_route(not_implemented), methods=["GET"]),
    Route(_CR + "/{ID}", relay_route(CONSENT_REQUESTS, "CONSENT_REQUEST_PUT", status=202,
                                     rules="consentRequests.put", required=("scopes", "authChannels")),
          methods=["PUT"]),
    Route(_CR + "/{ID}", relay_route(CONSENT_REQUESTS, "CONSENT_REQUEST_PATCH", status=202,
                                     rules="consentRequests.patch", required=("authToken",)), methods=["PATCH"]),
    Route(_CR + "/{ID}/error", error_route(CONSENT_REQUESTS, "CONSENT_REQUEST_PUT_ERROR"), methods=["PUT"]),
    Route("/consents", relay_route(CONSENTS, "CONSENT_POST", status=202, rules="consents.post",
                                   required=("consentId", "scopes", "status")), methods=["POST"]),
    Route("/consents/{ID}", tp_route(not_implemented), methods=["GET"]),
    Route("/consents/{ID}", relay_route(CONSENTS, "CONSENT_PUT", status=202, rules="consents.put",
                                        required=("scopes", "credential")), methods=["PUT"]),
    Route("/consents/{ID}", relay_route(CONSENTS, "CONSENT_PATCH", status=200, rules="consents.patch"),
          methods=["PATCH"]),
    Route("/consents/{ID}", tp_route(delete_consent), methods=["DELETE"]),
    Route("/consents/{ID}/error", error_route(CONSENTS, "CONSENT_PUT_ERROR"), methods=["PUT"]),
    Route(_TX, relay_route(TRANSACTIONS, "TRANSACTION_REQUEST_POST", status=202, rules="transactions.post",
                           required=("transactionRequestId", "payee", "payer", "amountType", "amount",
                                     "transactionType", "expiration")), methods=["POST"]),
    Route(_TX + "/{ID}", relay_route(TRANSACTIONS, "TRANSACTION_REQUEST_GET", status=202), methods=["GET"]),
    Route(_TX + "/{ID}", relay_route(TRANSACTIONS, "TRANSACTION_REQUEST_PUT", status=200, rules="transactions.put",
                                     required=("transactionRequestState",)), methods=["PUT"]),
    Route(_TX + "/{ID}", relay_route(TRANSACTIONS, "TRANSACTION_REQUEST_PATCH", status=200,
                                     rules="transactions.patch",
                                     required=("transactionRequestState", "transactionState")), methods=["PATCH"]),
    Route(_TX + "/{ID}/error", error_route(TRANSACTIONS, "TRANSACTION_REQUEST_PUT_ERROR"), methods=["PUT"]),
    Route(_AU, relay_route(AUTHORIZATIONS, "TRANSACTION_REQUEST_AUTH_POST", status=202, rules="authorizations.post",
                           required=("authorizationRequestId", "transactionRequestId", "challenge", "transferAmount",
                                     "payeeReceiveAmount", "fees", "payer", "payee", "transactionType",
                                     "expiration")), methods=["POST"]),
    Route(_AU + "/{ID}", tp_route(not_implemented), methods=["GET"]),
    Route(_AU + "/{ID}", relay_route(AUTHORIZATIONS, "TRANSACTION_REQUEST_AUTH_PUT", status=200,
                                     rules="authorizations.put", required=("responseType",)), methods=["PUT"]),
    Route(_AU + "/{ID}/error", error_route(AUTHORIZATIONS, "TRANSACTION_REQUEST_AUTH_PUT_ERROR"), methods=["PUT"]),
    Route(_VE, relay_route(VERIFICATIONS, "TRANSACTION_REQUEST_VERIFY_POST", status=202, rules="verifications.post",
                           required=("verificationRequestId", "challenge", "consentId", "signedPayloadType")),
          methods=["POST"]),
    Route(_VE + "/{ID}", tp_route(not_implemented), methods=["GET"]),
    Route(_VE + "/{ID}", relay_route(VERIFICATIONS, "TRANSACTION_REQUEST_VERIFY_PUT", status=200,
                                     rules="verifications.put", required=("authenticationResponse",)),
          methods=["PUT"]),
    Route(_VE + "/{ID}/error", error_route(VERIFICATIONS, "TRANSACTION_REQUEST_VERIFY_PUT_ERROR"), methods=["PUT"]),
]
