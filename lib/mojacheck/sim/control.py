"""The control API under ``/_sim/``: parties, rules, inbox (with long-poll), health.

Input errors answer 400 ``{"error": "<field>: <message>", "field": "<field>"}`` so a notebook shows what to fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mojacheck.server.jsonutil import JsonBodyError, json_response, loads
from mojacheck.sim.inbox import InboxFilter
from mojacheck.sim.state import ControlError

if TYPE_CHECKING:
    from mojacheck.sim.context import Simulator

MAX_WAIT_S = 300.0
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def _bad(exc: ControlError) -> Response:
    return json_response({"error": str(exc), "field": exc.field}, 400)


def _sim(request: Request) -> Simulator:
    return request.app.state.sim  # type: ignore[no-any-return]


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise ControlError("body", "a JSON body is required")
    try:
        return loads(raw)
    except JsonBodyError as exc:
        raise ControlError("body", str(exc)) from None


async def health(request: Request) -> Response:
    return json_response({"status": "OK"})


# ---------------------------------------------------------------- parties


def _party_key(request: Request) -> tuple[str, str, str, str | None]:
    p = request.path_params
    return p["fsp"], p["type"], p["id"], p.get("sub")


async def put_party(request: Request) -> Response:
    try:
        body = await _json_body(request)
        fsp, id_type, ident, sub = _party_key(request)
        party = _sim(request).parties.put(fsp, id_type, ident, sub, body)
    except ControlError as exc:
        return _bad(exc)
    return json_response({"fsp": fsp, "type": id_type, "id": ident, "subId": sub, "party": party})


async def delete_party(request: Request) -> Response:
    found = _sim(request).parties.delete(*_party_key(request))
    if not found:
        return json_response({"error": "no such party"}, 404)
    return Response(status_code=204)


async def list_parties(request: Request) -> Response:
    return json_response({"items": _sim(request).parties.list(request.path_params["fsp"])})


# ---------------------------------------------------------------- rules


async def add_rule(request: Request) -> Response:
    try:
        rule = _sim(request).rules.add(await _json_body(request))
    except ControlError as exc:
        return _bad(exc)
    return json_response(rule.to_json(), 201)


async def list_rules(request: Request) -> Response:
    return json_response({"items": [r.to_json() for r in _sim(request).rules.list()]})


async def delete_rule(request: Request) -> Response:
    if not _sim(request).rules.delete(request.path_params["rule_id"]):
        return json_response({"error": f"no rule {request.path_params['rule_id']!r}"}, 404)
    return Response(status_code=204)


async def clear_rules(request: Request) -> Response:
    _sim(request).rules.clear()
    return Response(status_code=204)


# ---------------------------------------------------------------- inbox


def _number(query: Any, name: str, kind: type[int] | type[float], low: float, high: float) -> Any:
    raw = query.get(name)
    if raw in (None, ""):
        return kind(0)
    try:
        value = kind(raw)
    except ValueError:
        raise ControlError(name, f"expected a number, got {raw!r}") from None
    if not low <= value <= high:
        raise ControlError(name, f"expected {low:g}..{high:g}, got {raw!r}")
    return value


def _flag(query: Any, name: str) -> bool | None:
    raw = query.get(name)
    if raw in (None, ""):
        return None
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise ControlError(name, f"expected true or false, got {raw!r}")


def _inbox_filter(query: Any) -> InboxFilter:
    direction = query.get("direction") or None
    if direction not in (None, "in", "out"):
        raise ControlError("direction", f"expected in or out, got {direction!r}")
    return InboxFilter(
        fsp=query.get("fsp") or None,
        method=query.get("method") or None,
        resource=query.get("resource") or None,
        key=query.get("key") or None,
        error=_flag(query, "error"),
        direction=direction,
    )


async def get_inbox(request: Request) -> Response:
    query = request.query_params
    try:
        flt = _inbox_filter(query)
        after = _number(query, "after", int, 0, 2**63)
        wait = _number(query, "wait", float, 0, MAX_WAIT_S)
    except ControlError as exc:
        return _bad(exc)
    items, last = await _sim(request).inbox.wait(flt, after, wait)
    return json_response({"items": items, "last": last})


async def inbox_last(request: Request) -> Response:
    """The newest sequence number, in constant time: what a client marks before sending (no scan of the inbox)."""
    return json_response({"last": _sim(request).inbox.last})


async def clear_inbox(request: Request) -> Response:
    _sim(request).inbox.clear()
    return Response(status_code=204)


routes = [
    Route("/health", health, methods=["GET"]),
    Route("/parties/{fsp}", list_parties, methods=["GET"]),
    Route("/parties/{fsp}/{type}/{id}", put_party, methods=["PUT"]),
    Route("/parties/{fsp}/{type}/{id}", delete_party, methods=["DELETE"]),
    Route("/parties/{fsp}/{type}/{id}/{sub}", put_party, methods=["PUT"]),
    Route("/parties/{fsp}/{type}/{id}/{sub}", delete_party, methods=["DELETE"]),
    Route("/rules", add_rule, methods=["POST"]),
    Route("/rules", list_rules, methods=["GET"]),
    Route("/rules", clear_rules, methods=["DELETE"]),
    Route("/rules/{rule_id}", delete_rule, methods=["DELETE"]),
    Route("/inbox", get_inbox, methods=["GET"]),
    Route("/inbox/last", inbox_last, methods=["GET"]),
    Route("/inbox", clear_inbox, methods=["DELETE"]),
]
