"""Steps of the operator APIs' refusals and reads (15_operator_api): central-ledger admin and central-settlement,
answered as they are (a refusal is an answer to check, not an exception)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from mojacheck.clients.admin import CL

if TYPE_CHECKING:
    from mojacheck.clients.session import Session
    from mojacheck.fspiop import Exchange

__all__ = ["admin_answer", "is_number", "relocated_endpoint", "settlement_answer"]

_ANY = (200, 201, 202, 204, 400, 404, 405, 500)


def admin_answer(s: Session, method: str, path: str, body: Any = None) -> Exchange:
    """A central-ledger admin call whatever it answers (status and errorInformation left to the checks)."""
    return s.call(CL, method, path, json=body, ok=_ANY)


def settlement_answer(s: Session, path: str) -> Exchange:
    """A central-settlement GET whatever it answers."""
    return s.call("central_settlement", "GET", path, ok=_ANY)


def is_number(value: Any) -> bool:
    """Whether a parsed JSON value was a number (central-ledger writes money as numbers, not strings)."""
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def relocated_endpoint(base: str, fsp: str) -> str:
    """Where `fsp`'s parties error callbacks go while its endpoint is moved: a path of the simulator that it files
    under `<fsp>-moved`."""
    return f"{base.rstrip('/')}/{fsp}-moved/parties/{{{{partyIdType}}}}/{{{{partyIdentifier}}}}/error"
