"""Small HTTP helpers shared by every hub route: sync errors, JSON bodies, required fields."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mojacheck.fspiop import error_body, http_status

log = logging.getLogger("mojacheck.hub")

MAX_BODY = 5 * 1024 * 1024  # FSPIOP payload limit; larger → 3104
# No FSPIOP, 3PPI or operator body nests more than about 10 levels; a bound keeps every later walk of a body (hashing,
# relaying) far from Python's recursion limit. Node's JSON.parse has none, so Mojaloop accepts deeper junk.
MAX_DEPTH = 64
MAX_SAFE_INTEGER = 2**53 - 1  # JavaScript's Number.MAX_SAFE_INTEGER
_INTEGER = re.compile(r"-?[0-9]+")

Handler = Callable[[Request], Awaitable[Response]]


class ApiError(Exception):
    """A synchronous error answer: ``{"errorInformation": …}`` with the code's HTTP status."""

    def __init__(
        self,
        code: str,
        detail: str | None = None,
        *,
        status: int | None = None,
        extension_list: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(f"{code} {detail or ''}".strip())
        self.code = code
        self.detail = detail
        self.status = status
        self.extension_list = extension_list

    def response(self) -> JSONResponse:
        return error_response(self.code, self.detail, status=self.status, extension_list=self.extension_list)


class PayloadTooLarge(ApiError):
    """3104: the body passed MAX_BODY (raised from inside ``receive`` while the body streams in)."""

    def __init__(self) -> None:
        super().__init__("3104", f"Payload is larger than {MAX_BODY // (1024 * 1024)} MB")


class BodyLimit:
    """Refuses a body over ``limit`` bytes while it streams in, so a huge body is never held in memory: at once when
    its Content-Length says so (as Mojaloop's header validation does), else as soon as the bytes received pass the
    limit (a chunked body). Handlers see the refusal as a PayloadTooLarge raised by ``receive``."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            await PayloadTooLarge().response()(scope, receive, send)
            return
        received, answered = 0, False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise PayloadTooLarge()
            return message

        async def watched(message: Message) -> None:
            nonlocal answered
            answered = answered or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except PayloadTooLarge as exc:
            if answered:
                raise
            await exc.response()(scope, receive, send)


def error_response(
    code: str,
    detail: str | None = None,
    *,
    status: int | None = None,
    extension_list: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body = error_body(code, detail, extension_list)
    return JSONResponse(body, status_code=status or http_status(code))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _deeper_than(value: Any, limit: int) -> bool:
    """True when ``value`` nests objects/arrays more than ``limit`` levels (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def parse_json(raw: bytes) -> Any:
    """The body as JSON; 3101 when it is not JSON (NaN and Infinity are not) or nests deeper than MAX_DEPTH."""
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise ApiError("3101", f"Invalid JSON body: nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError("3101", f"Invalid JSON body: {exc}") from None
    if _deeper_than(body, MAX_DEPTH):
        raise ApiError("3101", f"Invalid JSON body: nested deeper than {MAX_DEPTH} levels")
    return body


def to_int(value: Any, what: str, code: str = "3100") -> int:
    """An integer id from a path, query or body value; ``code`` naming ``what`` when it is not a safe integer.

    Mojaloop's services validate ids with Joi/ajv in JavaScript, where an integer beyond 2^53 - 1 is not a safe
    number (400); SQLite could not hold one beyond 2^63 - 1 anyway.
    """
    text = str(value)
    if isinstance(value, bool) or not _INTEGER.fullmatch(text):
        raise ApiError(code, f"{what} must be an integer, got {text[:40]!r}")
    if len(text.lstrip("-")) > 16 or abs(int(text)) > MAX_SAFE_INTEGER:
        raise ApiError(code, f"{what} must be a safe integer (at most {MAX_SAFE_INTEGER}), got {text[:40]}")
    return int(text)


def require(body: Any, *paths: str, code: str = "3102") -> None:
    """3102 (or the service's ``code``) naming the first missing field; dotted paths reach into objects."""
    if not isinstance(body, dict):
        raise ApiError("3101", "Body must be a JSON object")
    for path in paths:
        node: Any = body
        for part in path.split("."):
            if not isinstance(node, dict) or node.get(part) is None:
                raise ApiError(code, f"/body must have required property '{path}'")
            node = node[part]


# The JSON type names ajv and Joi use in their messages ("must be string").
_TYPE_NAMES = {str: "string", dict: "object", list: "array", bool: "boolean", int: "integer", float: "number"}
NUMBER = (int, float)


def check_types(body: Any, types: Mapping[str, type | tuple[type, ...]], *, joi: bool = False,
                code: str | None = None) -> None:
    """Refuse the first field (dotted path) present with another JSON type than ``types`` says, naming it.

    Mojaloop's services validate bodies against their schemas before anything else. Those on openapi-backend (ALS,
    quoting, thirdparty) report ajv's ``type`` keyword: 3101. Those on hapi + Joi (central-ledger's admin API,
    central-settlement; ``joi=True``) convert where Joi does ("true"/"false" are booleans) and report ``string.base``
    as 3101 but ``boolean.base``/``object.base``/``array.base``/``number.base`` as 3100 (central-services-error-
    handling ``createFSPIOPErrorFromJoiError``). Either way a value the hub cannot use is refused by name instead of
    failing later (a value SQLite cannot store, a method a string lacks). ``code`` is the one code a service gives
    every validation failure (central-ledger: 3101, see ``hub/admin/common.INVALID``).
    """
    for path, expected in types.items():
        node: Any = body
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            continue
        kinds = expected if isinstance(expected, tuple) else (expected,)
        if isinstance(node, kinds) and (bool in kinds or not isinstance(node, bool)):
            continue
        if joi and bool in kinds and isinstance(node, str) and node.lower() in ("true", "false"):
            continue
        names = " or ".join(dict.fromkeys(_TYPE_NAMES[k] for k in kinds))
        given = code or ("3100" if joi and str not in kinds else "3101")
        raise ApiError(given, f"/body/{path.replace('.', '/')} must be {names}")


def as_bool(value: Any) -> bool:
    """A boolean as Joi reads one in Mojaloop's hapi routes: true/false, or the strings "true"/"false"."""
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def guarded(handler: Handler) -> Handler:
    """Turn ApiError into its answer and any unexpected exception into a logged 2001, never a bare 500."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return exc.response()
        except Exception:
            log.exception("unexpected error in %s %s", request.method, request.url.path)
            return error_response("2001", "Unexpected error in the hub, see its log")

    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    return endpoint


def body_hash(body: Any) -> str:
    """Duplicate-detection hash of central-services-shared: base64(sha256(JSON.stringify(body))) minus "=".

    The body is re-serialised compactly in the key order it arrived in, so whitespace does not matter but
    key order does (behaviour ref §7).
    """
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode().rstrip("=")
