"""central-ledger settlement models (``/admin/settlementModels``)."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mojacheck.hub.admin.common import INVALID
from mojacheck.hub.web import ApiError, as_bool, check_types, guarded, parse_json, require

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

ENUMS = {
    "settlementGranularity": ("GROSS", "NET"),
    "settlementInterchange": ("BILATERAL", "MULTILATERAL"),
    "settlementDelay": ("IMMEDIATE", "DEFERRED"),
}
ACCOUNT_TYPES = ("POSITION", "SETTLEMENT", "INTERCHANGE_FEE", "INTERCHANGE_FEE_SETTLEMENT")
# (delay, granularity, interchange) combinations central-services-shared accepts (enums ValidSettlementModels).
VALID_MODELS = {("IMMEDIATE", "GROSS", "BILATERAL"), ("DEFERRED", "GROSS", "BILATERAL"),
                ("DEFERRED", "NET", "BILATERAL"), ("DEFERRED", "NET", "MULTILATERAL")}


def model_item(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "settlementModelId": row["id"],
        "name": row["name"],
        "isActive": row["is_active"],
        "settlementGranularity": row["granularity"],
        "settlementInterchange": row["interchange"],
        "settlementDelay": row["delay"],
        "currency": row["currency"],
        "requireLiquidityCheck": bool(row["require_liquidity_check"]),
        "ledgerAccountType": row["ledger_account_type"],
        "settlementAccountType": row["settlement_account_type"],
        "autoPositionReset": bool(row["auto_position_reset"]),
    }


def _validate(hub: Hub, body: dict[str, Any]) -> None:
    check_types(body, {"name": str, **dict.fromkeys(ENUMS, str), "currency": str, "ledgerAccountType": str,
                       "settlementAccountType": str, "requireLiquidityCheck": bool, "autoPositionReset": bool},
                joi=True, code=INVALID)
    for key, allowed in ENUMS.items():  # the route's Joi valid() lists, before the domain sees the body
        if body[key] not in allowed:
            raise ApiError(INVALID, f'"{key}" must be one of [{", ".join(allowed)}]')
    if (body["settlementDelay"], body["settlementGranularity"], body["settlementInterchange"]) not in VALID_MODELS:
        raise ApiError("3000", "Invalid settlement model definition - delay-granularity-interchange combination is "
                               "not supported")
    if body["ledgerAccountType"] not in ACCOUNT_TYPES:
        raise ApiError("3003", "Ledger account type was not found")
    if body["settlementAccountType"] not in ACCOUNT_TYPES:
        raise ApiError("3003", "Settlement account type was not found")
    if hub.db.one("SELECT id FROM settlement_model WHERE name = ?", (body["name"],)) is not None:
        raise ApiError("3000", "Settlement Model already exists")


async def create_model(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    body = parse_json(await request.body())
    require(body, "name", *ENUMS, "ledgerAccountType", "settlementAccountType", "requireLiquidityCheck",
            "autoPositionReset", code=INVALID)
    _validate(hub, body)
    with hub.db.tx():
        hub.db.execute(
            "INSERT INTO settlement_model (name, granularity, interchange, delay, currency, require_liquidity_check, "
            "ledger_account_type, settlement_account_type, auto_position_reset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (body["name"], body["settlementGranularity"], body["settlementInterchange"], body["settlementDelay"],
             body.get("currency") or None, int(as_bool(body.get("requireLiquidityCheck", True))),
             body["ledgerAccountType"], body["settlementAccountType"],
             int(as_bool(body.get("autoPositionReset", False)))),
        )
    return Response(status_code=201)


async def list_models(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    return JSONResponse([model_item(r) for r in hub.db.all("SELECT * FROM settlement_model ORDER BY id")])


def _model_or_error(hub: Hub, name: str) -> sqlite3.Row:
    row = hub.db.one("SELECT * FROM settlement_model WHERE name = ?", (name,))
    if row is None:
        raise ApiError("2001", "Settlement Model does not exist")
    return row


async def get_model(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    return JSONResponse(model_item(_model_or_error(hub, request.path_params["name"])))


async def update_model(request: Request) -> Response:
    hub: Hub = request.app.state.hub
    body = parse_json(await request.body())
    require(body, "isActive", code=INVALID)
    check_types(body, {"isActive": bool}, joi=True, code=INVALID)
    row = _model_or_error(hub, request.path_params["name"])
    with hub.db.tx():
        hub.db.execute("UPDATE settlement_model SET is_active = ? WHERE id = ?",
                       (int(as_bool(body["isActive"])), row["id"]))
    return JSONResponse(model_item(_model_or_error(hub, row["name"])))


routes = [
    Route("/settlementModels", guarded(list_models), methods=["GET"]),
    Route("/settlementModels", guarded(create_model), methods=["POST"]),
    Route("/settlementModels/{name}", guarded(get_model), methods=["GET"]),
    Route("/settlementModels/{name}", guarded(update_model), methods=["PUT"]),
]
