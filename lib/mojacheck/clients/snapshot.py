"""A hub's state as its public APIs show it (`mojacheck snapshot`): participants with accounts, balances,
positions, limits and endpoints; ALS oracles; settlement models, windows and settlements; and the transfers the
env's runs created, read back by id with FSPIOP `GET /transfers/{id}`.

Everything is keyed by a stable identity (participant name, account type/currency, window id, transfer id), not
by list position, so `snapshot-diff` can say what was lost, changed or new. Money is kept as normalised decimal
strings. An API that does not answer is recorded as `{"unavailable": "<status or reason>"}`, never a crash.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from mojacheck.fspiop.errors import CallbackTimeout, MojacheckError

if TYPE_CHECKING:
    from mojacheck.clients.session import Session

CL, ALS_ADMIN, SETTLEMENT = "central_ledger_admin", "als_admin", "central_settlement"
WINDOW_STATES = ("OPEN", "CLOSED", "PENDING_SETTLEMENT", "SETTLED", "ABORTED")
SETTLEMENT_STATES = ("PENDING_SETTLEMENT", "PS_TRANSFERS_RECORDED", "PS_TRANSFERS_RESERVED",
                     "PS_TRANSFERS_COMMITTED", "SETTLING", "SETTLED", "ABORTED")
TRANSFER_LIMIT = 200  # each transfer costs a GET and a callback: read back the newest ones only
TRANSFER_TIMEOUT_S = 5.0


def money(value: Any) -> str:
    """`100`, `100.0`, `"100.00"` → `"100"`: one spelling per amount, so a diff shows only real changes."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _get(s: Session, service: str, path: str) -> tuple[int | None, Any]:
    """(status, body); (None, reason) when nothing answered."""
    try:
        ex = s.call(service, "GET", path, ok=tuple(range(100, 600)))
    except MojacheckError as exc:
        return None, str(exc)
    return ex.status, ex.response_body


def _unavailable(status: int | None, body: Any) -> dict[str, str]:
    return {"unavailable": str(status) if status is not None else f"no answer: {body}"}


# ---------------------------------------------------------------- central-ledger admin and ALS admin


def _participant(s: Session, p: dict[str, Any]) -> dict[str, Any]:
    name = p["name"]
    entry: dict[str, Any] = {"isActive": p.get("isActive"), "isProxy": p.get("isProxy")}
    status, accounts = _get(s, CL, f"/participants/{name}/accounts")
    entry["accounts"] = ({f"{a.get('ledgerAccountType')}/{a.get('currency')}": {
        "id": a.get("id"), "isActive": a.get("isActive"), "value": money(a.get("value")),
        "reservedValue": money(a.get("reservedValue"))} for a in accounts}
        if status == 200 and isinstance(accounts, list) else _unavailable(status, accounts))
    status, positions = _get(s, CL, f"/participants/{name}/positions")
    positions = [positions] if isinstance(positions, dict) else positions
    entry["positions"] = ({str(x.get("currency")): money(x.get("value")) for x in positions}
                          if status == 200 and isinstance(positions, list) else _unavailable(status, positions))
    status, limits = _get(s, CL, f"/participants/{name}/limits")
    entry["limits"] = ({f"{x.get('currency')}/{(x.get('limit') or {}).get('type')}": {
        "value": money((x.get("limit") or {}).get("value")),
        "alarmPercentage": (x.get("limit") or {}).get("alarmPercentage")} for x in limits}
        if status == 200 and isinstance(limits, list) else _unavailable(status, limits))
    status, endpoints = _get(s, CL, f"/participants/{name}/endpoints")
    entry["endpoints"] = ({str(e.get("type")): e.get("value") for e in endpoints}
                          if status == 200 and isinstance(endpoints, list) else _unavailable(status, endpoints))
    return entry


def participants(s: Session) -> dict[str, Any]:
    status, body = _get(s, CL, "/participants")
    if status != 200 or not isinstance(body, list):
        raise MojacheckError(f"central-ledger admin GET /participants answered {status}: {body}")
    return {p["name"]: _participant(s, p) for p in body if isinstance(p, dict) and p.get("name")}


def oracles(s: Session) -> dict[str, Any]:
    status, body = _get(s, ALS_ADMIN, "/oracles")
    if status != 200 or not isinstance(body, list):
        return _unavailable(status, body)
    return {f"{o.get('oracleIdType')}/{o.get('currency') or '*'}/{o.get('oracleId', o.get('id'))}": {
        "endpoint": (o.get("endpoint") or {}).get("value"), "isDefault": o.get("isDefault")} for o in body}


def settlement_models(s: Session) -> dict[str, Any]:
    status, body = _get(s, CL, "/settlementModels")
    if status != 200 or not isinstance(body, list):
        return _unavailable(status, body)
    return {m.get("name"): {k: v for k, v in m.items() if k not in ("name", "settlementModelId")} for m in body}


# ---------------------------------------------------------------- central-settlement


def _by_state(s: Session, resource: str, states: tuple[str, ...], key: str) -> dict[str, Any]:
    """One query per state (the API needs a filter), merged by id: an entity that moved from OPEN to CLOSED is
    the same entity with a changed state, not one lost and one new."""
    found: dict[str, Any] = {}
    failure: tuple[int | None, Any] | None = None
    for state in states:
        status, body = _get(s, SETTLEMENT, f"/{resource}?state={state}")
        if status == 200 and isinstance(body, list):
            for item in body:
                found[str(item.get(key, item.get("id")))] = _stable(item)
        elif not _none_found(status, body):
            failure = failure or (status, body)
    if failure and not found:
        return _unavailable(*failure)
    return found


def _none_found(status: int | None, body: Any) -> bool:
    """central-settlement answers an empty filter result with 400/3100 "… not found", not with []."""
    info = body.get("errorInformation") if isinstance(body, dict) else None
    return status in (400, 404) and isinstance(info, dict) and "not found" in str(info.get("errorDescription"))


def _stable(value: Any) -> Any:
    """Drop timestamps (they move without the entity changing) and key lists of objects by their id."""
    if isinstance(value, dict):
        return {k: _stable(v) for k, v in value.items() if k not in ("changedDate", "createdDate")}
    if isinstance(value, list) and value and all(isinstance(v, dict) and "id" in v for v in value):
        return {str(v["id"]): _stable(v) for v in value}
    if isinstance(value, list):
        return [_stable(v) for v in value]
    return value


# ---------------------------------------------------------------- transfers


def _read_transfer(s: Session, transfer_id: str, sources: list[str], timeout: float) -> dict[str, Any]:
    answer: dict[str, Any] = {"unanswered": "no FSP to ask"}
    for source in sources:  # the hub answers only the payer or payee; the scrap does not say which FSP paid
        mark = s.sim.mark()
        ex = s.fspiop("GET", "ml_api_adapter", f"/transfers/{transfer_id}", source=source)
        if ex.status != 202:
            return {"unavailable": str(ex.status)}
        try:
            cb = s.sim.wait_for(source, "transfers", transfer_id, after=mark, timeout=timeout)
        except CallbackTimeout:
            answer = {"unanswered": f"no callback to {source} within {timeout:g} s"}
            continue
        if cb.error and cb.error_code == "3000":
            answer = {"error": "3000"}
            continue  # not a party of this transfer: ask the next FSP
        if cb.error:
            return {"error": str(cb.error_code)}
        body = cb.body or {}
        return {k: body.get(k) for k in ("transferState", "completedTimestamp", "fulfilment") if k in body}
    return answer


def transfers(s: Session, ids: list[str], known: dict[str, Any], notes: list[str],
              timeout: float = TRANSFER_TIMEOUT_S) -> dict[str, Any]:
    """Read back `ids` as the params' FSPs that the hub knows and has active (it silently drops a GET from any
    other FSP, which would cost a full timeout per id)."""
    fsps = s.params["fsps"]
    sources = [f for f in (fsps["payer"], *fsps.get("payees", [])) if (known.get(f) or {}).get("isActive")]
    if ids and not sources:
        notes.append("transfers not read back: none of the params' FSPs is an active participant of this hub")
        return {"unavailable": "no active FSP of the params to ask"}
    return {i: _read_transfer(s, i, sources, timeout) for i in ids}


# ---------------------------------------------------------------- the snapshot


def take(s: Session, *, env: str, transfer_ids: list[str], limit: int = TRANSFER_LIMIT) -> dict[str, Any]:
    notes = []
    status, health = _get(s, "ml_api_adapter", "/health")
    snap: dict[str, Any] = {"meta": {
        "env": env, "taken": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "hub": {"release": (health or {}).get("release") if isinstance(health, dict) else None,
                "health_status": status},
        "transfers_limit": limit, "transfers_looked_up": len(transfer_ids), "notes": notes}}
    snap["participants"] = participants(s)
    snap["oracles"] = oracles(s)
    snap["settlement_models"] = settlement_models(s)
    snap["settlement_windows"] = _by_state(s, "settlementWindows", WINDOW_STATES, "settlementWindowId")
    snap["settlements"] = _by_state(s, "settlements", SETTLEMENT_STATES, "id")
    try:
        s.sim.health()
        snap["transfers"] = transfers(s, transfer_ids, snap["participants"], notes)
    except MojacheckError as exc:
        snap["transfers"] = {"unavailable": f"simulator not reachable: {exc}"}
        notes.append("transfers not read back: the simulator (which receives GET /transfers answers) did not answer")
    if len(transfer_ids) >= limit:
        notes.append(f"only the newest {limit} transfer ids of the env's runs were read back (--transfers N)")
    return snap
