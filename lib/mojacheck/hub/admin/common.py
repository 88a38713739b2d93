"""What every central-ledger admin route shares: the participant lookup and its error, per release.

central-ledger's ``participantExists`` answers a participant it does not know with 400/3200 "Generic ID not found -
participant not found" since v19.9.1 (helm v17 here), and with 500/2001 "Internal server error - Participant does
not exist" before; an inactive one (where activity is checked) with 2001 "Participant is currently set inactive".
"""

from __future__ import annotations

import re
import sqlite3
from typing import TYPE_CHECKING, Any

from mojacheck.hub import ledger
from mojacheck.hub.web import ApiError

if TYPE_CHECKING:
    from mojacheck.hub.context import Hub

CURRENCY = re.compile(r"^[A-Z]{3}$")

# central-ledger's hapi server reformats every Joi validation failure as 3101 Malformed syntax (its server-wide
# routes.validate.failAction in src/shared/setup.js, the same from v13 on; no admin route sets its own): a missing,
# mistyped or out-of-range field alike. central-settlement boomifies instead, so its Joi codes differ.
INVALID = "3101"


def participant_or_missing(hub: Hub, name: str, *, active: bool = False) -> sqlite3.Row:
    row = ledger.participant(hub.db, name)
    if row is None:
        if hub.release.participant_not_found_3200:
            raise ApiError("3200", "participant not found")
        raise ApiError("2001", "Participant does not exist")
    if active and not row["is_active"]:
        raise ApiError("2001", "Participant is currently set inactive")
    return row


def check_currency(value: Any, field: str = "currency") -> str:
    """Joi's currency validator: a value outside the list is ``any.only``, i.e. 3101 Malformed syntax."""
    if not isinstance(value, str) or not CURRENCY.match(value):
        raise ApiError("3101", f'"{field}" must be one of the ISO 4217 currency codes')
    return value
