"""How values read in a sentence: the one formatter for check values, release-table values and counts.

Every report an adopter reads (a check table, the run comparison, the upgrade guide) shows values through
`prose`, so a Python repr (`('1.0', '1.1')`, `None`, `True`, `Decimal('7.5')`) never reaches the page: lists read
"1.0, 1.1 and 2.0", None "none" (or what none means for a release-table entry: "no liquidity check"), booleans
"yes"/"no", Decimals with their digits. `counted` puts the right noun after a number ("1 check", "2 entities").
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["NONE_READS_AS", "STATE_OR_CODE", "and_list", "change", "counted", "prose"]

# What "none" means for a release-table entry (mojacheck/expectations.py) whose value can be None.
NONE_READS_AS: dict[str, str] = {"unfunded_payer_code": "no liquidity check", "fxp_discovery": "no FX"}
# Entries whose value is an error code at some releases and a state at others: a code reads "3303 error", so
# "3303 error → ABORTED" says what an FSP hears before and after.
STATE_OR_CODE: frozenset[str] = frozenset({"expired_transfer_get"})


def prose(value: Any, entry: str | None = None) -> str:
    """`value` as words. With `entry` (a release-table entry's name) the entry's own phrases apply: what its
    None means, and whether a bare code needs the word "error" beside the states it alternates with."""
    if value is None:
        return NONE_READS_AS.get(entry or "", "none")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return "; ".join(f"{_part(k)}: {_part(v)}" for k, v in value.items()) or "none"
    if isinstance(value, (set, frozenset)):
        value = sorted(value, key=_part)  # a set has no order of its own: one spelling per set
    if isinstance(value, (list, tuple)):
        return and_list([_part(v, entry) for v in value])
    text = str(value)
    if entry in STATE_OR_CODE and text.isdigit():
        return f"{text} error"
    return text


def _part(value: Any, entry: str | None = None) -> str:
    """An item inside a list or mapping: a nested sequence is one record ("mcpayerfsp USD"), a nested mapping
    is bracketed, so the outer list's commas and "and" still separate the items."""
    if isinstance(value, (list, tuple)):
        return " ".join(_part(v, entry) for v in value)
    if isinstance(value, Mapping):
        return f"({prose(value)})"
    return prose(value, entry)


def and_list(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"; "none" for no items."""
    if not items:
        return "none"
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} and {items[-1]}"


def change(entry: str | None, before: Any, after: Any) -> str:
    """A value's move across an upgrade, in the entry's words: "no liquidity check → 4001"."""
    return f"{prose(before, entry)} → {prose(after, entry)}"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` with the noun in the number it needs: "1 difference", "0 checks", "2 entities" (plural given)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"
