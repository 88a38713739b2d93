"""ServerThread and the JSON helpers."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mojacheck.server import ServerThread, dumps, json_response, loads
from mojacheck.server.jsonutil import JsonBodyError


async def hello(request: Request) -> Response:
    return json_response({"amount": Decimal("10.10")}, 201)


def test_server_thread_port_zero_and_stop() -> None:
    app = Starlette(routes=[Route("/", hello)])
    with ServerThread(app) as server:
        assert server.port != 0 and server.url == f"http://127.0.0.1:{server.port}"
        resp = httpx.get(server.url + "/")
        assert resp.status_code == 201 and resp.json() == {"amount": "10.10"}
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/")


def test_server_thread_reports_bind_failure() -> None:
    app = Starlette()
    with ServerThread(app) as first, pytest.raises(OSError):
        ServerThread(app, port=first.port).start()


def test_loads_keeps_money_exact() -> None:
    assert loads(b'{"amount": 0.1, "n": 3}') == {"amount": Decimal("0.1"), "n": 3}
    with pytest.raises(JsonBodyError):
        loads(b"{")


def test_dumps_compact_and_decimal_as_string() -> None:
    assert dumps({"a": Decimal("1.50"), "b": "ü"}) == '{"a":"1.50","b":"ü"}'.encode()


def test_json_response_empty_body() -> None:
    resp = json_response(None, 202)
    assert resp.status_code == 202 and resp.body == b""
