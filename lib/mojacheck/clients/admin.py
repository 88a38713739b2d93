"""Operator APIs as a hub operator uses them: central-ledger admin and ALS admin.

Every `ensure_*` reads first and writes only what is missing or different, so provisioning passes again on an
already provisioned hub and never depends on how a given release words its "already exists" errors.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from mojacheck.clients.wait import wait_until
from mojacheck.fspiop import new_id
from mojacheck.fspiop.endpoints import FSPIOP_ENDPOINTS, FX_ENDPOINTS, FXP_ENDPOINTS, endpoint_values
from mojacheck.fspiop.errors import MojacheckError

if TYPE_CHECKING:
    from mojacheck.fspiop import Exchange

__all__ = ["CL", "EMAIL_ENDPOINTS", "FSPIOP_ENDPOINTS", "FXP_ENDPOINTS", "FX_ENDPOINTS", "Admin", "Operator",
           "endpoint_values"]

CL = "central_ledger_admin"

# The notification e-mail endpoints Mojaloop's onboarding registers for the Hub and every DFSP (TTK hub
# provisioning: settlement position changes, NDC adjustments, NDC threshold breaches).
EMAIL_ENDPOINTS = ("SETTLEMENT_TRANSFER_POSITION_CHANGE_EMAIL", "NET_DEBIT_CAP_ADJUSTMENT_EMAIL",
                   "NET_DEBIT_CAP_THRESHOLD_BREACH_EMAIL")


class Operator(Protocol):
    """What the operator APIs need of a session: recorded operator calls and the deadline for awaited state."""

    timeout: float

    def call(self, service: str, method: str, path: str, *, json: Any = None,
             ok: tuple[int, ...] = (200, 201, 202, 204)) -> Exchange: ...


class Admin:
    """central-ledger admin and ALS admin for one session."""

    def __init__(self, session: Operator) -> None:
        self.s = session

    # -- reads ---------------------------------------------------------------------------------------------
    def participants(self) -> list[dict[str, Any]]:
        """GET /participants: every participant of the hub."""
        return self.s.call(CL, "GET", "/participants").response_body or []

    def participant(self, name: str) -> dict[str, Any] | None:
        """The participant named `name` (from GET /participants); None when the hub has none."""
        return next((p for p in self.participants() if p.get("name") == name), None)

    def accounts(self, name: str) -> list[dict[str, Any]]:
        """GET /participants/{name}/accounts: every account of the participant."""
        return self.s.call(CL, "GET", f"/participants/{name}/accounts").response_body or []

    def account(self, name: str, ledger_type: str, currency: str) -> dict[str, Any]:
        """The participant's `ledger_type` account in `currency`; MojacheckError when it has none."""
        for acc in self.accounts(name):
            if acc.get("ledgerAccountType") == ledger_type and acc.get("currency") == currency:
                return acc
        raise MojacheckError(f"{name} has no {ledger_type} account in {currency}")

    def balance(self, name: str, ledger_type: str, currency: str) -> Decimal:
        """The value of the participant's `ledger_type` account in `currency`."""
        return Decimal(str(self.account(name, ledger_type, currency)["value"]))

    def position(self, name: str, currency: str) -> Decimal:
        """The participant's current position in `currency` (GET /participants/{name}/positions)."""
        body = self.s.call(CL, "GET", f"/participants/{name}/positions?currency={currency}").response_body
        item = body[0] if isinstance(body, list) else body
        return Decimal(str(item["value"]))

    def settlement_balance(self, name: str, currency: str) -> Decimal:
        """The value of the participant's SETTLEMENT account in `currency` (funds deposited read negative)."""
        return self.balance(name, "SETTLEMENT", currency)

    def ndc(self, name: str, currency: str) -> Decimal | None:
        """The participant's NET_DEBIT_CAP in `currency`; None when it has none."""
        body = self.s.call(CL, "GET", f"/participants/{name}/limits?currency={currency}&type=NET_DEBIT_CAP"
                           ).response_body or []
        return Decimal(str(body[0]["limit"]["value"])) if body else None

    def endpoints(self, name: str) -> dict[str, str]:
        """The participant's registered endpoints, {type: value}."""
        return {e["type"]: e["value"] for e in self.s.call(CL, "GET", f"/participants/{name}/endpoints"
                                                            ).response_body or []}

    def oracles(self) -> list[dict[str, Any]]:
        """GET /oracles (ALS admin): every registered oracle."""
        return self.s.call("als_admin", "GET", "/oracles").response_body or []

    # -- idempotent writes --------------------------------------------------------------------------------
    def ensure_hub_account(self, ledger_type: str, currency: str) -> str:
        """Create the Hub's `ledger_type` account in `currency` if missing; returns "existed" or "created"."""
        existing = self.s.call(CL, "GET", "/participants/Hub/accounts").response_body or []
        if any(a.get("ledgerAccountType") == ledger_type and a.get("currency") == currency for a in existing):
            return "existed"
        self.s.call(CL, "POST", "/participants/Hub/accounts", json={"type": ledger_type, "currency": currency})
        return "created"

    def settlement_models(self) -> list[dict[str, Any]]:
        """GET /settlementModels: every settlement model of the hub."""
        return self.s.call(CL, "GET", "/settlementModels").response_body or []

    def ensure_settlement_model(self, name: str, **fields: Any) -> str:
        """Create settlement model `name` unless one of that name exists (defaults: NET, MULTILATERAL, DEFERRED,
        POSITION/SETTLEMENT, autoPositionReset; `fields` override them); returns "existed" or "created"."""
        models = self.settlement_models()
        if any(m.get("name") == name for m in models):
            return "existed"
        body = {"name": name, "settlementGranularity": "NET", "settlementInterchange": "MULTILATERAL",
                "settlementDelay": "DEFERRED", "requireLiquidityCheck": True, "ledgerAccountType": "POSITION",
                "settlementAccountType": "SETTLEMENT", "autoPositionReset": True, **fields}
        body = {k: v for k, v in body.items() if v is not None}  # a model without currency is the default one
        self.s.call(CL, "POST", "/settlementModels", json=body)
        return "created"

    def ensure_participant(self, name: str, currency: str) -> str:
        """Make participant `name` hold a POSITION account in `currency`; returns "existed", "created" or
        "currency added"."""
        found = self.participant(name)
        if found and any(a.get("currency") == currency and a.get("ledgerAccountType") == "POSITION"
                         for a in found.get("accounts", [])):
            return "existed"
        self.s.call(CL, "POST", "/participants", json={"name": name, "currency": currency})
        return "created" if not found else "currency added"

    def ensure_active(self, name: str) -> None:
        """Set participant `name` active if it exists and is inactive; otherwise do nothing."""
        found = self.participant(name)
        if found and not found.get("isActive"):
            self.s.call(CL, "PUT", f"/participants/{name}", json={"isActive": True})

    def ensure_ndc(self, name: str, currency: str, value: Decimal) -> str:
        """Make `name`'s NET_DEBIT_CAP in `currency` equal `value`; returns "created" (with initial position 0),
        "updated" or "existed"."""
        current = self.ndc(name, currency)
        limit = {"type": "NET_DEBIT_CAP", "value": str(value), "alarmPercentage": 10}
        if current is None:
            self.s.call(CL, "POST", f"/participants/{name}/initialPositionAndLimits",
                        json={"currency": currency, "limit": {"type": "NET_DEBIT_CAP", "value": str(value)},
                              "initialPosition": 0})
            return "created"
        if current != value:
            self.s.call(CL, "PUT", f"/participants/{name}/limits", json={"currency": currency, "limit": limit})
            return "updated"
        return "existed"

    def ensure_funds(self, name: str, currency: str, target: Decimal) -> Decimal:
        """Top the settlement account up to `target` funds (balance −target); returns the amount deposited."""
        account = self.account(name, "SETTLEMENT", currency)
        funded = -Decimal(str(account["value"]))
        if funded >= target:
            return Decimal(0)
        amount = target - funded
        self.funds_in(name, currency, amount, account_id=account["id"])
        return amount

    def funds_in(self, name: str, currency: str, amount: Decimal, *, account_id: int | None = None) -> str:
        """Record a deposit and wait until the settlement balance shows it (funds in is asynchronous)."""
        account_id = account_id or self.account(name, "SETTLEMENT", currency)["id"]
        before = self.settlement_balance(name, currency)
        transfer_id = new_id()
        self.s.call(CL, "POST", f"/participants/{name}/accounts/{account_id}", json={
            "transferId": transfer_id, "externalReference": f"mojacheck-{transfer_id[:8]}",
            "action": "recordFundsIn", "reason": "mojacheck provisioning",
            "amount": {"amount": str(amount), "currency": currency}})
        wait_until(f"funds in of {amount} {currency} to {name}",
                   lambda: self.settlement_balance(name, currency) == before - amount, timeout=self.s.timeout)
        return transfer_id

    def ensure_endpoints(self, name: str, base: str, table: dict[str, str] | None = None) -> int:
        """Register every callback endpoint of `table` (default FSPIOP_ENDPOINTS) at `base`; returns how many had to
        be (re)written."""
        wanted = endpoint_values(base, table)
        current = self.endpoints(name)
        changed = 0
        for kind, value in wanted.items():
            if current.get(kind) != value:
                self.s.call(CL, "POST", f"/participants/{name}/endpoints", json={"type": kind, "value": value})
                changed += 1
        return changed

    def ensure_email_endpoints(self, name: str, email: str) -> int:
        """Register the notification e-mail endpoints of participant `name` (the Hub included); returns how many
        had to be (re)written."""
        current = self.endpoints(name)
        changed = 0
        for kind in EMAIL_ENDPOINTS:
            if current.get(kind) != email:
                self.s.call(CL, "POST", f"/participants/{name}/endpoints", json={"type": kind, "value": email})
                changed += 1
        return changed

    def ensure_oracle(self, id_type: str, endpoint: str, currency: str | None = None) -> str:
        """Register a default oracle for `id_type` (and `currency`) at `endpoint` unless one exists for that type
        with that currency or none; returns "existed" or "created"."""
        for oracle in self.oracles():
            if oracle.get("oracleIdType") == id_type and oracle.get("currency") in (currency, None):
                return "existed"
        body: dict[str, Any] = {"oracleIdType": id_type, "endpoint": {"value": endpoint, "endpointType": "URL"},
                                "isDefault": True}
        if currency:
            body["currency"] = currency
        self.s.call("als_admin", "POST", "/oracles", json=body)
        return "created"
