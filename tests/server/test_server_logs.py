"""The logs both services write: a line per request served (AccessLog), per message sent (LoggedDelivery)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mojacheck.server import AccessLog, LoggedDelivery, ServerThread, make_delivery

SECRET = "bearer-secret-never-logged"
ACCESS = "mojacheck.test.access"
DELIVERY = "mojacheck.test.delivery"


async def accept(request: Request) -> Response:
    return Response(status_code=202)


async def boom(request: Request) -> Response:
    raise RuntimeError("a bug")


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    app = Starlette(routes=[Route("/transfers", accept, methods=["POST"]),
                            Route("/inbox", accept, methods=["GET", "PUT"]), Route("/boom", boom)])
    app.add_middleware(AccessLog, logger=ACCESS, quiet=("/inbox",))
    with ServerThread(app) as running:
        yield running


def lines(caplog: pytest.LogCaptureFixture, logger: str, count: int = 0) -> list[tuple[int, str]]:
    """The records of ``logger``, once there are at least ``count``: a request's line is written by the server
    thread after the response went out, so the client may see the answer a moment before the line exists."""
    deadline = time.monotonic() + 5.0
    while True:
        found = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == logger]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.01)


def test_one_line_per_request_with_fspiop_peers_and_no_secrets(
    server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)
    headers = {"FSPIOP-Source": "payerfsp", "FSPIOP-Destination": "payeefsp", "Authorization": f"Bearer {SECRET}"}
    httpx.post(f"{server.url}/transfers?secret={SECRET}", headers=headers, content=b'{"amount": "' + b"9" * 40 + b'"}')
    httpx.get(f"{server.url}/nowhere")
    (level, line), (_, missing) = lines(caplog, ACCESS, 2)
    assert level == logging.INFO
    method, path, status, ms, peers = line.split(" ")
    assert (method, path, status, peers) == ("POST", "/transfers", "202", "payerfsp->payeefsp")
    assert ms.endswith("ms") and float(ms[:-2]) >= 0
    assert missing.startswith("GET /nowhere 404 ")  # no FSPIOP headers: no peers part
    assert SECRET not in caplog.text and "9999" not in caplog.text  # no header but FSPIOP-*, no query, no body


def test_quiet_paths_at_debug_and_nothing_at_warning(server: ServerThread, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)
    httpx.get(f"{server.url}/inbox?wait=1")
    httpx.post(f"{server.url}/inbox")
    # the level is decided when a request arrives, so the GET before the POST can no longer add a line
    assert [line.split(" ")[:3] for _, line in lines(caplog, ACCESS, 1)] == [["POST", "/inbox", "405"]]
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger=ACCESS)
    httpx.get(f"{server.url}/inbox")
    assert [(lvl, line.split(" ")[:3]) for lvl, line in lines(caplog, ACCESS, 1)] == [
        (logging.DEBUG, ["GET", "/inbox", "202"])]
    caplog.clear()
    caplog.set_level(logging.WARNING, logger=ACCESS)
    httpx.post(f"{server.url}/transfers")
    caplog.set_level(logging.INFO, logger=ACCESS)
    httpx.get(f"{server.url}/inbox", headers={"FSPIOP-Source": "marker"})  # quiet at info: no line either
    httpx.post(f"{server.url}/inbox", headers={"FSPIOP-Source": "marker"})
    assert [line.split(" ")[:3] for _, line in lines(caplog, ACCESS, 1)] == [["POST", "/inbox", "405"]]


def test_a_request_that_raised_is_logged_as_500(server: ServerThread, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS)
    assert httpx.get(f"{server.url}/boom").status_code == 500
    assert [line.split(" ")[:3] for _, line in lines(caplog, ACCESS, 1)] == [["GET", "/boom", "500"]]


def _send(delivery: LoggedDelivery, url: str, headers: dict[str, str]) -> int | None:
    async def go() -> int | None:
        try:
            return (await delivery.send("PUT", url, headers, b"{}")).status
        finally:
            await delivery.aclose()

    return asyncio.run(go())


def test_delivery_logs_each_message_and_failures_at_warning(
    server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=DELIVERY)
    headers = {"fspiop-source": "Hub", "FSPIOP-Destination": "payerfsp", "Authorization": f"Bearer {SECRET}"}
    host = server.url.removeprefix("http://")
    assert _send(LoggedDelivery(make_delivery(), DELIVERY), f"http://user:{SECRET}@{host}/inbox", {}) == 202
    assert _send(LoggedDelivery(make_delivery(), DELIVERY), f"{server.url}/transfers?x={SECRET}", headers) == 405
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    assert _send(LoggedDelivery(make_delivery(), DELIVERY), f"http://127.0.0.1:{closed}/x", headers) is None
    (ok_level, ok), (bad_level, bad), (down_level, down) = lines(caplog, DELIVERY)
    assert ok_level == logging.INFO and ok.startswith(f"PUT {server.url}/inbox 202 ") and ok.endswith("ms")
    # PUT on a POST route: 405 is an answer, but not a 2xx, so a warning
    assert bad_level == logging.WARNING and bad.startswith(f"PUT {server.url}/transfers failed: 405 ")
    assert bad.endswith("ms Hub->payerfsp")
    assert down_level == logging.WARNING and down.startswith(f"PUT http://127.0.0.1:{closed}/x failed: ")
    assert SECRET not in caplog.text


def test_delivery_builds_nothing_below_its_level(server: ServerThread, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=DELIVERY)
    assert _send(LoggedDelivery(make_delivery(), DELIVERY), f"{server.url}/inbox", {}) == 202
    assert lines(caplog, DELIVERY) == []
