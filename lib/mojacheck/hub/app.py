"""The embedded hub as one Starlette app: FSPIOP at the root, operator APIs under prefixes.

Routes: ``/health``; ``/admin/…`` central-ledger admin (``admin/``); ``/als-admin/…`` oracles (``als/``);
``/settlement/v2/…`` central-settlement (``settlement/``); ``/auth-service/…`` (``thirdparty/``); at the root ALS
(``/participants``, ``/parties``), quotes (``quotes/``), transfers (``transfers/``), FX from release 17
(``fx/``: ``/fxQuotes``, ``/fxTransfers``, ``/services/FXP``), transaction requests and authorizations
(``transaction_requests/``), bulk quotes and bulk transfers (``bulk/``) and 3PPI (``thirdparty/``).
Unknown paths answer 404/3002, wrong methods 405/3000, both with an errorInformation body.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mojacheck.fspiop import jws
from mojacheck.hub.admin import participants, settlement_models
from mojacheck.hub.als import oracles, parties
from mojacheck.hub.als import participants as als_participants
from mojacheck.hub.bulk import expiry as bulk_expiry
from mojacheck.hub.bulk import routes as bulk
from mojacheck.hub.callbacks import Outbox, Signer
from mojacheck.hub.config import HubConfig
from mojacheck.hub.context import Hub
from mojacheck.hub.db import Database
from mojacheck.hub.fx import routes as fx
from mojacheck.hub.headers import HubVoice
from mojacheck.hub.quotes import relay as quotes
from mojacheck.hub.releases import get_release, version
from mojacheck.hub.settlement import routes as settlement
from mojacheck.hub.thirdparty import auth_service
from mojacheck.hub.thirdparty import relay as thirdparty
from mojacheck.hub.transaction_requests import relay as transaction_requests
from mojacheck.hub.transfers import prepare as transfers
from mojacheck.hub.transfers.expiry import sweep_forever
from mojacheck.hub.web import BodyLimit, Handler, error_response, log
from mojacheck.server import AccessLog, LoggedDelivery, make_delivery, serve

DRAIN_TIMEOUT_S = 2.0
LOGGER = "mojacheck.hub"


STARTED = time.monotonic()
STARTED_AT = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
# What each service's GET /health lists (central-services-shared HealthCheck): the root stands for
# ml-api-adapter (broker) and account-lookup-service (datastore) at once, as one gateway in front of both.
HEALTH: dict[str, tuple[str, tuple[str, ...]]] = {
    "": ("ml-api-adapter", ("broker", "datastore")),
    "/admin": ("central-ledger", ("datastore", "broker")),
    "/als-admin": ("account-lookup-service", ("datastore",)),
    "/settlement/v2": ("central-settlement", ("datastore", "broker")),
}


def health_for(prefix: str) -> Handler:
    component, services = HEALTH[prefix]

    async def health(request: Request) -> Response:
        """Mojaloop's health body (status, uptime, startTime, versionNumber, services), then what only the
        embedded hub says: the release it plays and its components (a real service has neither key)."""
        hub: Hub = request.app.state.hub
        return JSONResponse({
            "status": "OK",
            "uptime": round(time.monotonic() - STARTED, 3),
            "startTime": STARTED_AT,
            "versionNumber": hub.release.components.get(component, ""),
            "services": [{"name": name, "status": "OK"} for name in services],
            "release": hub.release.name,
            "versions": hub.release.components,
        })

    return health


async def not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response("3002", f"{request.method} {request.url.path}", status=404)
    if exc.status_code == 405:
        return error_response("3000", "Method Not Allowed", status=405)
    return error_response("3000", str(exc.detail), status=exc.status_code)


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return error_response("2001", "Unexpected error in the hub, see its log")


class TrailingSlash:
    """``/participants/MSISDN/123/`` (an empty SubId) is served as ``/participants/MSISDN/123`` when that route
    takes the method, as ALS's router does; ``PUT /transfers/`` stays an unknown URI (404/3002)."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            trimmed = {**scope, "path": path.rstrip("/") or "/"}
            if any(route.matches(trimmed)[0] == Match.FULL for route in self.routes):
                scope = trimmed
        await self.app(scope, receive, send)


class BearerAuth:
    """What the API gateway in front of a real hub does: no valid bearer token, 401/3000."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.expected is None or scope["type"] != "http" or scope["path"] == "/health":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"authorization", b"")
        if hmac.compare_digest(given, self.expected):
            await self.app(scope, receive, send)
            return
        response = error_response("3000", "Unauthorized: missing or invalid bearer token", status=401)
        await response(scope, receive, send)


def _lifespan(hub: Hub) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        sweep = asyncio.get_running_loop().create_task(
            sweep_forever(hub, hub.config.expiry_interval_s, before=(bulk_expiry.sweep,)))
        try:
            yield
        finally:
            sweep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweep
            await hub.outbox.drain(DRAIN_TIMEOUT_S)
            await hub.outbox.delivery.aclose()

    return lifespan


def _signer(config: HubConfig) -> Signer | None:
    """JWS_SIGN: the hub signs what it originates with its key (the password only ever from the environment)."""
    if not config.jws_signing_key:
        return None
    password = os.environ.get(config.jws_signing_key_password_env) if config.jws_signing_key_password_env else None
    key = jws.load_private_key(config.jws_signing_key, password)
    return lambda headers, body: jws.sign(headers, body, key)


def create_app(config: HubConfig) -> Starlette:
    """Build the hub for ``config``; the database is opened (and created if new) here."""
    release = get_release(config.release, config.supported_versions)
    db = Database(config.db_path)
    delivery = LoggedDelivery(make_delivery(config.delivery_kind, timeout=config.delivery_timeout_s),
                              f"{LOGGER}.delivery")
    voice = HubVoice(release.hub_name, version(config.content_version),
                     {k: version(v) for k, v in config.resource_versions})
    hub = Hub(config=config, release=release, db=db, outbox=Outbox(db, voice, delivery, _signer(config)))
    routes = [
        Route("/health", health_for(""), methods=["GET"]),
        Mount("/admin", routes=[*participants.routes, *settlement_models.routes,
                                Route("/health", health_for("/admin"))]),
        Mount("/als-admin", routes=[*oracles.routes, Route("/health", health_for("/als-admin"))]),
        Mount("/settlement/v2", routes=[*settlement.routes, Route("/health", health_for("/settlement/v2"))]),
        *als_participants.routes,
        *parties.routes,
        *quotes.routes,
        *transfers.routes,
        *(fx.routes if release.fx else []),  # before 3PPI's /services/{ServiceType}
        *transaction_requests.routes,
        *bulk.routes,
        Mount(auth_service.PREFIX, routes=auth_service.routes),
        *thirdparty.routes,
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: not_found, Exception: server_error},
        lifespan=_lifespan(hub),
    )
    app.state.hub = hub
    app.router.redirect_slashes = False  # Mojaloop answers 404/3002, it never redirects
    app.add_middleware(TrailingSlash, routes=[r for r in routes if not isinstance(r, Mount)])
    app.add_middleware(BodyLimit)  # every route, operator APIs included: a huge body is refused as it streams
    app.add_middleware(BearerAuth, token=config.bearer_token)
    app.add_middleware(AccessLog, logger=f"{LOGGER}.access")  # added last: outermost, so 401s are logged too
    return app


def start_line(hub: Hub, url: str) -> str:
    """What ``mojacheck hub`` says once it listens: address, release, database, accepted FSPIOP versions."""
    auth = "bearer token required" if hub.config.bearer_token else "no bearer token"
    db = hub.config.db_path if hub.config.db_path == ":memory:" else os.path.abspath(hub.config.db_path)
    return (f"mojacheck hub: release {hub.release.name} listening on {url} (database {db}; "
            f"FSPIOP versions {', '.join(hub.release.supported)}; {auth})")


def run(config: HubConfig, *, host: str, port: int, log_level: str) -> None:
    """Serve the hub until interrupted, logging at ``log_level`` (start line at every level)."""
    app = create_app(config)
    hub: Hub = app.state.hub
    serve(app, host, port, log_level, service=LOGGER, describe=lambda url: start_line(hub, url))
