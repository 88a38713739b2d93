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
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from mojacheck.hub.admin import participants, settlement_models
from mojacheck.hub.als import oracles, parties
from mojacheck.hub.bulk import expiry as bulk_expiry
from mojacheck.hub.bulk import routes as bulk
from mojacheck.hub.callbacks import Outbox
from mojacheck.hub.config import HubConfig
from mojacheck.hub.context import Hub
from mojacheck.hub.db import Database
from mojacheck.hub.fx import routes as fx
from mojacheck.hub.quotes import relay as quotes
from mojacheck.hub.releases import SERVICES, get_release
from mojacheck.hub.settlement import routes as settlement
from mojacheck.hub.thirdparty import auth_service
from mojacheck.hub.thirdparty import relay as thirdparty
from mojacheck.hub.transaction_requests import relay as transaction_requests
from mojacheck.hub.transfers import prepare as transfers
from mojacheck.hub.transfers.expiry import sweep_forever
from mojacheck.hub.web import BodyLimit, error_response, log
from mojacheck.server import AccessLog, LoggedDelivery, make_delivery, serve

DRAIN_TIMEOUT_S = 2.0
LOGGER = "mojacheck.hub"


async def health(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    return JSONResponse({
        "status": "OK",
        "release": hub.release.name,
        "versions": hub.release.components,
        "services": list(SERVICES),
        "oracle": oracles.BUILTIN_ORACLE,
    })


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


def create_app(config: HubConfig) -> Starlette:
    """Build the hub for ``config``; the database is opened (and created if new) here."""
    release = get_release(config.release, config.supported_versions)
    db = Database(config.db_path)
    delivery = LoggedDelivery(make_delivery(config.delivery_kind, timeout=config.delivery_timeout_s),
                              f"{LOGGER}.delivery")
    hub = Hub(config=config, release=release, db=db, outbox=Outbox(db, release, delivery))
    routes = [
        Route("/health", health, methods=["GET"]),
        Mount("/admin", routes=[*participants.routes, *settlement_models.routes, Route("/health", health)]),
        Mount("/als-admin", routes=[*oracles.routes, Route("/health", health)]),
        Mount("/settlement/v2", routes=[*settlement.routes, Route("/health", health)]),
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
