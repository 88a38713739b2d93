"""ALS admin API (served under ``/als-admin``): oracle registration (behaviour ref §5.1).

Every registered oracle is answered by the hub's built-in oracle (see ``als.py``); the endpoint value is
stored and listed back unchanged. ALS itself does not refuse a second oracle for the same type, nor do we.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mojacheck.hub.web import ApiError, check_types, guarded, parse_json, require

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

PARTY_ID_TYPES = (
    "MSISDN", "EMAIL", "PERSONAL_ID", "BUSINESS", "DEVICE", "ACCOUNT_ID", "IBAN", "ALIAS", "CONSENT",
    "THIRD_PARTY_LINK",
)
BUILTIN_ORACLE = "builtin://mojacheck-oracle"


def oracle_item(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "oracleId": row["id"],
        "oracleIdType": row["id_type"],
        "endpoint": {"value": row["endpoint_value"], "endpointType": row["endpoint_type"]},
        "currency": row["currency"],
        "isDefault": bool(row["is_default"]),
    }


ORACLE_TYPES = {"oracleIdType": str, "endpoint": dict, "endpoint.value": str, "endpoint.endpointType": str,
                "currency": str, "isDefault": bool}


def _checked(body: dict[str, Any]) -> None:
    check_types(body, ORACLE_TYPES)
    if body["oracleIdType"] not in PARTY_ID_TYPES:
        raise ApiError("3100", f"Invalid oracleIdType {body['oracleIdType']!r}")


async def create_oracle(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    body = parse_json(await request.body())
    require(body, "oracleIdType", "endpoint.value", "endpoint.endpointType")
    _checked(body)
    with hub.db.tx():
        hub.db.execute(
            "INSERT INTO oracle (id_type, endpoint_value, endpoint_type, currency, is_default) VALUES (?, ?, ?, ?, ?)",
            (body["oracleIdType"], str(body["endpoint"]["value"]), str(body["endpoint"]["endpointType"]),
             body.get("currency") or None, int(bool(body.get("isDefault")))),
        )
    return Response(status_code=201)


async def list_oracles(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    sql, params = "SELECT * FROM oracle WHERE 1 = 1", []
    for key, column in (("type", "id_type"), ("currency", "currency")):
        if request.query_params.get(key):
            sql += f" AND {column} = ?"
            params.append(request.query_params[key])
    return JSONResponse([oracle_item(r) for r in hub.db.all(sql + " ORDER BY id", tuple(params))])


def _oracle_or_error(hub: Hub, text: str) -> sqlite3.Row:
    row = hub.db.one("SELECT * FROM oracle WHERE id = ?", (text,))
    if row is None:
        raise ApiError("3200", f"Oracle {text} not found")
    return row


async def update_oracle(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    body = parse_json(await request.body())
    require(body)
    check_types(body, ORACLE_TYPES)
    row = _oracle_or_error(hub, request.path_params["ID"])
    endpoint = body.get("endpoint") or {}
    merged = {
        "id_type": body.get("oracleIdType") or row["id_type"],
        "endpoint_value": endpoint.get("value") or row["endpoint_value"],
        "endpoint_type": endpoint.get("endpointType") or row["endpoint_type"],
        "currency": body.get("currency") or row["currency"],
        "is_default": int(bool(body.get("isDefault", row["is_default"]))),
    }
    if merged["id_type"] not in PARTY_ID_TYPES:
        raise ApiError("3100", f"Invalid oracleIdType {merged['id_type']!r}")
    with hub.db.tx():
        hub.db.execute(
            "UPDATE oracle SET id_type = ?, endpoint_value = ?, endpoint_type = ?, currency = ?, is_default = ? "
            "WHERE id = ?", (*merged.values(), row["id"]))
    return Response(status_code=204)


async def delete_oracle(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    row = _oracle_or_error(hub, request.path_params["ID"])
    with hub.db.tx():
        hub.db.execute("DELETE FROM oracle WHERE id = ?", (row["id"],))
    return Response(status_code=204)


routes = [
    Route("/oracles", guarded(list_oracles), methods=["GET"]),
    Route("/oracles", guarded(create_oracle), methods=["POST"]),
    Route("/oracles/{ID}", guarded(update_oracle), methods=["PUT"]),
    Route("/oracles/{ID}", guarded(delete_oracle), methods=["DELETE"]),
]
