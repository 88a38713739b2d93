"""Both Delivery implementations against a real local server; failures are results, not exceptions."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mojacheck.server import Delivery, DeliveryResult, ServerThread, make_delivery

KINDS = ["aiohttp", "httpx"]


async def echo(request: Request) -> Response:
    return JSONResponse(
        {"method": request.method, "headers": dict(request.headers), "body": (await request.body()).decode()},
        status_code=202 if request.method == "POST" else 200,
    )


async def never(request: Request) -> Response:
    await asyncio.Event().wait()  # never answers: the client's timeout must end the request
    return Response()


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    app = Starlette(routes=[Route("/echo", echo, methods=["POST", "PUT"]), Route("/never", never)])
    with ServerThread(app) as running:
        yield running


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed on exit: connecting is refused


def run(delivery: Delivery, method: str, url: str, body: bytes | None = None) -> DeliveryResult:
    async def go() -> DeliveryResult:
        try:
            return await delivery.send(method, url, {"Content-Type": "application/json", "X-Test": "1"}, body)
        finally:
            await delivery.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize("kind", KINDS)
def test_send_returns_status_and_body(server: ServerThread, kind: str) -> None:
    result = run(make_delivery(kind), "POST", f"{server.url}/echo", b'{"a":"1.10"}')
    assert result.status == 202 and result.ok and result.error is None
    assert b'"body":"{\\"a\\":\\"1.10\\"}"' in result.body
    assert result.elapsed_ms > 0


@pytest.mark.parametrize("kind", KINDS)
def test_only_callers_accept_header(server: ServerThread, kind: str) -> None:
    # FSPIOP PUT callbacks must carry no Accept; the client library must not add one.
    result = run(make_delivery(kind), "PUT", f"{server.url}/echo", b"{}")
    headers = json.loads(result.body)["headers"]
    assert "accept" not in headers and headers["x-test"] == "1"


@pytest.mark.parametrize("kind", KINDS)
def test_unreachable_gives_none_and_error(kind: str) -> None:
    result = run(make_delivery(kind), "PUT", f"http://127.0.0.1:{closed_port()}/x", b"{}")
    assert result.status is None and result.error and not result.ok


@pytest.mark.parametrize("kind", KINDS)
def test_bad_url_gives_error(kind: str) -> None:
    result = run(make_delivery(kind), "GET", "not a url")
    assert result.status is None and result.error


@pytest.mark.parametrize("kind", KINDS)
def test_timeout_gives_error(server: ServerThread, kind: str) -> None:
    result = run(make_delivery(kind, timeout=0.2), "GET", f"{server.url}/never")
    assert result.status is None and result.error


# The first loop's pool cannot be closed once that loop is gone; its ResourceWarning is the expected cost.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.parametrize("kind", KINDS)
def test_reusable_across_event_loops(server: ServerThread, kind: str) -> None:
    delivery = make_delivery(kind)

    async def once() -> int | None:
        return (await delivery.send("PUT", f"{server.url}/echo", {}, b"{}")).status

    assert asyncio.run(once()) == 200
    assert asyncio.run(once()) == 200  # a new loop gets a new session instead of a dead one


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown delivery kind"):
        make_delivery("curl")
