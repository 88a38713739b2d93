"""The operator's side of settlement outside central-settlement: the settlement models a scheme has, and the bank
movements of a settlement, booked as funds in/out on the FSPs' SETTLEMENT accounts against the Hub's
HUB_RECONCILIATION account, each checked for what central-ledger moves (funds in: both at once; funds out: the
reserve moves SETTLEMENT, the commit HUB_RECONCILIATION)."""

from __future__ import annotations

import contextlib
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mojacheck.clients.admin import CL
from mojacheck.clients.wait import wait_until
from mojacheck.fspiop import new_id
from mojacheck.fspiop.errors import WaitTimeout

if TYPE_CHECKING:
    from mojacheck.clients.session import Session

__all__ = ["funds_out", "model_for", "record_bank_movement", "scheme_models"]


# -- models ----------------------------------------------------------------------------------------------
def scheme_models(params: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The settlement models a scheme typically has, as (name, currency): the default deferred-net model of
    ``provisioning.settlement_model`` (no currency: it settles every currency without a model of its own) and a
    deferred-net model per further currency, ``<name><CUR>`` (as Mojaloop's onboarding names them)."""
    name = str(params["provisioning"]["settlement_model"])
    return [(name, None), *[(f"{name}{currency}", currency) for currency in params["currencies"][1:]]]


def model_for(params: dict[str, Any], currency: str) -> str:
    """The name of the model that settles `currency` (see `scheme_models`)."""
    return dict((cur, name) for name, cur in scheme_models(params)).get(currency) or scheme_models(params)[0][0]


# -- bank movements --------------------------------------------------------------------------------------
def funds_out(s: Session, fsp: str, currency: str, amount: Decimal, *,
              recon_at_reserve: Decimal | None = None) -> str:
    """Record a withdrawal (reserve, then commit) and wait until the settlement balance shows it; with
    `recon_at_reserve`, check the reserve left HUB_RECONCILIATION at that value."""
    account_id = s.admin.account(fsp, "SETTLEMENT", currency)["id"]
    before = s.admin.settlement_balance(fsp, currency)
    transfer_id = new_id()
    s.call(CL, "POST", f"/participants/{fsp}/accounts/{account_id}", json={
        "transferId": transfer_id, "externalReference": f"mojacheck-{transfer_id[:8]}",
        "action": "recordFundsOutPrepareReserve", "reason": "mojacheck settlement payment",
        "amount": {"amount": str(amount), "currency": currency}})
    wait_until(f"funds out of {amount} {currency} from {fsp} reserved",
               lambda: s.admin.settlement_balance(fsp, currency) == before + amount, timeout=s.timeout)
    if recon_at_reserve is not None:
        s.check(f"funds out {amount} {currency} from {fsp}: the reserve leaves hub reconciliation as it was",
                recon_at_reserve, s.admin.balance("Hub", "HUB_RECONCILIATION", currency))
    s.call(CL, "PUT", f"/participants/{fsp}/accounts/{account_id}/transfers/{transfer_id}",
           json={"action": "recordFundsOutCommit", "reason": "mojacheck settlement payment"})
    return transfer_id


def record_bank_movement(s: Session, fsp: str, currency: str, net: Decimal) -> str:
    """The settlement bank moved the money: a net sender paid (funds out), a net recipient was paid (funds in).
    Checks what each booking moves: funds in moves SETTLEMENT and HUB_RECONCILIATION at once; funds out's reserve
    moves only SETTLEMENT, its commit only HUB_RECONCILIATION (as central-ledger books them)."""
    bank, recon = s.admin.settlement_balance(fsp, currency), s.admin.balance("Hub", "HUB_RECONCILIATION", currency)
    if net > 0:
        funds_out(s, fsp, currency, net, recon_at_reserve=recon)
        what = f"funds out {net} {currency} from {fsp}"
    elif net < 0:
        s.admin.funds_in(fsp, currency, -net)
        what = f"funds in {-net} {currency} to {fsp}"
    else:
        return f"nothing to move for {fsp} in {currency}"
    now = _once_booked(s, fsp, currency, (bank + net, recon - net))  # funds are booked after the 202
    s.check(f"{what}: SETTLEMENT account of {fsp} moved by {net}", bank + net, now[0])
    s.check(f"{what}: hub reconciliation moved by {-net}", recon - net, now[1])
    return what


def _once_booked(s: Session, fsp: str, currency: str, wanted: tuple[Decimal, Decimal]) -> tuple[Decimal, Decimal]:
    """SETTLEMENT and HUB_RECONCILIATION balances once they read `wanted` (or what they read at the deadline)."""
    def read() -> tuple[Decimal, Decimal]:
        return s.admin.settlement_balance(fsp, currency), s.admin.balance("Hub", "HUB_RECONCILIATION", currency)

    with contextlib.suppress(WaitTimeout):  # at the deadline, the checks show what was read instead
        wait_until(f"the bank movement of {fsp} in {currency} to be booked", lambda: read() == wanted,
                   timeout=s.timeout)
    return read()


