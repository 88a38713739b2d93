"""Synchronous checks of 3PPI requests: headers (resource ``thirdparty`` or the path's), then the body.

thirdparty-api-svc validates against its OpenAPI document before answering; what fails there is a sync 400
with errorInformation: a missing field 3102, a wrong type, enum value or pattern 3101. Nothing here is a 500.
Clients of the Thirdparty API label their media type either with the path's first segment
(``application/vnd.interoperability.consentRequests+json``) or, as the Mojaloop SDKs do, with ``thirdparty``;
both are accepted.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from mojacheck.fspiop import parse_content_type, resource_of, validate_headers
from mojacheck.fspiop.errors import HeaderError
from mojacheck.hub.validation import FspiopRequest
from mojacheck.hub.web import MAX_BODY, ApiError, Handler, guarded, parse_json

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

CORRELATION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
BINARY_STRING = re.compile(r"^[A-Za-z0-9\-_]+={0,2}$")
ACCOUNT_ADDRESS = re.compile(r"^([0-9A-Za-z_~\-.]+[0-9A-Za-z_~\-])$")
AMOUNT = re.compile(r"^([0]|([1-9][0-9]{0,17}))([.][0-9]{0,3}[1-9])?$")  # FSPIOP Amount, as transfers use it
SCOPE_ACTIONS = ("ACCOUNTS_GET_BALANCE", "ACCOUNTS_TRANSFER", "ACCOUNTS_STATEMENT")
AUTH_CHANNELS = ("WEB", "OTP")
SERVICE_TYPES = ("THIRD_PARTY_DFSP", "PISP", "AUTH_SERVICE")
CREDENTIAL_TYPES = ("FIDO", "GENERIC")
TP_RESOURCE = "thirdparty"

Check = Callable[[Any, str], None]


def _bad(path: str, message: str) -> ApiError:
    return ApiError("3101", f"/body/{path.replace('.', '/')} {message}")


def correlation_id(value: Any, path: str) -> None:
    if not isinstance(value, str) or not CORRELATION_ID.match(value):
        raise _bad(path, "must match the CorrelationId pattern (lowercase UUID)")


def text(value: Any, path: str) -> None:
    if not isinstance(value, str) or not value:
        raise _bad(path, "must be a non-empty string")


def binary_string(value: Any, path: str) -> None:
    if not isinstance(value, str) or not BINARY_STRING.match(value):
        raise _bad(path, "must be a base64url BinaryString")


def one_of(*allowed: str) -> Check:
    def check(value: Any, path: str) -> None:
        if value not in allowed:
            raise _bad(path, f"must be one of {', '.join(allowed)}")

    return check


def list_of(item: Check) -> Check:
    def check(value: Any, path: str) -> None:
        if not isinstance(value, list) or not value:
            raise _bad(path, "must be a non-empty array")
        for i, element in enumerate(value):
            item(element, f"{path}.{i}")

    return check


def obj(value: Any, path: str) -> None:
    if not isinstance(value, dict):
        raise _bad(path, "must be an object")


def scope(value: Any, path: str) -> None:
    obj(value, path)
    if value.get("address") is None:
        raise ApiError("3102", f"/body/{path.replace('.', '/')} must have required property 'address'")
    if not isinstance(value["address"], str) or not ACCOUNT_ADDRESS.match(value["address"]):
        raise _bad(f"{path}.address", "must match the AccountAddress pattern")
    if value.get("actions") is None:
        raise ApiError("3102", f"/body/{path.replace('.', '/')} must have required property 'actions'")
    list_of(one_of(*SCOPE_ACTIONS))(value["actions"], f"{path}.actions")


def array(value: Any, path: str) -> None:
    if not isinstance(value, list):
        raise _bad(path, "must be an array")


def money(value: Any, path: str) -> None:
    obj(value, path)
    if not isinstance(value.get("currency"), str) or not re.fullmatch(r"[A-Z]{3}", value["currency"]):
        raise _bad(f"{path}.currency", "must be an ISO 4217 code")
    amount = value.get("amount")
    if not isinstance(amount, str) or not AMOUNT.match(amount):
        raise _bad(f"{path}.amount", "must be an FSPIOP Amount (up to 18 digits, 4 decimals, no trailing zero)")


SCOPES = list_of(scope)

# Field checks per request body: (dotted path, check). Required-ness is declared by the route.
BODY_RULES: dict[str, tuple[tuple[str, Check], ...]] = {
    "consentRequests.post": (("consentRequestId", correlation_id), ("userId", text), ("scopes", SCOPES),
                             ("authChannels", list_of(one_of(*AUTH_CHANNELS))), ("callbackUri", text)),
    "consentRequests.put": (("scopes", SCOPES), ("authChannels", list_of(one_of(*AUTH_CHANNELS)))),
    "consentRequests.patch": (("authToken", binary_string),),
    "consents.post": (("consentId", correlation_id), ("scopes", SCOPES), ("status", one_of("ISSUED", "REVOKED"))),
    "consents.put": (("scopes", SCOPES), ("credential", obj), ("credential.credentialType", one_of(*CREDENTIAL_TYPES)),
                     ("credential.status", one_of("PENDING", "VERIFIED"))),
    "consents.patch": (),
    # The hub's auth-service (POST /auth-service/consents): auth-service's own schema, ConsentsPostRequestAUTH.
    "auth.consents.post": (("consentId", correlation_id), ("scopes", SCOPES), ("credential", obj),
                           ("credential.credentialType", one_of(*CREDENTIAL_TYPES)),
                           ("credential.status", one_of("PENDING", "VERIFIED")), ("credential.genericPayload", obj)),
    "transactions.post": (("transactionRequestId", correlation_id), ("payee", obj), ("payer", obj),
                          ("payer.partyIdType", text), ("payer.partyIdentifier", text),
                          ("amountType", one_of("SEND", "RECEIVE")), ("amount", money), ("transactionType", obj)),
    "transactions.put": (("transactionRequestState", one_of("RECEIVED", "PENDING", "ACCEPTED", "REJECTED")),),
    "transactions.patch": (("transactionRequestState", one_of("RECEIVED", "PENDING", "ACCEPTED", "REJECTED")),
                           ("transactionState", one_of("RECEIVED", "PENDING", "COMPLETED", "REJECTED"))),
    "authorizations.post": (("authorizationRequestId", correlation_id), ("transactionRequestId", correlation_id),
                            ("challenge", text), ("transferAmount", money), ("payeeReceiveAmount", money)),
    "authorizations.put": (("responseType", one_of("ACCEPTED", "REJECTED")),),
    "verifications.post": (("verificationRequestId", correlation_id), ("challenge", text),
                           ("consentId", correlation_id), ("signedPayloadType", one_of("FIDO", "GENERIC"))),
    "verifications.put": (("authenticationResponse", one_of("VERIFIED")),),
    "accounts.put": (("accounts", array),),
    "services.put": (("providers", array),),
    "error": (("errorInformation", obj), ("errorInformation.errorCode", text)),
}


def _get(body: dict[str, Any], path: str) -> Any:
    node: Any = body
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def check_body(body: Any, rules_key: str, required: tuple[str, ...]) -> None:
    """3102 for the first missing required field, 3101 for the first malformed one."""
    if not isinstance(body, dict):
        raise ApiError("3101", "Body must be a JSON object")
    for path in required:
        if _get(body, path) is None:
            raise ApiError("3102", f"/body must have required property '{path}'")
    for path, check in BODY_RULES.get(rules_key, ()):
        value = _get(body, path)
        if value is not None:
            check(value, path)


def _headers_ok(request: Request, hub: Hub, headers: dict[str, str]) -> str:
    try:
        version = validate_headers(request.method, headers, hub.release.supported, resource=None)
    except HeaderError as exc:
        raise ApiError(exc.code, str(exc), status=getattr(exc, "status", None),
                       extension_list=getattr(exc, "extension_list", None)) from None
    path = request.url.path
    mount = str(request.scope.get("root_path") or "")
    if mount and path.startswith(mount):
        path = path[len(mount):]  # a mounted service (the auth-service): the resource follows the prefix
    allowed = {resource_of(path), TP_RESOURCE}
    if parse_content_type(headers["content-type"])[0] not in allowed:
        raise ApiError("3101", "Invalid content-type header")
    return str(version)


async def read_tp(request: Request, hub: Hub, *, with_body: bool) -> FspiopRequest:
    headers = {k.lower(): v for k, v in request.headers.items()}
    version = _headers_ok(request, hub, headers)
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError("3104", "Payload is larger than 5 MB")
    body = parse_json(raw) if with_body else None
    if with_body and not isinstance(body, dict):
        raise ApiError("3101", "Body must be a JSON object")
    return FspiopRequest(method=request.method, path=request.url.path,
                         params={k: str(v) for k, v in request.path_params.items()},
                         headers=headers, raw=raw, body=body, version=version)


TpHandler = Callable[["Hub", FspiopRequest], Awaitable[Response]]


def tp_route(handler: TpHandler, rules_key: str = "", required: tuple[str, ...] = ()) -> Handler:
    """Wrap a 3PPI handler: header and body checks, then ``handler(hub, req)``; never a bare 500."""

    async def endpoint(request: Request) -> Response:
        hub: Hub = request.app.state.hub
        with_body = request.method in ("POST", "PUT", "PATCH")
        req = await read_tp(request, hub, with_body=with_body)
        if with_body:
            check_body(req.body, rules_key, required)
        return await handler(hub, req)

    endpoint.__name__ = getattr(handler, "__name__", "tp_endpoint")
    return guarded(endpoint)
