"""Embedded service lifecycle (with stand-in processes), the params → command lines, redaction."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import SECRET

from mojacheck.fspiop.errors import RunError
from mojacheck.params import load_params
from mojacheck.runner import core, services

ROOT = Path(__file__).resolve().parents[2]

HEALTHY = """
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404); self.end_headers()
    def log_message(self, *a): pass
print("serving", flush=True)
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spec(tmp_path: Path, code: str, *args: str, port: int = 9) -> services.ServiceSpec:
    return services.ServiceSpec(
        "hub", [sys.executable, "-c", code, *args], f"http://127.0.0.1:{port}/health", tmp_path / "hub.log"
    )


def test_service_started_healthy_and_stopped(tmp_path: Path) -> None:
    port = _free_port()
    spec = _spec(tmp_path, HEALTHY, str(port), port=port)
    with services.running(spec, cwd=tmp_path, deadline_s=20) as proc:
        assert proc.poll() is None
    assert proc.poll() is not None  # stopped at the end of the block
    assert "serving" in spec.log_file.read_text()


def test_service_exiting_early_names_its_log(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "import sys; print('cannot bind'); sys.exit(3)")
    started = time.monotonic()
    with pytest.raises(RunError, match=r"hub exited with code 3 .*hub\.log"), services.running(spec, cwd=tmp_path):
        pass
    assert time.monotonic() - started < 10  # seen at once, not at the deadline
    assert "cannot bind" in spec.log_file.read_text()


def test_service_never_healthy_hits_deadline(tmp_path: Path) -> None:
    spec = _spec(tmp_path, "import time; time.sleep(60)")
    with (
        pytest.raises(RunError, match=r"did not become healthy .* within 1s"),
        services.running(spec, cwd=tmp_path, deadline_s=1),
    ):
        pass


def test_port_already_answering_is_refused(tmp_path: Path, stub_url: str) -> None:
    port = int(stub_url.rsplit(":", 1)[1])
    spec = _spec(tmp_path, HEALTHY, str(port), port=port)
    with pytest.raises(RunError, match=r"something already answers at"), services.running(spec, cwd=tmp_path):
        pass
    assert not spec.log_file.exists()  # nothing was started


def test_stop_kills_a_process_ignoring_terminate() -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('x', flush=True); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    proc.stdout.readline()  # the handler is installed
    services.stop(proc, deadline_s=0.5)
    assert proc.returncode is not None


def test_command_lines_follow_the_contract(tmp_path: Path) -> None:
    params = load_params("local", root=ROOT, overrides=["hub.release=13", "deployment.on_us_transfers=true"])
    hub = services.hub_spec(params, tmp_path)
    assert hub.argv[1:4] == ["-m", "mojacheck", "hub"]
    assert hub.argv[4:] == ["--host", "127.0.0.1", "--port", "4040", "--db", str(ROOT / "outputs/local/hub.sqlite3"),
                            "--release", "13", "--expiry-interval", "1.0", "--log-level", "info", "--on-us",
                            "--content-version", "1.1"]
    assert hub.health_url == "http://127.0.0.1:4040/health"
    sim = services.sim_spec(params, tmp_path)
    assert sim.argv[1:] == ["-m", "mojacheck", "sim", "--host", "127.0.0.1", "--port", "4041",
                            "--hub-url", "http://127.0.0.1:4040", "--log-level", "info"]


def _embedded_params(tmp_path: Path) -> object:
    """params/local.yaml on free ports and a throwaway database, as /work-style suite runs override it."""
    hub, sim = _free_port(), _free_port()
    base = f"http://127.0.0.1:{hub}"
    services_map = ", ".join(f"{k}: '{base}{v}'" for k, v in [
        ("als", ""), ("als_admin", "/als-admin"), ("quoting", ""), ("ml_api_adapter", ""),
        ("central_ledger_admin", "/admin"), ("central_settlement", "/settlement/v2"), ("thirdparty", "")])
    return load_params("local", root=ROOT, overrides=[
        f"hub.port={hub}", f"hub.db={tmp_path / 'hub.sqlite3'}", f"sim.port={sim}", f"sim.url=http://127.0.0.1:{sim}",
        f"sim.public_url=http://127.0.0.1:{sim}", f"provisioning.oracle_endpoint={base}/oracle",
        f"services={{{services_map}}}"])


def _wait_for_line(log: Path, text: str, deadline_s: float = 10.0) -> str:
    deadline = time.monotonic() + deadline_s
    while True:
        content = log.read_text(encoding="utf-8")
        if text in content:
            return content
        assert time.monotonic() < deadline, f"{text!r} not in {log.name} within {deadline_s}s:\n{content}"
        time.sleep(0.05)


def test_embedded_services_log_start_requests_and_deliveries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOJACHECK_BEARER_TOKEN", SECRET)
    params = _embedded_params(tmp_path)
    assert params.hub.log_level == params.sim.log_level == "info"  # local.yaml: the runner's default
    hub_url, sim_url = f"http://127.0.0.1:{params.hub.port}", params.sim.url
    with services.embedded_services(params, tmp_path, cwd=ROOT):
        # A hub asking the simulator's payee for a party: the simulator answers PUT /parties to the hub.
        headers = {"FSPIOP-Source": "mcpayerfsp", "FSPIOP-Destination": "mcpayeefsp1",
                   "Content-Type": "application/vnd.interoperability.parties+json;version=1.1",
                   "Accept": "application/vnd.interoperability.parties+json;version=1.1",
                   "Date": "Thu, 01 Jan 2026 00:00:00 GMT", "Authorization": f"Bearer {SECRET}"}
        assert httpx.get(f"{sim_url}/mcpayeefsp1/parties/MSISDN/123", headers=headers).status_code == 202
        hub_log = _wait_for_line(tmp_path / "hub.log", "PUT /parties/MSISDN/123")
        sim_log = _wait_for_line(tmp_path / "sim.log", f"PUT {hub_url}/parties/MSISDN/123")
    start = f"mojacheck hub: release 17 listening on {hub_url} (database {tmp_path / 'hub.sqlite3'}; "
    assert start in hub_log and "bearer token required" in hub_log
    assert "INFO mojacheck.hub.access GET /health 200 " in hub_log  # the runner's health probe
    assert "mcpayeefsp1->mcpayerfsp" in hub_log  # the simulator's answer, by its FSPIOP headers
    assert f"mojacheck sim: listening on {sim_url}, sending to the hub at {hub_url}" in sim_log
    assert "mojacheck.sim.access GET /mcpayeefsp1/parties/MSISDN/123 202 " in sim_log
    assert "mojacheck.sim.delivery PUT" in sim_log
    for log in (hub_log, sim_log):
        assert SECRET not in log


def test_child_env_carries_token_under_the_fixed_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_TOKEN", SECRET)
    params = load_params("local", root=ROOT, overrides=["auth.bearer_token_env=MY_TOKEN"])
    assert services._child_env(params)["MOJACHECK_BEARER_TOKEN"] == SECRET


def test_redact_scrubs_a_leaked_secret(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(f"<pre>{SECRET}</pre>")
    err = io.StringIO()
    core._redact(tmp_path, [SECRET], err)
    assert SECRET not in (tmp_path / "a.html").read_text()
    assert "a.html" in err.getvalue()
