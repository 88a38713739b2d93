"""Issue 12 items 1, 3, 4: the runner when the world around it fails. Signals stop everything and keep what the
run has; a health route answering 404 is not a service; the hub must prove it can reach sim.public_url before any
scenario; a service that dies mid-run is named and the remaining notebooks are not run into unrelated errors."""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import PASS_CELL, make_project, write_notebook

from mojacheck.fspiop.errors import RunError
from mojacheck.params import load_params
from mojacheck.runner import services
from mojacheck.runner.interrupt import ServiceDied, watching

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(what: str, probe: object, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not probe():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def status_server() -> Iterator[tuple[str, list[int]]]:
    """An HTTP server answering every GET with the status at the head of the list."""
    statuses = [404]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(statuses[0])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", statuses
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("status", "message"), [(404, "does not lead to a Mojaloop service"),
                                                 (503, "is not healthy"), (401, None), (200, None)])
def test_a_health_route_must_answer_as_a_service(tmp_path: Path, status_server: tuple[str, list[int]],
                                                 status: int, message: str | None) -> None:
    url, statuses = status_server
    statuses[0] = status
    root = make_project(tmp_path, url, {"20_pass.ipynb": [PASS_CELL]})
    params = load_params("test", root=root)
    if message is None:
        services.check_reachable(params)
    else:
        with pytest.raises(RunError, match=message):
            services.check_reachable(params)


def test_watching_interrupts_the_main_thread_when_a_service_dies() -> None:
    calls = []

    def dead() -> str | None:
        calls.append(1)
        return "the hub exited with code -9 during the run; see hub.log" if len(calls) > 2 else None

    with pytest.raises(ServiceDied, match="the hub exited"), watching(dead, every_s=0.05):
        _busy(30)  # interrupted long before


def test_watching_puts_off_an_interrupt_that_lands_inside_an_import(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "slow_module_for_watching.py").write_text("import time\ntime.sleep(0.4)\nDONE = True\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ServiceDied, match="the hub exited"), watching(lambda: "the hub exited", every_s=0.05):
        import slow_module_for_watching  # noqa: F401 - the watchdog fires several times while this runs
        _busy(30)  # the interrupt put off lands here
    assert sys.modules.pop("slow_module_for_watching").DONE  # the import finished: no half-made module


def _busy(seconds: float) -> None:
    """Wait in short steps: an interrupt_main() is handled between them (it does not wake a blocking wait)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.01)


def _embedded_project(tmp: Path, notebooks: dict[str, list[str]], **changes: object) -> tuple[Path, int]:
    """A project whose params start the real embedded hub and simulator on free ports."""
    data = yaml.safe_load((ROOT / "params" / "local.yaml").read_text(encoding="utf-8"))
    hub, sim = _free_port(), _free_port()
    base = f"http://127.0.0.1:{hub}"
    data["hub"].update(port=hub, db=str(tmp / "hub.sqlite3"))
    data["services"] = {k: v.replace("http://127.0.0.1:4040", base) for k, v in data["services"].items()}
    data["provisioning"]["oracle_endpoint"] = f"{base}/oracle"
    data["sim"].update(port=sim, url=f"http://127.0.0.1:{sim}", public_url=f"http://127.0.0.1:{sim}")
    data["api"].pop("spec_dir", None)
    for key, value in changes.items():
        section, leaf = key.split("__")
        data[section][leaf] = value
    (tmp / "params").mkdir()
    (tmp / "params" / "test.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    (tmp / "notebooks").mkdir()
    for name, cells in notebooks.items():
        write_notebook(tmp / "notebooks" / name, cells)
    return tmp, hub


def _mojacheck_run(root: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "JUPYTER_PREFER_ENV_PATH": "1"}
    return subprocess.Popen([sys.executable, "-m", "mojacheck", "run", "--env", "test", "--root", str(root),
                             "--output-root", str(root / "out")], stderr=subprocess.PIPE, text=True, env=env)


def _pid_in(folder: Path) -> int | None:
    """The kernel's pid once the waiting notebook has written it whole (the file exists before its digits)."""
    for path in folder.glob("*/kernel.pid"):
        text = path.read_text().strip()
        if text.isdigit():
            return int(text)
    return None


WAIT_CELL = '''
import os, pathlib, time
pathlib.Path(run_dir, "kernel.pid").write_text(str(os.getpid()))
while True:  # this notebook runs until the runner is stopped
    time.sleep(0.1)
'''


def test_sigterm_stops_services_and_kernel_and_keeps_what_the_run_has(tmp_path: Path) -> None:
    root, hub_port = _embedded_project(tmp_path, {"10_pass.ipynb": [PASS_CELL], "20_wait.ipynb": [PASS_CELL,
                                                  WAIT_CELL], "30_never.ipynb": [PASS_CELL]})
    proc = _mojacheck_run(root)
    pid_files = root / "out" / "test"
    try:
        _wait_for("the waiting notebook", lambda: _pid_in(pid_files) is not None)
        kernel = _pid_in(pid_files)
        assert kernel is not None
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:  # a failed wait must not leave the run (and its hub, simulator and kernel) behind
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    assert proc.returncode == 143, err
    assert "stopped early: interrupted by SIGTERM" in err
    _wait_for("the kernel to be gone", lambda: not _alive(kernel), timeout=15)
    for port in (hub_port, load_params("test", root=root).sim.port):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, f"something still listens on {port}"
    summary = json.loads(next(pid_files.glob("*/summary.json")).read_text())
    assert summary["stopped"] == {"reason": "interrupted by SIGTERM", "signal": "SIGTERM", "not_run": ["30_never"]}
    assert [(n["name"], n["status"]) for n in summary["notebooks"]] == [("10_pass", "passed"), ("20_wait", "error")]
    assert summary["totals"]["checks"] == 2  # the waiting notebook's first scenario is kept


KILL_HUB_CELL = '''
import subprocess
subprocess.run(["pkill", "-9", "-f", f"mojacheck hub --host 127.0.0.1 --port {params['hub']['port']} "], check=False)
'''


def test_a_hub_that_dies_mid_run_is_named_and_the_run_stops(tmp_path: Path) -> None:
    root, _ = _embedded_project(tmp_path, {"10_kill.ipynb": [PASS_CELL, KILL_HUB_CELL],
                                           "20_pass.ipynb": [PASS_CELL]})
    proc = _mojacheck_run(root)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert "stopped early: the hub exited with code -9 during the run; see" in err and "hub.log" in err
    summary = json.loads(next((root / "out" / "test").glob("*/summary.json")).read_text())
    assert summary["stopped"]["not_run"] == ["20_pass"]


def test_a_sim_public_url_the_hub_cannot_reach_stops_in_seconds_naming_it(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{_free_port()}"
    root, _ = _embedded_project(tmp_path, {"20_pass.ipynb": [PASS_CELL]}, sim__public_url=dead,
                                timeouts__callback_s=3)
    proc = _mojacheck_run(root)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    last = err.strip().splitlines()[-1]
    assert f"sim.public_url = {dead}" in last and "within 3 s" in last
    assert not list((root / "out" / "test").glob("*/20_pass.ipynb"))  # no notebook ran
