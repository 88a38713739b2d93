"""Lifecycle of the embedded hub and simulator, and reachability of a real hub's services.

Waiting is on state with a deadline: a service is up when `GET /health` answers 200, and we stop waiting the
moment its process exits, so a crash at start-up is reported at once with its log file.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, fields
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from mojacheck.fspiop.errors import RunError
from mojacheck.params import Params

START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 10.0
POLL_S = 0.1
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_GATEWAY_STATUSES = {401, 403, 405}  # an API gateway in front of the service answered: the path exists


@dataclass(frozen=True)
class ServiceSpec:
    """How to start one embedded service and where its health answers."""

    name: str
    argv: Sequence[str]
    health_url: str
    log_file: Path


def hub_spec(params: Params, log_dir: Path) -> ServiceSpec:
    hub = params.hub
    argv = [
        sys.executable, "-m", "mojacheck", "hub", "--host", "127.0.0.1", "--port", str(hub.port),
        "--db", hub.db, "--release", hub.release, "--expiry-interval", str(hub.expiry_interval_s),
        "--log-level", hub.log_level,
    ]
    if params.deployment.on_us_transfers:
        argv.append("--on-us")
    if params.deployment.supported_versions:
        argv += ["--supported-versions", ",".join(params.deployment.supported_versions)]
    argv += ["--content-version", hub.content_version]
    if hub.resource_versions:
        argv += ["--resource-versions", ",".join(f"{k}={v}" for k, v in hub.resource_versions.items())]
    if params.deployment.transfer_confirmation_to_payee:
        argv.append("--transfer-confirmation-to-payee")
    if not params.deployment.quotes_simple_routing:
        argv.append("--quotes-persistent")
    argv += _jws_hub_args(params)
    return ServiceSpec("hub", argv, f"http://127.0.0.1:{hub.port}/health", log_dir / "hub.log")


def _jws_hub_args(params: Params) -> list[str]:
    """The embedded hub's JWS settings (the key's password stays in its env var, inherited by the process)."""
    jws, argv = params.jws, []
    if jws.hub_signing_key:
        argv += ["--jws-signing-key", jws.hub_signing_key]
    if jws.hub_signing_key_password_env:
        argv += ["--jws-signing-key-password-env", jws.hub_signing_key_password_env]
    if jws.validate:
        argv.append("--jws-validate")
    if jws.fsp_keys_dir:
        argv += ["--jws-keys-dir", jws.fsp_keys_dir]
    return argv


def sim_spec(params: Params, log_dir: Path) -> ServiceSpec:
    port = params.sim.port
    argv = [
        sys.executable, "-m", "mojacheck", "sim", "--host", "127.0.0.1", "--port", str(port),
        "--hub-url", params.services.ml_api_adapter, "--log-level", params.sim.log_level,
    ]
    if params.jws.fsp_keys_dir:
        argv += ["--jws-keys-dir", params.jws.fsp_keys_dir]
    return ServiceSpec("simulator", argv, f"http://127.0.0.1:{port}/health", log_dir / "sim.log")


@dataclass
class Started:
    """The embedded services of a run, as they run: iterate for their specs; ``dead()`` names one that exited."""

    processes: list[tuple[ServiceSpec, subprocess.Popen[bytes]]]

    def __iter__(self) -> Iterator[ServiceSpec]:
        return iter(spec for spec, _ in self.processes)

    def dead(self) -> str | None:
        """"the hub exited with code -9 during the run; see …/hub.log", or None while every service runs."""
        for spec, proc in self.processes:
            if proc.poll() is not None:
                return f"the {spec.name} exited with code {proc.returncode} during the run; see {spec.log_file}"
        return None


@contextmanager
def embedded_services(
    params: Params, log_dir: Path, *, cwd: Path, deadline_s: float = START_DEADLINE_S
) -> Iterator[Started]:
    """Start the services the params ask for, wait until healthy, stop them on exit (even on error)."""
    specs = []
    if params.hub.embedded:
        Path(params.hub.db).parent.mkdir(parents=True, exist_ok=True)
        specs.append(hub_spec(params, log_dir))
    if params.sim.embedded:
        specs.append(sim_spec(params, log_dir))
    env = _child_env(params)
    with ExitStack() as stack:
        started = Started([(spec, stack.enter_context(running(spec, cwd=cwd, env=env, deadline_s=deadline_s)))
                           for spec in specs])
        yield started


def _child_env(params: Params) -> dict[str, str]:
    """The hub and simulator read the token from MOJACHECK_BEARER_TOKEN; params may name another variable."""
    env = dict(os.environ)
    token = params.secret("bearer_token")
    if token:
        env["MOJACHECK_BEARER_TOKEN"] = token
    env["PYTHONUNBUFFERED"] = "1"  # so the log file shows what happened before a crash
    return env


@contextmanager
def running(
    spec: ServiceSpec, *, cwd: Path, env: dict[str, str] | None = None, deadline_s: float = START_DEADLINE_S
) -> Iterator[subprocess.Popen[bytes]]:
    """Run one service as a subprocess for the duration of the block."""
    # Something already answering there (a hub left running) would pass our health check in place of ours.
    status, _ = _probe(spec.health_url, timeout=1.0)
    if status is not None:
        raise RunError(
            f"cannot start the {spec.name}: something already answers at {spec.health_url} "
            "(one left running?); stop it, or use it with embedded: false"
        )
    spec.log_file.parent.mkdir(parents=True, exist_ok=True)
    with spec.log_file.open("wb") as log:
        proc = _spawn(spec, log, cwd, env)
        try:
            wait_healthy(spec, proc, deadline_s)
            yield proc
        finally:
            stop(proc)


def _spawn(
    spec: ServiceSpec, log: IO[bytes], cwd: Path, env: dict[str, str] | None
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            list(spec.argv), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    except OSError as exc:
        raise RunError(f"could not start the {spec.name}: {exc}") from exc


def wait_healthy(spec: ServiceSpec, proc: subprocess.Popen[bytes], deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    last = "no answer yet"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RunError(
                f"the {spec.name} exited with code {proc.returncode} before it was ready; see {spec.log_file}"
            )
        status, last = _probe(spec.health_url, timeout=1.0)
        if status == 200:
            return
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=POLL_S)  # returns early if the process dies, so a crash is seen at once
    raise RunError(
        f"the {spec.name} did not become healthy at {spec.health_url} within {deadline_s:g}s ({last}); "
        f"see {spec.log_file}"
    )


def stop(proc: subprocess.Popen[bytes], deadline_s: float = STOP_DEADLINE_S) -> None:
    """Terminate, then kill if it does not go within the deadline."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=deadline_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=deadline_s)


def _probe(url: str, *, timeout: float, context: ssl.SSLContext | None = None) -> tuple[int | None, str]:
    """(status, description). Any HTTP answer is a status; no answer is (None, why)."""
    handlers: list[urllib.request.BaseHandler] = [urllib.request.HTTPSHandler(context=context)]
    if urlsplit(url).hostname in _LOOPBACK:
        handlers.append(urllib.request.ProxyHandler({}))  # an http_proxy must not swallow loopback probes
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(url, timeout=timeout) as resp:
            return resp.status, f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, str(reason)


def ssl_context(params: Params) -> ssl.SSLContext:
    """The TLS settings the notebooks will use, so reachability is checked the same way."""
    ctx = ssl.create_default_context(cafile=params.tls.ca_file)
    if not params.tls.verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if params.tls.client_cert:
        ctx.load_cert_chain(
            params.tls.client_cert, params.tls.client_key, password=params.secret("client_key_password")
        )
    return ctx


def check_reachable(params: Params, *, timeout_s: float | None = None) -> None:
    """Every non-embedded service must answer its `{url}/health` as a service does: 2xx, or 401/403/405 from an
    API gateway in front of it. No answer, a 404 (an ingress default backend, a proxy, a wrong path) or a 5xx is
    a RunError naming the params key and the URL, before any notebook runs."""
    urls: dict[str, str] = {}
    if not params.hub.embedded:
        urls.update({f"services.{f.name}": getattr(params.services, f.name) for f in fields(params.services)})
    if not params.sim.embedded:
        urls["sim.url"] = params.sim.url
    timeout = timeout_s or params.timeouts.http_s
    context = ssl_context(params) if any(u.startswith("https:") for u in urls.values()) else None
    seen: set[str] = set()
    for key, base in urls.items():
        url = f"{base}/health"
        if url in seen:
            continue
        seen.add(url)
        status, why = _probe(url, timeout=timeout, context=context)
        if status is None:
            raise RunError(f"{key} is unreachable: {url} ({why})")
        if status == 404:
            raise RunError(f"{key} does not lead to a Mojaloop service: {url} answered 404 (an ingress default "
                           "backend, a proxy or a wrong path?)")
        if not (200 <= status < 300 or status in _GATEWAY_STATUSES):
            raise RunError(f"{key} is not healthy: {url} answered {status}")
