"""Synchronous checks of every FSPIOP request (headers, versions, JSON body) before the 202/200.

Only problems found here are answered synchronously (4xx + errorInformation); everything found later
goes back as an error callback, as in Mojaloop (behaviour ref §1–3).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from mojacheck.fspiop import parse_content_type, resource_of, validate_headers
from mojacheck.fspiop.errors import HeaderError, JwsError
from mojacheck.fspiop.jws import load_public_key, verify
from mojacheck.hub.web import MAX_BODY, ApiError, Handler, guarded, parse_json, require

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub
    from mojacheck.hub.releases import Release

# The FSPIOP versions a service accepts, from the release it plays (per resource: transaction-requests-service
# keeps 1.0/1.1 while the others accept 2.0 from helm v17).
Versions = Callable[["Release"], tuple[str, ...]]


@dataclass
class FspiopRequest:
    """One validated FSPIOP request; ``headers`` keep what the sender sent (names lower-cased)."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    raw: bytes
    body: Any
    version: str

    @property
    def source(self) -> str:
        return self.headers.get("fspiop-source", "")

    @property
    def destination(self) -> str:
        return self.headers.get("fspiop-destination", "")

    @property
    def content_version(self) -> str:
        """The Content-Type version as "major.minor" ("" when it cannot be read)."""
        try:
            return parse_content_type(self.headers.get("content-type", ""))[1]
        except Exception:
            return ""


async def read_fspiop(request: Request, hub: Hub, *, with_body: bool, versions: Versions | None = None
                      ) -> FspiopRequest:
    headers = {k.lower(): v for k, v in request.headers.items()}
    supported = versions(hub.release) if versions is not None else hub.release.supported
    try:
        version = validate_headers(request.method, headers, supported, resource=resource_of(request.url.path))
    except HeaderError as exc:
        raise ApiError(
            exc.code,
            str(exc),
            status=getattr(exc, "status", None),
            extension_list=getattr(exc, "extension_list", None),
        ) from None
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError("3104", "Payload is larger than 5 MB")
    body: Any = None
    if with_body:
        body = parse_json(raw)
        if not isinstance(body, dict):
            raise ApiError("3101", "Body must be a JSON object")
    if with_body and body is not None:
        check_signature(hub, request.method, request.url.path, headers, body)
    return FspiopRequest(
        method=request.method,
        path=request.url.path,
        params={k: str(v) for k, v in request.path_params.items()},
        headers=headers,
        raw=raw,
        body=body,
        version=str(version),
    )


# What Mojaloop's services validate when JWS_VALIDATE is on: ml-api-adapter transfers, quoting-service quotes,
# account-lookup-service participants and parties (PUT /parties only with JWS_VALIDATE_PUT_PARTIES, off by default).
JWS_RESOURCES = ("transfers", "quotes", "participants", "parties")


def check_signature(hub: Hub, method: str, path: str, headers: dict[str, str], body: Any) -> None:
    """400/3105 "Invalid signature - <why>" unless the request's FSPIOP-Signature verifies with the public key
    registered for its FSPIOP-Source (``<fspId>.pem`` in the keys folder, read at each request: hot reload)."""
    config = hub.config
    resource = resource_of(path)
    if not (config.jws_validate and hub.release.jws_validation and config.jws_keys_dir) or method == "GET":
        return
    if resource not in JWS_RESOURCES or (resource == "parties" and method == "PUT"):
        return
    source = headers.get("fspiop-source", "")
    key_file = Path(config.jws_keys_dir) / f"{source}.pem"
    try:
        if not key_file.is_file():
            raise JwsError(f"JWS public key for '{source}' not available. Unable to verify JWS.")
        verify(headers, body, load_public_key(key_file))
    except JwsError as exc:
        raise ApiError("3105", str(exc)) from None


FspiopHandler = Callable[["Hub", FspiopRequest], Awaitable[Response]]


def fspiop(handler: FspiopHandler, *, required: tuple[str, ...] = (), with_body: bool | None = None,
           versions: Versions | None = None) -> Handler:
    """Wrap an FSPIOP handler: sync validation, then ``handler(hub, req)``; errors never escape as 500.

    ``versions``: the service's own accepted versions where they differ from the release's (default).
    """

    async def endpoint(request: Request) -> Response:
        hub: Hub = request.app.state.hub
        body_expected = request.method in ("POST", "PUT", "PATCH") if with_body is None else with_body
        req = await read_fspiop(request, hub, with_body=body_expected, versions=versions)
        if required:
            require(req.body, *required)
        return await handler(hub, req)

    endpoint.__name__ = handler.__name__
    return guarded(endpoint)
