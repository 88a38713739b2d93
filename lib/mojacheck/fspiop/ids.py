"""Client-generated FSPIOP ids (transferId, quoteId, ...) and the shapes a hub accepts (behaviour ref §1)."""

from __future__ import annotations

import re
import uuid

# v1.x CorrelationId: lowercase UUID, versions 1–5, RFC 4122 variant.
_UUID_V1 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
# v2.0 widens it to UUID v1–7 and ULID (Crockford base32, no I, L, O, U).
_UUID_V2 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-7][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def new_id() -> str:
    """A fresh UUID v4, lowercase: valid in every API version."""
    return str(uuid.uuid4())


def is_valid_id(value: str, version: str = "1.1") -> bool:
    """Whether `value` is a CorrelationId in FSPIOP `version` ("1.0", "1.1", "2.0")."""
    if not isinstance(value, str):
        return False
    if version.split(".", 1)[0] == "1":
        return _UUID_V1.fullmatch(value) is not None
    return _UUID_V2.fullmatch(value) is not None or _ULID.fullmatch(value) is not None
