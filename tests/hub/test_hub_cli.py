"""The hub's command line: ``mojacheck hub`` (``python -m mojacheck hub``)."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from mojacheck.cli import build_parser


def test_parser_follows_the_contract() -> None:
    args = build_parser().parse_args(["hub", "--host", "127.0.0.1", "--port", "4040", "--db", "x.sqlite3",
                                      "--release", "13", "--expiry-interval", "0.5", "--on-us"])
    assert (args.port, args.db, args.release, args.expiry_interval, args.on_us) == (4040, "x.sqlite3", "13", 0.5, True)


def start_line(proc: subprocess.Popen[str], deadline_s: float = 15.0) -> str:
    """The first line the process writes to stderr, read on a thread so a silent process cannot hang the test."""
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stderr is not None
    threading.Thread(target=lambda: lines.put(proc.stderr.readline()), daemon=True).start()
    try:
        return lines.get(timeout=deadline_s)
    except queue.Empty:
        raise AssertionError(f"nothing written within {deadline_s}s") from None


def test_python_m_prints_where_it_listens_and_serves(tmp_path: Path) -> None:
    env = {**os.environ, "MOJACHECK_BEARER_TOKEN": "t0k-never-printed"}
    db = tmp_path / "hub.sqlite"
    # Port 0: the system picks one, so the start line is the only way to know it (as a human reading it would).
    proc = subprocess.Popen([sys.executable, "-m", "mojacheck", "hub", "--port", "0", "--db", str(db),
                             "--release", "14", "--supported-versions", "1.0,1.1"],
                            env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = start_line(proc)
        match = re.search(r"mojacheck hub: release 14 listening on (http://127\.0\.0\.1:(\d+)) \((.*)\)$", line)
        assert match, line
        url, port, details = match.groups()
        assert int(port) != 0
        assert details == f"database {db}; FSPIOP versions 1.0, 1.1; bearer token required"
        r = httpx.get(f"{url}/health", timeout=5)
        assert r.json()["release"] == "14"
        assert httpx.get(f"{url}/admin/participants", timeout=5).status_code == 401
    finally:
        proc.terminate()
        _, rest = proc.communicate(timeout=10)
    assert "t0k-never-printed" not in line + rest
    assert "GET /health" not in rest  # request lines are info; the default level is warning
