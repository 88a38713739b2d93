"""The FXP's control API under ``/_sim/fxp``: its rate table per currency pair (``sim/fxp.py`` uses it).

``PUT /{fsp}/rates/{source}/{target}`` ``{"rate": "655.957", "fee": "0.5"}`` (rate: target units per source unit;
fee: in the source currency, default 0) → 200 with the rate; ``DELETE`` the same path → 204 (404 when unknown);
``GET /{fsp}/rates`` → ``{"items": [...]}``. Bad input answers 400 ``{"error", "field"}`` as the rest of ``/_sim``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mojacheck.server.jsonutil import JsonBodyError, json_response, loads
from mojacheck.sim.state import ControlError

if TYPE_CHECKING:
    from mojacheck.sim.context import Simulator
    from mojacheck.sim.fxp import Fxp


def _fxp(request: Request) -> Fxp:
    sim: Simulator = request.app.state.sim
    return sim.fxp


async def put_rate(request: Request) -> Response:
    p = request.path_params
    try:
        try:
            body = loads(await request.body())
        except JsonBodyError as exc:
            raise ControlError("body", str(exc)) from None
        rate = _fxp(request).set_rate(p["fsp"], p["source"], p["target"], body)
    except ControlError as exc:
        return json_response({"error": str(exc), "field": exc.field}, 400)
    return json_response(rate.to_json(p["fsp"], p["source"], p["target"]))


async def delete_rate(request: Request) -> Response:
    p = request.path_params
    if _fxp(request).rates.pop((p["fsp"], p["source"], p["target"]), None) is None:
        return json_response({"error": "no such rate"}, 404)
    return Response(status_code=204)


async def list_rates(request: Request) -> Response:
    fsp = request.path_params["fsp"]
    items = [r.to_json(f, s, t) for (f, s, t), r in _fxp(request).rates.items() if f == fsp]
    return json_response({"items": items})


routes = [
    Route("/{fsp}/rates", list_rates, methods=["GET"]),
    Route("/{fsp}/rates/{source}/{target}", put_rate, methods=["PUT"]),
    Route("/{fsp}/rates/{source}/{target}", delete_rate, methods=["DELETE"]),
]
