"""JSON in and out without ever turning money into floats.

FSPIOP carries amounts as strings, but a non-conforming peer may send a number; ``parse_float=Decimal``
keeps it exact. On the way out a Decimal is written as a string, the FSPIOP wire form.
"""

from __future__ import annotations

import json
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


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None, media_type: str = JSON_MEDIA
) -> Response:
    """A Starlette response with ``dumps(body)``; ``body=None`` sends an empty body (e.g. 202/204)."""
    content = b"" if body is None else dumps(body)
    return Response(content, status_code=status, headers=headers, media_type=media_type if content else None)
