"""The hub's command line: ``mojacheck hub`` (``python -m mojacheck hub``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from mojacheck.cli import build_parser


def test_parser_follows_the_contract() -> None:
    args = build_parser().parse_args(["hub", "--host", "127.0.0.1", "--port", "4040", "--db", "x.sqlite3",
                                      "--release", "13", "--expiry-interval", "0.5", "--on-us"])
    assert (args.port, args.db, args.release, args.expiry_interval, args.on_us) == (4040, "x.sqlite3", "13", 0.5, True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_python_m_serves_health(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "MOJACHECK_BEARER_TOKEN": "t0k"}
    proc = subprocess.Popen([sys.executable, "-m", "mojacheck", "hub", "--port", str(port), "--db",
                             str(tmp_path / "hub.sqlite"), "--release", "14"], env=env)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "hub did not start"
                time.sleep(0.1)
        assert r.json()["release"] == "14"
        assert httpx.get(f"http://127.0.0.1:{port}/admin/participants").status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=10)
