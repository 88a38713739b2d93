"""Every Delivery implementation against a real local server; failures are results, not exceptions."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mojacheck.server import Delivery, DeliveryResult, ServerThread, make_delivery

KINDS = ["raw", "aiohttp", "httpx"]


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


# ---------------------------------------------------------------- the raw client's own edges


@contextmanager
def raw_server(answer: bytes, *, close_after: bool) -> Iterator[str]:
    """A socket server that answers every request on a connection with ``answer`` (and closes the connection after
    the first when ``close_after``, without saying so: a keep-alive the server dropped while idle)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while not stop.is_set():
                data = conn.recv(65536)
                if not data:
                    return
                buffer += data
                while b"\r\n\r\n" in buffer:
                    head, _, rest = buffer.partition(b"\r\n\r\n")
                    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length:")), 0)
                    if len(rest) < length:
                        break
                    buffer = rest[length:]
                    conn.sendall(answer)
                    if close_after:
                        return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        sock.close()


def test_raw_retries_on_a_fresh_connection_when_the_server_dropped_the_idle_one() -> None:
    with raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", close_after=True) as url:
        delivery = make_delivery("raw")

        async def three() -> list[DeliveryResult]:
            try:
                return [await delivery.send("PUT", f"{url}/x/{i}", {}, b"{}") for i in range(3)]
            finally:
                await delivery.aclose()

        results = asyncio.run(three())
    assert [(r.status, r.body, r.error) for r in results] == [(200, b"ok", None)] * 3


def test_raw_reads_a_chunked_answer_and_keeps_the_connection() -> None:
    answer = b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    with raw_server(answer, close_after=False) as url:
        delivery = make_delivery("raw")

        async def two() -> list[DeliveryResult]:
            try:
                return [await delivery.send("POST", f"{url}/x", {"A": "1"}, b"{}") for _ in range(2)]
            finally:
                await delivery.aclose()

        results = asyncio.run(two())
    assert [(r.status, r.body) for r in results] == [(202, b"abcde")] * 2


def test_raw_refuses_a_header_that_would_split_the_request(server: ServerThread) -> None:
    result = asyncio.run(make_delivery("raw").send("PUT", f"{server.url}/echo", {"X-Evil": "a\r\nX-Injected: 1"},
                                                   b"{}"))
    assert result.status is None and "line break" in (result.error or "")


def test_raw_runs_on_uvloop_as_the_servers_do(server: ServerThread) -> None:
    uvloop = pytest.importorskip("uvloop")

    async def go() -> DeliveryResult:
        delivery = make_delivery("raw")
        try:
            return await delivery.send("PUT", f"{server.url}/echo", {"X-Test": "1"}, b"{}")
        finally:
            await delivery.aclose()

    result = uvloop.run(go())
    assert result.status == 200 and json.loads(result.body)["headers"]["x-test"] == "1"
