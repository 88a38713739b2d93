"""central-ledger admin API (served under ``/admin``): participants, accounts, endpoints, limits, models.

Answers and error codes follow central-ledger (behaviour ref §11), including its duplicate answers, so a
client can provision idempotently: a duplicate participant currency is 400/3000 "Participant currency has
already been registered", a duplicate hub account 400/3003 "Hub account has already been registered.", a
duplicate settlement model 400/3000 "Settlement Model already exists", a second initialPositionAndLimits
500/2001 "Participant Limit or Initial Position already set".
"""

from __future__ import annotations

import re
import sqlite3
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mojacheck.hub import ledger
from mojacheck.hub.admin.common import INVALID, check_currency, participant_or_missing
from mojacheck.hub.admin.funds import funds_routes
from mojacheck.hub.db import HUB_NAME, now_iso
from mojacheck.hub.web import NUMBER, ApiError, as_bool, check_types, guarded, parse_json, require, to_int
from mojacheck.server import numbers_response

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

LEDGER_ACCOUNT_TYPES = (
    "POSITION", "SETTLEMENT", "HUB_RECONCILIATION", "HUB_MULTILATERAL_SETTLEMENT", "INTERCHANGE_FEE",
    "INTERCHANGE_FEE_SETTLEMENT",
)
LIMIT_TYPES = {"currency": str, "limit.type": str, "limit.value": (str, *NUMBER),
               "limit.alarmPercentage": (str, *NUMBER), "initialPosition": (str, *NUMBER)}
_ENDPOINT_TYPE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _hub(request: Request) -> Hub:
    return request.app.state.hub


async def _json(request: Request, *required: str) -> dict[str, Any]:
    body = parse_json(await request.body())
    require(body, *required, code=INVALID)
    return body


def participant_or_404(hub: Hub, name: str) -> sqlite3.Row:
    """GET /participants/{name}: 3200 "The requested resource could not be found" (with a final "." before
    central-ledger v19.9.1)."""
    row = ledger.participant(hub.db, name)
    if row is None:
        dot = "" if hub.release.participant_not_found_3200 else "."
        raise ApiError("3200", f"The requested resource could not be found{dot}")
    return row


def participant_item(hub: Hub, request: Request, row: sqlite3.Row) -> dict[str, Any]:
    # The admin API's own base (…/admin), whatever route asked: links point back into it.
    base = str(request.url.replace(query="")).split("/participants", 1)[0]
    link = f"{base}/participants/{row['name']}"
    accounts = hub.db.all("SELECT * FROM account WHERE participant_id = ? ORDER BY id", (row["id"],))
    return {
        "name": row["name"],
        "id": link,
        "created": row["created"],
        "isActive": row["is_active"],
        "links": {"self": link},
        "accounts": [
            {"id": a["id"], "ledgerAccountType": a["ledger_account_type"], "currency": a["currency"],
             "isActive": a["is_active"], "createdDate": a["created"], "createdBy": "unknown"}
            for a in accounts
        ],
        "isProxy": row["is_proxy"],
    }


async def list_participants(request: Request) -> Response:
    hub = _hub(request)
    rows = hub.db.all("SELECT * FROM participant ORDER BY id")
    return JSONResponse([participant_item(hub, request, r) for r in rows])


async def get_participant(request: Request) -> Response:
    hub = _hub(request)
    return JSONResponse(participant_item(hub, request, participant_or_404(hub, request.path_params["name"])))


def _check_hub_accounts(hub: Hub, currency: str) -> None:
    hub_row = ledger.participant(hub.db, HUB_NAME)
    assert hub_row is not None
    if ledger.account(hub.db, hub_row["id"], ledger.HUB_RECONCILIATION, currency) is None:
        raise ApiError("3003", "Hub reconciliation account for the specified currency does not exist")
    if ledger.account(hub.db, hub_row["id"], ledger.HUB_MULTILATERAL_SETTLEMENT, currency) is None:
        raise ApiError("3003", "Hub multilateral net settlement account for the specified currency does not exist")


async def create_participant(request: Request) -> Response:
    hub = _hub(request)
    body = await _json(request, "name", "currency")
    check_types(body, {"name": str, "currency": str, "isProxy": bool}, joi=True, code=INVALID)
    name, currency = str(body["name"]), str(body["currency"])
    if not 2 <= len(name) <= 30:
        raise ApiError("3101", "name length must be between 2 and 30 characters")
    check_currency(currency)
    _check_hub_accounts(hub, currency)
    with hub.db.tx():
        row = ledger.participant(hub.db, name)
        if row is not None and hub.db.one(
            "SELECT id FROM account WHERE participant_id = ? AND currency = ?", (row["id"], currency)
        ):
            raise ApiError("3000", "Participant currency has already been registered")
        models = hub.db.all("SELECT * FROM settlement_model WHERE currency = ?", (currency,)) or hub.db.all(
            "SELECT * FROM settlement_model WHERE currency IS NULL"
        )
        if not models:
            raise ApiError("6000", "Unable to find a matching or default, Settlement Model")
        if row is None:
            hub.db.execute(
                "INSERT INTO participant (name, is_proxy, created) VALUES (?, ?, ?)",
                (name, int(as_bool(body.get("isProxy"))), now_iso()),
            )
            row = ledger.participant(hub.db, name)
            assert row is not None
        for model in models:
            for ledger_type in (model["ledger_account_type"], model["settlement_account_type"]):
                if ledger.account(hub.db, row["id"], ledger_type, currency) is None:
                    # Accounts start inactive; initialPositionAndLimits activates them (central-ledger).
                    ledger.create_account(hub.db, row["id"], ledger_type, currency, active=False)
    return JSONResponse(participant_item(hub, request, row), status_code=201)


async def update_participant(request: Request) -> Response:
    hub = _hub(request)
    body = await _json(request, "isActive")
    check_types(body, {"isActive": bool}, joi=True, code=INVALID)
    row = participant_or_missing(hub, request.path_params["name"])
    with hub.db.tx():
        hub.db.execute("UPDATE participant SET is_active = ? WHERE id = ?", (int(as_bool(body["isActive"])), row["id"]))
    updated = ledger.participant(hub.db, row["name"])
    assert updated is not None
    return JSONResponse(participant_item(hub, request, updated))


async def create_hub_account(request: Request) -> Response:
    hub = _hub(request)
    body = await _json(request, "type", "currency")
    check_types(body, {"type": str, "currency": str}, joi=True, code=INVALID)
    check_currency(body["currency"])
    row = ledger.participant(hub.db, request.path_params["name"])
    if row is None:
        raise ApiError("3003", "Participant was not found.")
    if body["type"] not in LEDGER_ACCOUNT_TYPES:
        raise ApiError("3003", "Ledger account type was not found.")
    if ledger.account(hub.db, row["id"], body["type"], body["currency"]) is not None:
        raise ApiError("3003", "Hub account has already been registered.")
    if row["name"] != HUB_NAME:
        raise ApiError("3003", "Endpoint is reserved for creation of Hub account types only.")
    if body["type"] not in ledger.HUB_ACCOUNT_TYPES:
        raise ApiError("3003", "The requested hub operator account type is not allowed.")
    with hub.db.tx():
        account_id = ledger.create_account(hub.db, row["id"], body["type"], body["currency"], active=True)
        hub.db.execute("UPDATE account SET position_set = 1 WHERE id = ?", (account_id,))
    return JSONResponse(participant_item(hub, request, row), status_code=201)


async def get_accounts(request: Request) -> Response:
    hub = _hub(request)
    row = participant_or_missing(hub, request.path_params["name"])
    currency = request.query_params.get("currency")
    sql, params = "SELECT * FROM account WHERE participant_id = ?", [row["id"]]
    if currency:
        sql, params = sql + " AND currency = ?", [*params, currency]
    accounts = hub.db.all(sql + " ORDER BY id", tuple(params))
    return numbers_response([
        {"id": a["id"], "ledgerAccountType": a["ledger_account_type"], "currency": a["currency"],
         "isActive": a["is_active"], "value": Decimal(a["value"]), "reservedValue": Decimal(a["reserved_value"]),
         "changedDate": a["changed"]}
        for a in accounts
    ])


async def update_account(request: Request) -> Response:
    hub = _hub(request)
    body = await _json(request, "isActive")
    check_types(body, {"isActive": bool}, joi=True, code=INVALID)
    row = participant_or_missing(hub, request.path_params["name"])
    acct = hub.db.one("SELECT * FROM account WHERE id = ?", (_int_id(request.path_params["id"]),))
    if acct is None:
        raise ApiError("2001", "Account not found")
    if acct["participant_id"] != row["id"]:
        raise ApiError("2001", "Participant/account mismatch")
    if acct["ledger_account_type"] != ledger.POSITION:
        raise ApiError("2001", "Only position account update is permitted")
    with hub.db.tx():
        hub.db.execute("UPDATE account SET is_active = ?, changed = ? WHERE id = ?",
                       (int(as_bool(body["isActive"])), now_iso(), acct["id"]))
    return Response(status_code=200)


def _int_id(text: str) -> int:
    return to_int(text, "account id", INVALID)  # Joi number().integer().positive(), reformatted as 3101


async def add_endpoint(request: Request) -> Response:
    hub = _hub(request)
    body = await _json(request, "type", "value")
    check_types(body, {"type": str, "value": str}, joi=True, code=INVALID)
    if not _ENDPOINT_TYPE.match(str(body["type"])):
        raise ApiError("3101", f"unknown endpoint type {body['type']!r}")
    row = participant_or_missing(hub, request.path_params["name"])
    with hub.db.tx():
        # One endpoint per type: a re-post replaces the value, as central-ledger does.
        hub.db.execute(
            "INSERT INTO endpoint (participant_id, type, value) VALUES (?, ?, ?) "
            "ON CONFLICT (participant_id, type) DO UPDATE SET value = excluded.value",
            (row["id"], body["type"], str(body["value"])),
        )
    return Response(status_code=201)


async def get_endpoints(request: Request) -> Response:
    hub = _hub(request)
    row = participant_or_missing(hub, request.path_params["name"])
    wanted = request.query_params.get("type")
    rows = hub.db.all("SELECT type, value FROM endpoint WHERE participant_id = ? ORDER BY type", (row["id"],))
    items = [{"type": r["type"], "value": r["value"]} for r in rows]
    if wanted:
        match = [i for i in items if i["type"] == wanted]
        return JSONResponse(match[0] if match else {})
    return JSONResponse(items)


async def initial_position_and_limits(request: Request) -> Response:
    hub = _hub(request)
    body = await _json(request, "currency", "limit.type", "limit.value")
    check_types(body, LIMIT_TYPES, joi=True, code=INVALID)
    name, currency = request.path_params["name"], str(body["currency"])
    value = _money(body["limit"]["value"], "limit.value")
    initial = _money(body.get("initialPosition") or 0, "initialPosition")
    participant_or_missing(hub, name)
    with hub.db.tx():
        pos = ledger.account_by_name(hub.db, name, ledger.POSITION, currency)
        settle = ledger.account_by_name(hub.db, name, ledger.SETTLEMENT, currency)
        if pos is None or settle is None:
            raise ApiError("2001", "Participant does not exist")
        limit = hub.db.one("SELECT account_id FROM participant_limit WHERE account_id = ?", (pos["id"],))
        if limit is not None or pos["position_set"] or settle["position_set"]:
            raise ApiError("2001", "Participant Limit or Initial Position already set")
        hub.db.execute(
            "INSERT INTO participant_limit (account_id, type, value, alarm_percentage) VALUES (?, ?, ?, ?)",
            (pos["id"], str(body["limit"]["type"]), ledger.fmt(value),
             ledger.fmt(_money(body["limit"].get("alarmPercentage", 10), "alarmPercentage"))),
        )
        ts = now_iso()
        hub.db.execute(
            "UPDATE account SET value = ?, position_set = 1, is_active = 1, changed = ? WHERE id = ?",
            (ledger.fmt(initial), ts, pos["id"]),
        )
        hub.db.execute("UPDATE account SET position_set = 1, is_active = 1, changed = ? WHERE id = ?",
                       (ts, settle["id"]))
    return Response(status_code=201)


def _money(value: Any, field: str) -> Decimal:
    try:
        return ledger.to_decimal(value)
    except ValueError:
        raise ApiError("3101", f"{field} must be a number") from None


def _limit_item(row: sqlite3.Row, with_name: bool = False) -> dict[str, Any]:
    item: dict[str, Any] = {
        "currency": row["currency"],
        "limit": {"type": row["type"], "value": Decimal(row["value"]),
                  "alarmPercentage": Decimal(row["alarm_percentage"])},
    }
    return {"name": row["name"], **item} if with_name else item


_LIMITS_SQL = (
    "SELECT p.name, a.currency, l.type, l.value, l.alarm_percentage FROM participant_limit l "
    "JOIN account a ON a.id = l.account_id JOIN participant p ON p.id = a.participant_id WHERE 1 = 1"
)


def _limit_filters(request: Request) -> tuple[str, list[Any]]:
    sql, params = "", []
    for key, column in (("currency", "a.currency"), ("type", "l.type")):
        if request.query_params.get(key):
            sql += f" AND {column} = ?"
            params.append(request.query_params[key])
    return sql, params


async def get_limits(request: Request) -> Response:
    hub = _hub(request)
    row = participant_or_missing(hub, request.path_params["name"])
    extra, params = _limit_filters(request)
    rows = hub.db.all(_LIMITS_SQL + " AND p.id = ?" + extra + " ORDER BY a.id", (row["id"], *params))
    return numbers_response([_limit_item(r) for r in rows])


async def get_all_limits(request: Request) -> Response:
    hub = _hub(request)
    extra, params = _limit_filters(request)
    rows = hub.db.all(_LIMITS_SQL + extra + " ORDER BY a.id", tuple(params))
    return numbers_response([_limit_item(r, with_name=True) for r in rows])


async def adjust_limits(request: Request) -> Response:
    hub = _hub(request)
    body = await _json(request, "currency", "limit.type", "limit.value")
    check_types(body, LIMIT_TYPES, joi=True, code=INVALID)
    name, currency = request.path_params["name"], str(body["currency"])
    value = _money(body["limit"]["value"], "limit.value")
    participant_or_missing(hub, name)
    with hub.db.tx():
        pos = ledger.account_by_name(hub.db, name, ledger.POSITION, currency)
        if pos is None:
            raise ApiError("2001", "Participant does not exist")
        old = hub.db.one("SELECT alarm_percentage FROM participant_limit WHERE account_id = ?", (pos["id"],))
        alarm = body["limit"].get("alarmPercentage", old["alarm_percentage"] if old else 10)
        hub.db.execute(
            "INSERT INTO participant_limit (account_id, type, value, alarm_percentage) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (account_id) DO UPDATE SET type = excluded.type, value = excluded.value, "
            "alarm_percentage = excluded.alarm_percentage",
            (pos["id"], str(body["limit"]["type"]), ledger.fmt(value), ledger.fmt(_money(alarm, "alarmPercentage"))),
        )
    return numbers_response({"currency": currency, "limit": {
        "type": body["limit"]["type"], "value": value, "alarmPercentage": _money(alarm, "alarmPercentage")}})


async def get_positions(request: Request) -> Response:
    hub = _hub(request)
    row = participant_or_missing(hub, request.path_params["name"])
    currency = request.query_params.get("currency")
    rows = hub.db.all(
        "SELECT currency, value, changed FROM account WHERE participant_id = ? AND ledger_account_type = ? "
        "ORDER BY id", (row["id"], ledger.POSITION))
    items = [{"currency": r["currency"], "value": Decimal(r["value"]), "changedDate": r["changed"]} for r in rows]
    if currency:
        # central-ledger: one object for the currency, or {} when the participant has no position in it.
        match = [i for i in items if i["currency"] == currency]
        return numbers_response(match[0] if match else {})
    return numbers_response(items)


routes = [
    Route("/participants", guarded(list_participants), methods=["GET"]),
    Route("/participants", guarded(create_participant), methods=["POST"]),
    Route("/participants/limits", guarded(get_all_limits), methods=["GET"]),
    Route("/participants/{name}", guarded(get_participant), methods=["GET"]),
    Route("/participants/{name}", guarded(update_participant), methods=["PUT"]),
    Route("/participants/{name}/endpoints", guarded(get_endpoints), methods=["GET"]),
    Route("/participants/{name}/endpoints", guarded(add_endpoint), methods=["POST"]),
    Route("/participants/{name}/limits", guarded(get_limits), methods=["GET"]),
    Route("/participants/{name}/limits", guarded(adjust_limits), methods=["PUT"]),
    Route("/participants/{name}/positions", guarded(get_positions), methods=["GET"]),
    Route("/participants/{name}/accounts", guarded(get_accounts), methods=["GET"]),
    Route("/participants/{name}/accounts", guarded(create_hub_account), methods=["POST"]),
    Route("/participants/{name}/initialPositionAndLimits", guarded(initial_position_and_limits),
          methods=["POST"]),
    Route("/participants/{name}/accounts/{id}", guarded(update_account), methods=["PUT"]),
    *funds_routes,
]
