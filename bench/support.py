"""What the bench scripts share: free ports, processes that stop with the script, a sink FSP, waiting for health."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

# An FSP that answers every delivery at once (202 for POST/GET/DELETE, 200 for PUT/PATCH) and keeps nothing.
SINK = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
async def answer(request):
    await request.body()
    return Response(status_code=200 if request.method in ("PUT", "PATCH") else 202)
app = Starlette(routes=[Route("/{p:path}", answer, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""
STARTUP_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until ``url`` answers (any status), failing fast when ``proc`` exits first."""
    deadline = time.monotonic() + STARTUP_S
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            if proc is not None and proc.poll() is not None:
                raise SystemExit(f"{url}: the process exited with code {proc.returncode}") from None
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not come up within {STARTUP_S:.0f}s") from None
            time.sleep(0.1)


@contextmanager
def process(args: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` with its output in ``log``; terminated (then killed) when the block ends."""
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def hub_command(port: int, db: Path, release: str = "17", *extra: str) -> list[str]:
    return [sys.executable, "-m", "mojacheck", "hub", "--port", str(port), "--db", str(db), "--release", release,
            *extra]


def sink_command(port: int) -> list[str]:
    return [sys.executable, "-c", SINK, str(port)]
