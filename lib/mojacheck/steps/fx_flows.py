"""Checked FX flows: a whole payer-side conversion with its checks (what 25_fx's variations and 40_settlement call),
the checks of each answer, the four positions it must move, and a guard that no money moved in either currency.

Position arithmetic of one conversion (source amount S, target amount T; central-ledger's worked example, fx.md §5.4):
the payer's source position +S at the fxTransfer's prepare; the FXP's target position +T at the dependent transfer's
prepare; at the payee's commit the FXP's source position −S and the payee's target position −T. Nothing else moves:
the payer's target position and the payee's source position stay as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from mojacheck.fspiop import fulfilment_matches, new_id
from mojacheck.fspiop.fx import convert as fx_convert
from mojacheck.steps import fx
from mojacheck.steps.errors import LedgerGuard
from mojacheck.steps.errors import ledger_unchanged as one_currency_unchanged
from mojacheck.steps.golden import pay
from mojacheck.steps.p2p import Party, Quote, Transfer

if TYPE_CHECKING:
    from mojacheck.clients.session import Session
    from mojacheck.expectations import Expectations

__all__ = ["Conversion", "Guards", "check_fulfilled", "check_fx_quote", "check_moves", "convert", "expected_target",
           "ledger_unchanged", "legs", "moves", "pay_converted", "quotes", "reserved"]


def expected_target(net: fx.FxNet, source: Decimal) -> Decimal:
    """What the FXP must quote for ``source`` at the rate and fee the notebook set (rounded down)."""
    return fx_convert(source, rate=net.rate, fee=net.fee, source=net.source, target=net.target).target


def check_fx_quote(s: Session, net: fx.FxNet, q: fx.FxQuote, amount: Decimal, amount_type: str) -> None:
    """The FXP's answer: no error, from the FXP, the fixed side unchanged, the other side at the configured rate and
    fee, a condition to fulfil."""
    s.check("fxQuote answered with PUT /fxQuotes (no error)", "PUT", "error" if q.callback.error else "PUT",
            error_code=q.callback.error_code)
    s.check("the answer comes from the FXP", net.fxp.fsp, q.callback.headers.get("fspiop-source"))
    if amount_type == "SEND":
        s.check(f"source amount as sent: {amount} {net.source}", (amount, net.source),
                (q.source_amount, q.terms["sourceAmount"]["currency"]))
        s.check(f"target amount at rate {net.rate} after a fee of {net.fee} {net.source} (rounded down)",
                (expected_target(net, amount), net.target), (q.target_amount, q.terms["targetAmount"]["currency"]))
    else:
        s.check(f"target amount as asked: {amount} {net.target}", (amount, net.target),
                (q.target_amount, q.terms["targetAmount"]["currency"]))
        s.check(f"the source amount buys at least the target at rate {net.rate} after the fee", True,
                expected_target(net, q.source_amount) >= amount)
    s.check("the FXP's condition is an ILP condition (43 characters)", 43, len(q.callback.body.get("condition", "")))


def check_fulfilled(s: Session, net: fx.FxNet, t: fx.FxTransfer, condition: str) -> None:
    """The FXP's fulfil relayed to the payer: RESERVED (it waits for the dependent transfer), from the FXP, with a
    fulfilment that hashes to the quoted condition."""
    s.check("payer is told the conversion is RESERVED", "RESERVED", t.callback.error_code or t.state,
            error_code=t.callback.error_code)
    s.check("the fulfil comes from the FXP", net.fxp.fsp, t.callback.headers.get("fspiop-source"))
    s.check("the FXP's fulfilment hashes to its condition", True,
            fulfilment_matches(str((t.callback.body or {}).get("fulfilment", "")), condition))


def moves(net: fx.FxNet, source: Decimal, target: Decimal) -> dict[tuple[str, str], Decimal]:
    """The position changes of one committed conversion (zero for every other position of the three)."""
    changes = {(fsp, cur): Decimal(0) for fsp in net.fsps for cur in (net.source, net.target)}
    changes[(net.payer.fsp, net.source)] += source
    changes[(net.fxp.fsp, net.source)] -= source
    changes[(net.fxp.fsp, net.target)] += target
    changes[(net.payee.fsp, net.target)] -= target
    return changes


def reserved(net: fx.FxNet, source: Decimal) -> dict[tuple[str, str], Decimal]:
    """The position changes while a conversion waits for its dependent transfer: the payer's source position only."""
    changes = {(fsp, cur): Decimal(0) for fsp in net.fsps for cur in (net.source, net.target)}
    changes[(net.payer.fsp, net.source)] += source
    return changes


def check_moves(s: Session, net: fx.FxNet, before: fx.Positions, changes: dict[tuple[str, str], Decimal],
                after: fx.Positions | None = None) -> fx.Positions:
    """Each position of payer, FXP and payee in both currencies moved by exactly its change; returns them."""
    after = after or fx.positions(s, net)
    for (fsp, cur), change in changes.items():
        s.check(f"{fsp} {cur} position {'moved by ' + format(change, '+f') if change else 'unchanged'}",
                before[(fsp, cur)] + change, after[(fsp, cur)])
    return after


@dataclass(frozen=True)
class Conversion:
    """One payer-side conversion done: the fxQuote, the payee's quote, the fxTransfer, the dependent transfer and
    the positions before and after."""

    fx_quote: fx.FxQuote
    quote: Quote
    fx_transfer: fx.FxTransfer
    transfer: Transfer
    before: fx.Positions
    after: fx.Positions

    @property
    def source_amount(self) -> Decimal:
        return self.fx_quote.source_amount

    @property
    def target_amount(self) -> Decimal:
        return self.fx_quote.target_amount


def quotes(s: Session, net: fx.FxNet, amount: Decimal, amount_type: str = "SEND", payee: Party | None = None
           ) -> tuple[fx.FxQuote, Quote]:
    """SEND converts first, then quotes the payee for what the FXP delivers; RECEIVE quotes the payee first, then
    asks the FXP for what the payee's quote needs (as the Testing Toolkit's merchant flow)."""
    determining, payee = new_id(), payee or net.payee
    if amount_type == "SEND":
        fxq = fx.fx_quote(s, net, amount, determining_transfer_id=determining)
        check_fx_quote(s, net, fxq, amount, "SEND")
        q = fx.quote_in_target(s, net, fxq.target_amount, determining, payee=payee)
    else:
        q = fx.quote_in_target(s, net, amount, determining, amount_type="RECEIVE", payee=payee)
        fxq = fx.fx_quote(s, net, Decimal(q.transfer_amount["amount"]), amount_type="RECEIVE",
                          determining_transfer_id=determining)
        check_fx_quote(s, net, fxq, Decimal(q.transfer_amount["amount"]), "RECEIVE")
    s.check("payee's quote is in the target currency, for what the FXP delivers",
            (str(fxq.target_amount), net.target), (q.transfer_amount.get("amount"), q.transfer_amount.get("currency")))
    return fxq, q


def convert(s: Session, net: fx.FxNet, amount: Decimal | str, *, amount_type: str = "SEND",
            payee: Party | None = None) -> Conversion:
    """A whole payer-side conversion with its checks, inside the open scenario: fxQuote, payee quote, fxTransfer
    (payer reserved in the source currency), dependent transfer (FXP reserved in the target currency), commit of both
    (PATCH COMMITTED to the FXP), the four positions moved to the last decimal and nothing else."""
    amount, payee = Decimal(str(amount)), payee or net.payee
    sub = fx.FxNet(net.payer, net.fxp, payee, net.source, net.target, net.rate, net.fee)
    fxq, q = quotes(s, sub, amount, amount_type, payee)
    before = fx.positions(s, sub)
    t = fx.fx_transfer(s, fx.fx_transfer_body(fxq))
    check_fulfilled(s, sub, t, fxq.callback.body["condition"])
    check_moves(s, sub, before, reserved(sub, fxq.source_amount))
    mark = s.sim.mark()
    transfer = fx.dependent_transfer(s, fx.dependent_body(q, fxq.determining_transfer_id))
    s.check("payer is told the dependent transfer is COMMITTED", "COMMITTED",
            transfer.callback.error_code or transfer.state, error_code=transfer.callback.error_code)
    patch = s.await_callback(sub.fxp.fsp, "fxTransfers", t.commit_request_id, after=mark, method="PATCH")
    s.check("the FXP is told by PATCH: conversion COMMITTED", ("COMMITTED", "Hub"),
            ((patch.body or {}).get("conversionState"), patch.headers.get("fspiop-source")))
    after = check_moves(s, sub, before, moves(sub, fxq.source_amount, fxq.target_amount))
    return Conversion(fxq, q, t, transfer, before, after)


def legs(net: fx.FxNet, source: Decimal, target: Decimal) -> list[tuple[str, str, Decimal, str]]:
    """A conversion as settlement sees it, two legs (payer, payee, amount, currency): payer → FXP in the source
    currency, FXP → payee in the target currency (what a settlement tally adds)."""
    return [(net.payer.fsp, net.fxp.fsp, source, net.source), (net.fxp.fsp, net.payee.fsp, target, net.target)]


def pay_converted(s: Session, net: fx.FxNet, exp: Expectations, amount: Decimal | str
                  ) -> list[tuple[str, str, Decimal, str]]:
    """The payer pays the payee ``amount`` of the source currency, converted by the FXP, and the legs that moved.
    From release 17 a real conversion (``convert``); before, FX does not exist and the payer pays the FXP, which pays
    the payee what its rate gives: two ordinary transfers with the same legs, so a settlement nets them the same."""
    amount = Decimal(str(amount))
    if exp.fx_available:
        done = convert(s, net, amount)
        return legs(net, done.source_amount, done.target_amount)
    target = expected_target(net, amount)
    pay(s, net.payer, net.fxp, amount, net.source)
    pay(s, net.fxp, net.payee, target, net.target)
    return legs(net, amount, target)


@dataclass
class Guards:
    """The ledger guards of both currencies; ``expect_move`` files a move under its currency's guard."""

    by_currency: dict[str, LedgerGuard]

    def expect_move(self, fsp: str, currency: str, delta: Decimal) -> None:
        """Declare that ``fsp``'s POSITION in ``currency`` moves by ``delta``."""
        self.by_currency[currency].expect_move(fsp, "POSITION", currency, delta)


@contextmanager
def ledger_unchanged(s: Session, net: fx.FxNet) -> Iterator[Guards]:
    """Positions and settlement balances of payer, FXP and payee in both currencies read the same after the block
    as before (or moved by exactly what the block declared)."""
    with ExitStack() as stack:
        yield Guards({cur: stack.enter_context(one_currency_unchanged(s, net.fsps, cur))
                      for cur in (net.source, net.target)})
