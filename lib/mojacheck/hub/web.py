"""Small HTTP helpers shared by every hub route: sync errors, JSON bodies, required fields."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mojacheck.fspiop import error_body, http_status

log = logging.getLogger("mojacheck.hub")

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


def error_response(
    code: str,
    detail: str | None = None,
    *,
    status: int | None = None,
    extension_list: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    body = error_body(code, detail, extension_list)
    return JSONResponse(body, status_code=status or http_status(code))


def parse_json(raw: bytes) -> Any:
    """The body as JSON; 3101 when it is not JSON."""
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError("3101", f"Invalid JSON body: {exc}") from None


def require(body: Any, *paths: str) -> None:
    """3102 naming the first missing field; dotted paths reach into objects ("amount.currency")."""
    if not isinstance(body, dict):
        raise ApiError("3101", "Body must be a JSON object")
    for path in paths:
        node: Any = body
        for part in path.split("."):
            if not isinstance(node, dict) or node.get(part) is None:
                raise ApiError("3102", f"/body must have required property '{path}'")
            node = node[part]


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
