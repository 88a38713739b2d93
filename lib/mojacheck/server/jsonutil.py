"""JSON in and out without ever turning money into floats.

FSPIOP carries amounts as strings, but a non-conforming peer may send a number; ``parse_float=Decimal``
keeps it exact. On the way out a Decimal is written as a string, the FSPIOP wire form; the operator APIs
(central-ledger admin, central-settlement) write money as JSON numbers, which ``dumps_numbers`` does from the
Decimal's own digits (never through a float).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from starlette.responses import Response

JSON_MEDIA = "application/json"


class JsonBodyError(ValueError):
    """A request body is not valid JSON (the message says where)."""


def loads(data: bytes | str) -> Any:
    """Parse JSON; non-integer numbers become Decimal. Raises JsonBodyError on bad input."""
    try:
        return json.loads(data, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise JsonBodyError(f"invalid JSON body: {exc}") from None


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(body: Any) -> bytes:
    """Serialise compactly (no spaces, like JSON.stringify) to UTF-8 bytes; Decimal → string."""
    return json.dumps(body, default=_default, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


_NUMBER_MARK = "\u0000num:"
_NUMBER_RE = re.compile(r'"\\u0000num:(-?[0-9]+(?:\.[0-9]+)?)"')


def _number_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value}")
        text = format(value.normalize(), "f") if value != 0 else "0"
        return _NUMBER_MARK + text
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps_numbers(body: Any) -> bytes:
    """Like ``dumps``, but each Decimal becomes a JSON number with exactly its digits (``Decimal("10.50")`` →
    ``10.5``), as central-ledger's ``MLNumber.toNumber()`` writes money."""
    text = json.dumps(body, default=_number_default, separators=(",", ":"), ensure_ascii=False)
    return _NUMBER_RE.sub(lambda m: m.group(1), text).encode("utf-8")


def numbers_response(body: Any, status: int = 200) -> Response:
    """An operator-API JSON answer with Decimals as JSON numbers."""
    return Response(dumps_numbers(body), status_code=status, media_type=JSON_MEDIA)


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None, media_type: str = JSON_MEDIA
) -> Response:
    """A Starlette response with ``dumps(body)``; ``body=None`` sends an empty body (e.g. 202/204)."""
    content = b"" if body is None else dumps(body)
    return Response(content, status_code=status, headers=headers, media_type=media_type if content else None)
