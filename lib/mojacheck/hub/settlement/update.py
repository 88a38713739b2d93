"""Settlement state changes: account steps, settlement state, abort; per participant and account views.

``PUT /settlements/{id}`` with ``participants`` moves accounts one step, the step that matches the
settlement's state (PENDING_SETTLEMENT → PS_TRANSFERS_RECORDED → PS_TRANSFERS_RESERVED →
PS_TRANSFERS_COMMITTED → SETTLED); the same state again only updates the reason. Anything else is reported
per account with a 3000 ``errorInformation`` inside a 200 answer, as central-settlement does. The settlement
follows once no account lags; some SETTLED → SETTLING, all SETTLED → SETTLED (and its content and windows).
``{"state": "ABORTED", "reason"}`` aborts a settlement that has no committed account.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mojacheck.fspiop import error_body
from mojacheck.hub.db import Database, now_iso
from mojacheck.hub.settlement import ledger as sl
from mojacheck.hub.settlement import store as st
from mojacheck.hub.web import ApiError, check_types, guarded, parse_json, require, to_int
from mojacheck.server import numbers_response

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

# The one account step each settlement state allows.
NEXT_STEP = {st.PENDING_SETTLEMENT: st.PS_RECORDED, st.PS_RECORDED: st.PS_RESERVED,
             st.PS_RESERVED: st.PS_COMMITTED, st.PS_COMMITTED: st.SETTLED, st.SETTLING: st.SETTLED}
ABORTABLE = (st.PENDING_SETTLEMENT, st.PS_RECORDED, st.PS_RESERVED)


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    st.finish_due_closes(hub.db)
    return hub


def _error(detail: str) -> dict[str, Any]:
    return error_body("3000", detail)["errorInformation"]


def _model(db: Database, settlement: sqlite3.Row) -> sqlite3.Row:
    row = db.one("SELECT * FROM settlement_model WHERE id = ?", (settlement["model_id"],))
    assert row is not None
    return row


def _step(db: Database, settlement: sqlite3.Row, sa: sqlite3.Row, wanted: dict[str, Any]) -> dict[str, Any]:
    """Apply one account request; returns the account's entry for the answer."""
    target, reason = wanted.get("state"), wanted.get("reason")
    ext = wanted.get("externalReference")
    base = st.account_item(sa)
    if target == sa["state"]:
        db.execute("UPDATE settlement_account SET reason = ?, external_reference = COALESCE(?, external_reference), "
                   "changed = ? WHERE id = ?", (reason, ext, now_iso(), sa["id"]))
        return {**base, "reason": reason, **({"externalReference": ext} if ext else {})}
    if target not in st.ACCOUNT_STATES or NEXT_STEP.get(settlement["state"]) != target:
        return {**base, "errorInformation": _error("State change not allowed")}
    sl.apply_step(db, sa, target, _model(db, settlement))
    db.execute("UPDATE settlement_account SET state = ?, reason = ?, external_reference = COALESCE(?, "
               "external_reference), changed = ? WHERE id = ?", (target, reason, ext, now_iso(), sa["id"]))
    st.journal(db, "account", sa["id"], target, reason)
    return {**base, "state": target, "reason": reason, **({"externalReference": ext} if ext else {})}


def _follow(db: Database, settlement: sqlite3.Row) -> str:
    """Move the settlement (and, when SETTLED, its content and windows) after its accounts."""
    states = [a["state"] for a in st.accounts_of(db, settlement["id"])]
    state, new = settlement["state"], None
    lagging = {st.PENDING_SETTLEMENT: st.PENDING_SETTLEMENT, st.PS_RECORDED: st.PS_RECORDED,
               st.PS_RESERVED: st.PS_RESERVED}
    if state in lagging and lagging[state] not in states:
        new = NEXT_STEP[state]
    elif state in (st.PS_COMMITTED, st.SETTLING) and st.PS_COMMITTED not in states:
        new = st.SETTLED
    elif state == st.PS_COMMITTED and st.SETTLED in states:
        new = st.SETTLING
    if new is None:
        return str(state)
    reason = {st.SETTLING: "Some settlement accounts are SETTLED"}.get(new, f"All settlement accounts are {new}")
    st.set_settlement_state(db, settlement["id"], new, reason)
    if new == st.SETTLED:
        _close_content(db, settlement["id"], st.SETTLED, "All settlement window content is SETTLED")
    return new


def _close_content(db: Database, settlement_id: int, state: str, reason: str | None) -> None:
    """Content this settlement holds → ``state``; its windows follow their content."""
    rows = db.all("SELECT c.id, c.window_id FROM settlement_window_content c JOIN settlement_content_link l "
                  "ON l.content_id = c.id WHERE l.settlement_id = ? AND c.state = ?",
                  (settlement_id, st.PENDING_SETTLEMENT))
    for c in rows:
        st.set_content_state(db, c["id"], state)
    for window_id in sorted({c["window_id"] for c in rows}):
        st.recompute_window(db, window_id, reason)


ACCOUNT_TYPES = {"id": (str, int), "state": str, "reason": str, "externalReference": str}


def _check_participants(participants: Any) -> None:
    """central-settlement validates the body (Joi) before anything moves: a wrong type is refused, by name."""
    if not isinstance(participants, list):
        raise ApiError("3100", "participants must be a list")
    for i, p in enumerate(participants):
        if not isinstance(p, dict):
            raise ApiError("3100", f"/body/participants/{i} must be object")  # Joi object.base
        check_types(p, {"id": (str, int), "accounts": list}, joi=True)
        for j, wanted in enumerate(p.get("accounts") or []):
            if not isinstance(wanted, dict):
                raise ApiError("3100", f"/body/participants/{i}/accounts/{j} must be object")
            check_types(wanted, ACCOUNT_TYPES, joi=True)


def update_accounts(db: Database, settlement_id: int, participants: Any) -> dict[str, Any]:
    _check_participants(participants)
    with db.tx():
        settlement = st.settlement_or_error(db, settlement_id)
        current = {a["account_id"]: a for a in st.accounts_of(db, settlement_id)}
        done: set[int] = set()
        answer = []
        for p in participants:
            pid = p.get("id") if isinstance(p, dict) else None
            entries = []
            for wanted in (p.get("accounts") or []) if isinstance(p, dict) else []:
                aid = _as_int(wanted.get("id"))
                sa = current.get(aid) if aid is not None else None
                if sa is None:
                    entries.append({"id": wanted.get("id"), "errorInformation": _error("Account not found")})
                elif _as_int(pid) != sa["participant_id"]:
                    done.add(sa["account_id"])
                    entries.append({"id": aid, "errorInformation": _error("Participant and account mismatch")})
                elif sa["account_id"] in done:
                    entries.append({**st.account_item(sa),
                                    "errorInformation": _error("Account already processed once")})
                else:
                    done.add(sa["account_id"])
                    entries.append(_step(db, settlement, sa, wanted))
            answer.append({"id": pid, "accounts": entries})
        state = _follow(db, settlement)
        row = st.settlement_or_error(db, settlement_id)
    return {"id": settlement_id, "state": state, "reason": row["reason"], "createdDate": row["created"],
            "changedDate": row["changed"], "settlementWindows": st.windows_of(db, settlement_id),
            "participants": answer}


def abort(db: Database, settlement_id: int, reason: str) -> dict[str, Any]:
    with db.tx():
        settlement = st.settlement_or_error(db, settlement_id)
        accounts = st.accounts_of(db, settlement_id)
        if settlement["state"] == st.ABORTED:
            st.set_settlement_state(db, settlement_id, st.ABORTED, reason)  # a second abort updates the reason
        elif settlement["state"] not in ABORTABLE:
            raise ApiError("3100", f"State change not allowed: settlement {settlement_id} is {settlement['state']}")
        elif any(a["state"] == st.PS_COMMITTED for a in accounts):
            raise ApiError("3100", f"State change not allowed: settlement {settlement_id} has accounts in "
                                   f"{st.PS_COMMITTED}")
        else:
            for sa in accounts:
                sl.abort_account(db, sa)
                db.execute("UPDATE settlement_account SET state = ?, reason = ?, changed = ? WHERE id = ?",
                           (st.ABORTED, reason, now_iso(), sa["id"]))
                st.journal(db, "account", sa["id"], st.ABORTED, reason)
            _close_content(db, settlement_id, st.ABORTED, reason)
            st.set_settlement_state(db, settlement_id, st.ABORTED, reason)
    return {"id": settlement_id, "state": st.ABORTED, "reason": reason}


def _as_int(value: Any) -> int | None:
    try:
        return to_int(value, "id")
    except ApiError:
        return None


async def put_settlement(request: Request) -> Response:
    hub = _hub(request)
    settlement_id = st.int_param(request.path_params["id"], "settlement id")
    body = parse_json(await request.body())
    if not isinstance(body, dict):
        raise ApiError("3101", "Body must be a JSON object")
    check_types(body, {"state": str, "reason": str}, joi=True)
    if "state" in body:
        require(body, "reason")
        if body["state"] != st.ABORTED:
            raise ApiError("3100", f"Settlement state {body['state']!r} can not be set; only ABORTED")
        return numbers_response(abort(hub.db, settlement_id, str(body["reason"])))
    require(body, "participants")
    return numbers_response(update_accounts(hub.db, settlement_id, body["participants"]))


def _in_settlement(db: Database, request: Request) -> tuple[sqlite3.Row, list[sqlite3.Row]]:
    """The settlement and the accounts the path names, with central-settlement's refusals in its order."""
    settlement = st.settlement_or_error(db, st.int_param(request.path_params["sid"], "settlement id"))
    pid = st.int_param(request.path_params["pid"], "participant id")
    accounts = [a for a in st.accounts_of(db, settlement["id"]) if a["participant_id"] == pid]
    if not accounts:
        raise ApiError("3100", "Participant not in settlement")
    if "aid" in request.path_params:
        aid = st.int_param(request.path_params["aid"], "account id")
        owner = db.one("SELECT id FROM account WHERE id = ? AND participant_id = ? AND ledger_account_type = "
                       "'POSITION'", (aid, pid))
        if owner is None:
            raise ApiError("3100", "Provided account does not match any participant position account")
        accounts = [a for a in accounts if a["account_id"] == aid]
        if not accounts:
            raise ApiError("3100", "Account not in settlement")
    return settlement, accounts


async def get_part(request: Request) -> Response:
    hub = _hub(request)
    settlement, accounts = _in_settlement(hub.db, request)
    return numbers_response(st.settlement_item(hub.db, settlement, accounts))


async def put_part(request: Request) -> Response:
    hub = _hub(request)
    settlement, accounts = _in_settlement(hub.db, request)
    body = parse_json(await request.body())
    pid = accounts[0]["participant_id"]
    if "aid" in request.path_params:
        require(body, "state", "reason")
        check_types(body, ACCOUNT_TYPES, joi=True)
        wanted = [{**body, "id": accounts[0]["account_id"]}]
    else:
        require(body, "accounts")
        wanted = body["accounts"]
    return numbers_response(update_accounts(hub.db, settlement["id"], [{"id": pid, "accounts": wanted}]))


routes = [
    Route("/settlements/{id}", guarded(put_settlement), methods=["PUT"]),
    Route("/settlements/{sid}/participants/{pid}", guarded(get_part), methods=["GET"]),
    Route("/settlements/{sid}/participants/{pid}", guarded(put_part), methods=["PUT"]),
    Route("/settlements/{sid}/participants/{pid}/accounts/{aid}", guarded(get_part), methods=["GET"]),
    Route("/settlements/{sid}/participants/{pid}/accounts/{aid}", guarded(put_part), methods=["PUT"]),
]
