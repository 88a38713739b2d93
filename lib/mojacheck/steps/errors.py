"""Steps of the error-scenario notebooks (21, 22): expectations shown, ledgers guarded, answers checked, state restored.

An error scenario proves three things: the code the hub answers with, the state the hub reports afterwards, and
that no money moved (payer and payee positions and settlement balances exactly as before). Every temporary change
a scenario makes to the hub (a tighter net debit cap, an inactive participant or account) is a context manager
that puts the old value back even when the scenario fails, and says so with a check.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mojacheck.clients.admin import CL
from mojacheck.clients.sim import Callback
from mojacheck.evidence.render import show_html
from mojacheck.expectations import RELEASES, Expectations, expectations_for, from_params
from mojacheck.fspiop import error_message, jws, new_id, request_headers
from mojacheck.fspiop.client import dump_json
from mojacheck.steps.p2p import Quote, expect_accepted, get_transfer

if TYPE_CHECKING:
    from mojacheck.clients.session import Session
    from mojacheck.fspiop import Exchange

__all__ = [
    "LedgerGuard", "SyncError", "account_inactive", "answer", "balance_becomes", "cause_of", "check_answer",
    "check_code_choice", "check_payee_told", "check_state",
    "check_sync_error", "delivered", "description", "funds_out_finish", "funds_out_reserve", "headroom_ndc",
    "ledger", "ledger_unchanged", "net_debit_cap", "participant_inactive", "post_transfer", "put_as_payee",
    "raw_fspiop", "refused_post", "sent_fulfil", "settlement_balance_becomes", "show_expectations", "sync_error",
    "tampered_put_error", "timestamp", "transfer_body", "unknown_fsp", "unknown_msisdn",
]

_SETTLE_S = 5.0  # how long a ledger may lag the callback that reported the outcome (Kafka on a real hub)


# -- expectations -----------------------------------------------------------------------------------------------
def show_expectations(s: Session) -> Expectations:
    """Show the expectations row this run applies (with the other releases beside it) and the deployment flags."""
    exp = from_params(s.params)
    others = {r: expectations_for(r) for r in RELEASES}
    head = ["entry", f"applied (release {exp.release})", *[f"release {r}" for r in RELEASES], "meaning"]
    rows = []
    for name, value, meaning in exp.rows():
        cells = [name, value, *[dict((n, v) for n, v, _ in others[r].rows())[name] for r in RELEASES], meaning]
        rows.append(cells)
    deployment = s.params.get("deployment") or {}
    flags = [
        ["hub.release", str(s.params["hub"]["release"])],
        ["hub.embedded", str(s.params["hub"].get("embedded"))],
        ["deployment.on_us_transfers", str(deployment.get("on_us_transfers"))],
        ["deployment.supported_versions", _or_default(deployment.get("supported_versions"), "the release's own")],
        ["api.version", str(s.params["api"]["version"])],
        ["hub.expiry_interval_s", str(s.params["hub"].get("expiry_interval_s"))],
        ["timeouts.callback_s", str(s.params["timeouts"]["callback_s"])],
    ]
    text = "\n".join(f"{r[0]}: {r[1]}" for r in rows) + "\n" + "\n".join(f"{k} = {v}" for k, v in flags)
    show_html("<h4>Expectations applied</h4>" + _table(head, rows)
              + "<h4>Deployment flags of this run</h4>" + _table(["param", "value"], flags), text)
    return exp


def _or_default(value: Any, default: str) -> str:
    return default if not value else ", ".join(str(v) for v in value)


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{th}</tr>{body}</table>"


# -- ledger guard -----------------------------------------------------------------------------------------------
def ledger(s: Session, fsps: list[str], currency: str) -> dict[str, Decimal]:
    """Position and settlement balance of each FSP in `currency`, keyed "fsp POSITION USD"."""
    values: dict[str, Decimal] = {}
    for fsp in fsps:
        values[f"{fsp} POSITION {currency}"] = s.admin.position(fsp, currency)
        values[f"{fsp} SETTLEMENT {currency}"] = s.admin.settlement_balance(fsp, currency)
    return values


@dataclass
class LedgerGuard:
    """What a scenario expects its ledgers to read at the end: `before`, plus the moves it declares; `expectation`
    names the table entry those moves depend on (carried by the checks, so a comparison of two releases pairs them)."""

    before: dict[str, Decimal]
    moves: dict[str, Decimal] = field(default_factory=dict)
    expectation: str | None = None

    def expect_move(self, fsp: str, ledger_type: str, currency: str, delta: Decimal) -> None:
        """Declare that `fsp`'s `ledger_type` account in `currency` moves by `delta` (adds to earlier moves)."""
        key = f"{fsp} {ledger_type} {currency}"
        self.moves[key] = self.moves.get(key, Decimal(0)) + Decimal(delta)

    def expected(self) -> dict[str, Decimal]:
        """What each ledger must read at the end: its `before` value plus its declared moves."""
        return {k: v + self.moves.get(k, Decimal(0)) for k, v in self.before.items()}


@contextmanager
def ledger_unchanged(s: Session, fsps: list[str], currency: str, *, expectation: str | None = None
                     ) -> Iterator[LedgerGuard]:
    """Read the FSPs' positions and settlement balances, run the block, then check each reads the same again
    (or moved by exactly what the block declared with `expect_move`, per the table's `expectation` entry)."""
    guard = LedgerGuard(ledger(s, fsps, currency), expectation=expectation)
    try:
        yield guard
    finally:
        wanted = guard.expected()
        deadline = time.monotonic() + min(_SETTLE_S, s.timeout)
        after = ledger(s, fsps, currency)
        while after != wanted and time.monotonic() < deadline:
            time.sleep(0.2)
            after = ledger(s, fsps, currency)
        for key, value in wanted.items():
            moved = guard.moves.get(key)
            what = f"moved by exactly {moved}" if moved else "exactly as before"
            s.check(f"{key} {what}", value, after[key], expectation=guard.expectation)


# -- temporary changes to the hub ----------------------------------------------------------------------------
@contextmanager
def net_debit_cap(s: Session, fsp: str, currency: str, value: Decimal) -> Iterator[Decimal]:
    """Set `fsp`'s NDC to `value` for the block; the old cap is put back afterwards (and checked)."""
    old = s.admin.ndc(fsp, currency)
    if old is None:
        raise ValueError(f"{fsp} has no {currency} net debit cap to change; run 10_provisioning first")
    s.admin.ensure_ndc(fsp, currency, Decimal(value))
    try:
        yield Decimal(value)
    finally:
        s.admin.ensure_ndc(fsp, currency, old)
        s.check(f"{fsp} {currency} NDC restored", old, s.admin.ndc(fsp, currency))


def headroom_ndc(s: Session, fsp: str, currency: str, headroom: Decimal) -> Decimal:
    """An NDC that leaves `fsp` exactly `headroom` of room above its current position (never below 0)."""
    return max(s.admin.position(fsp, currency) + Decimal(headroom), Decimal(0))


@contextmanager
def participant_inactive(s: Session, fsp: str) -> Iterator[None]:
    """`fsp` set inactive for the block, active again afterwards (checked)."""
    s.call(CL, "PUT", f"/participants/{fsp}", json={"isActive": False})
    try:
        yield
    finally:
        s.call(CL, "PUT", f"/participants/{fsp}", json={"isActive": True})
        s.check(f"{fsp} is active again", True, bool((s.admin.participant(fsp) or {}).get("isActive")))


@contextmanager
def account_inactive(s: Session, fsp: str, ledger_type: str, currency: str) -> Iterator[None]:
    """One account of `fsp` set inactive for the block, active again afterwards (checked)."""
    account_id = s.admin.account(fsp, ledger_type, currency)["id"]
    s.call(CL, "PUT", f"/participants/{fsp}/accounts/{account_id}", json={"isActive": False})
    try:
        yield
    finally:
        s.call(CL, "PUT", f"/participants/{fsp}/accounts/{account_id}", json={"isActive": True})
        s.check(f"{fsp} {ledger_type} {currency} account is active again", True,
                bool(s.admin.account(fsp, ledger_type, currency).get("isActive")))


# -- transfers --------------------------------------------------------------------------------------------------
def timestamp(delta_s: float = 0) -> str:
    """UTC now (+ `delta_s`) as FSPIOP writes date-times: ISO-8601, milliseconds, Z."""
    return (datetime.now(UTC) + timedelta(seconds=delta_s)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def delivered(s: Session, fsp: str, resource: str, key: str, *, after: int, method: str | None = None) -> int:
    """How many messages the hub delivered to `fsp` about `resource`/`key` since `after` (no waiting)."""
    query = {"fsp": fsp, "resource": resource, "key": key, "after": after, "direction": "in", "method": method}
    found = s.sim._call("GET", "/_sim/inbox", params=query)
    return sum(1 for item in found["items"] if item.get("direction", "in") == "in")


def transfer_body(q: Quote, *, expires_in_s: float = 60, payee_fsp: str | None = None) -> dict[str, Any]:
    """The POST /transfers body for an accepted quote, with a fresh transferId (not sent yet)."""
    return {
        "transferId": new_id(), "payerFsp": q.payer.fsp, "payeeFsp": payee_fsp or q.payee.fsp,
        "amount": dict(q.transfer_amount), "ilpPacket": q.callback.body["ilpPacket"],
        "condition": q.callback.body["condition"], "expiration": timestamp(expires_in_s),
    }


def post_transfer(s: Session, body: dict[str, Any]) -> Exchange:
    """POST /transfers as the payer without waiting for any callback (the 202 is checked)."""
    ex = s.fspiop("POST", "ml_api_adapter", "/transfers", source=body["payerFsp"], destination=body["payeeFsp"],
                  body=body)
    expect_accepted(ex, "POST /transfers")
    return ex


def answer(cb: Callback) -> str:
    """What a callback says in one word: its error code, else the transferState, else its method."""
    if cb.error:
        return cb.error_code or "error without errorCode"
    body = cb.body if isinstance(cb.body, dict) else {}
    return str(body.get("transferState") or cb.method)


def description(cb: Callback) -> str:
    """The callback's errorInformation.errorDescription; "" when it has none."""
    body = cb.body if isinstance(cb.body, dict) else {}
    return str((body.get("errorInformation") or {}).get("errorDescription") or "")


def check_answer(s: Session, what: str, expected: str | None, cb: Callback, *,
                 expectation: str | None = None) -> None:
    """`what` is answered with `expected` (an error code or a transfer state); the check names the code."""
    label = f"{expected} {error_message(expected)}" if expected and expected.isdigit() else str(expected)
    code = expected if expected and expected.isdigit() else None
    s.check(f"{what}: {label}", expected, answer(cb), error_code=code, expectation=expectation)


def check_state(s: Session, requester: str, transfer_id: str, expected: str, *,
                expectation: str | None = None, cause: str | None = None) -> Callback:
    """GET /transfers/{ID} as `requester` and check what the hub reports (a state, or an error code); with
    `cause`, also the `cause` extension central-ledger adds to an aborted transfer ("<code>: <description>")."""
    cb = get_transfer(s, requester, transfer_id)
    check_answer(s, f"GET /transfers as {requester} afterwards", expected, cb, expectation=expectation)
    if cause is not None:
        s.check("read-back carries the error cause extension", cause, cause_of(cb), expectation=expectation)
    return cb


def cause_of(cb: Callback) -> str | None:
    """The value of the `cause` extension of a transfer read-back (None when it carries none)."""
    body = cb.body if isinstance(cb.body, dict) else {}
    for item in ((body.get("extensionList") or {}).get("extension")) or []:
        if isinstance(item, dict) and item.get("key") == "cause":
            return str(item.get("value"))
    return None


def check_payee_told(s: Session, payee: str, transfer_id: str, code: str, *, after: int) -> None:
    """Whether the payee hears the error its answer caused follows the deployment's
    SEND_TRANSFER_CONFIRMATION_TO_PAYEE (expectations: transfer_confirmation_to_payee); the payer's callback came
    first, so without the flag nothing may have arrived by now."""
    if s.expectations.transfer_confirmation_to_payee:
        cb = s.await_callback(payee, "transfers", transfer_id, after=after, error=True)
        check_answer(s, "payee is told (confirmations to payees on)", code, cb,
                     expectation="transfer_confirmation_to_payee")
        return
    seen = delivered(s, payee, "transfers", transfer_id, after=after, method="PUT")
    s.check("payee gets no copy of the error (confirmations to payees off)", 0, seen,
            expectation="transfer_confirmation_to_payee")


def check_code_choice(s: Session, situation: str, actual: str, expected: str | None,
                      candidates: tuple[str, ...], *, expectation: str) -> None:
    """For each candidate code: is it the one answering `situation`? (True for the table's code, False for the
    others), so a run names every candidate code and a comparison sees which one a release uses."""
    for code in candidates:
        s.check(f"{code} {error_message(code)} answers {situation}", code == expected, code == actual,
                error_code=code, expectation=expectation)


def sent_fulfil(s: Session, fsp: str, transfer_id: str, *, after: int) -> dict[str, Any]:
    """The body of the fulfil (PUT /transfers/{ID}) the simulator sent to the hub as payee `fsp`."""
    for item in s.sim.sent(fsp, "transfers", transfer_id, after=after):
        if item.get("method") == "PUT" and isinstance(item.get("body"), dict) and "fulfilment" in item["body"]:
            return dict(item["body"])
    raise LookupError(f"the simulator sent no fulfil for {transfer_id} as {fsp}")


def put_as_payee(s: Session, payee: str, payer: str, transfer_id: str, body: dict[str, Any], *,
                 error: bool = False) -> Exchange:
    """PUT /transfers/{ID}[/error] as the payee FSP (what a payee's connector would send)."""
    path = f"/transfers/{transfer_id}{'/error' if error else ''}"
    return s.fspiop("PUT", "ml_api_adapter", path, source=payee, destination=payer, body=body)


# -- raw protocol requests ------------------------------------------------------------------------------------
def raw_fspiop(s: Session, method: str, service: str, path: str, *, source: str, destination: str | None = None,
               body: Any = None, headers: Mapping[str, str] | None = None, drop: tuple[str, ...] = ()) -> Exchange:
    """An FSPIOP request with chosen headers replaced (`headers`) or left out (`drop`, names any case)."""
    resource = path.strip("/").split("/")[0].split("?")[0]
    sent = request_headers(resource, source, destination, version=s.api_version,
                           accept=method in ("GET", "POST", "DELETE"))
    gone = {name.lower() for name in drop}
    sent = {k: v for k, v in sent.items() if k.lower() not in gone}
    for name, value in (headers or {}).items():
        sent = {k: v for k, v in sent.items() if k.lower() != name.lower()}
        sent[name] = value
    return s._request(method, f"{s.services[service]}{path}", headers=sent, json=body)


@dataclass(frozen=True)
class SyncError:
    """A synchronous refusal as read by `sync_error`: HTTP status, errorCode (None if absent), description, and
    the versions a 3001 lists in its extensionList."""

    status: int
    code: str | None
    description: str
    versions: tuple[str, ...]  # 3001's extensionList read back as "major.minor"


def sync_error(ex: Exchange) -> SyncError:
    """Read the hub's synchronous answer as a SyncError (code None and description "" when the body has none)."""
    body = ex.response_body if isinstance(ex.response_body, dict) else {}
    info = body.get("errorInformation") or {}
    extensions = ((info.get("extensionList") or {}).get("extension")) or []
    versions = tuple(f"{e.get('key')}.{e.get('value')}" for e in extensions if isinstance(e, dict))
    return SyncError(ex.status, info.get("errorCode"), str(info.get("errorDescription") or ""), versions)


def check_sync_error(s: Session, what: str, ex: Exchange, status: int, code: str) -> SyncError:
    """The hub refused synchronously: HTTP `status` and errorInformation `code` (the check names the code)."""
    err = sync_error(ex)
    s.check(f"{what}: HTTP {status} with {code} {error_message(code)}", f"{status} {code}",
            f"{err.status} {err.code}", error_code=code)
    return err


def tampered_put_error(s: Session, source: str, destination: str, transfer_id: str) -> Exchange:
    """PUT /transfers/{ID}/error signed as `source` with its key, the body changed after signing (the signature no
    longer verifies). Raises ValueError when the session has no key for `source`."""
    key = s.fsp_signing_key(source)
    if key is None:
        raise ValueError(f"no JWS signing key for {source} (jws.fsp_keys_dir)")
    path = f"/transfers/{transfer_id}/error"
    error = {"errorCode": "5105", "errorDescription": "Payee FSP rejected transaction"}
    headers = request_headers("transfers", source, destination, version=s.api_version, accept=False)
    headers.update({"FSPIOP-URI": path, "FSPIOP-HTTP-Method": "PUT"})
    signed = jws.signed_headers(headers, dump_json({"errorInformation": error}), key)
    changed = {"errorInformation": {**error, "errorDescription": "changed after signing"}}
    return s._request("PUT", f"{s.services['ml_api_adapter']}{path}", headers=signed, content=dump_json(changed))


# -- funds out --------------------------------------------------------------------------------------------------

def refused_post(s: Session, q: Quote, what: str, status: int, code: str, *,
                 headers: Mapping[str, str] | None = None, drop: tuple[str, ...] = ()) -> SyncError:
    """POST /transfers for a fresh transfer of quote ``q`` with headers replaced (``headers``) or left out
    (``drop``): the hub must refuse it synchronously with ``status``/``code`` and record nothing (a GET answers
    3208)."""
    body = transfer_body(q)
    ex = raw_fspiop(s, "POST", "ml_api_adapter", "/transfers", source=q.payer.fsp, destination=q.payee.fsp,
                    body=body, headers=headers, drop=drop)
    err = check_sync_error(s, what, ex, status, code)
    check_state(s, q.payer.fsp, body["transferId"], "3208")
    return err

def funds_out_reserve(s: Session, fsp: str, currency: str, amount: Decimal) -> str:
    """recordFundsOutPrepareReserve on `fsp`'s settlement account; returns the funds-out transfer id."""
    account_id = s.admin.account(fsp, "SETTLEMENT", currency)["id"]
    transfer_id = new_id()
    s.call(CL, "POST", f"/participants/{fsp}/accounts/{account_id}", json={
        "transferId": transfer_id, "externalReference": f"mojacheck-{transfer_id[:8]}",
        "action": "recordFundsOutPrepareReserve", "reason": "mojacheck funds out",
        "amount": {"amount": str(amount), "currency": currency}})
    return transfer_id


def funds_out_finish(s: Session, fsp: str, currency: str, transfer_id: str, *, commit: bool) -> None:
    """recordFundsOutCommit or recordFundsOutAbort of a reserved funds out."""
    account_id = s.admin.account(fsp, "SETTLEMENT", currency)["id"]
    action = "recordFundsOutCommit" if commit else "recordFundsOutAbort"
    s.call(CL, "PUT", f"/participants/{fsp}/accounts/{account_id}/transfers/{transfer_id}",
           json={"action": action, "reason": f"mojacheck {action}"})


def settlement_balance_becomes(s: Session, fsp: str, currency: str, value: Decimal) -> Decimal:
    """Wait (deadline: timeouts.callback_s) until the settlement balance reads `value`; returns what it reads."""
    return balance_becomes(s, fsp, "SETTLEMENT", currency, value)


def balance_becomes(s: Session, name: str, ledger_type: str, currency: str, value: Decimal) -> Decimal:
    """Wait (deadline: timeouts.callback_s) until `name`'s `ledger_type` account reads `value` (funds are booked
    after the 202 on a real hub); returns what it reads."""
    deadline = time.monotonic() + s.timeout
    current = s.admin.balance(name, ledger_type, currency)
    while current != value and time.monotonic() < deadline:
        time.sleep(0.2)
        current = s.admin.balance(name, ledger_type, currency)
    return current


def unknown_msisdn() -> str:
    """An MSISDN no oracle knows (fresh digits every run)."""
    return "2779" + str(int(new_id().replace("-", ""), 16))[-8:]


def unknown_fsp() -> str:
    """A made-up FSP id no hub has registered: "mcghost" and 8 random hex digits (fresh every call)."""
    return "mcghost" + new_id().replace("-", "")[:8]
