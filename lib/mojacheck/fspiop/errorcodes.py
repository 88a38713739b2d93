"""The FSPIOP error-code table: messages, sync HTTP statuses, error bodies.

Data: `data/error_codes.json` (our own file; its `_note` says where the facts came from).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from mojacheck.fspiop.errors import FspiopError

DESCRIPTION_MAX = 128  # errorDescription is at most 128 characters [EH factory.js]
FALLBACK_CODE = "3100"  # what central-ledger substitutes for an errorCode outside every category
_DEFAULT_STATUS = 400  # codes with no category of their own (3PPI 7xxx) are client-side errors


@dataclass(frozen=True)
class ErrorCode:
    code: str
    key: str
    message: str
    http_status: int | None  # None: only ever sent in an error callback


@dataclass(frozen=True)
class ErrorCategory:
    prefix: str  # first two digits of the code
    type: str
    description: str
    http_status: int


@cache
def _table() -> tuple[dict[str, ErrorCode], dict[str, ErrorCategory]]:
    raw = json.loads(resources.files("mojacheck.fspiop").joinpath("data/error_codes.json").read_text("utf-8"))
    codes: dict[str, ErrorCode] = {}
    for entry in raw["codes"]:
        # A code may have a variant entry (3000 "Method Not Allowed"); the primary meaning wins the lookup.
        if entry.get("variant") and entry["code"] in codes:
            continue
        codes[entry["code"]] = ErrorCode(entry["code"], entry["key"], entry["message"], entry["httpStatus"])
    categories = {
        c["prefix"]: ErrorCategory(c["prefix"], c["type"], c["description"], c["httpStatus"]) for c in raw["categories"]
    }
    return codes, categories


def all_codes() -> dict[str, ErrorCode]:
    """Every known code (primary meaning), keyed by the 4-digit string."""
    return dict(_table()[0])


def lookup(code: str) -> ErrorCode:
    """The table entry of a known code; FspiopError for an unknown one."""
    entry = _table()[0].get(str(code))
    if entry is None:
        raise FspiopError(f"unknown FSPIOP error code {code!r}")
    return entry


def category_of(code: str) -> ErrorCategory | None:
    code = str(code)
    if len(code) != 4 or not code.isdigit():
        return None
    return _table()[1].get(code[:2])


def is_known(code: str) -> bool:
    return str(code) in _table()[0]


def _category_base(code: str) -> str:
    # Scheme-specific codes (xx40–xx99) and other unlisted ones read as their category's xx00 entry.
    return str(code)[:2] + "00"


def error_message(code: str) -> str:
    """Standard message of a code; an unlisted code in a known category gets its category's xx00 message."""
    code = str(code)
    if is_known(code):
        return lookup(code).message
    if category_of(code) is not None and is_known(_category_base(code)):
        return lookup(_category_base(code)).message
    raise FspiopError(f"unknown FSPIOP error code {code!r}")


def http_status(code: str) -> int:
    """The status a hub answers synchronously with: the code's own, else its category's."""
    code = str(code)
    own = lookup(code).http_status if is_known(code) else None
    if own is not None:
        return own
    category = category_of(code)
    if category is not None:
        return category.http_status
    if is_known(code):
        return _DEFAULT_STATUS
    raise FspiopError(f"unknown FSPIOP error code {code!r}")


def normalise_code(code: Any) -> str:
    """Known codes and codes in a known category range stay; others become 3100 (as central-ledger)."""
    text = str(code)
    if is_known(text) or category_of(text) is not None:
        return text
    return FALLBACK_CODE


def error_description(code: str, detail: str | None = None) -> str:
    """`"<standard message> - <detail>"`, cut to 128 characters."""
    message = error_message(code)
    text = message if not detail else f"{message} - {detail}"
    return text[:DESCRIPTION_MAX]


def error_body(
    code: str, detail: str | None = None, extension_list: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """`{"errorInformation": {errorCode, errorDescription, extensionList?}}`, sync answer or callback."""
    info: dict[str, Any] = {"errorCode": str(code), "errorDescription": error_description(code, detail)}
    if extension_list:
        info["extensionList"] = {"extension": list(extension_list)}
    return {"errorInformation": info}
