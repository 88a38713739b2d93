"""Settlements: create over closed windows, read one, list by filters (central-settlement v2, ref §12).

A settlement takes, from the windows it names, the content (ledger account type + currency) that its model
covers: the model's ledger account type, and its currency, or for a currency-less (default) model every
currency that has no model of its own. The net amount of each POSITION account is the sum of what its
transfers in that content added to it (positive = net sender).
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mojacheck.hub import ledger
from mojacheck.hub.db import HUB_NAME, Database, now_iso
from mojacheck.hub.settlement import store as st
from mojacheck.hub.web import ApiError, check_types, guarded, parse_json, require
from mojacheck.server import numbers_response

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

SETTLEMENT_FILTERS = ("state", "fromDateTime", "toDateTime", "currency", "settlementWindowId",
                      "fromSettlementWindowDateTime", "toSettlementWindowDateTime", "participantId", "accountId")
TAKEABLE_WINDOWS = (st.CLOSED, st.ABORTED, st.PENDING_SETTLEMENT)
TAKEABLE_CONTENT = (st.CLOSED, st.ABORTED)


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    st.finish_due_closes(hub.db)
    return hub


def _model(db: Database, name: str) -> sqlite3.Row:
    row = db.one("SELECT * FROM settlement_model WHERE name = ? AND is_active = 1", (name,))
    if row is None:
        raise ApiError("3100", f"Settlement model not found: {name}")
    if row["granularity"] != "NET" or row["delay"] != "DEFERRED":
        raise ApiError("3100", "Settlement can not be created for GROSS or IMMEDIATE models")
    if row["interchange"] != "MULTILATERAL":
        raise ApiError("3100", "Settlement can not be created for BILATERAL models")
    return row


def _window_ids(body: dict[str, Any]) -> list[int]:
    items = body["settlementWindows"]
    if not isinstance(items, list) or not items:
        raise ApiError("3100", "settlementWindows must be a non-empty list of {id}")
    ids = [st.int_param(i.get("id") if isinstance(i, dict) else None, "settlementWindows[].id") for i in items]
    if len(set(ids)) != len(ids):
        raise ApiError("3100", "settlementWindows must not repeat a window")
    return ids


def _content(db: Database, model: sqlite3.Row, window_ids: list[int]) -> list[sqlite3.Row]:
    marks = ",".join("?" * len(window_ids))
    rows = db.all(f"SELECT * FROM settlement_window_content WHERE window_id IN ({marks}) "
                  "AND ledger_account_type = ? AND state IN (?, ?) ORDER BY id",
                  (*window_ids, model["ledger_account_type"], *TAKEABLE_CONTENT))
    if model["currency"] is not None:
        return [r for r in rows if r["currency"] == model["currency"]]
    own = {r["currency"] for r in db.all("SELECT currency FROM settlement_model WHERE currency IS NOT NULL "
                                         "AND is_active = 1")}
    return [r for r in rows if r["currency"] not in own]


def create(db: Database, body: dict[str, Any]) -> int:
    model = _model(db, str(body["settlementModel"]))
    window_ids = _window_ids(body)
    reason = str(body["reason"])
    with db.tx():
        windows = [db.one("SELECT * FROM settlement_window WHERE id = ?", (i,)) for i in window_ids]
        if any(w is None for w in windows):
            raise ApiError("3100", "At least one provided settlement window does not exist")
        wrong = [str(w["id"]) for w in windows if w is not None and w["state"] not in TAKEABLE_WINDOWS]
        if wrong:
            raise ApiError("3100", f"Inapplicable windows {', '.join(wrong)}")
        content = _content(db, model, window_ids)
        if not content:
            raise ApiError("3100", f"No content of model {model['name']} to settle in windows "
                                   f"{', '.join(map(str, window_ids))}")
        for currency in sorted({c["currency"] for c in content}):
            if ledger.account_by_name(db, HUB_NAME, ledger.HUB_MULTILATERAL_SETTLEMENT, currency) is None:
                raise ApiError("3100", f"Hub multilateral settlement account for {currency} does not exist")
        ts = now_iso()
        settlement_id = int(db.execute(
            "INSERT INTO settlement (model_id, state, reason, created, changed) VALUES (?, ?, ?, ?, ?)",
            (model["id"], st.PENDING_SETTLEMENT, reason, ts, ts)).lastrowid or 0)
        st.journal(db, "settlement", settlement_id, st.PENDING_SETTLEMENT, reason)
        for window_id in window_ids:
            db.execute("INSERT INTO settlement_window_link (settlement_id, window_id) VALUES (?, ?)",
                       (settlement_id, window_id))
        nets: dict[int, Decimal] = {}
        for c in content:
            db.execute("INSERT INTO settlement_content_link (content_id, settlement_id) VALUES (?, ?)",
                       (c["id"], settlement_id))
            st.set_content_state(db, c["id"], st.PENDING_SETTLEMENT)
            for g in db.all("SELECT account_id, amount FROM settlement_content_aggregation WHERE content_id = ?",
                            (c["id"],)):
                nets[g["account_id"]] = nets.get(g["account_id"], Decimal(0)) + Decimal(g["amount"])
        for account_id, net in sorted(nets.items()):
            db.execute("INSERT INTO settlement_account (settlement_id, account_id, net_amount, state, reason, "
                       "created, changed) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (settlement_id, account_id, ledger.fmt(net), st.PENDING_SETTLEMENT, reason, ts, ts))
        for window_id in window_ids:
            st.recompute_window(db, window_id, reason)
    return settlement_id


async def post_settlement(request: Request) -> Response:
    hub = _hub(request)
    body = parse_json(await request.body())
    require(body, "settlementModel", "reason", "settlementWindows")
    check_types(body, {"settlementModel": str, "reason": str}, joi=True)
    settlement_id = create(hub.db, body)
    return numbers_response(st.settlement_item(hub.db, st.settlement_or_error(hub.db, settlement_id)))


async def get_settlement(request: Request) -> Response:
    hub = _hub(request)
    row = st.settlement_or_error(hub.db, st.int_param(request.path_params["id"], "settlement id"))
    return numbers_response(st.settlement_item(hub.db, row))


def _matches(db: Database, s: sqlite3.Row, q: dict[str, str]) -> tuple[list[dict[str, Any]], list[sqlite3.Row]]:
    """The windows and accounts of settlement ``s`` that the filters keep (none kept = no match)."""
    if ("state" in q and s["state"] != q["state"]) or ("fromDateTime" in q and s["created"] < q["fromDateTime"]) \
            or ("toDateTime" in q and s["created"] > q["toDateTime"]):
        return [], []
    windows = [w for w in st.windows_of(db, s["id"])
               if ("settlementWindowId" not in q or str(w["id"]) == q["settlementWindowId"])
               and ("fromSettlementWindowDateTime" not in q or w["createdDate"] >= q["fromSettlementWindowDateTime"])
               and ("toSettlementWindowDateTime" not in q or w["createdDate"] <= q["toSettlementWindowDateTime"])]
    accounts = [a for a in st.accounts_of(db, s["id"])
                if ("currency" not in q or a["currency"] == q["currency"])
                and ("participantId" not in q or str(a["participant_id"]) == q["participantId"])
                and ("accountId" not in q or str(a["account_id"]) == q["accountId"])]
    return windows, accounts


async def list_settlements(request: Request) -> Response:
    hub = _hub(request)
    query = {k: v for k, v in request.query_params.items() if k in SETTLEMENT_FILTERS and v != ""}
    if not query:
        raise ApiError("3100", f"Use at least one parameter: {', '.join(SETTLEMENT_FILTERS)}")
    found = []
    for s in hub.db.all("SELECT * FROM settlement ORDER BY id"):
        windows, accounts = _matches(hub.db, s, query)
        if windows and accounts:
            found.append({"id": s["id"], "state": s["state"], "reason": s["reason"], "createdDate": s["created"],
                          "changedDate": s["changed"],
                          "settlementWindows": [{k: v for k, v in w.items() if k != "content"} for w in windows],
                          "participants": st.participants_item(accounts)})
    if not found:
        raise ApiError("3100", "Settlements not found")
    return numbers_response(found)


routes = [
    Route("/settlements", guarded(list_settlements), methods=["GET"]),
    Route("/settlements", guarded(post_settlement), methods=["POST"]),
    Route("/settlements/{id}", guarded(get_settlement), methods=["GET"]),
]
