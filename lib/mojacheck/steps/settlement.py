"""Settlement as a hub operator runs it (central-settlement v2), with the notebook's own bookkeeping.

Three parts:

* a client for windows and settlements, including what an operator does before a settlement run
  (`settle_pending`: close the open window if it holds transfers, finish or abort what is in progress,
  settle every closed or aborted window);
* `Tally`, the notebook's independent count of the transfers it made, from which it predicts every net
  amount, position and hub balance, never reading them from the settlement it checks;
* the ledger invariant: for each currency, the values of **all** accounts of all participants, the `Hub`
  included, sum to zero. Every movement the hub books is double-entry: a transfer moves the payer's and the
  payee's POSITION, funds in/out move a DFSP's SETTLEMENT account against HUB_RECONCILIATION, and each
  settlement step moves a POSITION against HUB_MULTILATERAL_SETTLEMENT. Provisioning starts every account
  at zero (initialPosition 0). The one legitimate exception is a transfer in flight (reserved, not yet
  committed or aborted), so the check waits, with a deadline, for the hub to be quiet first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mojacheck.clients.wait import wait_until
from mojacheck.fspiop.errors import MojacheckError, WaitTimeout
from mojacheck.steps.bank import funds_out, model_for, record_bank_movement, scheme_models

if TYPE_CHECKING:
    from mojacheck.clients.session import Session
    from mojacheck.fspiop import Exchange

__all__ = [
    "CL",
    "CS",
    "IN_PROGRESS",
    "NEXT",
    "STEPS",
    "Books",
    "Key",
    "Tally",
    "abort_settlement",
    "account_errors",
    "books_for",
    "by_key",
    "check_ledger_balanced",
    "check_step",
    "close_window",
    "create_settlement",
    "drive_to_settled",
    "error_code",
    "expected_hub_multilateral",
    "expected_positions",
    "find_settlements",
    "funds_out",
    "get_settlement",
    "hub_multilateral",
    "hub_reconciliation",
    "ledger_snapshot",
    "ledger_total",
    "model_for",
    "money",
    "open_window",
    "participant_view",
    "plot_nets",
    "position_accounts",
    "positions",
    "query_settlements",
    "read_settlement",
    "record_bank_movement",
    "scheme_models",
    "settle_pending",
    "settlement_balances",
    "step_accounts",
    "wait_ledger_quiet",
    "wait_window_state",
    "window",
    "windows",
]

CS = "central_settlement"
CL = "central_ledger_admin"
STEPS = ("PS_TRANSFERS_RECORDED", "PS_TRANSFERS_RESERVED", "PS_TRANSFERS_COMMITTED", "SETTLED")
NEXT = {"PENDING_SETTLEMENT": "PS_TRANSFERS_RECORDED", "PS_TRANSFERS_RECORDED": "PS_TRANSFERS_RESERVED",
        "PS_TRANSFERS_RESERVED": "PS_TRANSFERS_COMMITTED", "PS_TRANSFERS_COMMITTED": "SETTLED",
        "SETTLING": "SETTLED"}
IN_PROGRESS = ("PENDING_SETTLEMENT", "PS_TRANSFERS_RECORDED", "PS_TRANSFERS_RESERVED", "PS_TRANSFERS_COMMITTED",
               "SETTLING")
Key = tuple[str, str]  # (fsp, currency)


def money(value: Any) -> Decimal:
    """`value` as an exact Decimal (read through str, so 0.1 stays 0.1)."""
    return Decimal(str(value))


# -- the notebook's own count ------------------------------------------------------------------------------
@dataclass
class Tally:
    """Net per (FSP, currency) of the transfers the notebook made: + what it sent, − what it received."""

    nets: dict[Key, Decimal] = field(default_factory=dict)
    transfers: list[tuple[str, str, Decimal, str]] = field(default_factory=list)

    def add(self, payer: str, payee: str, amount: Decimal | str, currency: str) -> None:
        """Count one transfer: `payer`'s net rises by `amount`, `payee`'s falls by it."""
        amount = Decimal(str(amount))
        self.transfers.append((payer, payee, amount, currency))
        self.nets[(payer, currency)] = self.nets.get((payer, currency), Decimal(0)) + amount
        self.nets[(payee, currency)] = self.nets.get((payee, currency), Decimal(0)) - amount

    def net(self, fsp: str, currency: str) -> Decimal:
        """`fsp`'s net in `currency` (+ owes, − is owed); 0 when it took part in no counted transfer."""
        return self.nets.get((fsp, currency), Decimal(0))

    def currencies(self) -> list[str]:
        """The currencies of the counted transfers, sorted."""
        return sorted({c for _f, c in self.nets})

    def only(self, currency: str) -> Tally:
        """The part of the tally in `currency` (what a currency's own settlement model settles)."""
        part = Tally()
        for payer, payee, amount, cur in self.transfers:
            if cur == currency:
                part.add(payer, payee, amount, cur)
        return part


def expected_positions(after_transfers: dict[Key, Decimal], tally: Tally, state: str) -> dict[Key, Decimal]:
    """Positions once every account reached `state` (autoPositionReset): recipients rise at RESERVED,
    senders fall at COMMITTED; from COMMITTED on, each position is back to its value before the transfers."""
    out = {}
    for key, value in after_transfers.items():
        net = tally.net(*key)
        reset = state in ("PS_TRANSFERS_COMMITTED", "SETTLING", "SETTLED")
        if reset or (state == "PS_TRANSFERS_RESERVED" and net < 0):
            value -= net
        out[key] = value
    return out


def expected_hub_multilateral(before: dict[str, Decimal], tally: Tally, state: str) -> dict[str, Decimal]:
    """HUB_MULTILATERAL_SETTLEMENT per currency: it takes what recipients' positions gain at RESERVED and
    gives it back as senders' positions fall at COMMITTED."""
    out = {}
    for currency, value in before.items():
        if state == "PS_TRANSFERS_RESERVED":
            value += sum((n for (_f, c), n in tally.nets.items() if c == currency and n < 0), Decimal(0))
        out[currency] = value
    return out


# -- ledger reads and the invariant ------------------------------------------------------------------------
def ledger_snapshot(s: Session, currencies: Iterable[str]) -> dict[tuple[str, str, str], Decimal]:
    """Every account of every participant (Hub included) in `currencies`: (name, ledgerAccountType, currency)."""
    wanted = set(currencies)
    snap = {}
    for p in s.admin.participants():
        for acc in s.admin.accounts(p["name"]):
            if acc.get("currency") in wanted:
                snap[(p["name"], acc["ledgerAccountType"], acc["currency"])] = money(acc.get("value", 0))
    return snap


def ledger_total(snapshot: dict[tuple[str, str, str], Decimal], currency: str) -> Decimal:
    """Sum of a `ledger_snapshot`'s accounts in `currency` (0 on a balanced ledger)."""
    return sum((v for (_n, _t, c), v in snapshot.items() if c == currency), Decimal(0))


def check_ledger_balanced(s: Session, currencies: Iterable[str], after: str) -> dict[tuple[str, str, str], Decimal]:
    """One check per currency: Σ all accounts (positions, settlement, hub reconciliation, hub multilateral) = 0."""
    currencies = list(currencies)
    snap = ledger_snapshot(s, currencies)
    for currency in currencies:
        parts = {t: Decimal(0) for t in ("POSITION", "SETTLEMENT", "HUB_RECONCILIATION", "HUB_MULTILATERAL_SETTLEMENT")}
        for (_n, t, c), v in snap.items():
            if c == currency:
                parts[t] = parts.get(t, Decimal(0)) + v
        detail = " + ".join(f"{t} {v}" for t, v in parts.items())
        total = ledger_total(snap, currency)
        s.check(f"ledger balanced after {after}: Σ all {currency} accounts = 0", Decimal(0), total)
        if total != 0:
            s.check(f"ledger parts after {after} ({currency})", "sum 0", detail)
    return snap


def wait_ledger_quiet(s: Session, currencies: Iterable[str], timeout: float) -> bool:
    """Wait until no transfer is in flight (every currency balances); False at the deadline."""
    currencies = list(currencies)

    def balanced() -> bool:
        snap = ledger_snapshot(s, currencies)
        return all(ledger_total(snap, c) == 0 for c in currencies)

    try:
        wait_until("the ledger to balance (no transfer in flight)", balanced, timeout=timeout, interval=0.5)
    except WaitTimeout:
        return False
    return True


def positions(s: Session, fsps: Iterable[str], currencies: Iterable[str]) -> dict[Key, Decimal]:
    """Current position of each FSP in each currency, keyed (FSP, currency)."""
    return {(f, c): s.admin.position(f, c) for f in fsps for c in currencies}


def hub_multilateral(s: Session, currencies: Iterable[str]) -> dict[str, Decimal]:
    """Balance of the Hub's HUB_MULTILATERAL_SETTLEMENT account per currency."""
    return {c: s.admin.balance("Hub", "HUB_MULTILATERAL_SETTLEMENT", c) for c in currencies}


def settlement_balances(s: Session, fsps: Iterable[str], currencies: Iterable[str]) -> dict[Key, Decimal]:
    """SETTLEMENT account balance of each FSP in each currency, keyed (FSP, currency)."""
    return {(f, c): s.admin.settlement_balance(f, c) for f in fsps for c in currencies}


def position_accounts(s: Session, fsps: Iterable[str]) -> dict[int, Key]:
    """POSITION account id (what the Settlement API calls an account) → (FSP, currency)."""
    out = {}
    for fsp in fsps:
        for acc in s.admin.accounts(fsp):
            if acc["ledgerAccountType"] == "POSITION":
                out[int(acc["id"])] = (fsp, acc["currency"])
    return out


# -- windows ---------------------------------------------------------------------------------------------
def _list(s: Session, path: str) -> list[dict[str, Any]]:
    """A list query; central-settlement answers 400/3100 "... not found" when nothing matches."""
    ex = s.call(CS, "GET", path, ok=(200, 400))
    if ex.status == 400:
        info = (ex.response_body or {}).get("errorInformation", {})
        if "not found" in str(info.get("errorDescription", "")):
            return []
        raise MojacheckError(f"GET {path}: {info}")
    return ex.response_body or []


def windows(s: Session, **filters: Any) -> list[dict[str, Any]]:
    """GET /settlementWindows with `filters` (None values left out); [] when none match."""
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v is not None)
    return _list(s, f"/settlementWindows?{query}")


def window(s: Session, window_id: int) -> dict[str, Any]:
    """GET /settlementWindows/{id}: one settlement window."""
    return s.call(CS, "GET", f"/settlementWindows/{window_id}").response_body


def open_window(s: Session) -> dict[str, Any]:
    """The OPEN settlement window; raises MojacheckError unless there is exactly one."""
    found = windows(s, state="OPEN")
    if len(found) != 1:
        raise MojacheckError(f"expected exactly one OPEN settlement window, found {len(found)}")
    return found[0]


def close_window(s: Session, window_id: int, reason: str) -> Any:
    """POST the close; returns the exchange (200 with the new OPEN window, or the refusal)."""
    return s.call(CS, "POST", f"/settlementWindows/{window_id}", json={"state": "CLOSED", "reason": reason},
                  ok=(200, 400))


def wait_window_state(s: Session, window_id: int, states: Iterable[str], timeout: float | None = None) -> dict:
    """Closing is asynchronous: poll the window until it is in one of `states` (deadline: the callback timeout)."""
    wanted = set(states)

    def probe() -> dict[str, Any] | None:
        current = window(s, window_id)
        return current if current["state"] in wanted else None

    return wait_until(f"settlement window {window_id} to reach {'/'.join(sorted(wanted))}", probe,
                      timeout=timeout or s.timeout)


# -- settlements -----------------------------------------------------------------------------------------
def create_settlement(s: Session, model: str, window_ids: Iterable[int], reason: str) -> Any:
    """POST /settlements of `window_ids` under settlement model `model`; returns the exchange (200 or the 400)."""
    body = {"settlementModel": model, "reason": reason, "settlementWindows": [{"id": i} for i in window_ids]}
    return s.call(CS, "POST", "/settlements", json=body, ok=(200, 400))


def get_settlement(s: Session, settlement_id: int) -> dict[str, Any]:
    """GET /settlements/{id}: the settlement body (an error answer raises UnexpectedResponse)."""
    return s.call(CS, "GET", f"/settlements/{settlement_id}").response_body


def read_settlement(s: Session, settlement_id: int) -> Exchange:
    """GET /settlements/{id} as answered (200 with the settlement, or 400/404 with errorInformation)."""
    return s.call(CS, "GET", f"/settlements/{settlement_id}", ok=(200, 400, 404))


def query_settlements(s: Session, **filters: Any) -> Exchange:
    """GET /settlements with ``filters`` as answered: Mojaloop refuses a query without any filter (400/3100)."""
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v is not None)
    return s.call(CS, "GET", f"/settlements{'?' + query if query else ''}", ok=(200, 400))


def participant_view(s: Session, settlement_id: int, participant_id: int) -> dict[str, Any]:
    """GET /settlements/{id}/participants/{participantId}: the settlement as one participant sees it."""
    return s.call(CS, "GET", f"/settlements/{settlement_id}/participants/{participant_id}").response_body


def find_settlements(s: Session, **filters: Any) -> list[dict[str, Any]]:
    """GET /settlements with `filters` (None values left out); [] when none match."""
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v is not None)
    return _list(s, f"/settlements?{query}")


def step_accounts(s: Session, settlement: dict[str, Any], state: str, reason: str, *,
                  only: Iterable[int] | None = None, external_reference: str | None = None) -> dict[str, Any]:
    """PUT /settlements/{id}: move every account (or the participants in `only`) to `state`."""
    keep = set(only) if only is not None else None
    participants = []
    for p in settlement["participants"]:
        if keep is not None and p["id"] not in keep:
            continue
        accounts = []
        for a in p["accounts"]:
            item = {"id": a["id"], "state": state, "reason": reason}
            if external_reference:
                item["externalReference"] = external_reference
            accounts.append(item)
        participants.append({"id": p["id"], "accounts": accounts})
    return s.call(CS, "PUT", f"/settlements/{settlement['id']}", json={"participants": participants}).response_body


def account_errors(answer: dict[str, Any]) -> list[str]:
    """The accounts a PUT /settlements/{id} answer refused, one "account <id>: <description>" line each."""
    return [f"account {a.get('id')}: {a['errorInformation'].get('errorDescription')}"
            for p in answer.get("participants", []) for a in p.get("accounts", []) if "errorInformation" in a]


def error_code(exchange: Any) -> str | None:
    """The errorCode of a refused operator call, None when it was not refused."""
    body = exchange.response_body if isinstance(exchange.response_body, dict) else {}
    code = body.get("errorInformation", {}).get("errorCode")
    return None if code is None else str(code)


def abort_settlement(s: Session, settlement_id: int, reason: str) -> Any:
    """PUT /settlements/{id} state ABORTED; returns the exchange (200 or the 400 refusal)."""
    return s.call(CS, "PUT", f"/settlements/{settlement_id}", json={"state": "ABORTED", "reason": reason},
                  ok=(200, 400))


def by_key(settlement: dict[str, Any], accounts: dict[int, Key], what: str = "net") -> dict[Key, Any]:
    """Net amounts (`what="net"`) or states (`"state"`) of a settlement's accounts by (FSP, currency);
    accounts of FSPs outside `accounts` are keyed ("?account <id>", currency)."""
    out: dict[Key, Any] = {}
    for p in settlement.get("participants", []):
        for a in p.get("accounts", []):
            key = accounts.get(int(a["id"]), (f"?account {a['id']}", a["netSettlementAmount"]["currency"]))
            out[key] = money(a["netSettlementAmount"]["amount"]) if what == "net" else a.get("state")
    return out


def drive_to_settled(s: Session, settlement_id: int, reason: str) -> dict[str, Any]:
    """Take a settlement through its remaining steps; raises if a step is refused."""
    current = get_settlement(s, settlement_id)
    while current["state"] in NEXT:
        answer = step_accounts(s, current, NEXT[current["state"]], reason)
        if errors := account_errors(answer):
            raise MojacheckError(f"settlement {settlement_id}: {'; '.join(errors)}")
        current = get_settlement(s, settlement_id)
    return current


def settle_pending(s: Session, models: str | list[str], reason: str = "mojacheck: clean start") -> list[str]:
    """What an operator does before a settlement run, for each settlement model (a window holds content of
    every model: each settles its own); returns what was done, one line per action."""
    done = []
    for state in IN_PROGRESS:
        for st in find_settlements(s, state=state):
            committed = any(a.get("state") == "PS_TRANSFERS_COMMITTED" for p in st["participants"]
                            for a in p["accounts"])
            if state in ("PENDING_SETTLEMENT", "PS_TRANSFERS_RECORDED", "PS_TRANSFERS_RESERVED") and not committed:
                abort_settlement(s, st["id"], reason)
                done.append(f"aborted settlement {st['id']} (was {state})")
            else:
                drive_to_settled(s, st["id"], reason)
                done.append(f"settled settlement {st['id']} (was {state})")
    current = open_window(s)["settlementWindowId"]
    # An OPEN window shows no content (central-ledger makes it at close): try the close, an empty one is refused.
    closing = close_window(s, current, reason)
    if closing.status == 200:
        wait_window_state(s, current, ("CLOSED",))
        done.append(f"closed window {current}")
    elif "is empty" not in str((closing.response_body or {}).get("errorInformation", {}).get("errorDescription")):
        raise MojacheckError(f"closing window {current}: {closing.response_body}")
    for model in [models] if isinstance(models, str) else models:
        done += _settle_model(s, model, reason)
    return done or ["nothing was pending"]


def _settle_model(s: Session, model: str, reason: str) -> list[str]:
    """Settle every window with unsettled content of `model`, one window at a time (a window without such
    content is refused with 3100 and left)."""
    done = []
    states = ("CLOSED", "ABORTED", "PENDING_SETTLEMENT")
    for window_id in sorted({w["settlementWindowId"] for state in states for w in windows(s, state=state)}):
        ex = create_settlement(s, model, [window_id], reason)
        if ex.status == 200:
            drive_to_settled(s, ex.response_body["id"], reason)
            done.append(f"settled window {window_id} ({model}) in settlement {ex.response_body['id']}")
    return done


@dataclass
class Books:
    """What the checks of a settlement step compare against: the notebook's tally and the balances it read
    before the settlement moved anything."""

    tally: Tally
    accounts: dict[int, Key]  # POSITION account id → (FSP, currency)
    after_transfers: dict[Key, Decimal]  # positions once the window's transfers were committed
    hub_before: dict[str, Decimal]  # HUB_MULTILATERAL_SETTLEMENT per currency before the settlement
    currencies: list[str]
    # Balances a settlement step never moves (SETTLEMENT accounts and HUB_RECONCILIATION: the bank movement is
    # booked apart, with funds in/out); read before the settlement, checked at every step. Empty: not checked.
    bank_before: dict[Key, Decimal] = field(default_factory=dict)
    recon_before: dict[str, Decimal] = field(default_factory=dict)


def books_for(s: Session, tally: Tally, accounts: dict[int, Key], after_transfers: dict[Key, Decimal],
              hub_before: dict[str, Decimal], currencies: list[str]) -> Books:
    """Books for a settlement of `currencies`, with the SETTLEMENT and HUB_RECONCILIATION balances read now."""
    fsps = sorted({f for f, _c in accounts.values()})
    return Books(tally, accounts, after_transfers, {c: hub_before[c] for c in currencies}, currencies,
                 settlement_balances(s, fsps, currencies), hub_reconciliation(s, currencies))


def hub_reconciliation(s: Session, currencies: Iterable[str]) -> dict[str, Decimal]:
    """Balance of the Hub's HUB_RECONCILIATION account per currency."""
    return {c: s.admin.balance("Hub", "HUB_RECONCILIATION", c) for c in currencies}


def check_step(s: Session, settlement: dict[str, Any], state: str, books: Books, *, window_ids: Iterable[int],
               external_reference: str | None = None) -> dict[str, Any]:
    """Move every account of `settlement` to `state` and check what that must do: no account refused, the
    settlement's and accounts' states, every position and hub balance (predicted from the tally), the
    windows' state, and the ledger invariant. Returns the settlement read back."""
    answer = step_accounts(s, settlement, state, f"mojacheck: {state}", external_reference=external_reference)
    s.check(f"{state}: no account refused", [], account_errors(answer))
    current = get_settlement(s, settlement["id"])
    s.check(f"{state}: settlement state", state, current["state"])
    states = by_key(current, books.accounts, "state")
    s.check(f"{state}: every account's state", {state}, set(states.values()))
    wanted = expected_positions(books.after_transfers, books.tally, state)
    now = positions(s, sorted({f for f, _c in wanted}), books.currencies)
    for key in sorted(books.tally.nets):
        s.check(f"{state}: position of {key[0]} in {key[1]}", wanted[key], now[key])
    hub = hub_multilateral(s, books.currencies)
    for currency, value in expected_hub_multilateral(books.hub_before, books.tally, state).items():
        s.check(f"{state}: hub multilateral settlement account {currency}", value, hub[currency])
    window_state = "SETTLED" if state == "SETTLED" else "PENDING_SETTLEMENT"
    for window_id in window_ids:
        s.check(f"{state}: window state", window_state, window(s, window_id)["state"])
    _check_untouched(s, state, books)
    check_ledger_balanced(s, books.currencies, after=state)
    return current


def _check_untouched(s: Session, state: str, books: Books) -> None:
    """A settlement step moves positions and the hub multilateral account only: every FSP's SETTLEMENT account and
    the HUB_RECONCILIATION account read as before the settlement."""
    if books.bank_before:
        fsps = sorted({f for f, _c in books.bank_before})
        now = settlement_balances(s, fsps, books.currencies)
        for (fsp, currency), value in sorted(books.bank_before.items()):
            s.check(f"{state}: SETTLEMENT account of {fsp} in {currency} untouched", value, now[(fsp, currency)])
    for currency, value in sorted(books.recon_before.items()):
        s.check(f"{state}: hub reconciliation {currency} untouched", value,
                s.admin.balance("Hub", "HUB_RECONCILIATION", currency))


def plot_nets(tally: Tally, title: str = "Net settlement positions (+ owes, − is owed)") -> Any:
    """One bar chart per currency of the tally's net amounts by FSP."""
    import matplotlib.pyplot as plt

    currencies = tally.currencies()
    fig, axes = plt.subplots(1, len(currencies), figsize=(5 * len(currencies), 3.2), squeeze=False)
    for ax, currency in zip(axes[0], currencies, strict=True):
        items = sorted((f, n) for (f, c), n in tally.nets.items() if c == currency)
        values = [float(n) for _f, n in items]  # plotting only; the checks use the Decimals
        ax.bar([f for f, _n in items], values, color=["#c0392b" if v > 0 else "#27ae60" for v in values])
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_title(currency)
        ax.tick_params(axis="x", labelrotation=20)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
