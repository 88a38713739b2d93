"""The P2P golden path as one checked step: lookup → quote → transfer, positions before and after.

The first scenario of `20_p2p_golden_path` spells the steps out cell by cell; the variations after it
(RECEIVE, SubId, names, decimals) call `pay`, which makes the same checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from mojacheck.clients.sim import Callback
from mojacheck.fspiop import decode_transaction, fulfilment_matches
from mojacheck.steps.p2p import Party, Quote, Transfer, lookup, quote, transfer

if TYPE_CHECKING:
    from mojacheck.clients.session import Session

__all__ = ["Payment", "check_lookup", "check_positions", "check_quote", "check_transfer", "pay"]


@dataclass(frozen=True)
class Payment:
    """What `pay` did: the lookup callback, the quote, the transfer, and both positions before it."""

    lookup: Callback
    quote: Quote
    transfer: Transfer
    payer_before: Decimal
    payee_before: Decimal


def check_lookup(s: Session, cb: Callback, party: Party) -> None:
    """Check a lookup's callback: no error, held by the party's FSP, name unchanged, SubId kept (if it has one)."""
    body = cb.body if isinstance(cb.body, dict) else {}
    found = body.get("party", {})
    s.check("lookup answered with PUT /parties (no error)", "PUT", "error" if cb.error else cb.method,
            error_code=cb.error_code)
    s.check("party is held by the payee FSP", party.fsp, found.get("partyIdInfo", {}).get("fspId"))
    s.check("party name arrives unchanged (UTF-8)", party.name, found.get("name"))
    if party.sub_id:
        s.check("SubId is kept", party.sub_id, found.get("partyIdInfo", {}).get("partySubIdOrType"))


def check_quote(s: Session, q: Quote, amount: Decimal, amount_type: str) -> None:
    """Check a quote's callback: no error, transferAmount equals `amount` (no fees), and the ILP packet names
    the payee and carries the quote id."""
    s.check("quote answered with PUT /quotes (no error)", "PUT", "error" if q.callback.error else "PUT",
            error_code=q.callback.error_code)
    body = q.callback.body
    s.check(f"transfer amount for a {amount_type} quote (no fees)", amount,
            Decimal(body["transferAmount"]["amount"]))
    tx = decode_transaction(body["ilpPacket"])
    s.check("ILP packet names the payee party", q.payee.identifier,
            tx["payee"]["partyIdInfo"]["partyIdentifier"])
    s.check("ILP packet carries the quote id", q.request["quoteId"], tx.get("quoteId"))


def check_transfer(s: Session, t: Transfer, condition: str) -> None:
    """Check the payer is told COMMITTED and the fulfilment hashes to `condition`."""
    body = t.callback.body if isinstance(t.callback.body, dict) else {}
    s.check("payer is told the transfer is COMMITTED", "COMMITTED",
            t.callback.error_code or body.get("transferState"), error_code=t.callback.error_code)
    s.check("fulfilment hashes to the quote's condition", True,
            fulfilment_matches(body.get("fulfilment", ""), condition))


def check_positions(s: Session, payer: Party, payee: Party, currency: str, amount: Decimal,
                    payer_before: Decimal, payee_before: Decimal) -> None:
    """Check the payer's position rose and the payee's fell by exactly `amount` since the `*_before` values."""
    s.check(f"payer position rose by {amount} {currency}", payer_before + amount,
            s.admin.position(payer.fsp, currency))
    s.check(f"payee position fell by {amount} {currency}", payee_before - amount,
            s.admin.position(payee.fsp, currency))


def pay(s: Session, payer: Party, payee: Party, amount: Decimal | str, currency: str, *,
        amount_type: str = "SEND") -> Payment:
    """Run the golden path with all its checks inside the open scenario."""
    amount = Decimal(str(amount))
    payer_before = s.admin.position(payer.fsp, currency)
    payee_before = s.admin.position(payee.fsp, currency)
    found = lookup(s, payer.fsp, payee)
    check_lookup(s, found, payee)
    q = quote(s, payer, payee, amount, currency, amount_type=amount_type)
    check_quote(s, q, amount, amount_type)
    t = transfer(s, q)
    check_transfer(s, t, q.callback.body["condition"])
    check_positions(s, payer, payee, currency, amount, payer_before, payee_before)
    return Payment(found, q, t, payer_before, payee_before)
