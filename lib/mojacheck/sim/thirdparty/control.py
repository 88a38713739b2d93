"""The 3PPI control API under ``/_sim/thirdparty``: DFSP settings, users and accounts, the user's OTP and web login,
and the state of an FSP's consents and transactions (see ``service.py`` for the routes).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Coroutine
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from mojacheck.server.jsonutil import JsonBodyError, json_response, loads
from mojacheck.sim.state import ControlError
from mojacheck.sim.thirdparty.service import ThirdParty
from mojacheck.sim.thirdparty.state import ConsentRequest


def _tp(request: Request) -> ThirdParty:
    return request.app.state.sim.thirdparty  # type: ignore[no-any-return]


async def _body(request: Request) -> Any:
    try:
        return loads(await request.body() or b"{}")
    except JsonBodyError as exc:
        raise ControlError("body", str(exc)) from None


def _guarded(fn: Callable[[Request], Coroutine[Any, Any, Response]]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        try:
            return await fn(request)
        except ControlError as exc:
            return json_response({"error": str(exc)}, 400)

    return endpoint


async def put_dfsp(request: Request) -> Response:
    body, dfsp = await _body(request), _tp(request).dfsp(request.path_params["fsp"])
    channels = body.get("authChannels", list(dfsp.auth_channels))
    if not isinstance(channels, list) or any(c not in ("WEB", "OTP") for c in channels):
        raise ControlError("authChannels", "expected a list of WEB, OTP")
    dfsp.auth_channels = tuple(channels)
    dfsp.auth_service = str(body.get("authService") or dfsp.auth_service)
    return json_response({"authChannels": list(dfsp.auth_channels), "authService": dfsp.auth_service})


async def put_user(request: Request) -> Response:
    body = await _body(request)
    accounts = body.get("accounts")
    if not isinstance(accounts, list) or not all(isinstance(a, dict) and a.get("address") for a in accounts):
        raise ControlError("accounts", "expected a list of {accountNickname, address, currency}")
    _tp(request).dfsp(request.path_params["fsp"]).users[request.path_params["user"]] = accounts
    return json_response({"user": request.path_params["user"], "accounts": accounts})


async def delete_user(request: Request) -> Response:
    found = _tp(request).dfsp(request.path_params["fsp"]).users.pop(request.path_params["user"], None)
    return Response(status_code=204 if found is not None else 404)


def _consent_request(request: Request) -> ConsentRequest | None:
    return _tp(request).dfsp(request.path_params["fsp"]).requests.get(request.path_params["id"])


async def get_otp(request: Request) -> Response:
    cr = _consent_request(request)
    if cr is None or cr.channel != "OTP":
        return json_response({"error": "no OTP was sent for this consent request"}, 404)
    return json_response({"otp": cr.secret, "userId": cr.user_id})


async def authorize(request: Request) -> Response:
    """The DFSP's web login: the user logs in, grants the consent and is sent back to the PISP."""
    cr = _consent_request(request)
    if cr is None or cr.channel != "WEB":
        return json_response({"error": "no web authorization pending for this consent request"}, 404)
    query = urllib.parse.urlencode({"consentRequestId": request.path_params["id"], "secret": cr.secret})
    separator = "&" if "?" in cr.callback_uri else "?"
    return RedirectResponse(f"{cr.callback_uri}{separator}{query}", status_code=302)


async def get_state(request: Request) -> Response:
    tp = _tp(request)
    fsp = request.path_params["fsp"]
    dfsp = tp.dfsps.get(fsp)
    pisp = tp.pisps.get(fsp)
    return json_response({
        "consents": {k: c.status for k, c in (dfsp.consents.items() if dfsp else ())},
        "links": dict(dfsp.links) if dfsp else {},
        "transactions": dict(dfsp.transactions) if dfsp else {},
        "credentials": sorted(pisp.keys) if pisp else [],
    })


routes = [
    Route("/{fsp}", _guarded(get_state), methods=["GET"]),
    Route("/{fsp}/dfsp", _guarded(put_dfsp), methods=["PUT"]),
    Route("/{fsp}/users/{user}", _guarded(put_user), methods=["PUT"]),
    Route("/{fsp}/users/{user}", _guarded(delete_user), methods=["DELETE"]),
    Route("/{fsp}/otp/{id}", _guarded(get_otp), methods=["GET"]),
    Route("/{fsp}/authorize/{id}", _guarded(authorize), methods=["GET"]),
]
