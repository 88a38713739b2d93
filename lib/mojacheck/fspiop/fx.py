"""What an FXP's quote does with a rate and a fee, in exact decimals (never float), for the simulator that plays
the FXP and for the checks that hold it to the rate a notebook configured.

SEND (the source amount is fixed): the fee is taken in the source currency, the rest converted and rounded **down**
to the target currency's minor unit. RECEIVE (the target amount is fixed): the target amount converted back and
rounded **up** to the source currency's minor unit, plus the fee. Either way the FXP never gives away a minor unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from mojacheck.fspiop.ilp import currency_exponent

__all__ = ["Conversion", "convert", "money_text"]


@dataclass(frozen=True)
class Conversion:
    """Both amounts of a conversion and the FXP's fee in each currency (the fee's target value is informational)."""

    source: Decimal
    target: Decimal
    fee_source: Decimal
    fee_target: Decimal


def _unit(currency: str) -> Decimal:
    return Decimal(1).scaleb(-currency_exponent(currency))


def money_text(value: Decimal) -> str:
    """An FSPIOP Amount string: plain digits, no exponent, no trailing zeros ("65000", "10.5")."""
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def convert(amount: Decimal, *, rate: Decimal, fee: Decimal, source: str, target: str,
            amount_type: str = "SEND") -> Conversion:
    """The conversion an FXP quotes: ``amount`` is the source amount for SEND, the target amount for RECEIVE;
    ``rate`` is target units per source unit, ``fee`` is in the source currency. ValueError for a rate that is not
    positive or an amount that does not cover the fee."""
    if rate <= 0:
        raise ValueError(f"rate must be positive, got {rate}")
    fee_target = (fee * rate).quantize(_unit(target), rounding=ROUND_FLOOR)
    if amount_type == "SEND":
        converted = ((amount - fee) * rate).quantize(_unit(target), rounding=ROUND_FLOOR)
        if converted <= 0:
            raise ValueError(f"{amount} {source} does not cover the fee of {fee} {source}")
        return Conversion(amount, converted, fee, fee_target)
    if amount_type == "RECEIVE":
        needed = (amount / rate).quantize(_unit(source), rounding=ROUND_CEILING) + fee
        return Conversion(needed, amount, fee, fee_target)
    raise ValueError(f"amountType must be SEND or RECEIVE, got {amount_type!r}")
