"""The simulator ASGI app: FSP traffic at ``/{fspId}/...``, the control API at ``/_sim/...``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from mojacheck.server.delivery import Delivery, make_delivery
from mojacheck.server.jsonutil import JsonBodyError, loads
from mojacheck.server.logs import AccessLog, LoggedDelivery
from mojacheck.server.serve import serve
from mojacheck.sim import control, fxp_control
from mojacheck.sim import request_to_pay as request_to_pay_control
from mojacheck.sim.config import SimConfig
from mojacheck.sim.context import Simulator
from mojacheck.sim.payee import Incoming
from mojacheck.sim.thirdparty import control as thirdparty_control

# First path segments that are FSPIOP resources: a path starting with one has no FSP prefix.
FSPIOP_RESOURCES = frozenset(
    {
        "participants", "parties", "quotes", "bulkQuotes", "fxQuotes", "transfers", "fxTransfers",
        "bulkTransfers", "transactionRequests", "authorizations", "transactions", "consentRequests",
        "consents", "accounts", "services", "thirdpartyRequests",
    }
)  # fmt: skip
_ANSWERED_200 = frozenset({"PUT", "PATCH"})
LOGGER = "mojacheck.sim"
# Reading the inbox (notebooks long-poll it for every callback they await) is logged at debug, not info: at info
# sim.log shows the FSP traffic and the control calls that change behaviour, not the polls that watch it.
QUIET_PATHS = ("/_sim/inbox",)


def attribute(path: str, destination: str | None) -> tuple[str | None, str]:
    """(fsp, FSPIOP path): ``/payeefsp/transfers/x`` → (payeefsp, /transfers/x); ``/transfers/x`` → header."""
    segments = path.strip("/").split("/")
    if segments[0] in FSPIOP_RESOURCES or len(segments) < 2:
        return (destination or None), path
    return segments[0], "/" + "/".join(segments[1:])


def _parse_body(raw: bytes) -> object:
    if not raw:
        return None
    try:
        return loads(raw)
    except JsonBodyError:
        return raw.decode("utf-8", errors="replace")  # keep what came, as evidence


async def fsp_traffic(request: Request) -> Response:
    sim: Simulator = request.app.state.sim
    fsp, path = attribute(request.url.path, request.headers.get("fspiop-destination"))
    if request.url.query:
        path = f"{path}?{request.url.query}"
    resource = path.lstrip("/").split("/", 1)[0].split("?", 1)[0]
    body = _parse_body(await request.body())
    method = request.method.upper()
    status = 200 if method in _ANSWERED_200 else 202
    sim.inbox.record(
        direction="in",
        fsp=fsp,
        method=method,
        path=path,
        resource=resource,
        headers=request.headers,
        body=body,
        status=status,
    )
    if fsp is not None:
        incoming = Incoming(fsp, method, path, resource, dict(request.headers), body)
        sim.payee.handle(incoming)
        sim.fxp.handle(incoming)
        sim.thirdparty.handle(incoming)
        sim.request_to_pay.handle(incoming)
        sim.bulk.handle(incoming)
    return Response(status_code=status)


def create_app(config: SimConfig | None = None, *, delivery: Delivery | None = None) -> Starlette:
    """Build the simulator app; ``delivery`` overrides the outbound client (default from ``config.delivery``)."""
    cfg = config or SimConfig()
    sim = Simulator(cfg, LoggedDelivery(delivery or make_delivery(cfg.delivery, timeout=cfg.timeout),
                                        f"{LOGGER}.delivery"))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await sim.thirdparty.aclose()  # 3PPI flows and the FXP first: they share the payee's connection pool
        await sim.fxp.aclose()
        await sim.request_to_pay.aclose()
        await sim.bulk.aclose()
        await sim.payee.aclose()  # cancel pending answers, close the connection pool

    app = Starlette(
        routes=[
            Route("/health", control.health, methods=["GET"]),
            Mount("/_sim/thirdparty", routes=thirdparty_control.routes),
            Mount("/_sim/fxp", routes=fxp_control.routes),
            Mount("/_sim/requestToPay", routes=request_to_pay_control.routes),
            Mount("/_sim", routes=control.routes),
            Route("/{path:path}", fsp_traffic, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ],
        lifespan=lifespan,
    )
    app.state.sim = sim
    app.add_middleware(AccessLog, logger=f"{LOGGER}.access", quiet=QUIET_PATHS)
    return app


def start_line(config: SimConfig, url: str) -> str:
    """What ``mojacheck sim`` says once it listens: address, where its requests and callbacks go."""
    routes = "".join(f"; {resource} to {target}" for resource, target in sorted(config.routes.items()))
    return f"mojacheck sim: listening on {url}, sending to the hub at {config.hub_url}{routes}"


def run(config: SimConfig, *, host: str, port: int, log_level: str) -> None:
    """Serve the simulator until interrupted, logging at ``log_level`` (start line at every level)."""
    serve(create_app(config), host, port, log_level, service=LOGGER, describe=lambda url: start_line(config, url))
