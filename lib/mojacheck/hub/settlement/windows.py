"""Settlement windows (central-settlement v2 ``/settlementWindows``, behaviour ref §12).

Closing is asynchronous, as in central-settlement: ``POST /settlementWindows/{id}`` moves the window to
PROCESSING, opens a new window at once (transfers committed from then on land in it) and answers with the new
window; the old one reaches CLOSED ``CLOSE_DELAY_S`` later. The hub completes a due close whenever anything
reads windows or settlements, so the outcome is the same after a restart. A client polls the state.

Mojaloop quirks kept on purpose: a list query needs at least one filter, and a query that finds nothing is a
3100 error rather than an empty list.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mojacheck.hub import ledger
from mojacheck.hub.db import Database, now_iso
from mojacheck.hub.settlement import store as st
from mojacheck.hub.web import ApiError, check_types, guarded, parse_json, require
from mojacheck.server import numbers_response

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

CLOSE_DELAY_S = 0.25
WINDOW_FILTERS = ("participantId", "state", "fromDateTime", "toDateTime", "currency")
WINDOW_STATES = ("OPEN", "CLOSED", "PENDING_SETTLEMENT", "SETTLED", "ABORTED")


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    st.finish_due_closes(hub.db)
    return hub


async def get_window(request: Request) -> Response:
    hub = _hub(request)
    row = st.window_or_error(hub.db, st.int_param(request.path_params["id"], "settlementWindowId"))
    return numbers_response(st.window_item(hub.db, row))


def _window_query(query: dict[str, str]) -> tuple[str, list[Any]]:
    sql = "SELECT DISTINCT w.* FROM settlement_window w WHERE 1 = 1"
    args: list[Any] = []
    if "state" in query:
        sql += " AND w.state = ?"
        args.append(query["state"])
    if "fromDateTime" in query:
        sql += " AND w.created >= ?"
        args.append(query["fromDateTime"])
    if "toDateTime" in query:
        sql += " AND w.created <= ?"
        args.append(query["toDateTime"])
    if "currency" in query:
        sql += " AND EXISTS (SELECT 1 FROM settlement_window_content c WHERE c.window_id = w.id AND c.currency = ?)"
        args.append(query["currency"])
    if "participantId" in query:
        sql += (" AND EXISTS (SELECT 1 FROM settlement_window_content c JOIN settlement_content_aggregation g "
                "ON g.content_id = c.id JOIN account a ON a.id = g.account_id "
                "WHERE c.window_id = w.id AND a.participant_id = ?)")
        args.append(st.int_param(query["participantId"], "participantId"))
    return sql + " ORDER BY w.changed DESC, w.id DESC", args


def _checked_query(request: Request) -> dict[str, str]:
    """central-settlement's query schema: a state outside the enum, a participantId that is not a number or a
    date-time that is not one is refused before the lookup (3101 malformed, 3100 not a number)."""
    query = {k: v for k, v in request.query_params.items() if k in WINDOW_FILTERS and v != ""}
    if "state" in query and query["state"] not in WINDOW_STATES:
        raise ApiError("3101", f'"state" must be one of [{", ".join(WINDOW_STATES)}]')
    if "participantId" in query and not query["participantId"].isdigit():
        raise ApiError("3100", '"participantId" must be a number')
    for key in ("fromDateTime", "toDateTime"):
        if key in query:
            try:
                datetime.fromisoformat(query[key].replace("Z", "+00:00"))
            except ValueError:
                raise ApiError("3101", f'"{key}" must be a valid date-time') from None
    return query


async def list_windows(request: Request) -> Response:
    hub = _hub(request)
    query = _checked_query(request)
    if not query or len(request.query_params) >= 6:
        raise ApiError("3100", "Use at least one parameter: participantId, state, fromDateTime, toDateTime, currency")
    sql, args = _window_query(query)
    rows = hub.db.all(sql, tuple(args))
    if not rows:
        # JSON.stringify(query) with its double quotes removed, as central-settlement words it.
        shown = json.dumps(dict(request.query_params), separators=(",", ":")).replace('"', "")
        raise ApiError("3100", f"settlementWindow by filters: {shown} not found")
    return numbers_response([st.window_item(hub.db, r) for r in rows])


def close_window(db: Database, window_id: int, reason: str, delay_s: float | None = None) -> int:
    """Start closing an OPEN, non-empty window; returns the id of the new OPEN window."""
    with db.tx():
        row = db.one("SELECT * FROM settlement_window WHERE id = ?", (window_id,))
        if row is None:
            raise ApiError("3100", f"Window {window_id} does not exist")
        if row["state"] != st.OPEN:
            raise ApiError("3100", f"Window {window_id} is not open")
        if db.one("SELECT id FROM settlement_window_content WHERE window_id = ?", (window_id,)) is None:
            raise ApiError("3100", f"Window {window_id} is empty")
        st.set_window_state(db, window_id, st.PROCESSING, reason)
        ts = now_iso()
        cur = db.execute("INSERT INTO settlement_window (state, reason, created, changed) VALUES (?, ?, ?, ?)",
                         (st.OPEN, reason, ts, ts))
        new_id = int(cur.lastrowid or 0)
        st.journal(db, "window", new_id, st.OPEN, reason)
        due = datetime.now(UTC).timestamp() + (CLOSE_DELAY_S if delay_s is None else delay_s)
        db.execute("INSERT INTO settlement_window_closing (window_id, due_ts, reason) VALUES (?, ?, ?)",
                   (window_id, due, reason))
    assert ledger.open_window_id(db) == new_id
    return new_id


async def post_window(request: Request) -> Response:
    hub = _hub(request)
    window_id = st.int_param(request.path_params["id"], "settlementWindowId")
    body = parse_json(await request.body())
    require(body, "state", "reason")
    check_types(body, {"state": str, "reason": str}, joi=True)
    if body["state"] != st.CLOSED:
        raise ApiError("3100", f"state must be CLOSED, got {body['state']!r}")
    new_id = close_window(hub.db, window_id, str(body["reason"]))
    return numbers_response(st.window_item(hub.db, st.window_or_error(hub.db, new_id)))


routes = [
    Route("/settlementWindows", guarded(list_windows), methods=["GET"]),
    Route("/settlementWindows/{id}", guarded(get_window), methods=["GET"]),
    Route("/settlementWindows/{id}", guarded(post_window), methods=["POST"]),
]
